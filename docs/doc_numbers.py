"""Regenerate every model number quoted in the docs, and the README figures.

(Not named numbers.py: run as a script, its folder comes first on sys.path and would hide
the standard library's ``numbers`` module.)

    python docs/doc_numbers.py                       # everything: numbers.json, docs, figures (minutes)
    python docs/doc_numbers.py --only fade default   # some sections
    python docs/doc_numbers.py --check [--only ...]  # regenerate, compare with numbers.json, write nothing

Each section runs the model (200 seeds or more, fixed root seeds) and returns
named texts. They are stored in ``docs/numbers.json`` (``text``: name -> text;
``data``: the tables behind them) and written into the Markdown files between
markers::

    <!-- num:name -->text<!-- /num -->

``tests/test_doc_numbers.py`` fails when a marker's text differs from
numbers.json or names a number the file does not hold. A number that comes from
the model and is not between markers does not belong in the docs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NUMBERS = ROOT / "docs" / "numbers.json"
IMG = ROOT / "docs" / "img"
#: Markdown files that may quote model numbers.
DOCS = (ROOT / "README.md", ROOT / "experiments" / "README.md", *sorted((ROOT / "docs").glob("*.md")))
MARKER = re.compile(r"<!-- num:([a-z0-9_]+) -->(.*?)<!-- /num -->", re.S)

SEEDS = 200  # runs behind every quoted share
ROOT_SEED = 20261123

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from model.digest import model_digest  # noqa: E402 - after the path is set

# --------------------------------------------------------------------------- formatting


def share(k: int, n: int) -> str:
    """``"41% [34, 48] of 200 runs"``: a share with its Wilson 95% interval and run count."""
    from experiments.compare import wilson

    p, lo, hi = wilson(int(k), int(n))

    def pct(x: float) -> str:  # below 1% keep a decimal: "0% [0, 0]" would claim certainty
        return "0" if x < 0.0005 else (f"{x * 100:.0f}" if x >= 0.01 else f"{x * 100:.1f}")

    return f"{pct(p)}% [{pct(lo)}, {pct(hi)}] of {n} runs"


def _plain(frame: Any) -> Any:
    """A DataFrame (records) or Series (dict) as plain JSON values, NaN as null."""
    import pandas as pd

    return json.loads(frame.to_json(orient="records" if isinstance(frame, pd.DataFrame) else "index"))


def _wrap_quote(lines: list[str]) -> str:
    return "\n".join("\n".join(textwrap.wrap(line, 84, initial_indent="> ", subsequent_indent="> "))
                     for line in lines)


# --------------------------------------------------------------------------- sections


def section_fade(ctx: dict) -> tuple[dict[str, str], dict]:
    """P11: survival after handover implied by the default fade parameters (no simulation)."""
    from model.mechanisms.fade import weibull_hazard
    from model.scenario import Parameters

    p = Parameters()
    survival, s = {}, 1.0
    for month in range(48):
        s *= 1.0 - weibull_hazard(month, p.fade_scale_months, p.fade_shape)
        survival[month + 1] = s
    text = {
        "fade_scale": f"{p.fade_scale_months:g}", "fade_shape": f"{p.fade_shape:g}",
        "fade_s12": f"{survival[12]:.2f}", "fade_s48": f"{survival[48]:.2f}",
    }
    return text, {"survival_by_month": survival}


def section_shipped(ctx: dict) -> tuple[dict[str, str], dict]:
    """The shipped calibration (calibration/shipped): its generations (no simulation)."""
    import pandas as pd

    gens = pd.read_csv(ROOT / "calibration" / "shipped" / "generations.csv")
    eps = ", ".join(f"{e:g}" for e in gens["epsilon"])
    text = {"shipped_fit": f"{len(gens)} generations (epsilons {eps}), {gens['wall_time_s'].sum() / 60:.1f} min"}
    return text, {"generations": _plain(gens)}


def section_default(ctx: dict) -> tuple[dict[str, str], dict]:
    """The default scenario over 200 seeds: P1 timing, P13 pockets, the adoption and alliance figures."""
    import numpy as np

    from lasim.commands import run_replications
    from lasim.plots import adoption_figure, alliance_figure, save
    from model.runner import replication_seeds
    from model.scenario import load_scenario

    sc = load_scenario("default")
    p = sc.parameters
    seeds = replication_seeds(ROOT_SEED, SEEDS)
    summary, series, snapshots, world = run_replications(sc, seeds, progress=ctx["progress"],
                                                         snapshot_months=[p.project_months])
    months = summary["functioning_month"].dropna()
    local = summary["local_impact"].to_numpy(bool)
    scaled = summary["scaled"].to_numpy(bool)
    n = len(summary)
    text = {
        "p1_functioning": share(int(summary["functioning"].sum()), n),
        "p1_median_month": f"{months.median():.0f}",
        "p1_month_range": f"{np.percentile(months, 5):.0f}-{np.percentile(months, 95):.0f}",
        "p13_local": share(int(local.sum()), n),
        "p13_scaled": share(int(scaled.sum()), n),
        "p13_pockets": share(int((local & ~scaled).sum()), n),
        "default_seeds": f"{n}",
    }
    if ctx["write"]:
        save(adoption_figure(series, p, sc.name), IMG / "adoption.png")
        save(alliance_figure(world, snapshots, sc.name), IMG / "alliance.png")
    data = {"root_seed": ROOT_SEED, "runs": n,
            "outcomes": _plain(summary.drop(columns=["seed"]).mean(numeric_only=True).round(4))}
    return text, data


def section_compare(ctx: dict) -> tuple[dict[str, str], dict]:
    """The README's `lasim compare` verdict: district_hubs vs linked_layers, 200 paired seeds."""
    from experiments.compare import load_designs, run_comparison, verdict
    from experiments.executors import make_executor

    designs = load_designs(["district_hubs", "linked_layers"])
    with make_executor(processes=ctx["processes"]) as executor:
        comparison = run_comparison(designs, SEEDS, 0, executor=executor)
    lines = verdict(comparison.runs)
    _screenshot_report(comparison)
    return {"compare_verdict": "\n" + _wrap_quote(lines) + "\n"}, {"verdict": lines, "replications": SEEDS,
                                                                   "root_seed": 0}


def _screenshot_report(comparison: Any) -> None:
    """docs/img/compare-report.png: the report.html of this comparison, as a browser shows it.

    Needs Playwright (the ``dev`` extra) and a Chromium (``/usr/bin/chromium`` or on PATH;
    Playwright cannot download browsers here); without them the old picture is kept and
    the script says so.
    """
    import shutil

    from experiments.files import atomic_write
    from experiments.report import write_report

    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        print("numbers: compare report screenshot skipped (needs playwright and chromium)", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        write_report(comparison, Path(tmp) / "report", {"replications": SEEDS, "seed": 0})
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto((Path(tmp) / "report" / "report.html").resolve().as_uri())
            page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
            png = page.screenshot(full_page=True)
            browser.close()
    atomic_write(IMG / "compare-report.png", lambda path: Path(path).write_bytes(png))


def section_headline(ctx: dict) -> tuple[dict[str, str], dict]:
    """The headline sweep (its own spec and seed): heatmap figure and the shares quoted from it."""
    from experiments.cli import write_heatmap
    from experiments.discovery import discover
    from experiments.executors import make_executor
    from experiments.spec import load_spec
    from experiments.store import load_results
    from experiments.sweep import run_sweep

    spec = load_spec("headline")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "headline"
        with make_executor(processes=ctx["processes"]) as executor:
            run_sweep(spec, out, executor=executor, progress=ctx["progress"])
        df = load_results(out)
        found = discover(out, "scaled")
        if ctx["write"]:
            heat = write_heatmap(spec, out)
            IMG.mkdir(exist_ok=True)
            (IMG / "headline.png").write_bytes(heat.read_bytes())
    fac, gap, gov = df["facilitation_quality"], df["funding_gap_months"], df["government_involvement"]

    def q(mask) -> str:
        sub = df[mask]
        return share(int(sub["scaled"].sum()), len(sub))

    text = {
        "headline_runs": f"{len(df):,}",
        "headline_no_government": q(gov == 0),
        "headline_weak_facilitation": q(fac <= 0.4),
        "headline_strong": q((fac >= 0.8) & (gov >= 0.75)),
        "headline_by_gap": "; ".join(f"{g:g} months: {q((fac >= 0.6) & (gap == g))}" for g in sorted(gap.unique())),
        "headline_discover": (f"{found.boxes[0].sentence}; {round(found.boxes[0].mass * len(df))} runs in the box"
                              if found.boxes else found.text().splitlines()[0]),
    }
    table = df.groupby(["government_involvement", "facilitation_quality", "funding_gap_months"])[
        ["scaled", "sustained"]].mean().round(4).reset_index()
    return text, {"spec": "headline", "seed": spec.seed, "replications": spec.replications,
                  "cells": _plain(table)}


def section_knockout(ctx: dict) -> tuple[dict[str, str], dict]:
    """Each mechanism's effect in the default scenario (200 paired seeds): docs/img/knockout.png."""
    from experiments.knockout import plot_knockout, run_knockout
    from experiments.plots import save_figure
    from model.scenario import load_scenario

    result = run_knockout(load_scenario("default"), SEEDS, ROOT_SEED, processes=ctx["processes"])
    if ctx["write"]:
        save_figure(plot_knockout(result.effects, "default"), IMG / "knockout.png")
    eff = result.effects
    none = sorted(set(eff["mechanism"]) - set(eff.loc[eff["clear"], "mechanism"]))
    lead = eff[(eff["mechanism"] == "lead_allocation") & (eff["outcome"] == "scaled")].iloc[0]
    text = {"knockout_seeds": f"{SEEDS}",
            "knockout_no_effect": ", ".join(f"`{m}`" for m in none) if none else "none",
            "knockout_lead_scaled": (f"{lead['effect']:+.2f} [{lead['low']:+.2f}, {lead['high']:+.2f}] over "
                                     f"{int(lead['n'])} paired seeds ({lead['full']:.2f} with it, "
                                     f"{lead['knocked_out']:.2f} without)")}
    return text, {"root_seed": ROOT_SEED, "effects": _plain(eff.round(4))}


def section_grid(ctx: dict) -> tuple[dict[str, str], dict]:
    """The 3 x 3 x 3 response grid of the monotonicity test (40 seeds per cell)."""
    from experiments.responses import cell_table, monotonicity_checks, response_grid

    runs = response_grid(replications=40, processes=ctx["processes"])
    checks = monotonicity_checks(runs)
    bad = checks[~checks["ok"]]
    return ({"grid_wrong_way": f"{len(bad)} of {len(checks)}"},
            {"cells": _plain(cell_table(runs).round(4)), "wrong_way": _plain(bad.round(4))})


#: The search behind docs/optimise.md; the same as
#: ``lasim optimise default --target "scaled>=0.8" --trials 150 -n 40 --confirm 300 --front-size 6 --seed 1``.
OPTIMISE = {"trials": 150, "replications": 40, "confirm": 300, "front_size": 6, "seed": 1, "compare": 300}
# one study per version of the model: a search is resumed only on the model it was made with
# (experiments.optimise refuses another's), so a model change starts a fresh one here
OPTIMISE_DIR = ROOT / "runs" / f"optimise-scaled80-{model_digest()}"


def section_optimise(ctx: dict) -> tuple[dict[str, str], dict]:
    """docs/optimise.md: the cheapest design that scales in 80% of runs in default's setting.

    The study is kept in runs/optimise-scaled80-<model digest> (ignored by git): a rerun resumes it
    (a finished one runs no new trial) and only confirms the front and compares again.
    About 15 CPU-minutes from scratch.
    """
    from experiments.compare import load_designs, outcome_table, run_comparison
    from experiments.executors import make_executor
    from experiments.optimise import (
        OptimiseSettings,
        answer,
        confirm,
        design_label,
        mean_interval,
        parse_target,
        search,
        search_front,
    )
    from experiments.optimise_report import write_outputs

    o = OPTIMISE
    settings = OptimiseSettings(base="default", target=parse_target("scaled>=0.8"), replications=o["replications"],
                                seed=o["seed"])
    with make_executor(processes=ctx["processes"]) as executor:
        state = search(settings, OPTIMISE_DIR, o["trials"], executor=executor)
        confirmed = confirm(settings, search_front(state.trials, settings, o["front_size"]), o["confirm"],
                            executor=executor)
        text = answer(settings, confirmed)
        write_outputs(OPTIMISE_DIR, settings, state.trials, confirmed, text,
                      "python docs/doc_numbers.py --only optimise")
        ok = confirmed[confirmed["meets_target"]]
        pick = (ok if len(ok) else confirmed.sort_values("p_scaled", ascending=False)).iloc[0]
        chosen = OPTIMISE_DIR / "designs" / f"design_{int(pick['trial'])}.toml"
        designs = load_designs(["default", "district_hubs", "linked_layers", str(chosen)])
        comparison = run_comparison(designs, o["compare"], ROOT_SEED, executor=executor)
    front_rows = []
    for r in confirmed.to_dict("records"):
        front_rows.append(
            f"| {r['trial']} | {r['cost']:.0f} [{r['cost_low']:.0f}, {r['cost_high']:.0f}] | "
            f"{share(round(r['p_scaled'] * r['n']), r['n'])} | "
            f"{share(round(r['p_sustained'] * r['n']), r['n'])} | {design_label(r, settings)} |")
    table = outcome_table(comparison.runs)
    compare_rows = []
    for row in table.to_dict("records"):
        runs = comparison.runs[comparison.runs["design"] == row["design"]]
        cost, lo, hi = mean_interval(runs["total_cost"])
        compare_rows.append(
            f"| {row['design']} | {share(int(runs['scaled'].sum()), len(runs))} | "
            f"{share(int(runs['sustained'].sum()), len(runs))} | {cost:.0f} [{lo:.0f}, {hi:.0f}] |")
    done = int((state.trials["state"] == "COMPLETE").sum())
    texts = {
        "optimise_answer": text,
        "optimise_search": f"{done} designs x {o['replications']} common seeds",
        "optimise_front": "\n" + "\n".join([
            "| trial | cost (k USD) | P(scaled) | P(sustained) | design |", "|---|---|---|---|---|",
            *front_rows]) + "\n",
        "optimise_compare": "\n" + "\n".join([
            "| design | P(scaled) | P(sustained) | cost (k USD) |", "|---|---|---|---|", *compare_rows]) + "\n",
        "optimise_chosen": f"design_{int(pick['trial'])}",
    }
    data = {**o, "front": _plain(confirmed.round(4)), "compare": _plain(table.round(4)),
            "chosen": json.loads(json.dumps(dict(pick), default=float))}
    return texts, data


SECTIONS: dict[str, Callable[[dict], tuple[dict[str, str], dict]]] = {
    "fade": section_fade, "shipped": section_shipped, "default": section_default, "compare": section_compare,
    "headline": section_headline, "knockout": section_knockout, "grid": section_grid,
    "optimise": section_optimise,
}


# --------------------------------------------------------------------------- docs


def markers(text: str) -> dict[str, list[str]]:
    """Name -> the texts between its markers in ``text`` (a name may appear more than once)."""
    found: dict[str, list[str]] = {}
    for m in MARKER.finditer(text):
        found.setdefault(m.group(1), []).append(m.group(2))
    return found


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with every known marker's content replaced by its value."""
    return MARKER.sub(lambda m: (f"<!-- num:{m.group(1)} -->{values[m.group(1)]}<!-- /num -->"
                                 if m.group(1) in values else m.group(0)), text)


def load() -> dict[str, Any]:
    return json.loads(NUMBERS.read_text(encoding="utf-8")) if NUMBERS.exists() else {"text": {}, "data": {}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="+", choices=list(SECTIONS), help="sections to regenerate (default: all)")
    ap.add_argument("--check", action="store_true",
                    help="regenerate and compare with docs/numbers.json; write nothing; exit 1 on a difference")
    ap.add_argument("--processes", type=int, default=None, help="worker processes (default: all cores)")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    ctx = {"write": not args.check, "processes": args.processes, "progress": not args.quiet}
    from experiments.files import provenance

    # taken before any figure is rewritten, so a clean tree is not reported as dirty
    meta = {k: v for k, v in provenance().items() if k != "created"}
    stored = load()
    new_text, new_data = dict(stored["text"]), dict(stored["data"])
    for name in args.only or SECTIONS:
        print(f"numbers: {name} ...", file=sys.stderr)
        text, data = SECTIONS[name](ctx)
        new_text.update(text)
        new_data[name] = data
    if args.check:
        diff = {k: (stored["text"].get(k), v) for k, v in new_text.items() if stored["text"].get(k) != v}
        for k, (old, new) in diff.items():
            print(f"{k}: numbers.json has {old!r}, the model gives {new!r}")
        print("numbers: " + ("all match" if not diff else f"{len(diff)} differ"))
        return 1 if diff else 0
    from experiments.files import atomic_write_text

    atomic_write_text(NUMBERS, json.dumps({"generated_by": "python docs/doc_numbers.py", **meta,
                                           "text": dict(sorted(new_text.items())), "data": new_data},
                                          indent=1) + "\n")
    for doc in DOCS:
        old = doc.read_text(encoding="utf-8")
        new = fill(old, new_text)
        if new != old:
            atomic_write_text(doc, new)
            print(f"numbers: updated {doc.relative_to(ROOT)}", file=sys.stderr)
    # the figures (the compare report) record the commit they were made on: made on a dirty
    # tree (or one edited during the run) they show "+dirty" in a shipped picture
    commit = meta.get("git_commit") or ""
    if commit.endswith("+dirty"):
        print(f"numbers: warning: the tree had uncommitted changes ({commit}); commit, re-run and do not "
              "edit the tree during the run before shipping the figures", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
