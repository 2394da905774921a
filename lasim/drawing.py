"""A picture of the alliance: platforms by level, members coloured by adoption stage.

The layout is a pure function of the alliance's fixed structure (a
``model.structure.World``) and is computed once per model; a month only changes
colours and sizes. That keeps the explorer smooth while it plays and lets
``lasim run`` and the notebooks draw the same picture.

Layout: national platforms on top, district (or city) platforms in the middle,
community platforms below, each platform a disc of its members placed under its
parent; organisations outside the alliance sit in a bottom row, grouped by
district. Nothing is random, so the same structure always gives the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PatchCollection, PathCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse

from model.kinds import STAGE_NAMES

#: One colour per adoption stage (unaware ... institutionalised), light to dark.
STAGE_COLOURS: tuple[str, ...] = ("#d9d9d9", "#9ecae1", "#fdae6b", "#31a354", "#006d2c")
#: Plain names of the levels as drawn (national, intermediate, local).
LEVEL_LABELS: tuple[str, ...] = ("national", "district / city", "community")
OUTSIDE_LABEL = "outside the alliance"

_LEVEL_Y = np.array([2.0, 1.0, 0.0])
_OUTSIDE_Y = -1.0
_GOLDEN = np.pi * (3.0 - np.sqrt(5.0))


@dataclass
class AllianceLayout:
    """Fixed positions of every organisation and platform, and the links to draw.

    Attributes
    ----------
    xy : (n, 2) array
        Position of each organisation (row order of the model's arrays).
    platform_xy : (n_platforms, 2) array
        Centre of each platform's disc.
    parent_segments : (k, 2, 2) array
        Platform-to-parent links (the vertical structure).
    exchange_segments : list of (points, 2) arrays
        Horizontal exchange links between platforms of a level, drawn as arcs.
    seat_segments : (s, 2, 2) array
        One segment per extra seat (linking members, recruitable outsiders): from the
        organisation to the platform it sits on, or could be recruited to.
    seat_index : (s,) array
        Index into the world's edge arrays of each ``seat_segments`` row.
    outside : (n,) bool array
        Organisations with no home platform (outside the alliance at the start).
    labels : list of (x, y, text)
        Platform and district labels.
    platform_radius : (n_platforms, 2) array
        Half width and half height of each platform's disc.
    """

    xy: np.ndarray
    platform_xy: np.ndarray
    parent_segments: np.ndarray
    exchange_segments: list[np.ndarray]
    seat_segments: np.ndarray
    seat_index: np.ndarray
    outside: np.ndarray
    labels: list[tuple[float, float, str]] = field(default_factory=list)
    xlim: tuple[float, float] = (0.0, 1.0)
    platform_radius: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))


def _disc(n: int, centre: tuple[float, float], rx: float, ry: float) -> np.ndarray:
    """``n`` points spread evenly over an ellipse (a sunflower pattern): no overlap, no randomness."""
    if n == 0:
        return np.empty((0, 2))
    i = np.arange(n) + 0.5
    r = np.sqrt(i / n)
    theta = i * _GOLDEN
    return np.column_stack([centre[0] + rx * r * np.cos(theta), centre[1] + ry * r * np.sin(theta)])


def _arc(a: tuple[float, float], b: tuple[float, float], points: int = 24) -> np.ndarray:
    """A shallow arc from ``a`` to ``b`` below them, so exchanges between platforms of a
    level do not hide behind the level's own line or each other."""
    t = np.linspace(0.0, 1.0, points)[:, None]
    a_, b_ = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    mid = (a_ + b_) / 2 - np.array([0.0, 0.1 + 0.05 * abs(b_[0] - a_[0])])
    mid[1] = max(mid[1], a_[1] - 0.45)
    return (1 - t) ** 2 * a_ + 2 * (1 - t) * t * mid + t**2 * b_


def _platform_x(parent: np.ndarray, level: np.ndarray) -> np.ndarray:
    """x of each platform: leaves get consecutive slots, a parent sits over its children."""
    n_p = len(parent)
    children: list[list[int]] = [[] for _ in range(n_p)]
    roots = []
    for p in range(n_p):
        if parent[p] >= 0:
            children[int(parent[p])].append(p)
        else:
            roots.append(p)
    x = np.zeros(n_p)
    next_slot = 0.0

    def place(p: int) -> float:
        nonlocal next_slot
        if not children[p]:
            x[p] = next_slot
            next_slot += 1.0
        else:
            x[p] = float(np.mean([place(c) for c in children[p]]))
        return x[p]

    for r in sorted(roots, key=lambda p: (int(level[p]), p)):
        place(r)
    return x


def compute_layout(world) -> AllianceLayout:
    """Lay out an alliance once, from its fixed structure.

    Parameters
    ----------
    world : model.structure.World
        The alliance's structure (``model.world`` of an ``AllianceModel``).

    Returns
    -------
    AllianceLayout
    """
    level = np.asarray(world.platform_level)
    parent = np.asarray(world.platform_parent)
    px = _platform_x(parent, level)
    py = _LEVEL_Y[level]
    home = np.asarray(world.home_platform)
    n = len(home)
    xy = np.zeros((n, 2))
    radius = np.zeros((len(px), 2))

    # disc size: a disc must fit between neighbouring slots and between levels
    for p in range(len(px)):
        members = np.flatnonzero(home == p)
        size = max(len(members), 1)
        rx = min(0.42, 0.12 + 0.04 * np.sqrt(size))
        radius[p] = rx, min(0.3, rx * 0.9)
        xy[members] = _disc(len(members), (px[p], py[p]), *radius[p])

    outside = home < 0
    labels: list[tuple[float, float, str]] = []
    lo, hi = float(px.min()) - 0.6, float(px.max()) + 0.6
    districts = np.asarray(world.district)
    out_districts = [d for d in range(len(world.district_names)) if np.any(outside & (districts == d))]
    if out_districts:
        width = hi - lo
        step = width / len(out_districts)
        for j, d in enumerate(out_districts):
            members = np.flatnonzero(outside & (districts == d))
            cx = lo + step * (j + 0.5)
            xy[members] = _disc(len(members), (cx, _OUTSIDE_Y), min(0.45 * step, 0.5), 0.3)
            labels.append((cx, _OUTSIDE_Y - 0.42, world.district_names[d]))

    for p, name in enumerate(world.platform_names):
        # community platforms are many and alike: label only national and district ones
        if level[p] < 2:
            labels.append((px[p], py[p] + 0.45, name))

    # links run from the top of a disc to the bottom of its parent's, not through the members
    has_parent = parent >= 0
    parent_segments = np.stack(
        [np.column_stack([px[has_parent], py[has_parent] + 0.3]),
         np.column_stack([px[parent[has_parent]], py[parent[has_parent]] - 0.3])], axis=1,
    ) if has_parent.any() else np.empty((0, 2, 2))

    h = world.horizontal.tocoo()
    keep = h.row < h.col
    exchange_segments = [
        _arc((px[i], py[i]), (px[j], py[j])) for i, j in zip(h.row[keep], h.col[keep], strict=True)
    ]

    edge_agent = np.asarray(world.edge_agent)
    edge_platform = np.asarray(world.edge_platform)
    extra = edge_platform != home[edge_agent]
    seat_index = np.flatnonzero(extra)
    seat_segments = np.stack(
        [xy[edge_agent[seat_index]],
         np.column_stack([px[edge_platform[seat_index]], py[edge_platform[seat_index]]])], axis=1,
    ) if seat_index.size else np.empty((0, 2, 2))

    return AllianceLayout(
        xy=xy, platform_xy=np.column_stack([px, py]), parent_segments=parent_segments,
        exchange_segments=exchange_segments, seat_segments=seat_segments,
        seat_index=seat_index, outside=outside, labels=labels, xlim=(lo, hi), platform_radius=radius,
    )


def member_sizes(influence: np.ndarray, n: int) -> np.ndarray:
    """Marker areas (points^2) from influence, shrinking as the alliance grows so discs stay apart."""
    base = float(np.clip(4000.0 / max(n, 1), 3.0, 40.0))
    return base * (0.4 + 1.6 * np.asarray(influence, dtype=float))


@dataclass
class AllianceArtists:
    """The matplotlib artists of one drawn alliance; ``update`` recolours them for a new month."""

    layout: AllianceLayout
    members: PathCollection
    seats: LineCollection
    stopped: PatchCollection | None = None

    def update(self, stage: np.ndarray, edge_active: np.ndarray | None = None,
               member: np.ndarray | None = None, stopped: np.ndarray | None = None) -> None:
        """Recolour organisations by ``stage``; show only the seats active this month.

        Organisations that are not members this month (outsiders, drop-outs) get a
        pale outline, members a dark one. Platforms in ``stopped`` (not meeting)
        get a red dashed ring.
        """
        if self.stopped is not None:
            ring = np.zeros((len(self.layout.platform_xy), 4))
            if stopped is not None:
                ring[np.asarray(stopped, dtype=bool)] = (0.8, 0.1, 0.1, 1.0)
            self.stopped.set_edgecolors(ring)
        colours = np.asarray(STAGE_COLOURS)[np.asarray(stage, dtype=int)]
        self.members.set_facecolors(colours)
        inside = ~self.layout.outside if member is None else np.asarray(member, dtype=bool)
        self.members.set_edgecolors(np.where(inside, "#252525", "#bdbdbd").tolist())
        if edge_active is not None and self.layout.seat_index.size:
            alpha = np.where(np.asarray(edge_active)[self.layout.seat_index], 0.35, 0.0)
            rgba = np.zeros((alpha.size, 4))
            rgba[:, 3] = alpha
            self.seats.set_colors(rgba)


def draw_alliance(
    ax: Axes,
    layout: AllianceLayout,
    stage: np.ndarray,
    influence: np.ndarray,
    edge_active: np.ndarray | None = None,
    member: np.ndarray | None = None,
    *,
    legend: bool = True,
    fontsize: float = 7.0,
    stopped: np.ndarray | None = None,
) -> AllianceArtists:
    """Draw the alliance on ``ax``: levels, links, members coloured by stage and sized by influence.

    Parameters
    ----------
    ax
        Axes to draw on (cleared of ticks and frame).
    layout
        From :func:`compute_layout`, computed once per model.
    stage
        Adoption stage of each organisation (``model.kinds.Stage`` values).
    influence
        Influence of each organisation (0..1), for marker size.
    edge_active
        Which seats are active this month (``None``: all); inactive linking and
        recruitment seats are not drawn.
    member
        Which organisations are members this month (``None``: those with a home platform).
    legend
        Whether to add the stage legend.
    fontsize
        Size of the platform and district labels in points (level names and the
        legend are one point larger).
    stopped
        Platforms not meeting this month, ringed in red (``None``: no rings are drawn,
        and ``update`` cannot add them).

    Returns
    -------
    AllianceArtists
        Call ``.update(stage, edge_active)`` for later months instead of redrawing.
    """
    ax.add_collection(LineCollection(layout.parent_segments, colors="#636363", linewidths=2.0, zorder=1))
    if len(layout.exchange_segments):
        ax.add_collection(LineCollection(
            layout.exchange_segments, colors="#8c6bb1", linewidths=0.8, linestyles="dashed", alpha=0.6, zorder=1,
        ))
    seats = LineCollection(layout.seat_segments, colors="#000000", linewidths=0.5, zorder=1)
    ax.add_collection(seats)
    members = ax.scatter(
        layout.xy[:, 0], layout.xy[:, 1], s=member_sizes(influence, len(influence)),
        c=np.asarray(STAGE_COLOURS)[np.asarray(stage, dtype=int)],
        linewidths=0.5, zorder=2,
    )
    rings = None
    if stopped is not None and len(layout.platform_radius):
        rings = PatchCollection(
            [Ellipse(tuple(c), 2 * r[0] + 0.12, 2 * r[1] + 0.12) for c, r in
             zip(layout.platform_xy, layout.platform_radius, strict=True)],
            facecolors="none", edgecolors="none", linewidths=1.6, linestyles="dashed", zorder=3,
        )
        ax.add_collection(rings)
    for x, y, text in layout.labels:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color="#252525", zorder=3)
    lo, hi = layout.xlim
    rows = [(y, lab) for y, lab in zip(_LEVEL_Y, LEVEL_LABELS, strict=True)]
    if layout.outside.any():
        rows.append((_OUTSIDE_Y, OUTSIDE_LABEL))
    for y, lab in rows:
        ax.axhline(y, color="#f0f0f0", linewidth=0.8, zorder=0)
        ax.text(lo - 0.1, y, lab, ha="right", va="center", fontsize=fontsize + 1, style="italic", color="#525252")
    ax.set_xlim(lo - 1.6, hi + 0.2)
    ax.set_ylim((_OUTSIDE_Y - 0.6) if layout.outside.any() else -0.6, 2.6)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if legend:
        handles = [Line2D([], [], marker="o", linestyle="", markerfacecolor=c, markeredgecolor="#252525",
                          label=name) for c, name in zip(STAGE_COLOURS, STAGE_NAMES, strict=True)]
        if rings is not None:
            handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor="none", markersize=9,
                                  markeredgecolor="#cc1a1a", label="platform not meeting"))
        ax.legend(handles=handles, loc="upper right", fontsize=fontsize, frameon=False, title="stage",
                  title_fontsize=fontsize)
    artists = AllianceArtists(layout=layout, members=members, seats=seats, stopped=rings)
    artists.update(stage, edge_active, member, stopped)
    return artists
