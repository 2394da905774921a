"""The browser scenario explorer behind ``lasim app``.

``server`` starts a Solara server on localhost that needs no internet;
``session`` holds one browser tab's model and its history (no UI code, so it
is tested without a browser); ``page`` is the Solara page built on top.
"""
