"""The browser scenario explorer behind ``lasim app``.

- ``cli``: the ``lasim app`` sub-command (checks its input, then serves);
- ``server``: a Solara server on localhost that needs no internet;
- ``session``: one browser tab's model and history, without UI code (tested without a browser);
- ``figures``: the drawing and charts of a month, redrawn cheaply while playing;
- ``page``: the Solara page (explore one scenario);
- ``compare_tab``: comparison mode (two settings, N replications each).
"""
