"""The explorer page: a Solara app built from plain Solara components.

Mesa's SolaraViz main area stayed blank offline in headless Chromium (see
``docs/explorer.md``), so the page is made of ``solara.Image`` (PNG frames drawn
by :mod:`lasim.explorer.figures`), sliders, buttons and Markdown, which render
with the bundled front end alone.

Each browser tab gets its own :class:`ExploreState` (``solara.use_memo``), so two
trainers on the same server do not move each other's sliders.
"""

from __future__ import annotations

import html
import os
import time
from typing import Any

import markdown
import solara

from model.errors import LasimInputError

from .figures import Frame, FrameRenderer
from .server import SCENARIO_ENV
from .session import Control, ExplorerSession, controls, scenario_choices

#: Seconds a frame stays on screen at least while playing, so the browser keeps up.
FRAME_SECONDS = 0.2
SPEEDS = [1, 2, 4, 6]
MODES = ["Explore a scenario", "Compare two settings"]

CSS = """
.lasim-events { max-height: 280px; overflow-y: auto; font-size: 0.9em; }
.lasim-events ul { margin-top: 0; }
.lasim-label { font-weight: 500; margin-top: 6px; }
.lasim-help { color: #555; font-size: 0.8em; margin: -4px 0 6px 0; }
.lasim-status { font-size: 1.1em; font-weight: 600; }
.lasim-compare-table { border-collapse: collapse; margin-top: 8px; }
.lasim-compare-table td, .lasim-compare-table th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
"""


def _first_label(choices: dict[str, str]) -> str:
    given = os.environ.get(SCENARIO_ENV)
    for label, target in choices.items():
        if target == given:
            return label
    return "default" if "default" in choices else next(iter(choices))


@solara.component
def Text(md_text: str, classes: list[str] | None = None) -> None:
    """Markdown rendered on the server.

    Not ``solara.Markdown``: it always fetches KaTeX (for maths) from the CDN
    proxy, which solara-assets does not bundle, so offline it fails with 404s.
    """
    solara.HTML(tag="div", unsafe_innerHTML=markdown.markdown(md_text), classes=classes or [])


class ExploreState:
    """One tab's explorer: the session being played and the renderer of its frames."""

    def __init__(self) -> None:
        self.choices = scenario_choices()
        self.label = _first_label(self.choices)
        self.session = ExplorerSession.open(self.choices[self.label])
        self.renderer = FrameRenderer()

    def open(self, label: str) -> None:
        """Switch to another scenario (parameters and seed back to its own)."""
        self.session = ExplorerSession.open(self.choices[label], self.session.seed)
        self.label = label

    def frame(self) -> Frame:
        return self.renderer.render(self.session)


def _fmt(c: Control, value: Any) -> str:
    if c.integer:
        return f"{int(value)} {c.unit}"
    return f"{value:.3g} ({c.unit})"


@solara.component
def ControlSlider(c: Control, value: Any, on_value: Any, disabled: bool = False) -> None:
    """One labelled slider; the label carries the current value and unit."""
    with solara.Div(classes=["lasim-control", f"lasim-control-{c.name}"]):
        # the label sits above the slider: beside it, long labels squeeze the track to nothing
        solara.Div(children=[f"{c.label}: {_fmt(c, value)}"], classes=["lasim-label"])
        if c.integer:
            solara.SliderInt("", value=int(value), min=int(c.low), max=int(c.high), step=int(c.step),
                             on_value=on_value, disabled=disabled)
        else:
            solara.SliderFloat("", value=float(value), min=c.low, max=c.high, step=c.step,
                               on_value=on_value, disabled=disabled)
        solara.Div(children=[c.help], classes=["lasim-help"])


@solara.component
def ExploreTab() -> None:
    """Play one scenario month by month, with sliders, a drawing, charts and an event feed."""
    state: ExploreState = solara.use_memo(ExploreState, [])
    frame = solara.use_reactive(None)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(2)
    error = solara.use_reactive("")

    def refresh() -> None:
        frame.set(state.frame())

    solara.use_effect(refresh, [])

    def play_loop() -> None:
        session = state.session
        model = session.model
        # a slider or the picker replaces the model; this loop must not play the new one
        while playing.value and state.session is session and session.model is model:
            if session.finished:
                playing.set(False)
                break
            t0 = time.perf_counter()
            session.step(speed.value)
            frame.set(state.frame())
            time.sleep(max(0.02, FRAME_SECONDS - (time.perf_counter() - t0)))

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)

    def restart(**changes: Any) -> None:
        """Apply new settings: the run restarts from month 0, paused."""
        playing.set(False)
        params = {**state.session.parameters, **changes.pop("parameters", {})}
        try:
            state.session.reset(params, changes.get("seed"))
            error.set("")
        except LasimInputError as exc:
            error.set(str(exc))
        refresh()

    def set_parameter(name: str) -> Any:
        return lambda v: restart(parameters={name: v})

    def choose(label: str) -> None:
        playing.set(False)
        try:
            state.open(label)
            error.set("")
        except LasimInputError as exc:
            error.set(str(exc))
        refresh()

    def step_once() -> None:
        state.session.step(1)
        refresh()

    def reset() -> None:
        restart()

    session = state.session
    horizon = session.current("horizon_months")
    f: Frame | None = frame.value

    with solara.Columns([1, 3]):
        with solara.Column():
            with solara.Card("Scenario"):
                solara.Select("Scenario", values=list(state.choices), value=state.label, on_value=choose)
                Text(html.escape(session.scenario.description.strip().splitlines()[0]))
            with solara.Card("Settings"):
                Text("*Changing a setting restarts the run from month 0.*")
                for c in controls(horizon):
                    ControlSlider(c, session.current(c.name), set_parameter(c.name))
                solara.InputInt("Seed (same seed, same run)", value=session.seed,
                                on_value=lambda v: restart(seed=int(v or 0)))
            if error.value:
                solara.Error(error.value)
        with solara.Column():
            with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
                solara.Button("Step", on_click=step_once, color="primary", outlined=True,
                              disabled=playing.value or session.finished, classes=["lasim-step"])
                solara.Button("Pause" if playing.value else "Play", color="primary",
                              on_click=lambda: playing.set(not playing.value),
                              disabled=session.finished and not playing.value, classes=["lasim-play"])
                solara.Button("Reset", on_click=reset, outlined=True, classes=["lasim-reset"])
                solara.Text("months per frame:")
                solara.ToggleButtonsSingle(value=speed, values=SPEEDS, dense=True, classes=["lasim-speed"])
                month = f.month if f else 0
                status = "finished" if f and f.finished else ("playing" if playing.value else "paused")
                solara.Div(children=[f"Month {month} of {horizon} ({status})"],
                           classes=["lasim-status", "lasim-month"])
            if f is None:
                solara.ProgressLinear(True)
                return
            with solara.Columns([4, 3]):
                solara.Image(f.alliance, classes=["lasim-alliance"], width="100%")
                solara.Image(f.adoption, classes=["lasim-adoption"], width="100%")
            solara.Image(f.dynamics, classes=["lasim-dynamics"], width="100%")
            with solara.Card("What happened"):
                lines = "\n".join(f"- {html.escape(e)}" for e in f.events) or "*Nothing yet: press Play or Step.*"
                Text(lines, classes=["lasim-events"])


@solara.component
def Page() -> None:
    """The explorer: explore one scenario, or compare two settings."""
    solara.Title("lasim scenario explorer")
    solara.Style(CSS)
    Text("## lasim scenario explorer\nHow a learning alliance takes an innovation from "
         "pilot to scale: move a setting, press Play, and watch who adopts and why.")
    # a toggle, not solara.lab.Tabs: Tabs needs an ipyvuetify newer than solara 1.58.2 ships with
    mode = solara.use_reactive(MODES[0])
    solara.ToggleButtonsSingle(value=mode, values=MODES, classes=["lasim-mode"])
    if mode.value == MODES[0]:
        ExploreTab()
    else:
        from .compare_tab import CompareTab

        CompareTab()
