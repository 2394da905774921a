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

from .compare import PROBABILITIES, Comparison, design_order, differences, outcome_table, verdict
from .files import atomic_write, atomic_write_json, atomic_write_text, path_safe, provenance, write_parquet

LEVEL_NAMES = {**{f"adoption_{lv}": lab for lv, lab in zip(
    LEVELS, ("national", "district / city", "community"), strict=True)},
    "adoption_outside": "outside the alliance"}
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
DPI = 100
FIGURES = ("probabilities", "months_to_scale", "adoption_by_level", "cost")


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


def figure_data(runs: pd.DataFrame, series: pd.DataFrame) -> dict[str, Any]:
    """Everything the report shows, computed from the run table and the series alone.

    Returns
    -------
    dict
        ``designs``, ``table`` (per-design outcomes), ``differences``, ``verdict``,
        ``months_to_scale`` (per design: months of the runs that scaled, and how many
        never did), ``adoption`` (per design and level: month, median, 10th and 90th
        percentile), ``cost`` (per design: total cost of each run).
    """
    order = design_order(runs)
    table = outcome_table(runs)
    data: dict[str, Any] = {
        "designs": order,
        "table": table.to_dict(orient="records"),
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


def fig_probabilities(data: dict[str, Any]) -> Figure:
    """Probability of functioning, scaling and sustained adoption, 95% intervals."""
    fig = Figure(figsize=(7.5, 3.2), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    outcomes = list(PROBABILITIES)
    n = len(data["designs"])
    width = 0.8 / n
    for i, row in enumerate(data["table"]):
        x = np.arange(len(outcomes)) + (i - (n - 1) / 2) * width
        p = np.array([row[f"p_{o}"] for o in outcomes], dtype=float)
        lo = np.array([row[f"p_{o}_lo"] for o in outcomes], dtype=float)
        hi = np.array([row[f"p_{o}_hi"] for o in outcomes], dtype=float)
        ax.bar(x, p, width * 0.9, color=_colour(i), alpha=0.75, label=row["design"])
        ax.errorbar(x, p, yerr=[p - lo, hi - p], fmt="none", ecolor="#252525", capsize=3, lw=1)
    ax.set_xticks(np.arange(len(outcomes)), [f"P({o})" for o in outcomes])
    ax.set_ylim(0, 1.22)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("share of runs (95% interval)")
    ax.set_title("Probability of functioning, scaling and sustained adoption")
    ax.legend(fontsize=8, frameon=False, loc="upper center", ncol=min(n, 4))
    return fig


def fig_months_to_scale(data: dict[str, Any]) -> Figure:
    """Distribution of months to scale among the runs that scaled."""
    fig = Figure(figsize=(7.5, 3.2), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    all_months = [m for d in data["months_to_scale"].values() for m in d["months"]]
    hi = max(all_months) if all_months else 120.0
    bins = np.arange(0, hi + 7, 6)
    for i, label in enumerate(data["designs"]):
        d = data["months_to_scale"][label]
        ax.hist(d["months"], bins=bins, color=_colour(i), alpha=0.5,
                label=f"{label}: {len(d['months'])} scaled, {d['never']} never")
    ax.set_xlabel("month the innovation scaled")
    ax.set_ylabel("runs")
    ax.set_title("Months to scale")
    ax.legend(fontsize=8, frameon=False)
    return fig


def fig_adoption_by_level(data: dict[str, Any]) -> Figure:
    """Adoption by level over time: median and 10-90% band of the runs, per design."""
    fig = Figure(figsize=(10, 5.5), dpi=DPI, layout="constrained")
    axes = fig.subplots(2, 2, sharex=True, sharey=True).ravel()
    for ax, (col, name) in zip(axes, LEVEL_NAMES.items(), strict=True):
        for i, label in enumerate(data["designs"]):
            lv = data["adoption"][label].get(col)
            if not lv:
                continue
            ax.fill_between(lv["month"], lv["p10"], lv["p90"], color=_colour(i), alpha=0.2, lw=0)
            ax.plot(lv["month"], lv["median"], color=_colour(i), lw=1.8, label=label)
        ax.set_title(name, fontsize=10)
        ax.set_ylim(0, 1)
    for ax in axes[2:]:
        ax.set_xlabel("month")
    for ax in axes[::2]:
        ax.set_ylabel("share adopted")
    axes[0].legend(fontsize=8, frameon=False, loc="upper left")
    fig.suptitle("Adoption by level: median and 10-90% of runs")
    return fig


def fig_cost(data: dict[str, Any]) -> Figure:
    """Total cost per run, and cost per community reached."""
    fig = Figure(figsize=(9, 3.2), dpi=DPI, layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    labels = data["designs"]
    ax1.boxplot([data["cost"][lab] for lab in labels], tick_labels=[lab.split(" ")[0] for lab in labels])
    ax1.set_ylabel("total cost per run (k USD)")
    ax1.set_title("Total cost")
    cpc = [row["cost_per_community"] for row in data["table"]]
    shown = [c if c is not None and np.isfinite(c) else 0.0 for c in cpc]
    ax2.bar(range(len(labels)), shown, color=[_colour(i) for i in range(len(labels))], alpha=0.75)
    ax2.set_xticks(range(len(labels)), [lab.split(" ")[0] for lab in labels])
    ax2.set_ylabel("k USD per community reached")
    ax2.set_title("Cost per community reached")
    return fig


FIGURE_FUNCTIONS: dict[str, Callable[[dict[str, Any]], Figure]] = {
    "probabilities": fig_probabilities,
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
    "cost": "Total cost per run and cost per community reached.",
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
            "n/a" if cpc is None or not np.isfinite(cpc) else f"{cpc:.1f}",
        ])
    return head, rows


def _meta_lines(meta: dict[str, Any]) -> list[str]:
    prov = meta["provenance"]
    return [
        f"Designs: {', '.join(f'{d['label']} from {d['source']}' for d in meta['designs'])}.",
        f"{meta['replications']} replications per design with common random numbers "
        f"(root seed {meta['root_seed']}; replication i uses the same seed in every design).",
        f"lasim {prov['lasim_version']}, git commit {prov['git_commit']}, created {prov['created']}.",
    ]


def markdown_report(data: dict[str, Any], meta: dict[str, Any]) -> str:
    """``report.md``: verdict, outcome table and the figures (as files next to it)."""
    head, rows = _table_rows(data)
    out = ["# Alliance design comparison", "", *_meta_lines(meta), "", "## Verdict", ""]
    out += [f"- {line}" for line in data["verdict"]]
    out += ["", "## Outcomes", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    out += ["", "Intervals are 95% (Wilson for shares; paired normal for differences). "
            "Tables: `runs.csv` (one row per run), `series.parquet` (monthly, per run).", ""]
    for name in FIGURES:
        out += [f"## {_CAPTIONS[name]}", "", f"![{_CAPTIONS[name]}]({name}.png)", ""]
    return "\n".join(out)


def html_report(data: dict[str, Any], meta: dict[str, Any], pngs: dict[str, bytes]) -> str:
    """``report.html``: the same content with the figures embedded, so it opens offline, alone."""
    head, rows = _table_rows(data)
    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Alliance design comparison</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        "img{max-width:100%}.meta{color:#555}</style></head><body>",
        "<h1>Alliance design comparison</h1>",
        *[f"<p class='meta'>{e(line)}</p>" for line in _meta_lines(meta)],
        "<h2>Verdict</h2><ul>", *[f"<li>{e(line)}</li>" for line in data["verdict"]], "</ul>",
        "<h2>Outcomes</h2><table><tr>", *[f"<th>{e(h)}</th>" for h in head], "</tr>",
    ]
    for r in rows:
        parts += ["<tr>", *[f"<td>{e(c)}</td>" for c in r], "</tr>"]
    parts.append("</table><p class='meta'>Intervals are 95% (Wilson for shares; paired normal for "
                 "differences). Tables: runs.csv (one row per run), series.parquet (monthly, per run).</p>")
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


def write_report(comparison: Comparison, out: str | Path) -> dict[str, Path]:
    """Write the tables, the designs, the figures and both reports into ``out``.

    Files: ``runs.csv``, ``series.parquet``, ``designs/<letter>_<name>.toml`` (each
    design as run), ``<figure>.png``, ``report.json`` (figure data, seeds, provenance),
    ``report.md``, ``report.html``. Each is written atomically.

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
        "provenance": provenance(),
    }
    # the series carries its provenance inside (Parquet metadata), as sweep shards do
    written["series.parquet"] = write_parquet(out / "series.parquet", comparison.series, meta)
    # figures come from the tables as stored, so the report cannot disagree with them
    runs, series = read_tables(out)
    data = figure_data(runs, series)
    pngs = render_figures(data)
    for name, png in pngs.items():
        written[f"{name}.png"] = atomic_write(out / f"{name}.png", lambda p, b=png: p.write_bytes(b))
    written["report.json"] = atomic_write_json(out / "report.json", json_safe({**meta, "figures": data}))
    written["report.md"] = atomic_write_text(out / "report.md", markdown_report(data, meta))
    written["report.html"] = atomic_write_text(out / "report.html", html_report(data, meta, pngs))
    return written


def load_report_json(out: str | Path) -> dict[str, Any]:
    """``report.json`` of a comparison directory."""
    return json.loads((Path(out) / "report.json").read_text(encoding="utf-8"))
