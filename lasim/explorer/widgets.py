"""Widgets shared by the explore and compare modes: trusted text, plain text, sliders, figures."""

from __future__ import annotations

from typing import Any

import markdown
import solara

from .session import Control


@solara.component
def Text(md_text: str, classes: list[str] | None = None) -> None:
    """Markdown written by lasim itself, rendered on the server.

    Never pass text from a scenario file or the model here: use :func:`PlainText`.
    Not ``solara.Markdown``: it always fetches KaTeX (for maths) from the CDN
    proxy, which solara-assets does not bundle, so offline it fails with 404s.
    """
    solara.HTML(tag="div", unsafe_innerHTML=markdown.markdown(md_text), classes=classes or [])


@solara.component
def PlainText(text: str, classes: list[str] | None = None, tag: str = "div") -> None:
    """Text from a file or the model, shown as text: no markup, links, images or scripts.

    The string becomes a text node of the element (never HTML), so ``[x](javascript:...)``,
    ``<script>`` or ``![](http://...)`` are shown as the characters they are.
    """
    solara.v.Html(tag=tag, children=[text], class_=" ".join(classes or []))


@solara.component
def ControlSlider(c: Control, value: Any, on_value: Any, disabled: bool = False, reason: str = "") -> None:
    """One labelled slider; the label carries the current value and unit.

    A slider that changes nothing in the scenario is disabled and says why.
    """
    with solara.Div(classes=["lasim-control", f"lasim-control-{c.name}"]
                    + (["lasim-control-inert"] if reason else [])):
        # the label sits above the slider: beside it, long labels squeeze the track to nothing
        solara.v.Html(tag="div", children=[f"{c.label}: {c.fmt(value)}"], class_="lasim-label",
                      attributes={"title": c.help})
        if c.integer:
            solara.SliderInt("", value=int(value), min=int(c.low), max=int(c.high), step=int(c.step),
                             on_value=on_value, disabled=disabled or bool(reason))
        else:
            solara.SliderFloat("", value=float(value), min=c.low, max=c.high, step=c.step,
                               on_value=on_value, disabled=disabled or bool(reason))
        solara.v.Html(tag="div", children=[reason or c.help], class_="lasim-help")


@solara.component
def Figure(svg: bytes, name: str) -> None:
    """A vector figure (SVG) as an image: sharp at any size and zoom; an ``<img>`` runs no script."""
    solara.Image(svg, format="svg+xml", classes=[f"lasim-{name}", "lasim-figure"], width="100%")
