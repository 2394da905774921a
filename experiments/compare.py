"""Compare alliance designs with common random numbers.

A design is a scenario (usually a file whose ``structure`` says which platforms
exist, who sits on them and how they link). Every design is run with the same
replication seeds, so replication ``i`` of design A and of design B share their
random draws as far as their structures allow; differences between designs are
then estimated from paired runs, which needs far fewer replications than
independent samples for the same certainty.

The functions here return plain pandas tables; :mod:`experiments.report` turns
them into figures and a report, and the explorer's comparison mode reuses both.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.errors import LasimInputError, ScenarioError, did_you_mean
from model.kinds import LEVELS
from model.runner import replication_seeds
from model.scenario import Scenario, load_scenario
from model.shipped import find, shipped, shipped_name

from .executors import Executor
from .runs import Run, failed, run_many
from .statistics import paired_difference, wilson
from .tasks import RunFunction

#: Monthly series kept per run for the report (adoption by level over time, reach, cost).
SERIES_KEPT: tuple[str, ...] = (
    *(f"adoption_{lv}" for lv in LEVELS), "adoption_outside", "adoption_all",
    "communities_reached", "total_cost",
)
#: Yes/no outcomes reported as probabilities with 95% intervals.
PROBABILITIES: dict[str, str] = {
    "scaled": "scales",
    "sustained": "sustains adoption",
    "functioning": "functions",
}


@dataclass(frozen=True)
class Design:
    """One design to compare: a letter, a name and the scenario it runs."""

    letter: str
    name: str
    scenario: Scenario
    source: str

    @property
    def label(self) -> str:
        """``"A (district_hubs)"``: what tables and figures call the design."""
        return f"{self.letter} ({self.name})"


def make_designs(scenarios: Sequence[Scenario], sources: Sequence[str] | None = None) -> list[Design]:
    """Wrap scenarios as designs A, B, C, ... (names from the scenarios).

    Raises
    ------
    LasimInputError
        With fewer than two designs or more than 26.
    """
    if len(scenarios) < 2:
        raise LasimInputError(f"compare needs at least two designs, got {len(scenarios)}")
    if len(scenarios) > 26:
        raise LasimInputError(f"compare takes at most 26 designs, got {len(scenarios)}")
    sources = list(sources) if sources is not None else [s.name for s in scenarios]
    return [Design(letter, s.name, s, src)
            for letter, s, src in zip(string.ascii_uppercase, scenarios, sources, strict=False)]


def shipped_designs() -> dict[str, Path]:
    """Name -> file of the example designs shipped in ``model/scenarios/designs``."""
    return shipped("model", "scenarios/designs")


def resolve_design(name_or_path: str | Path) -> str:
    """A design file path: an existing file, else a shipped design's file, else the name as given
    (a shipped scenario name, or a missing file that :func:`load_scenario` reports)."""
    found = find(name_or_path, "model", "scenarios/designs")
    if found is not None:
        return str(found)
    name = shipped_name(name_or_path)
    scenarios = shipped("model", "scenarios")
    if name is not None and not Path(name_or_path).suffix and name not in scenarios:
        designs = sorted(shipped_designs())
        raise ScenarioError(f"unknown design {name!r}{did_you_mean(name, [*designs, *scenarios])}; shipped designs: "
                            f"{', '.join(designs)}; shipped scenarios: {', '.join(sorted(scenarios))} "
                            "(or give a .toml path)")
    return str(name_or_path)


def load_designs(paths: Sequence[str | Path]) -> list[Design]:
    """Load design files, shipped design names or shipped scenario names as designs A, B, ...

    Raises
    ------
    model.errors.ScenarioError
        For the first file that is missing, malformed or describes an impossible
        alliance (the message names the file and the field).
    """
    scenarios = [load_scenario(resolve_design(p)) for p in paths]
    return make_designs(scenarios, [str(p) for p in paths])


def check_replications(n: int) -> int:
    """``n`` if it is a usable number of replications.

    Raises
    ------
    LasimInputError
        When ``n`` is below 1.
    """
    if n < 1:
        raise LasimInputError(f"--replications {n}: must be at least 1 (each design runs that many times)")
    return int(n)


@dataclass
class Comparison:
    """The raw results of a comparison: one row per run, and the runs' monthly series."""

    designs: list[Design]
    seeds: list[int]
    root_seed: int
    runs: pd.DataFrame
    series: pd.DataFrame


def _run_row(design: Design, d_index: int, run: Run) -> tuple[dict[str, Any], pd.DataFrame]:
    """A finished run as its row of the run table and its kept series."""
    row = {"design": design.label, "design_index": d_index, "replication": run.replication,
           "seed": run.seed, **(run.summary or {})}
    series = run.series
    ser = series[[c for c in SERIES_KEPT if c in series]].reset_index()
    ser.insert(0, "replication", run.replication)
    ser.insert(0, "design", design.label)
    return row, ser


def run_comparison(
    designs: Sequence[Design],
    replications: int,
    root_seed: int = 0,
    *,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    run_fn: str | RunFunction | None = None,
) -> Comparison:
    """Run every design ``replications`` times with the same seeds (common random numbers).

    Parameters
    ----------
    designs
        From :func:`load_designs` or :func:`make_designs`.
    replications
        Runs per design (at least 1).
    root_seed
        Root of :func:`model.runner.replication_seeds`; replication ``i`` gets the same
        seed in every design.
    executor
        An ``experiments.executors`` executor (``None``: in this process).
    progress
        Called with (runs done, runs in all) after each run.
    run_fn
        Replaces the model (tests); see :func:`experiments.runs.run_many`.

    Returns
    -------
    Comparison
        Runs sorted by design then replication, whatever order they finished in.
    """
    check_replications(replications)
    seeds = replication_seeds(root_seed, replications)
    total = len(designs) * len(seeds)
    counter = iter(range(1, total + 1))
    done = run_many([d.scenario for d in designs], seeds, executor=executor, series=True,
                    run_fn=run_fn,
                    on_result=(lambda run: progress(next(counter), total)) if progress else None)
    bad = failed(done)
    if bad:
        r = bad[0]
        raise LasimInputError(
            f"{len(bad)} of {total} runs failed; first: design {designs[r.scenario_index].label}, "
            f"replication {r.replication} (seed {r.seed}): {r.error}")
    rows, series = [], []
    for run in done:
        row, ser = _run_row(designs[run.scenario_index], run.scenario_index, run)
        rows.append(row)
        series.append(ser)
    runs = pd.DataFrame(rows).sort_values(["design_index", "replication"], kind="stable").reset_index(drop=True)
    ser_all = pd.concat(series, ignore_index=True)
    ser_all["design_index"] = ser_all["design"].map({d.label: i for i, d in enumerate(designs)})
    ser_all = (ser_all.sort_values(["design_index", "replication", "month"], kind="stable")
               .drop(columns="design_index").reset_index(drop=True))
    return Comparison(list(designs), seeds, int(root_seed), runs, ser_all)


# --------------------------------------------------------------------------- tables


def design_order(runs: pd.DataFrame) -> list[str]:
    """Design labels in the order they were given."""
    if "design_index" in runs:
        return list(runs.sort_values("design_index", kind="stable")["design"].drop_duplicates())
    return list(runs["design"].drop_duplicates())


def outcome_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per design: probabilities with 95% intervals, months to scale, costs.

    Parameters
    ----------
    runs
        The run table (:attr:`Comparison.runs`, or read back from ``runs.csv``).
    """
    rows = []
    for label in design_order(runs):
        r = runs[runs["design"] == label]
        n = len(r)
        row: dict[str, Any] = {"design": label, "runs": n}
        for col in PROBABILITIES:
            k = int(r[col].astype(bool).sum())
            p, lo, hi = wilson(k, n)
            row |= {f"p_{col}": p, f"p_{col}_lo": lo, f"p_{col}_hi": hi}
        months = r.loc[r["scaled"].astype(bool), "scale_month"].to_numpy(dtype=float)
        months = months[np.isfinite(months)]
        row["scale_month_median"] = float(np.median(months)) if months.size else math.nan
        row["scale_month_q25"] = float(np.percentile(months, 25)) if months.size else math.nan
        row["scale_month_q75"] = float(np.percentile(months, 75)) if months.size else math.nan
        cost = r["total_cost"].to_numpy(dtype=float)
        reach = r["peak_communities_reached"].to_numpy(dtype=float)
        row["total_cost_mean"] = float(cost.mean())
        row["total_cost_p025"] = float(np.percentile(cost, 2.5))
        row["total_cost_p975"] = float(np.percentile(cost, 97.5))
        row["communities_reached_mean"] = float(reach.mean())
        # ratio of means: a run that reaches no community costs money but has no
        # per-community cost of its own, and must still count against the design
        row["cost_per_community"] = float(cost.mean() / reach.mean()) if reach.mean() > 0 else math.inf
        row["final_adoption_mean"] = float(r["final_adoption"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.0f}%"


def _pts(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:+.0f}"


def _share(row: pd.Series, col: str) -> str:
    return f"{_pct(row[f'p_{col}'])} [{100 * row[f'p_{col}_lo']:.0f}, {100 * row[f'p_{col}_hi']:.0f}]"


def _diff(d: pd.Series, col: str) -> str:
    dd, lo, hi = d[f"d_{col}"], d[f"d_{col}_lo"], d[f"d_{col}_hi"]
    if not np.isfinite(lo):
        return f"{_pts(dd)} points (too few runs to say how certain)"
    clear = lo > 0 or hi < 0
    return (f"{_pts(dd)} points [{_pts(lo)}, {_pts(hi)}], "
            + ("clear (the 95% interval excludes zero)" if clear else "not clear: more replications could tell"))


def differences(runs: pd.DataFrame) -> pd.DataFrame:
    """Paired differences of every design against the first (the baseline), per yes/no outcome."""
    order = design_order(runs)
    base = runs[runs["design"] == order[0]].set_index("replication")
    rows = []
    for label in order[1:]:
        other = runs[runs["design"] == label].set_index("replication")
        common = base.index.intersection(other.index)
        row: dict[str, Any] = {"design": label, "baseline": order[0], "pairs": len(common)}
        for col in PROBABILITIES:
            d, lo, hi, _ = paired_difference(base.loc[common, col], other.loc[common, col])
            row |= {f"d_{col}": d, f"d_{col}_lo": lo, f"d_{col}_hi": hi}
        cost_a = float(base.loc[common, "total_cost"].mean())
        cost_b = float(other.loc[common, "total_cost"].mean())
        row["cost_ratio"] = cost_b / cost_a if cost_a > 0 else math.inf
        rows.append(row)
    return pd.DataFrame(rows)


def verdict(runs: pd.DataFrame) -> list[str]:
    """Plain-language verdict: each design against the baseline, with size and certainty.

    Example: ``"Design B (linked_layers) scales in 64% [58, 70] of runs against 41%
    [35, 47] for A (district_hubs), at 1.3x the cost. ..."``
    """
    table = outcome_table(runs).set_index("design")
    diffs = differences(runs)
    order = design_order(runs)
    base = order[0]
    lines = []
    for _, d in diffs.iterrows():
        b, a = table.loc[d["design"]], table.loc[base]

        ratio = d["cost_ratio"]
        cost = f"at {ratio:.2g}x the cost" if np.isfinite(ratio) else "at a cost the baseline did not incur"
        cpc_b, cpc_a = b["cost_per_community"], a["cost_per_community"]
        cpc = (f"{cpc_b:.1f} k USD against {cpc_a:.1f}"
               if np.isfinite(cpc_b) and np.isfinite(cpc_a) else "not comparable (a design reached no community)")
        lines.append(
            f"Design {d['design']} scales in {_share(b, 'scaled')} of runs against {_share(a, 'scaled')} "
            f"for {base}, {cost}. Difference in scaling: {_diff(d, 'scaled')}. "
            f"Sustained adoption: {_share(b, 'sustained')} against {_share(a, 'sustained')}, "
            f"{_diff(d, 'sustained')}. "
            f"Cost per community reached: {cpc}. ({int(d['pairs'])} paired runs.)"
        )
    return lines
