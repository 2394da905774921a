"""Pictures of experiment results: outcome heatmaps, Sobol and Morris indices.

Figures are built with ``matplotlib.figure.Figure`` rather than pyplot, so
nothing here touches global plotting state (a notebook's backend, a CLI with no
display) and figures are freed as soon as they go out of scope.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .files import atomic_write
from .spec import HeatmapSpec


def save_figure(fig: Any, path: str | Path, meta: dict[str, Any] | None = None, *, dpi: int = 120,
                tight: bool = True) -> Path:
    """Save a figure as PNG atomically, provenance in the PNG text chunks, and free it.

    The one figure saver of every layer (experiments, calibration, ``lasim run``).
    A pyplot figure is closed, so long sessions that draw many do not pile them up.
    """
    buf = io.BytesIO()
    png_meta = {"Software": "lasim"} | {k: str(v) for k, v in (meta or {}).items()}
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None, metadata=png_meta)
    data = buf.getvalue()
    if getattr(fig, "number", None) is not None:  # a pyplot figure: release it
        import matplotlib.pyplot as plt

        plt.close(fig)
    return atomic_write(path, lambda p: p.write_bytes(data))


def heatmap_table(df: pd.DataFrame, hm: HeatmapSpec) -> pd.DataFrame:
    """Share of runs with each outcome per cell (facet x y x x), with run counts.

    Booleans average to probabilities; a numeric outcome averages to its mean.
    """
    keys = [k for k in (hm.facet, hm.y, hm.x) if k]
    agg = df.groupby(keys)[list(hm.outcomes)].agg(lambda s: s.astype(float).mean())
    agg["runs"] = df.groupby(keys).size()
    return agg.reset_index()


def plot_heatmap(table: pd.DataFrame, hm: HeatmapSpec, title: str = "") -> Figure:
    """One row per outcome, one column per facet level; cells annotated in percent."""
    facets = sorted(table[hm.facet].unique()) if hm.facet else [None]
    xs = sorted(table[hm.x].unique())
    ys = sorted(table[hm.y].unique())
    nrow, ncol = len(hm.outcomes), len(facets)
    fig = Figure(figsize=(2.6 * ncol + 1.2, 2.4 * nrow + 0.6), layout="constrained")
    axes = np.atleast_2d(fig.subplots(nrow, ncol, squeeze=False, sharex=True, sharey=True))
    image = None
    for i, outcome in enumerate(hm.outcomes):
        is_prob = table[outcome].between(0, 1).all()
        for j, facet in enumerate(facets):
            ax = axes[i, j]
            sub = table if facet is None else table[table[hm.facet] == facet]
            grid = (sub.pivot_table(index=hm.y, columns=hm.x, values=outcome)
                    .reindex(index=ys, columns=xs))
            image = ax.imshow(grid.values, origin="lower", aspect="auto", cmap="viridis",
                              vmin=0 if is_prob else None, vmax=1 if is_prob else None)
            for (r, c), v in np.ndenumerate(grid.values):
                if np.isfinite(v):
                    text = f"{v:.0%}" if is_prob else f"{v:.2g}"
                    ax.text(c, r, text, ha="center", va="center", fontsize=7,
                            color="white" if (is_prob and v < 0.5) else "black")
            ax.set_xticks(range(len(xs)), [_fmt(v) for v in xs], fontsize=7)
            ax.set_yticks(range(len(ys)), [_fmt(v) for v in ys], fontsize=7)
            if i == 0 and facet is not None:
                ax.set_title(f"{hm.facet} = {_fmt(facet)}", fontsize=8)
            if i == nrow - 1:
                ax.set_xlabel(hm.x, fontsize=8)
            if j == 0:
                ax.set_ylabel(f"P({outcome})\n{hm.y}" if is_prob else f"{outcome}\n{hm.y}",
                              fontsize=8)
        if image is not None:
            fig.colorbar(image, ax=list(axes[i]), shrink=0.8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float | np.floating) else str(v)


def plot_sobol(indices: pd.DataFrame, outcome: str) -> Figure:
    """First-order (S1) and total (ST) indices per parameter with CI whiskers."""
    sub = indices[indices["outcome"] == outcome].sort_values("ST", ascending=True)
    y = np.arange(len(sub))
    fig = Figure(figsize=(6, 0.35 * len(sub) + 1.4), layout="constrained")
    ax = fig.subplots()
    ax.barh(y - 0.2, sub["S1"], height=0.4, xerr=sub["S1_conf"], label="S1 (first order)",
            color="#4c72b0", capsize=2)
    ax.barh(y + 0.2, sub["ST"], height=0.4, xerr=sub["ST_conf"], label="ST (total)",
            color="#dd8452", capsize=2)
    ax.set_yticks(y, sub["parameter"], fontsize=8)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("Sobol index (whiskers: 95% confidence interval)")
    ax.set_title(f"Sobol sensitivity of {outcome}", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def plot_s2(s2: pd.DataFrame, outcome: str, names: list[str]) -> Figure:
    """Second-order indices (upper triangle) with their confidence intervals.

    A cell whose interval includes 0 is greyed out and not coloured: at the sample
    sizes a study can afford most S2 estimates are noise, and a coloured cell of
    noise reads as an interaction.
    """
    sub = s2[s2["outcome"] == outcome]
    n = len(names)
    mat = np.full((n, n), np.nan)
    conf = np.full((n, n), np.nan)
    idx = {name: i for i, name in enumerate(names)}
    for row in sub.itertuples():
        mat[idx[row.parameter_i], idx[row.parameter_j]] = row.S2
        conf[idx[row.parameter_i], idx[row.parameter_j]] = row.S2_conf
    significant = np.isfinite(mat) & np.isfinite(conf) & (np.abs(mat) > conf)
    shown = np.where(significant, mat, np.nan)
    fig = Figure(figsize=(0.8 * n + 2.8, 0.6 * n + 1.9), layout="constrained")
    ax = fig.subplots()
    estimated = np.where(np.isfinite(mat) & ~significant, 1.0, np.nan)
    ax.imshow(estimated, cmap="Greys", vmin=0, vmax=8)  # light grey: estimated, not told apart from 0
    lim = np.nanmax(np.abs(mat)) if np.isfinite(mat).any() else 1.0
    lim = lim if lim > 0 else 1.0
    image = ax.imshow(shown, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_xticks(range(n), names, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(n), names, fontsize=7)
    for (r, c), v in np.ndenumerate(mat):
        if np.isfinite(v):
            ax.text(c, r, f"{v:.2f}\n±{conf[r, c]:.2f}", ha="center", va="center", fontsize=5.5,
                    color="black" if significant[r, c] else "#777777")
    fig.colorbar(image, ax=ax, label="S2 (coloured where its 95% CI excludes 0)")
    ax.set_title(f"Second-order Sobol indices of {outcome}\n{int(significant.sum())} of "
                 f"{int(np.isfinite(mat).sum())} pairs differ from 0 (95% CI); grey: interval includes 0",
                 fontsize=9)
    return fig


def plot_convergence(conv: pd.DataFrame, outcome: str) -> Figure:
    """Total indices against the base sample size N: flat lines mean N was enough."""
    sub = conv[conv["outcome"] == outcome]
    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.subplots()
    for name, g in sub.groupby("parameter"):
        g = g.sort_values("N")
        ax.errorbar(g["N"], g["ST"], yerr=g["ST_conf"], label=name, capsize=2, marker="o",
                    ms=3)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("base sample size N")
    ax.set_ylabel("ST")
    ax.set_title(f"Convergence of total Sobol indices of {outcome}", fontsize=10)
    ax.legend(fontsize=6, ncol=2)
    return fig


def plot_morris(table: pd.DataFrame, outcome: str) -> Figure:
    """Morris screening as a ranked dot chart: mu* with its interval, and sigma, per parameter.

    Parameter names sit on the axis, one row each, so no two labels can overlap
    whatever the values (a mu*-sigma scatter with a name at each point piles
    names on top of each other where parameters have similar effects). mu* says
    how much a parameter matters; sigma beside it large relative to mu* says its
    effect is non-linear or depends on other parameters.
    """
    sub = table[table["outcome"] == outcome].sort_values("mu_star", ascending=True)
    y = np.arange(len(sub))
    fig = Figure(figsize=(6.4, 0.3 * len(sub) + 1.5), layout="constrained")
    ax = fig.subplots()
    for k in y[::2]:
        ax.axhspan(k - 0.5, k + 0.5, color="#f2f2f2", lw=0, zorder=0)
    ax.errorbar(sub["mu_star"], y - 0.12, xerr=sub["mu_star_conf"], fmt="o", color="#4c72b0", ms=5,
                capsize=2, label="mu* (mean |elementary effect|), 95% CI")
    ax.plot(sub["sigma"], y + 0.12, "D", mfc="none", color="#dd8452", ms=5,
            label="sigma (spread: non-linear or interacting)")
    ax.set_yticks(y, sub["parameter"], fontsize=8)
    ax.set_ylim(-0.6, len(sub) - 0.4)
    ax.set_xlim(left=0)
    ax.set_xlabel("elementary effect on " + outcome)
    ax.set_title(f"Morris screening of {outcome} (ranked by mu*)", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return fig


def plot_box_limits(limits: dict[str, tuple[float | None, float | None]],
                    ranges: dict[str, tuple[float, float]], labels: dict[str, tuple[str, str]],
                    title: str) -> Figure:
    """A discovery box's limits on the factors it restricts, drawn from the limits its sentence states.

    Each factor is a row over its explored range (grey), with the box's range in
    colour and the limits written at its ends; an open side runs to the range's end.
    ``labels`` holds the printed lower and upper limit of each factor (the
    sentence's own wording of the numbers).
    """
    names = list(limits)
    fig = Figure(figsize=(6.4, 0.55 * len(names) + 1.4), layout="constrained")
    ax = fig.subplots()
    for k, name in enumerate(names):
        lo0, hi0 = ranges[name]
        width = (hi0 - lo0) or 1.0
        lo, hi = limits[name]
        a = 0.0 if lo is None else (lo - lo0) / width
        b = 1.0 if hi is None else (hi - lo0) / width
        ax.barh(k, 1.0, left=0.0, height=0.5, color="#e6e6e6", zorder=1)
        ax.barh(k, max(b - a, 0.01), left=a, height=0.5, color="#4c72b0", zorder=2, gid=f"box:{name}")
        lo_text, hi_text = labels[name]
        ax.text(-0.02, k, _fmt(lo0), ha="right", va="center", fontsize=7, color="#777777")
        ax.text(1.02, k, _fmt(hi0), ha="left", va="center", fontsize=7, color="#777777")
        if lo_text:
            ax.text(a, k + 0.3, lo_text, ha="center", va="bottom", fontsize=8, gid=f"lo:{name}")
        if hi_text:
            ax.text(b, k + 0.3, hi_text, ha="center", va="bottom", fontsize=8, gid=f"hi:{name}")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlim(-0.12, 1.12)
    ax.set_ylim(-0.6, len(names) - 0.1)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("explored range of each factor (grey); the box (blue)", fontsize=8)
    ax.set_title(title, fontsize=9)
    return fig
