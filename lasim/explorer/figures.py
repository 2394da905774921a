"""The explorer's charts, drawn from a :class:`~lasim.explorer.session.Snapshot`.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot: no global state
shared between browser tabs) and turned into PNG bytes here, so the page can
cache them by month and the browser only ever receives images.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from lasim.drawing import AllianceArtists, AllianceLayout, draw_alliance

from .session import ExplorerSession, Snapshot

LEVEL_SERIES = (
    ("adoption_national", "national", "#08519c"),
    ("adoption_intermediate", "district / city", "#3182bd"),
    ("adoption_local", "community", "#6baed6"),
    ("adoption_outside", "outside the alliance", "#e6550d"),
)
DPI = 80


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def shade_funding(ax: Any, params: dict[str, Any]) -> None:
    """Shade the donor-funded project period and the funding gap on a time axis."""
    ax.axvspan(0, params["project_months"], color="#c7e9c0", alpha=0.45, lw=0, label="donor-funded project")
    if params["funding_gap_months"]:
        start = params["funding_gap_start"]
        ax.axvspan(start, start + params["funding_gap_months"], color="#fcbba1", alpha=0.7, lw=0,
                   label="funding gap")


def adoption_figure(snap: Snapshot) -> Figure:
    """Share adopted by level over the months so far, funding period and gap shaded."""
    fig = Figure(figsize=(5.6, 3.2), layout="constrained")
    ax = fig.subplots()
    shade_funding(ax, snap.parameters)
    s = snap.series
    for col, label, colour in LEVEL_SERIES:
        if len(s) and col in s and s[col].notna().any():
            ax.plot(s.index, s[col], color=colour, lw=2, label=label)
    ax.set_xlim(0, snap.horizon)
    ax.set_ylim(0, 1)
    ax.set_xlabel("month")
    ax.set_ylabel("share adopted")
    ax.set_title(f"Adoption by level (month {snap.month} of {snap.horizon})", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    return fig


def dynamics_figure(snap: Snapshot) -> Figure:
    """Knowledge and trust, alliance size, and attendance of marginalised members."""
    fig = Figure(figsize=(9.5, 2.5), layout="constrained")
    axes = fig.subplots(1, 3)
    s = snap.series
    panels = (
        ("Knowledge and trust", (("mean_knowledge", "knowledge", "#756bb1"),
                                 ("mean_trust", "trust among members", "#31a354")), (0, 1), "0..1"),
        ("Alliance size", (("alliance_size", "members", "#3182bd"),), None, "organisations"),
        ("Marginalised members at meetings", (("marginalised_attendance_share", "share of attendance",
                                               "#de2d26"),), (0, 0.6), "share"),
    )
    for ax, (title, lines, ylim, unit) in zip(axes, panels, strict=True):
        shade_funding(ax, snap.parameters)
        for col, label, colour in lines:
            if len(s) and col in s:
                ax.plot(s.index, s[col], color=colour, lw=1.8, label=label)
        ax.set_xlim(0, snap.horizon)
        if ylim:
            ax.set_ylim(*ylim)
        elif len(s) and "alliance_size" in s:
            ax.set_ylim(0, max(1.0, float(np.nanmax(s["alliance_size"]))) * 1.15)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("month", fontsize=8)
        ax.set_ylabel(unit, fontsize=8)
        ax.tick_params(labelsize=7)
        if len(lines) > 1:
            ax.legend(fontsize=7, frameon=False, loc="upper left")
    return fig


class AllianceFigure:
    """The drawing of the alliance, laid out once per model and only recoloured per month."""

    def __init__(self, layout: AllianceLayout, snap: Snapshot) -> None:
        self.layout = layout
        self.figure = Figure(figsize=(7.5, 4.0), layout="constrained")
        ax = self.figure.subplots()
        self.artists: AllianceArtists = draw_alliance(
            ax, layout, snap.stage, snap.influence, snap.seat_active, snap.member,
        )
        self.title = ax.set_title("", fontsize=10)
        self.update(snap)

    def update(self, snap: Snapshot) -> bytes:
        """Recolour for ``snap`` and return the PNG."""
        self.artists.update(snap.stage, snap.seat_active, snap.member)
        self.title.set_text(f"The alliance at month {snap.month}: colour = adoption stage, size = influence")
        return png(self.figure)


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

    Keeps the alliance drawing between months of the same model (only colours
    change); a reset model gets a fresh drawing from its new layout.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._alliance: AllianceFigure | None = None

    def render(self, session: ExplorerSession) -> Frame:
        """Render the session's current month."""
        snap = session.snapshot()
        with self._lock:
            layout = session.layout
            if self._alliance is None or self._alliance.layout is not layout:
                self._alliance = AllianceFigure(layout, snap)
            alliance = self._alliance.update(snap)
            adoption = png(adoption_figure(snap))
            dynamics = png(dynamics_figure(snap))
        return Frame(
            month=snap.month, horizon=snap.horizon, finished=snap.finished, alliance=alliance,
            adoption=adoption, dynamics=dynamics, events=snap.events, parameters=snap.parameters,
        )
