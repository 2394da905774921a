"""What ``lasim optimise`` writes: the trials and front tables, the front plot, design files, a summary."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from model.scenario import scenario_names

from .files import atomic_write, atomic_write_json, atomic_write_text, provenance, write_csv
from .optimise import EXCHANGE_LINKS, OptimiseSettings, design_label, design_toml

DPI = 100


def base_reference(settings: OptimiseSettings, designs_dir: Path) -> str:
    """How a design file names its base: a shipped name as is, a file relative to the design file."""
    if settings.base in scenario_names():
        return settings.base
    return os.path.relpath(Path(settings.base).resolve(), designs_dir.resolve())


def front_figure(trials: pd.DataFrame, confirmed: pd.DataFrame, settings: OptimiseSettings) -> Figure:
    """Cost against P(outcome) for every trial, the search front, and the front on fresh seeds with intervals."""
    outcomes = settings.outcomes
    fig = Figure(figsize=(4.6 * len(outcomes) + 0.6, 4.2), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(outcomes), squeeze=False)[0])
    done = trials[trials["state"] == "COMPLETE"]
    for ax, o in zip(axes, outcomes, strict=True):
        ax.scatter(done["cost"], done[f"p_{o}"], s=14, color="#bbbbbb",
                   label=f"trial (search, n = {settings.replications} each)")
        if len(confirmed):
            ax.scatter(confirmed["cost"], confirmed[f"search_p_{o}"], s=28, facecolor="none",
                       edgecolor="#1f77b4", label="front: search estimate")
            p = confirmed[f"p_{o}"]
            yerr = np.vstack([p - confirmed[f"p_{o}_low"], confirmed[f"p_{o}_high"] - p])
            xerr = np.vstack([confirmed["cost"] - confirmed["cost_low"], confirmed["cost_high"] - confirmed["cost"]])
            n = int(confirmed["n"].iloc[0])
            ax.errorbar(confirmed["cost"], p, yerr=yerr, xerr=xerr, fmt="o", color="#d62728", ms=5,
                        capsize=3, label=f"front on fresh seeds (n = {n}, 95% CI)")
            for r in confirmed.itertuples():
                ax.annotate(str(r.trial), (r.cost, getattr(r, f"p_{o}")), fontsize=7, xytext=(4, -9),
                            textcoords="offset points", color="#d62728")
        if settings.target and settings.target.outcome == o:
            ax.axhline(settings.target.threshold, color="k", lw=0.8, ls="--", label=f"target {settings.target}")
        ax.set_xlabel("cost of the design (k USD over the horizon)")
        ax.set_ylabel(f"P({o})")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"lasim optimise: {len(done)} designs of {settings.base}", fontsize=10)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def write_outputs(out: Path, settings: OptimiseSettings, trials: pd.DataFrame, confirmed: pd.DataFrame,
                  answer: str, command: str) -> list[Path]:
    """Write trials.csv, front.csv (provenance JSON beside each), front.png, designs/*.toml, optimise.md
    and settings.json into ``out``.

    Each file is written atomically; the study (``study.db``) is never touched here.
    """
    out = Path(out)
    designs = out / "designs"
    designs.mkdir(parents=True, exist_ok=True)
    meta = {**provenance(), "settings": settings.fingerprint()}
    written = [*write_csv(out / "trials.csv", trials, meta), *write_csv(out / "front.csv", confirmed, meta)]
    png = _png(front_figure(trials, confirmed, settings))
    written.append(atomic_write(out / "front.png", lambda p: p.write_bytes(png)))
    base_ref = base_reference(settings, designs)
    files = []
    for r in confirmed.to_dict("records"):
        values = {v.name: r[v.name] for v in settings.space}
        name = f"design_{int(r['trial'])}"
        o = settings.outcomes[0]
        note = (f"Found by lasim optimise (trial {r['trial']}): {design_label(values, settings)}. "
                f"On fresh seeds P({o}) {r[f'p_{o}']:.0%} [{r[f'p_{o}_low']:.0%}, {r[f'p_{o}_high']:.0%}], "
                f"n = {int(r['n'])}; cost {r['cost']:.0f} k USD.")
        path = designs / f"{name}.toml"
        written.append(atomic_write_text(path, design_toml(values, settings, name, base_ref, note)))
        files.append(path.name)
    atomic_write_json(out / "settings.json", {**settings.to_dict(), "provenance": provenance()})
    written.append(out / "settings.json")
    written.append(atomic_write_text(out / "optimise.md", _markdown(settings, trials, confirmed, answer,
                                                                   command, files)))
    return written


def _markdown(settings: OptimiseSettings, trials: pd.DataFrame, confirmed: pd.DataFrame, answer: str,
              command: str, files: list[str]) -> str:
    done = int((trials["state"] == "COMPLETE").sum())
    lines = [f"# lasim optimise: {settings.base}", "", f"    {command}", "", answer, "",
             f"{done} designs searched, each on the same {settings.replications} seeds (common random "
             f"numbers); the front was run again on fresh seeds. Cost: model spending over the horizon "
             "plus the facilitation premium (docs/decisions.md, 'The cost of a design').", ""]
    if settings.conditions:
        lines += ["Conditions: " + ", ".join(f"{k}={v}" for k, v in settings.conditions.items()), ""]
    head = ["trial", "cost (k USD)"] + [f"P({o})" for o in settings.reported] + ["n", "design", "file"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r, f in zip(confirmed.to_dict("records"), files, strict=True):
        cells = [str(r["trial"]), f"{r['cost']:.0f} [{r['cost_low']:.0f}, {r['cost_high']:.0f}]"]
        cells += [f"{r[f'p_{o}']:.0%} [{r[f'p_{o}_low']:.0%}, {r[f'p_{o}_high']:.0%}]" for o in settings.reported]
        label = design_label({v.name: r[v.name] for v in settings.space}, settings)
        cells += [str(int(r["n"])), label, f"designs/{f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "![front](front.png)", "",
              f"exchange_links: {', '.join(f'{i} {n}' for i, n in enumerate(EXCHANGE_LINKS))}.", ""]
    return "\n".join(lines)


def summary_lines(confirmed: pd.DataFrame, settings: OptimiseSettings) -> list[str]:
    """The front as printed on the terminal."""
    out = []
    for r in confirmed.to_dict("records"):
        ps = "  ".join(f"P({o}) {r[f'p_{o}']:.0%} [{r[f'p_{o}_low']:.0%}, {r[f'p_{o}_high']:.0%}]"
                       for o in settings.reported)
        label = design_label({v.name: r[v.name] for v in settings.space}, settings)
        out.append(f"  trial {r['trial']:>4}  cost {r['cost']:7.0f} k USD  {ps}  n={int(r['n'])}  {label}")
    return out
