"""Pictures of a run: adoption by level over time, and the alliance itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: the CLI and CI have no screen
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from experiments.plots import save_figure  # noqa: E402

from .drawing import compute_layout, draw_alliance  # noqa: E402

LEVEL_SERIES = (
    ("adoption_national", "national", "#08519c"),
    ("adoption_intermediate", "district / city", "#3182bd"),
    ("adoption_local", "community", "#6baed6"),
    ("adoption_outside", "outside the alliance (scaling)", "#e6550d"),
)


def shade_funding(ax: Any, params: Any) -> None:
    """Shade the donor-funded project period and the funding gap on a month axis."""
    ax.axvspan(0, params.project_months, color="#c7e9c0", alpha=0.5, lw=0, label="donor-funded project")
    if params.funding_gap_months:
        start = params.funding_gap_start
        end = min(start + params.funding_gap_months, params.project_months)
        if end > start:
            ax.axvspan(start, end, color="#fcbba1", alpha=0.8, lw=0, label="funding gap")


def adoption_figure(series: pd.DataFrame, params: Any, title: str) -> plt.Figure:
    """Adoption by level over time: median over replications with a 5-95% band.

    ``series`` is long: one row per (replication, month).
    """
    run_col = "run" if "run" in series.columns else "replication"
    n = series[run_col].nunique()
    fig, ax = plt.subplots(figsize=(9, 4.8), constrained_layout=True)
    shade_funding(ax, params)
    grouped = series.groupby("month")
    for col, label, colour in LEVEL_SERIES:
        if series[col].isna().all():
            continue
        med = grouped[col].median()
        ax.plot(med.index, med.to_numpy(), color=colour, lw=2, label=label)
        if n > 1:
            lo, hi = grouped[col].quantile(0.05), grouped[col].quantile(0.95)
            ax.fill_between(med.index, lo.to_numpy(), hi.to_numpy(), color=colour, alpha=0.15, lw=0)
    ax.axhline(params.scale_share, color="#e6550d", ls=":", lw=1)
    ax.text(1, params.scale_share + 0.01, "scaled", color="#e6550d", fontsize=8)
    ax.set_xlim(0, params.horizon_months)
    ax.set_ylim(0, 1)
    ax.set_xlabel("month")
    ax.set_ylabel("share of organisations that adopted")
    ax.set_title(f"{title}: adoption by level" + (f" (median and 5-95% of {n} runs)" if n > 1 else ""))
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return fig


def alliance_figure(world: Any, snapshots: list[tuple[str, dict[str, np.ndarray]]], title: str) -> plt.Figure:
    """The alliance at a few moments: platforms by level, members coloured by adoption stage."""
    layout = compute_layout(world)
    fig, axes = plt.subplots(1, len(snapshots), figsize=(7.5 * len(snapshots), 5.2), constrained_layout=True,
                             squeeze=False)
    for i, (ax, (label, snap)) in enumerate(zip(axes[0], snapshots, strict=True)):
        draw_alliance(ax, layout, snap["stage"], world.influence, snap["seat_active"], snap["member"],
                      legend=i == len(snapshots) - 1)
        ax.set_title(label, fontsize=10)
    fig.suptitle(f"{title}: the alliance (colour = adoption stage, size = influence)")
    return fig


def save(fig: plt.Figure, path: Path) -> None:
    """Save a figure atomically and free it (see :func:`experiments.plots.save_figure`)."""
    save_figure(fig, path, {"what": "lasim run"}, tight=False)
