"""The explorer page: a Solara app built from plain Solara components.

Mesa's SolaraViz main area stayed blank offline in headless Chromium (see
``docs/explorer.md``), so the page is made of SVG images (drawn by
:mod:`lasim.explorer.figures`), sliders, buttons and text, which render with the
bundled front end alone.

Each browser tab gets its own :class:`ExploreState` (``solara.use_memo``), so two
trainers on the same server do not move each other's sliders; when the tab
closes, the state drops its model and figures (:meth:`ExploreState.close`).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import solara

from lasim.drawing import STAGE_COLOURS
from model.errors import LasimInputError
from model.kinds import STAGE_NAMES

from .compare_tab import CompareTab
from .feed import FeedLine, group_feed, verdict_line
from .figures import LARGE_TEXT, Frame, FrameRenderer
from .server import SCENARIO_ENV
from .session import ExplorerSession, cached_inert_controls, controls, first_line, label_of, scenario_choices
from .widgets import ControlSlider, Figure, PlainText, Text

#: Seconds a frame stays on screen at least while playing, so the browser keeps up.
FRAME_SECONDS = 0.2
SPEEDS = [1, 2, 4, 6]
MODES = ["Explore a scenario", "Compare two settings"]

CSS = """
.lasim-page { font-size: 15px; }
.lasim-page.lasim-large { font-size: 20px; }
.lasim-page .v-btn, .lasim-page .v-label, .lasim-page .v-select__selection,
.lasim-page input { font-size: 1em !important; }
.lasim-header { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; margin-bottom: 4px; }
.lasim-header h1 { font-size: 1.3em; margin: 0 12px 0 0; }
.lasim-main { display: grid; grid-template-columns: 290px minmax(0, 1fr) 330px; gap: 10px; align-items: start; }
.lasim-large .lasim-main { grid-template-columns: 340px minmax(0, 1fr) 380px; }
.lasim-main.lasim-wide { grid-template-columns: minmax(0, 1fr) 330px; }
.lasim-main.lasim-wide .lasim-controls-col { grid-column: 1 / -1; order: 3; }
@media (max-width: 1250px) {
  .lasim-main { grid-template-columns: 270px minmax(0, 1fr); }
  .lasim-large .lasim-main { grid-template-columns: 300px minmax(0, 1fr); }
  .lasim-main .lasim-feed-col { grid-column: 1 / -1; }
  .lasim-main.lasim-wide { grid-template-columns: minmax(0, 1fr); }
}
@media (max-width: 900px) {
  /* a zoomed-in browser: the drawing takes the whole width, first */
  .lasim-main, .lasim-large .lasim-main { grid-template-columns: minmax(0, 1fr); }
  .lasim-main .lasim-drawing-col { order: 1; }
  .lasim-main .lasim-controls-col { order: 2; max-height: none; }
  .lasim-main .lasim-feed-col { order: 3; }
}
.lasim-controls-col { max-height: calc(100vh - 70px); overflow-y: auto; padding-right: 4px; }
.lasim-wide @media (max-width: 900px) {
  /* a zoomed-in browser: the drawing takes the whole width, first */
  .lasim-main, .lasim-large .lasim-main { grid-template-columns: minmax(0, 1fr); }
  .lasim-main .lasim-drawing-col { order: 1; }
  .lasim-main .lasim-controls-col { order: 2; max-height: none; }
  .lasim-main .lasim-feed-col { order: 3; }
}
.lasim-controls-col { max-height: none; display: grid;
  grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 0 12px; }
.lasim-description { font-size: 0.85em; color: #444; margin: 2px 0 6px 0; }
.lasim-label { font-weight: 500; margin-top: 4px; }
.lasim-help { display: none; }
.lasim-control-inert .lasim-help { display: block; color: #a63603; font-size: 0.8em; margin: -10px 0 2px 0; }
.lasim-control-inert .lasim-label { color: #777; }
.lasim-control .v-input__slot { margin-bottom: 0; }
.lasim-control .v-messages { display: none; }
.lasim-status { font-size: 1.1em; font-weight: 600; margin-left: 8px; }
.lasim-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin-bottom: 4px; }
.lasim-caption { font-size: 0.8em; color: #444; }
.lasim-figure { margin: 0 !important; max-width: 100%; display: block; }
.lasim-drawing-col { min-width: 0; }
.lasim-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 0.85em; margin: 2px 0 6px 0; }
.lasim-swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 50%;
  border: 1px solid #252525; vertical-align: -0.1em; margin-right: 4px; }
.lasim-ring { background: none; border: 2px dashed #cc1a1a; }
.lasim-feed { max-height: calc(100vh - 90px); overflow-y: auto; }
.lasim-feed h3 { font-size: 1em; margin: 6px 0 2px 0; }
.lasim-events { font-size: 0.9em; }
.lasim-line { margin: 2px 0 4px 0; padding-left: 6px; border-left: 3px solid #bdbdbd; }
.lasim-line-key { border-left-color: #3182bd; }
.lasim-line-verdict { border-left-color: #238b45; font-weight: 600; }
.lasim-line-platform { border-left-color: #cc1a1a; }
.lasim-cause { font-size: 0.9em; color: #444; font-weight: normal; }
.lasim-compare-table { border-collapse: collapse; margin-top: 8px; }
.lasim-compare-table td, .lasim-compare-table th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
"""


class ExploreState:
    """One tab's explorer: the session being played and the renderer of its frames."""

    def __init__(self) -> None:

        self.choices = scenario_choices()
        self.label = label_of(os.environ.get(SCENARIO_ENV), self.choices)
        self.session: ExplorerSession | None = ExplorerSession.open(self.choices[self.label])
        self.renderer: FrameRenderer | None = FrameRenderer()
        self.closed = threading.Event()

    def open(self, label: str) -> None:
        """Switch to another scenario (parameters back to its own, same seed)."""
        assert self.session is not None
        self.session = ExplorerSession.open(self.choices[label], self.session.seed)
        self.label = label

    def frame(self) -> Frame | None:
        """The current month drawn, or ``None`` once the tab is closed."""
        session, renderer = self.session, self.renderer
        if session is None or renderer is None:
            return None
        return renderer.render(session)

    def close(self) -> None:
        """Stop the play loop and drop the model and the figures (the tab is gone)."""
        self.closed.set()
        if self.session is not None:
            self.session.close()
        if self.renderer is not None:
            self.renderer.close()
        self.session = self.renderer = None


def play(state: ExploreState, playing: Any, speed: Any, frame: Any) -> None:
    """Step and draw until paused, finished, replaced by new settings, or the tab closes.

    A plain function of its arguments, not a closure over the component: what it
    holds is released when it returns, and it returns at once when the tab closes.
    """
    session = state.session
    if session is None:
        return
    model = session.model
    # a slider or the picker replaces the model; this loop must not play the new one
    while playing.value and not state.closed.is_set() and state.session is session and session.model is model:
        if session.finished:
            playing.set(False)
            break
        t0 = time.perf_counter()
        session.step(speed.value)
        f = state.frame()
        if f is None:
            break
        frame.set(f)
        state.closed.wait(max(0.02, FRAME_SECONDS - (time.perf_counter() - t0)))


def feed_lines(f: Frame) -> tuple[list[FeedLine], list[FeedLine]]:
    """(pinned key moments oldest first, other lines newest first), with the verdict when finished."""
    lines = group_feed(f.events)
    pinned = [ln for ln in lines if ln.pinned]
    # the model records its own verdict with its cause (model.causes); the page's line
    # stands in only for a run without one (an older model, a stand-in in tests)
    if f.finished and f.summary is not None and not any(ln.kind == "verdict" for ln in pinned):
        pinned.append(verdict_line(f.summary, f.horizon, f.events, f.parameters))
    return pinned, [ln for ln in lines if not ln.pinned][::-1]


@solara.component
def Legend() -> None:
    """What the drawing's colours and marks mean, as page text (it follows the browser's zoom)."""

    with solara.v.Html(tag="div", class_="lasim-legend"):
        for colour, name in zip(STAGE_COLOURS, STAGE_NAMES, strict=True):
            with solara.v.Html(tag="span"):
                solara.v.Html(tag="span", class_="lasim-swatch", style_=f"background: {colour}")
                solara.v.Html(tag="span", children=[name])
        with solara.v.Html(tag="span"):
            solara.v.Html(tag="span", class_="lasim-swatch lasim-ring")
            solara.v.Html(tag="span", children=["platform not meeting"])
        solara.v.Html(tag="span", children=["size: influence; pale outline: not a member this month"])


@solara.component
def FeedLineView(line: FeedLine) -> None:
    """One line of the feed: what happened, then why (as the model recorded it)."""
    kind = "verdict" if line.kind == "verdict" else ("key" if line.pinned else line.kind)
    with solara.v.Html(tag="div", class_=f"lasim-line lasim-line-{kind}"):
        PlainText(f"{line.when}: {line.text}", tag="span")
        for cause in line.causes:
            PlainText(cause, classes=["lasim-cause"])


@solara.component
def Feed(f: Frame | None) -> None:
    """Key moments pinned on top, the verdict once the run ends, then everything else, newest first."""
    with solara.Card("What happened, and why", classes=["lasim-feed"]):
        if f is None:
            return
        pinned, rest = feed_lines(f)
        with solara.Div(classes=["lasim-events"]):
            if not pinned and not rest:
                PlainText("Nothing yet: press Play or Step.")
            if pinned:
                solara.v.Html(tag="h3", children=["Key moments"])
                with solara.Div(classes=["lasim-pinned"]):
                    for line in pinned:
                        FeedLineView(line)
            if rest:
                solara.v.Html(tag="h3", children=["Month by month (newest first)"])
                for line in rest:
                    FeedLineView(line)


@solara.component
def ExploreTab(large: bool = False, wide: bool = False) -> None:
    """Play one scenario month by month, with sliders, a drawing, charts and an event feed."""
    state: ExploreState = solara.use_memo(ExploreState, [])
    frame = solara.use_reactive(None)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(2)
    error = solara.use_reactive("")

    # the tab closing unmounts this component: free the model and figures then
    solara.use_effect(lambda: state.close, [])

    def refresh() -> None:
        f = state.frame()
        if f is not None:
            frame.set(f)

    def rescale() -> None:
        if state.renderer is not None:
            state.renderer.set_scale(LARGE_TEXT if large else 1.0)
            refresh()

    solara.use_effect(rescale, [large])

    solara.lab.use_task(lambda: play(state, playing, speed, frame), dependencies=[playing.value],
                        prefer_threaded=True)

    def restart(**changes: Any) -> None:
        """Apply new settings: the run restarts from month 0, paused."""
        playing.set(False)
        if state.session is None:
            return
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
        if state.session is not None:
            state.session.step(1)
        refresh()

    session = state.session
    if session is None:
        return
    horizon = session.current("horizon_months")
    inert = cached_inert_controls(session.scenario)
    f: Frame | None = frame.value

    with solara.Div(classes=["lasim-main"] + (["lasim-wide"] if wide else [])):
        with solara.Div(classes=["lasim-controls-col"]):
            with solara.Div(classes=["lasim-scenario"]):
                solara.Select("Scenario", values=list(state.choices), value=state.label, on_value=choose)
                PlainText(first_line(session.scenario.description) or "(this scenario has no description)",
                          classes=["lasim-description"])
            for c in controls(horizon):
                ControlSlider(c, session.current(c.name), set_parameter(c.name), reason=inert.get(c.name, ""))
            solara.InputInt("Seed (as lasim run --seed)", value=session.seed,
                            on_value=lambda v: restart(seed=max(0, int(v or 0))))
            Text("*Changing a setting restarts the run from month 0.*", classes=["lasim-caption"])
            if error.value:
                solara.Error(error.value)
        with solara.Div(classes=["lasim-drawing-col"]):
            with solara.Div(classes=["lasim-bar"]):
                solara.Button("Step", on_click=step_once, color="primary", outlined=True,
                              disabled=playing.value or session.finished, classes=["lasim-step"])
                solara.Button("Pause" if playing.value else "Play", color="primary",
                              on_click=lambda: playing.set(not playing.value),
                              disabled=session.finished and not playing.value, classes=["lasim-play"])
                solara.Button("Reset", on_click=lambda: restart(), outlined=True, classes=["lasim-reset"])
                solara.Text("months per frame:")
                solara.ToggleButtonsSingle(value=speed, values=SPEEDS, dense=True, classes=["lasim-speed"])
                month = f.month if f else 0
                status = "finished" if f and f.finished else ("playing" if playing.value else "paused")
                solara.Div(children=[f"Month {month} of {horizon} ({status})"],
                           classes=["lasim-status", "lasim-month"])
            if f is None:
                solara.ProgressLinear(True)
            else:
                Figure(f.alliance, "alliance")
                Legend()
                with solara.Columns([1, 1]) if wide else solara.Div():
                    Figure(f.adoption, "adoption")
                    Figure(f.dynamics, "dynamics")
        with solara.Div(classes=["lasim-feed-col"]):
            Feed(f)


@solara.component
def Page() -> None:
    """The explorer: explore one scenario, or compare two settings."""
    solara.Title("lasim scenario explorer")
    solara.Style(CSS)
    # a toggle, not solara.lab.Tabs: Tabs needs an ipyvuetify newer than solara 1.58.2 ships with
    mode = solara.use_reactive(MODES[0])
    large = solara.use_reactive(False)
    wide = solara.use_reactive(False)
    with solara.Div(classes=["lasim-page"] + (["lasim-large"] if large.value else [])):
        with solara.Div(classes=["lasim-header"]):
            solara.v.Html(tag="h1", children=["lasim scenario explorer"])
            solara.ToggleButtonsSingle(value=mode, values=MODES, dense=True, classes=["lasim-mode"])
            # plain buttons: Vuetify's checkbox label breaks under the page's larger font
            solara.Button(("✓ " if large.value else "") + "Large text", on_click=lambda: large.set(not large.value),
                          outlined=not large.value, color="primary", small=True, classes=["lasim-large-text"])
            solara.Button(("✓ " if wide.value else "") + "Wide drawing", on_click=lambda: wide.set(not wide.value),
                          outlined=not wide.value, color="primary", small=True, classes=["lasim-wide-toggle"])
        if mode.value == MODES[0]:
            ExploreTab(large=large.value, wide=wide.value)
        else:
            CompareTab()
