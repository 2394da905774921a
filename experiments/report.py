"""The design-comparison report: figures, ``report.md`` and a self-contained ``report.html``.

Every number and figure in the report is computed by :func:`figure_data` from
the run table (``runs.csv``) and the monthly series (``series.parquet``) *as read
back from disk*, so what a reader sees is exactly what the tables they can open
say; ``tests/test_compare.py`` recomputes the figures from those files and
compares them pixel for pixel.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from model.kinds import LEVELS
from model.scenario import scenario_to_toml

from .compare import (
    PAYERS,
    PROBABILITIES,
    Comparison,
    cost_table,
    decide,
    design_order,
    differences,
    outcome_table,
    parse_target,
    verdict,
)
from .files import atomic_write, atomic_write_json, atomic_write_text, path_safe, provenance, write_parquet

LEVEL_NAMES = {**{f"adoption_{lv}": lab for lv, lab in zip(
    LEVELS, ("national", "district / city", "community"), strict=True)},
    "adoption_outside": "outside the alliance"}
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
DPI = 100
FIGURES = ("probabilities", "cost_effect", "months_to_scale", "adoption_by_level", "cost")
PAYER_COLOURS = {"donor": "#4d4d4d", "members": "#a6a6a6", "government": "#d9d9d9"}


def _finite(values: Any) -> list[float]:
    a = np.asarray(values, dtype=float)
    return [float(x) for x in a[np.isfinite(a)]]


def json_safe(x: Any) -> Any:
    """JSON-safe: NaN and infinity become None."""
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_safe(v) for v in x]
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def figure_data(runs: pd.DataFrame, series: pd.DataFrame, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the report shows, computed from the run table and the series alone.

    Parameters
    ----------
    runs, series
        The tables as written (``runs.csv``, ``series.parquet``).
    options
        The decision asked for: ``outcome`` (default ``scaled``), ``target`` (text such as
        ``"scaled>=0.8"``), ``budget`` (k USD) and ``cost_of`` (``total`` or a payer).

    Returns
    -------
    dict
        ``designs``, ``table`` (per-design outcomes), ``costs`` (mean cost by payer with
        intervals), ``ranking``, ``decision`` (sentences and the chosen design),
        ``differences`` (against the first), ``verdict``, ``months_to_scale`` (per
        design: months of the runs that scaled, and how many never did), ``adoption``
        (per design and level: month, median, 10th and 90th percentile), ``cost`` (per
        design: total cost of each run).
    """
    options = {"outcome": "scaled", "target": None, "budget": None, "cost_of": "total"} | dict(options or {})
    target = parse_target(options["target"]) if options["target"] else None
    decision = decide(runs, options["outcome"], target=target, budget=options["budget"],
                      cost_of=options["cost_of"])
    order = design_order(runs)
    table = outcome_table(runs)
    data: dict[str, Any] = {
        "designs": order,
        "options": options,
        "table": table.to_dict(orient="records"),
        "costs": cost_table(runs).to_dict(orient="records"),
        "ranking": decision.ranking.to_dict(orient="records"),
        "decision": {"outcome": decision.outcome, "chosen": decision.chosen, "lines": decision.lines},
        "differences": differences(runs).to_dict(orient="records"),
        "verdict": verdict(runs),
        "months_to_scale": {},
        "adoption": {},
        "cost": {},
    }
    for label in order:
        r = runs[runs["design"] == label]
        scaled = r["scaled"].astype(bool)
        data["months_to_scale"][label] = {
            "months": _finite(r.loc[scaled, "scale_month"]),
            "never": int((~scaled).sum()),
        }
        data["cost"][label] = _finite(r["total_cost"])
        s = series[series["design"] == label]
        levels = {}
        for col in LEVEL_NAMES:
            if col not in s or not s[col].notna().any():
                continue
            g = s.groupby("month")[col]
            levels[col] = {
                "month": [int(m) for m in g.median().index],
                "median": [float(v) for v in g.median()],
                "p10": [float(v) for v in g.quantile(0.1)],
                "p90": [float(v) for v in g.quantile(0.9)],
            }
        data["adoption"][label] = levels
    return data


# --------------------------------------------------------------------------- figures


def _colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def _design_axis(ax: Any, labels: list[str], *, ticks: bool = True) -> None:
    """Designs top to bottom on the y axis, each tick label in its design's colour."""
    if not ticks:  # an axis sharing y with the first: setting its ticks would blank the shared labels
        ax.tick_params(labelleft=False)
        return
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i, tick in enumerate(ax.get_yticklabels()):
        tick.set_color(_colour(i))


def _height(n: int, per: float = 0.42, extra: float = 1.5) -> float:
    return per * n + extra


def fig_probabilities(data: dict[str, Any]) -> Figure:
    """Probability of functioning, scaling and sustained adoption, 95% intervals: one panel per outcome."""
    labels = data["designs"]
    outcomes = list(PROBABILITIES)
    fig = Figure(figsize=(10, _height(len(labels))), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, len(outcomes), sharey=True)
    for j, (ax, o) in enumerate(zip(axes, outcomes, strict=True)):
        for i, row in enumerate(data["table"]):
            p, lo, hi = (float(row[f"p_{o}{s}"]) for s in ("", "_lo", "_hi"))
            ax.errorbar([p], [i], xerr=[[p - lo], [hi - p]], fmt="o", color=_colour(i), ms=6, capsize=3, lw=1.5)
            ax.annotate(f"{100 * p:.0f}%", (p, i), xytext=(0, 6), textcoords="offset points", ha="center",
                        fontsize=7, color=_colour(i))
        ax.set_xlim(-0.06, 1.06)
        ax.set_xticks(np.linspace(0, 1, 6), [f"{v:.0%}" for v in np.linspace(0, 1, 6)], fontsize=8)
        ax.grid(axis="x", color="#e5e5e5", lw=0.6)
        ax.set_title(f"P({o})", fontsize=10)
        _design_axis(ax, labels, ticks=j == 0)
    fig.supxlabel(f"share of runs, 95% Wilson interval ({data['table'][0]['runs']} runs per design)", fontsize=9)
    fig.suptitle("Probability of functioning, scaling and sustained adoption")
    return fig


def fig_cost_effect(data: dict[str, Any]) -> Figure:
    """P(outcome) against mean cost, both with 95% intervals; the non-dominated designs joined and ringed."""
    rank = data["ranking"]
    opts = data["options"]
    outcome = data["decision"]["outcome"]
    cost_of = opts["cost_of"]
    index = {lab: i for i, lab in enumerate(data["designs"])}
    fig = Figure(figsize=(8.5, 5.2), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    for row in rank:
        i = index[row["design"]]
        c, p = float(row["cost"]), float(row["p"])
        c_lo = float(row["cost_lo"]) if row["cost_lo"] is not None and np.isfinite(row["cost_lo"]) else c
        c_hi = float(row["cost_hi"]) if row["cost_hi"] is not None and np.isfinite(row["cost_hi"]) else c
        ax.errorbar([c], [p], xerr=[[c - c_lo], [c_hi - c]], yerr=[[p - row["p_lo"]], [row["p_hi"] - p]],
                    fmt="o", color=_colour(i), ms=7, capsize=3, lw=1.3, zorder=3)
        if row["front"]:
            ax.scatter([c], [p], s=260, facecolors="none", edgecolors="#222222", lw=1.2, zorder=4)
    front = sorted((float(r["cost"]), float(r["p"])) for r in rank if r["front"])
    if len(front) > 1:
        ax.step([f[0] for f in front], [f[1] for f in front], where="post", color="#222222", lw=0.8,
                ls=":", zorder=2, label="non-dominated designs (ringed)")
    elif front:
        ax.plot([], [], ls=":", color="#222222", label="non-dominated design (ringed)")
    if opts.get("budget") is not None:
        ax.axvline(float(opts["budget"]), color="#b2182b", ls="--", lw=1, label=f"budget {opts['budget']:,.0f} k USD")
    if opts.get("target"):
        tgt = parse_target(opts["target"])
        ax.axhline(tgt.value, color="#2166ac", ls="--", lw=1, label=f"target {tgt}")
    chosen = data["decision"]["chosen"]
    if chosen is not None:
        r = next(r for r in rank if r["design"] == chosen)
        ax.scatter([r["cost"]], [r["p"]], marker="*", s=240, color=_colour(index[chosen]), edgecolors="black",
                   zorder=6, label=f"chosen: {chosen}")
    ax.set_ylim(-0.03, 1.05)
    top = max([float(r["cost_hi"]) if r["cost_hi"] is not None and np.isfinite(r["cost_hi"]) else float(r["cost"])
               for r in rank] + [float(opts["budget"] or 0)])
    ax.set_xlim(0, 1.08 * top if top > 0 else 1.0)
    _label_points(ax, [(float(r["cost"]), float(r["p"]), r["design"], _colour(index[r["design"]])) for r in rank])
    ax.set_ylabel(f"P({outcome}), 95% Wilson interval")
    who = "total cost" if cost_of == "total" else f"cost paid by {cost_of}"
    ax.set_xlabel(f"mean {who} per run (k USD), 95% t interval of the mean")
    ax.set_title(f"P({outcome}) against cost")
    ax.grid(color="#eeeeee", lw=0.6)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    return fig


def _label_points(ax: Any, points: list[tuple[float, float, str, str]]) -> None:
    """Name every point beside it, moving a label up or down (with a leader line) when it would cover another.

    Greedy placement in axes fractions with a label size estimated from its length:
    enough to keep up to about 8 names apart without a layout library.
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    w_char, h = 0.0085, 0.045
    placed: list[tuple[float, float, float, float]] = []
    for x, y, text, colour in sorted(points, key=lambda t: (-t[1], t[0])):
        fx, fy = (x - x0) / (x1 - x0), (y - y0) / (y1 - y0)
        w = w_char * len(text)
        left = fx + 0.015 + w > 0.99
        bx = fx - 0.015 - w if left else fx + 0.015
        for k in range(0, 40):
            dy = (k + 1) // 2 * h * (1 if k % 2 else -1) if k else 0.0
            by = fy + 0.01 + dy
            if not 0.0 <= by <= 1.0 - h:
                continue
            if not any(bx < px + pw and px < bx + w and by < py + ph and py < by + h for px, py, pw, ph in placed):
                break
        placed.append((bx, by, w, h))
        moved = abs(by - fy - 0.01) > 1e-9
        ax.annotate(text, (x, y), xytext=(bx if not left else bx + w, by + h / 3), textcoords="axes fraction",
                    ha="right" if left else "left", va="center", fontsize=8, color=colour, zorder=5,
                    arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.6} if moved else None)


def fig_months_to_scale(data: dict[str, Any]) -> Figure:
    """Months to scale among the runs that scaled: one row per design, and how many never scaled."""
    labels = data["designs"]
    fig = Figure(figsize=(8.5, _height(len(labels))), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    rng = np.random.default_rng(0)  # jitter only: the same figure every time
    for i, label in enumerate(labels):
        d = data["months_to_scale"][label]
        months = np.asarray(d["months"], dtype=float)
        if months.size:
            ax.boxplot([months], positions=[i], orientation="horizontal", widths=0.5, showfliers=False,
                       medianprops={"color": _colour(i), "lw": 2}, boxprops={"color": _colour(i)},
                       whiskerprops={"color": _colour(i)}, capprops={"color": _colour(i)})
            ax.scatter(months, i + rng.uniform(-0.18, 0.18, months.size), s=9, color=_colour(i), alpha=0.5,
                       lw=0, zorder=3)
        total = len(months) + d["never"]
        ax.annotate(f"{len(months)} of {total} scaled", (1.01, i), xycoords=("axes fraction", "data"),
                    va="center", fontsize=8, color=_colour(i))
    _design_axis(ax, labels)
    ax.set_xlabel("month the innovation scaled (runs that scaled)")
    ax.set_title("Months to scale")
    ax.grid(axis="x", color="#eeeeee", lw=0.6)
    return fig


def fig_adoption_by_level(data: dict[str, Any]) -> Figure:
    """Adoption by level over time, small multiples: a row per design, a column per level.

    Each panel shows its design's median and 10-90% band of the runs, with the other
    designs' medians in light grey behind it for reference.
    """
    labels = data["designs"]
    cols = list(LEVEL_NAMES.items())
    fig = Figure(figsize=(11, 1.55 * len(labels) + 1.1), dpi=DPI, layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(labels), len(cols), sharex=True, sharey=True, squeeze=False))
    for j, (col, name) in enumerate(cols):
        for i, label in enumerate(labels):
            ax = axes[i, j]
            for other in labels:
                lv = data["adoption"][other].get(col)
                if other != label and lv:
                    ax.plot(lv["month"], lv["median"], color="#cccccc", lw=0.8)
            lv = data["adoption"][label].get(col)
            if lv:
                ax.fill_between(lv["month"], lv["p10"], lv["p90"], color=_colour(i), alpha=0.25, lw=0)
                ax.plot(lv["month"], lv["median"], color=_colour(i), lw=1.8)
            else:
                ax.text(0.5, 0.5, "no such organisations", transform=ax.transAxes, ha="center", fontsize=7,
                        color="#777777")
            ax.set_ylim(0, 1)
            ax.tick_params(labelsize=7)
            if i == 0:
                ax.set_title(name, fontsize=9)
            if j == 0:
                ax.set_ylabel(label, fontsize=8, color=_colour(i), rotation=0, ha="right", va="center")
    for ax in axes[-1]:
        ax.set_xlabel("month", fontsize=8)
    fig.suptitle("Share adopted by level: median and 10-90% of runs (grey: the other designs' medians)",
                 fontsize=10)
    return fig


def fig_cost(data: dict[str, Any]) -> Figure:
    """Mean cost per run split by payer (interval on the total), and cost per community reached."""
    labels = data["designs"]
    fig = Figure(figsize=(10, _height(len(labels))), dpi=DPI, layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, sharey=True, width_ratios=[3, 2])
    for i, row in enumerate(data["costs"]):
        left = 0.0
        for who in PAYERS:
            v = row[f"cost_{who}_mean"]
            v = float(v) if v is not None and np.isfinite(v) else 0.0
            ax1.barh(i, v, left=left, color=PAYER_COLOURS[who], edgecolor=_colour(i), lw=1.2, height=0.6,
                     label=who if i == 0 else None)
            left += v
        m, lo, hi = (row[f"cost_total_{s}"] for s in ("mean", "lo", "hi"))
        if lo is not None and np.isfinite(lo):
            ax1.errorbar([m], [i], xerr=[[m - lo], [hi - m]], fmt="none", ecolor="black", capsize=3, lw=1)
        ax1.annotate(f"{m:,.0f}", (m, i), xytext=(4, -9), textcoords="offset points", fontsize=7)
    _design_axis(ax1, labels)
    ax1.set_xlabel("mean cost per run (k USD); whisker: 95% interval of the total")
    ax1.set_title("Cost by payer", loc="left")
    # above the bars, beside the title: inside the axes it covers the longest bar
    ax1.legend(fontsize=8, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=3,
               title="paid by:", title_fontsize=8, alignment="left", borderaxespad=0.2)
    for i, row in enumerate(data["costs"]):
        cpc = row["cost_per_community"]
        if cpc is not None and np.isfinite(cpc):
            ax2.barh(i, cpc, color=_colour(i), alpha=0.8, height=0.6)
            ax2.annotate(f"{cpc:.1f}", (cpc, i), xytext=(3, 0), textcoords="offset points", va="center",
                         fontsize=7)
        else:
            ax2.annotate("no community reached in any run", (0, i), xytext=(3, 0), textcoords="offset points",
                         va="center", fontsize=7, color=_colour(i))
    finite = [float(r["cost_per_community"]) for r in data["costs"]
              if r["cost_per_community"] is not None and np.isfinite(r["cost_per_community"])]
    ax2.set_xlim(0, 1.15 * max(finite) if finite else 1.0)  # room for the numbers beside the bars
    _design_axis(ax2, labels, ticks=False)
    ax2.set_xlabel("k USD per community reached\n(mean cost / mean peak reach)")
    ax2.set_title("Cost per community reached")
    return fig


FIGURE_FUNCTIONS: dict[str, Callable[[dict[str, Any]], Figure]] = {
    "probabilities": fig_probabilities,
    "cost_effect": fig_cost_effect,
    "months_to_scale": fig_months_to_scale,
    "adoption_by_level": fig_adoption_by_level,
    "cost": fig_cost,
}


def render_png(fig: Figure) -> bytes:
    """PNG bytes without a timestamp or version in the metadata, so equal figures give equal files."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def render_figures(data: dict[str, Any]) -> dict[str, bytes]:
    """Every report figure as PNG bytes, from :func:`figure_data`."""
    return {name: render_png(fn(data)) for name, fn in FIGURE_FUNCTIONS.items()}


# --------------------------------------------------------------------------- documents

_CAPTIONS = {
    "probabilities": "Probability of functioning, scaling and sustained adoption, with 95% intervals.",
    "months_to_scale": "Months to scale, among the runs that scaled.",
    "adoption_by_level": "Adoption by level over time: median and 10-90% band of the runs.",
    "cost": "Mean cost per run by payer (donor, members, government) and cost per community reached.",
    "cost_effect": "Probability of the chosen outcome against mean cost, with 95% intervals; "
                   "non-dominated designs ringed.",
}


def _table_rows(data: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    head = ["design", "runs", "P(functioning)", "P(scaled)", "P(sustained)", "median months to scale",
            "mean total cost (k USD)", "cost per community (k USD)"]
    rows = []

    def p(row: dict[str, Any], o: str) -> str:
        v, lo, hi = row[f"p_{o}"], row[f"p_{o}_lo"], row[f"p_{o}_hi"]
        return f"{100 * v:.0f}% [{100 * lo:.0f}, {100 * hi:.0f}]"

    for row in data["table"]:
        med = row["scale_month_median"]
        cpc = row["cost_per_community"]
        rows.append([
            row["design"], str(row["runs"]), p(row, "functioning"), p(row, "scaled"), p(row, "sustained"),
            "never" if med is None or not np.isfinite(med) else f"{med:.0f}",
            f"{row['total_cost_mean']:.0f}",
            "no community reached" if cpc is None or not np.isfinite(cpc) else f"{cpc:.1f}",
        ])
    return head, rows


def _interval(m: Any, lo: Any, hi: Any) -> str:
    if m is None or not np.isfinite(m):
        return "n/a"
    if lo is None or not np.isfinite(lo):
        return f"{m:,.0f}"
    return f"{m:,.0f} [{lo:,.0f}, {hi:,.0f}]"


def _ranking_rows(data: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    outcome = data["decision"]["outcome"]
    who = data["options"]["cost_of"]
    head = ["rank", "design", f"P({outcome}) [95%]", f"mean {who} cost, k USD [95%]", "non-dominated",
            "clearly behind"]
    rows = [[str(r["rank"]), r["design"], f"{100 * r['p']:.0f}% [{100 * r['p_lo']:.0f}, {100 * r['p_hi']:.0f}]",
             _interval(r["cost"], r["cost_lo"], r["cost_hi"]), "yes" if r["front"] else "",
             r["clearly_behind"] or "-"] for r in data["ranking"]]
    return head, rows


def _cost_rows(data: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    head = ["design", "total", *PAYERS, "runs reaching no community"]
    rows = [[r["design"], *(_interval(r[f"cost_{w}_mean"], r[f"cost_{w}_lo"], r[f"cost_{w}_hi"])
                            for w in ("total", *PAYERS)), f"{r['runs_reaching_none']} of {r['runs']}"]
            for r in data["costs"]]
    return head, rows


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in rows)]


def _html_table(head: list[str], rows: list[list[str]]) -> list[str]:
    e = html.escape
    parts = ["<table><tr>", *[f"<th>{e(h)}</th>" for h in head], "</tr>"]
    for r in rows:
        parts += ["<tr>", *[f"<td>{e(c)}</td>" for c in r], "</tr>"]
    return [*parts, "</table>"]


_NOTES = ("Intervals are 95%: Wilson for shares, paired Student t for differences between designs (runs "
          "paired by replication), Student t of the mean for costs. A design meets a target only when its whole "
          "interval does, and is within budget only when the upper end of its mean cost's interval is. "
          "Tables: `runs.csv` (one row per run), `series.parquet` (monthly, per run).")


def _meta_lines(meta: dict[str, Any]) -> list[str]:
    prov = meta["provenance"]
    return [
        f"Designs: {', '.join(f'{d['label']} from {d['source']}' for d in meta['designs'])}.",
        f"{meta['replications']} replications per design with common random numbers "
        f"(root seed {meta['root_seed']}; replication i uses the same seed in every design).",
        f"lasim {prov['lasim_version']}, git commit {prov['git_commit']}, created {prov['created']}.",
    ]


def markdown_report(data: dict[str, Any], meta: dict[str, Any], robustness: list[str] | None = None) -> str:
    """``report.md``: decision, ranking, verdict, tables and the figures (as files next to it);
    with ``robustness`` (its sentences) a section pointing at ``robustness/``."""
    out = ["# Alliance design comparison", "", *_meta_lines(meta), "", "## Decision", ""]
    out += [f"- {line}" for line in data["decision"]["lines"]]
    out += ["", "## Ranking", "", *_md_table(*_ranking_rows(data))]
    out += ["", "## Against the first design", ""]
    out += [f"- {line}" for line in data["verdict"]]
    out += ["", "## Outcomes", "", *_md_table(*_table_rows(data))]
    out += ["", "## Cost by payer (k USD per run, mean [95% interval])", "", *_md_table(*_cost_rows(data))]
    out += ["", _NOTES, ""]
    if robustness:
        out += ["## Is the choice robust?", "", *[f"- {line}" for line in robustness], "",
                f"![{_ROBUST_CAPTION}](robustness/robustness.png)", "",
                "Tables: `robustness/summary.csv`, `robustness/conditions.csv`, `robustness/runs.csv`.", ""]
    for name in FIGURES:
        out += [f"## {_CAPTIONS[name]}", "", f"![{_CAPTIONS[name]}]({name}.png)", ""]
    return "\n".join(out)


_ROBUST_CAPTION = "How often each design is best, its regret and its outcome over the uncertain conditions."


def html_report(data: dict[str, Any], meta: dict[str, Any], pngs: dict[str, bytes],
                robustness: tuple[list[str], bytes] | None = None) -> str:
    """``report.html``: the same content with the figures embedded, so it opens offline, alone."""
    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Alliance design comparison</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        "img{max-width:100%}.meta{color:#555}</style></head><body>",
        "<h1>Alliance design comparison</h1>",
        *[f"<p class='meta'>{e(line)}</p>" for line in _meta_lines(meta)],
        "<h2>Decision</h2><ul>", *[f"<li>{e(line)}</li>" for line in data["decision"]["lines"]], "</ul>",
        "<h2>Ranking</h2>", *_html_table(*_ranking_rows(data)),
        "<h2>Against the first design</h2><ul>", *[f"<li>{e(line)}</li>" for line in data["verdict"]], "</ul>",
        "<h2>Outcomes</h2>", *_html_table(*_table_rows(data)),
        "<h2>Cost by payer (k USD per run, mean [95% interval])</h2>", *_html_table(*_cost_rows(data)),
        f"<p class='meta'>{e(_NOTES.replace('`', ''))}</p>",
    ]
    if robustness:
        lines, png = robustness
        b64 = base64.b64encode(png).decode("ascii")
        parts += ["<h2>Is the choice robust?</h2><ul>", *[f"<li>{e(line)}</li>" for line in lines], "</ul>",
                  f"<img id='fig-robustness' alt='{e(_ROBUST_CAPTION)}' src='data:image/png;base64,{b64}'>"]
    for name in FIGURES:
        b64 = base64.b64encode(pngs[name]).decode("ascii")
        parts.append(f"<h2>{e(_CAPTIONS[name])}</h2><img id='fig-{name}' alt='{e(_CAPTIONS[name])}' "
                     f"src='data:image/png;base64,{b64}'>")
    parts.append("</body></html>")
    return "\n".join(parts)


def read_tables(out: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The run table and the series of a comparison directory, as written."""
    out = Path(out)
    return pd.read_csv(out / "runs.csv"), pd.read_parquet(out / "series.parquet")


def write_report(comparison: Comparison, out: str | Path, options: dict[str, Any] | None = None,
                 robustness: Any = None) -> dict[str, Path]:
    """Write the tables, the designs, the figures and both reports into ``out``.

    Files: ``runs.csv``, ``series.parquet``, ``designs/<letter>_<name>.toml`` (each
    design as run), ``<figure>.png``, ``report.json`` (figure data, seeds, provenance),
    ``report.md``, ``report.html``, and with ``robustness`` (from
    :func:`experiments.robustness.run_robustness`) ``robustness/`` and a section in both
    reports. Each is written atomically.

    Returns
    -------
    dict
        Name -> path of every file written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    written["runs.csv"] = atomic_write(out / "runs.csv", lambda p: comparison.runs.to_csv(p, index=False))
    design_meta = []
    for d in comparison.designs:
        path = atomic_write_text(out / "designs" / f"{d.letter}_{path_safe(d.name)}.toml",
                                 scenario_to_toml(d.scenario))
        written[f"designs/{path.name}"] = path
        design_meta.append({"letter": d.letter, "name": d.name, "label": d.label, "source": d.source,
                            "file": f"designs/{path.name}"})
    meta = {
        "designs": design_meta,
        "replications": len(comparison.seeds),
        "root_seed": comparison.root_seed,
        "seeds": comparison.seeds,
        "common_random_numbers": True,
        "options": {"outcome": "scaled", "target": None, "budget": None, "cost_of": "total"} | dict(options or {}),
        "provenance": provenance(),
    }
    # the series carries its provenance inside (Parquet metadata), as sweep shards do
    written["series.parquet"] = write_parquet(out / "series.parquet", comparison.series, meta)
    # figures come from the tables as stored, so the report cannot disagree with them
    runs, series = read_tables(out)
    data = figure_data(runs, series, meta["options"])
    pngs = render_figures(data)
    for name, png in pngs.items():
        written[f"{name}.png"] = atomic_write(out / f"{name}.png", lambda p, b=png: p.write_bytes(b))
    written["report.json"] = atomic_write_json(out / "report.json", json_safe({**meta, "figures": data}))
    robust = None
    if robustness is not None:  # an experiments.robustness.Robustness: its files go to robustness/
        files = robustness.write(out / "robustness")
        written |= {f"robustness/{k}": v for k, v in files.items()}
        robust = (robustness.lines, files["robustness.png"].read_bytes())
    written["report.md"] = atomic_write_text(out / "report.md",
                                             markdown_report(data, meta, robust[0] if robust else None))
    written["report.html"] = atomic_write_text(out / "report.html", html_report(data, meta, pngs, robust))
    return written


def load_report_json(out: str | Path) -> dict[str, Any]:
    """``report.json`` of a comparison directory."""
    return json.loads((Path(out) / "report.json").read_text(encoding="utf-8"))
