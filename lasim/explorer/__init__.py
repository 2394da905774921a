"""The browser scenario explorer behind ``lasim app``.

- ``cli``: the ``lasim app`` sub-command (checks its input, then serves);
- ``server``: a Solara server on localhost that needs no internet;
- ``session``: one browser tab's model and history, without UI code (tested without a browser);
- ``figures``: the drawing and charts of a month as SVG, updated cheaply while playing;
- ``feed``: the event feed: grouped, key moments pinned, a verdict line, the model's causes;
- ``widgets``: Solara widgets both modes use (trusted text, plain text, sliders, figures);
- ``page``: the Solara page (explore one scenario);
- ``compare_tab``: comparison mode (two settings, 10 or more replications each).
"""
