"""The explorer's charts, drawn from a :class:`~lasim.explorer.session.Snapshot`.

Figures use ``matplotlib.figure.Figure`` (no pyplot: no global state shared
between browser tabs) and reach the browser as PNG bytes.

Playing must stay smooth, and drawing text (ticks, labels, legends) is most of
matplotlib's cost. So each figure is built once per model run: everything that
does not change with the month is drawn once into a background image, and a
month only redraws its few changing artists (lines, member colours, the month
title) over a copy of it ("blitting"). That is about ten times cheaper than
drawing the figure again.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from lasim.drawing import AllianceArtists, draw_alliance

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
DPI = 80


def shade_funding(ax: Any, params: dict[str, Any]) -> None:
    """Shade the donor-funded project period and the funding gap on a time axis."""
    ax.axvspan(0, params["project_months"], color="#c7e9c0", alpha=0.45, lw=0, label="donor-funded project")
    if params["funding_gap_months"]:
        start = params["funding_gap_start"]
        ax.axvspan(start, start + params["funding_gap_months"], color="#fcbba1", alpha=0.7, lw=0,
                   label="funding gap")


class BlitFigure:
    """A figure whose static part is drawn once; :meth:`png` redraws only ``dynamic`` artists."""

    def __init__(self, figure: Figure, dynamic: list[Artist]) -> None:
        self.figure = figure
        self.dynamic = dynamic
        self.canvas = FigureCanvasAgg(figure)
        for a in dynamic:
            a.set_animated(True)  # animated artists are left out of the full draw
        self.canvas.draw()
        figure.set_layout_engine("none")  # freeze the layout found by the first draw
        self.background = self.canvas.copy_from_bbox(figure.bbox)

    def png(self) -> bytes:
        """The figure with the dynamic artists' current state, as PNG bytes."""
        self.canvas.restore_region(self.background)
        for a in self.dynamic:
            self.figure.draw_artist(a)
        rgba = np.asarray(self.canvas.buffer_rgba())
        buf = io.BytesIO()
        # fast zlib level: the frame is on screen for a fraction of a second
        Image.fromarray(rgba[..., :3]).save(buf, format="png", compress_level=1)
        return buf.getvalue()


def _series(snap: Snapshot, col: str) -> tuple[np.ndarray, np.ndarray]:
    s = snap.series
    if not len(s) or col not in s:
        return np.empty(0), np.empty(0)
    return s.index.to_numpy(), s[col].to_numpy(dtype=float)


class AdoptionChart:
    """Share adopted by level over the months so far, funding period and gap shaded."""

    def __init__(self, snap: Snapshot) -> None:
        fig = Figure(figsize=(5.6, 3.4), dpi=DPI, layout="constrained")
        ax = fig.subplots()
        shade_funding(ax, snap.parameters)
        self.lines = {col: ax.plot([], [], color=c, lw=2, label=label)[0] for col, label, c in LEVEL_SERIES}
        ax.set_xlim(0, snap.horizon)
        ax.set_ylim(0, 1)
        ax.set_xlabel("month")
        ax.set_ylabel("share adopted")
        ax.set_title("Adoption by level", fontsize=10)
        ax.legend(fontsize=7, loc="upper left", frameon=False)
        self.month = ax.text(0.99, 0.97, "", transform=ax.transAxes, ha="right", va="top", fontsize=9)
        self.blit = BlitFigure(fig, [*self.lines.values(), self.month])

    def png(self, snap: Snapshot) -> bytes:
        for col, line in self.lines.items():
            line.set_data(*_series(snap, col))
        self.month.set_text(f"month {snap.month}")
        return self.blit.png()


class DynamicsChart:
    """Knowledge and trust, alliance size, and attendance of marginalised members."""

    def __init__(self, snap: Snapshot) -> None:
        fig = Figure(figsize=(9.5, 2.5), dpi=DPI, layout="constrained")
        axes = fig.subplots(1, 3)
        self.lines: dict[str, Any] = {}
        for ax, (title, lines, unit) in zip(axes, DYNAMICS_PANELS, strict=True):
            shade_funding(ax, snap.parameters)
            for col, label, colour in lines:
                self.lines[col] = ax.plot([], [], color=colour, lw=1.8, label=label)[0]
            ax.set_xlim(0, snap.horizon)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("month", fontsize=8)
            ax.set_ylabel(unit, fontsize=8)
            ax.tick_params(labelsize=7)
            if len(lines) > 1:
                ax.legend(fontsize=7, frameon=False, loc="upper left")
        axes[0].set_ylim(0, 1)
        # fixed scales: a month must not rescale the axes (that would redraw the ticks)
        axes[1].set_ylim(0, len(snap.member) * 1.02)
        axes[2].set_ylim(0, 0.8)
        self.blit = BlitFigure(fig, list(self.lines.values()))

    def png(self, snap: Snapshot) -> bytes:
        for col, line in self.lines.items():
            line.set_data(*_series(snap, col))
        return self.blit.png()


class AllianceChart:
    """The drawing of the alliance, laid out once per model and only recoloured per month."""

    def __init__(self, session: ExplorerSession, snap: Snapshot) -> None:
        fig = Figure(figsize=(7.5, 4.2), dpi=DPI, layout="constrained")
        ax = fig.subplots()
        self.artists: AllianceArtists = draw_alliance(
            ax, session.layout, snap.stage, snap.influence, snap.seat_active, snap.member,
        )
        ax.set_title("The alliance: colour = adoption stage, size = influence, pale = not a member",
                     fontsize=9)
        self.month = ax.text(0.01, 0.99, "", transform=ax.transAxes, ha="left", va="top", fontsize=10)
        self.blit = BlitFigure(fig, [self.artists.seats, self.artists.members, self.month])

    def png(self, snap: Snapshot) -> bytes:
        self.artists.update(snap.stage, snap.seat_active, snap.member)
        self.month.set_text(f"month {snap.month}")
        return self.blit.png()


@dataclass(frozen=True)
class Frame:
    """One rendered month: the images and the event feed the page shows."""

    month: int
    horizon: int
    finished: bool
    alliance: bytes
    adoption: bytes
    dynamics: bytes
    events: list[str]
    parameters: dict[str, Any]


class FrameRenderer:
    """Turns a session's current month into a :class:`Frame`.

    Builds the three charts once per model run (a reset or a new scenario gives a
    new model, so new axes, shading and layout) and only updates them afterwards.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None
        self._charts: tuple[AllianceChart, AdoptionChart, DynamicsChart] | None = None

    def render(self, session: ExplorerSession) -> Frame:
        """Render the session's current month."""
        snap = session.snapshot()
        with self._lock:
            if self._charts is None or self._model is not session.model:
                self._charts = (AllianceChart(session, snap), AdoptionChart(snap), DynamicsChart(snap))
                self._model = session.model
            alliance, adoption, dynamics = (c.png(snap) for c in self._charts)
        return Frame(
            month=snap.month, horizon=snap.horizon, finished=snap.finished, alliance=alliance,
            adoption=adoption, dynamics=dynamics, events=snap.events, parameters=snap.parameters,
        )
