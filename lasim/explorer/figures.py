"""The explorer's charts, drawn from a :class:`~lasim.explorer.session.Snapshot`, as SVG.

Figures use ``matplotlib.figure.Figure`` (no pyplot: no global state shared
between browser tabs) and reach the browser as SVG: vector drawings stay sharp
on a projector at any size and any browser zoom, where a PNG blurs or its text
shrinks to a few pixels. Each figure is built once per model run and a month
only updates its few changing artists (lines, member colours, rings) before
the figure is written out again.

Sizes are chosen for legibility where the figure is shown, not on paper: text
in a figure scales with the figure, so what matters is the ratio of font size
to figure width (see :func:`label_px`).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from lasim.drawing import AllianceArtists, draw_alliance

from .feed import FeedEvent
from .session import ExplorerSession, Snapshot

LEVEL_SERIES = (
    ("adoption_national", "national", "#08519c"),
    ("adoption_intermediate", "district / city", "#3182bd"),
    ("adoption_local", "community", "#6baed6"),
    ("adoption_outside", "outside the alliance", "#e6550d"),
)
DYNAMICS_PANELS = (
    ("Knowledge and trust", (("mean_knowledge", "knowledge", "#756bb1"),
                             ("mean_trust", "trust among members", "#31a354")), "0..1"),
    ("Alliance size", (("alliance_size", "members", "#3182bd"),), "organisations"),
    ("Marginalised members at meetings", (("marginalised_attendance_share", "share of attendance",
                                           "#de2d26"),), "share of attendance"),
)
#: Width (inches) of the alliance drawing, and the size (points) of its smallest labels.
ALLIANCE_WIDTH_IN = 6.4
ALLIANCE_HEIGHT_IN = 3.7
ALLIANCE_LABEL_PT = 9.0
#: Everything in the figures is this much larger in the large-text preset.
LARGE_TEXT = 1.3
#: SVG settings: text stays text (small, crisp, selectable); fixed ids for identical output.
SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "lasim", "font.family": ["DejaVu Sans", "sans-serif"]}


def label_px(font_pt: float, figure_width_in: float, displayed_width_px: float) -> float:
    """CSS pixels a ``font_pt`` text of a ``figure_width_in`` wide figure takes when shown that wide."""
    return font_pt * displayed_width_px / (72.0 * figure_width_in)


def svg_bytes(figure: Figure) -> bytes:
    """The figure as SVG bytes (no date, fixed ids: the same figure gives the same bytes)."""
    buf = io.BytesIO()
    with matplotlib.rc_context(SVG_RC):
        FigureCanvasSVG(figure).print_svg(buf, metadata={"Date": None})
    return buf.getvalue()


def shade_funding(ax: Any, params: dict[str, Any]) -> None:
    """Shade the donor-funded project period and the funding gap on a time axis."""
    ax.axvspan(0, params["project_months"], color="#c7e9c0", alpha=0.45, lw=0, label="donor-funded project")
    if params["funding_gap_months"]:
        start = params["funding_gap_start"]
        ax.axvspan(start, start + params["funding_gap_months"], color="#fcbba1", alpha=0.7, lw=0,
                   label="funding gap")


def _series(snap: Snapshot, col: str) -> tuple[np.ndarray, np.ndarray]:
    s = snap.series
    if not len(s) or col not in s:
        return np.empty(0), np.empty(0)
    return s.index.to_numpy(), s[col].to_numpy(dtype=float)


def _settled(fig: Figure) -> Figure:
    """``fig`` on an SVG canvas with its constrained layout computed once, then frozen.

    A month only changes data and text: freezing the layout keeps the axes from moving.
    """
    fig.canvas = FigureCanvasSVG(fig)
    with matplotlib.rc_context(SVG_RC):
        fig.canvas.draw()
    fig.set_layout_engine("none")
    return fig


class AdoptionChart:
    """Share adopted by level over the months so far, funding period and gap shaded."""

    def __init__(self, snap: Snapshot, scale: float = 1.0) -> None:
        fig = Figure(figsize=(5.6, 3.4), layout="constrained")
        ax = fig.subplots()
        shade_funding(ax, snap.parameters)
        self.lines = {col: ax.plot([], [], color=c, lw=2, label=label)[0] for col, label, c in LEVEL_SERIES}
        ax.set_xlim(0, snap.horizon)
        ax.set_ylim(0, 1)
        ax.set_xlabel("month", fontsize=10 * scale)
        ax.set_ylabel("share adopted", fontsize=10 * scale)
        ax.tick_params(labelsize=9 * scale)
        ax.set_title("Adoption by level", fontsize=11 * scale)
        ax.legend(fontsize=9 * scale, loc="upper left", frameon=False)
        self.month = ax.text(0.99, 0.97, "", transform=ax.transAxes, ha="right", va="top", fontsize=10 * scale)
        self.figure = _settled(fig)

    def svg(self, snap: Snapshot) -> bytes:
        for col, line in self.lines.items():
            line.set_data(*_series(snap, col))
        self.month.set_text(f"month {snap.month}")
        return svg_bytes(self.figure)


class DynamicsChart:
    """Knowledge and trust, alliance size, and attendance of marginalised members."""

    def __init__(self, snap: Snapshot, scale: float = 1.0) -> None:
        fig = Figure(figsize=(9.5, 2.6), layout="constrained")
        axes = fig.subplots(1, 3)
        self.lines: dict[str, Any] = {}
        for ax, (title, lines, unit) in zip(axes, DYNAMICS_PANELS, strict=True):
            shade_funding(ax, snap.parameters)
            for col, label, colour in lines:
                self.lines[col] = ax.plot([], [], color=colour, lw=1.8, label=label)[0]
            ax.set_xlim(0, snap.horizon)
            ax.set_title(title, fontsize=10 * scale)
            ax.set_xlabel("month", fontsize=9 * scale)
            ax.set_ylabel(unit, fontsize=9 * scale)
            ax.tick_params(labelsize=8.5 * scale)
            if len(lines) > 1:
                ax.legend(fontsize=8.5 * scale, frameon=False, loc="upper left")
        axes[0].set_ylim(0, 1)
        # fixed scales: a month must not rescale the axes (that would redraw the ticks)
        axes[1].set_ylim(0, len(snap.member) * 1.02)
        axes[2].set_ylim(0, 0.8)
        self.figure = _settled(fig)

    def svg(self, snap: Snapshot) -> bytes:
        for col, line in self.lines.items():
            line.set_data(*_series(snap, col))
        return svg_bytes(self.figure)


class AllianceChart:
    """The drawing of the alliance, laid out once per model and only recoloured per month."""

    def __init__(self, session: ExplorerSession, snap: Snapshot, scale: float = 1.0) -> None:
        fig = Figure(figsize=(ALLIANCE_WIDTH_IN, ALLIANCE_HEIGHT_IN), layout="constrained")
        fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02)
        ax = fig.subplots()
        # the caption (what colour and size mean) is page text, which follows the browser's zoom
        self.artists: AllianceArtists = draw_alliance(
            ax, session.layout, snap.stage, snap.influence, snap.seat_active, snap.member,
            fontsize=ALLIANCE_LABEL_PT * scale, stopped=snap.stopped, legend=False,
        )
        self.month = ax.text(0.01, 0.99, "", transform=ax.transAxes, ha="left", va="top",
                             fontsize=(ALLIANCE_LABEL_PT + 2) * scale, weight="bold")
        self.figure = _settled(fig)

    def svg(self, snap: Snapshot) -> bytes:
        self.artists.update(snap.stage, snap.seat_active, snap.member, snap.stopped)
        self.month.set_text(f"month {snap.month}")
        return svg_bytes(self.figure)


@dataclass(frozen=True)
class Frame:
    """One rendered month: the images and the event feed the page shows."""

    month: int
    horizon: int
    finished: bool
    alliance: bytes
    adoption: bytes
    dynamics: bytes
    events: list[FeedEvent]
    parameters: dict[str, Any]
    stopped: np.ndarray
    summary: dict[str, Any] | None


class FrameRenderer:
    """Turns a session's current month into a :class:`Frame`.

    Builds the three charts once per model run (a reset or a new scenario gives a
    new model, so new axes, shading and layout) and only updates them afterwards.
    """

    def __init__(self, scale: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._model: Any = None
        self.scale = scale
        self._charts: tuple[AllianceChart, AdoptionChart, DynamicsChart] | None = None

    def set_scale(self, scale: float) -> None:
        """Change the text size of every figure (the next frame rebuilds them)."""
        with self._lock:
            if scale != self.scale:
                self.scale, self._charts = scale, None

    def close(self) -> None:
        """Drop the figures and the model they were built for."""
        with self._lock:
            self._charts, self._model = None, None

    def render(self, session: ExplorerSession) -> Frame:
        """Render the session's current month."""
        snap = session.snapshot()
        with self._lock:
            if self._charts is None or self._model is not session.model:
                self._charts = (AllianceChart(session, snap, self.scale), AdoptionChart(snap, self.scale),
                                DynamicsChart(snap, self.scale))
                self._model = session.model
            alliance, adoption, dynamics = (c.svg(snap) for c in self._charts)
        return Frame(
            month=snap.month, horizon=snap.horizon, finished=snap.finished, alliance=alliance,
            adoption=adoption, dynamics=dynamics, events=snap.events, parameters=snap.parameters,
            stopped=snap.stopped, summary=snap.summary,
        )
