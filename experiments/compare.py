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
import re
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
from .statistics import MIN_CLEAR_PAIRS, is_clear, mean_interval, paired_difference, wilson
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
    (a shipped scenario name, or a missing file that :func:`load_scenario` reports).

    Raises
    ------
    ScenarioError
        For a bare name that is neither a shipped design nor a shipped scenario: one line
        listing both, with the closest name (``did you mean 'district_hubs'?``).
    """
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
    dd, lo, hi, n = d[f"d_{col}"], d[f"d_{col}_lo"], d[f"d_{col}_hi"], int(d["pairs"])
    if not np.isfinite(lo):
        return f"{_pts(dd)} points (too few runs to say how certain)"
    text = f"{_pts(dd)} points [{_pts(lo)}, {_pts(hi)}], "
    if is_clear(lo, hi, n):
        return text + "clear (the 95% interval excludes zero)"
    if lo > 0 or hi < 0:
        return text + f"not called clear on {n} paired runs (at least {MIN_CLEAR_PAIRS} needed)"
    return text + "not clear: more replications could tell"


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


# --------------------------------------------------------------------------- decision support

#: Yes/no run outcomes a ranking or a target may name.
YES_NO: tuple[str, ...] = ("scaled", "sustained", "functioning", "institutionalised", "local_impact")
#: Who pays (summary fields ``cost_<payer>``); ``total`` is all of them.
PAYERS: tuple[str, ...] = ("donor", "members", "government")
COST_OF: tuple[str, ...] = ("total", *PAYERS)

_TARGET = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=)\s*([0-9]*\.?[0-9]+)\s*")


@dataclass(frozen=True)
class Target:
    """``P(outcome) >= value`` (or ``<=``), met only when the whole 95% interval is on the right side.

    A designer who funds a design to reach 80% wants to be sure of it: ``scaled>=0.8``
    is met when the lower Wilson bound is at least 0.8, not the point estimate (with
    20 runs, 17 scaling reads 85% but the interval starts at 64%).
    """

    outcome: str
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.outcome}{self.op}{self.value:g}"

    def met(self, low: float, high: float) -> bool:
        """Whether a share with 95% interval [low, high] surely meets the target."""
        return bool(low >= self.value) if self.op == ">=" else bool(high <= self.value)

    def shortfall(self, low: float, high: float) -> float:
        """How far the interval's conservative end is from the target (0 when met)."""
        return max(0.0, self.value - low) if self.op == ">=" else max(0.0, high - self.value)


def parse_target(text: str) -> Target:
    """``"scaled>=0.8"`` as a :class:`Target`: a yes/no outcome, ``>=`` or ``<=``, a share in [0, 1].

    Raises
    ------
    LasimInputError
        One line naming the value and what is allowed.
    """
    m = _TARGET.fullmatch(str(text))
    if m is None:
        raise LasimInputError(
            f"--target {text!r}: expected OUTCOME>=P or OUTCOME<=P, e.g. 'scaled>=0.8', with OUTCOME one of "
            f"{', '.join(YES_NO)} and P a share from 0 to 1")
    outcome, op, raw = m.groups()
    if outcome not in YES_NO:
        raise LasimInputError(f"--target {text!r}: unknown outcome {outcome!r}{did_you_mean(outcome, YES_NO)}; "
                              f"allowed: {', '.join(YES_NO)}")
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise LasimInputError(f"--target {text!r}: {raw} is not a share; give P from 0 to 1 (0.8 for 80%)")
    return Target(outcome, op, value)


def check_budget(budget: float | None) -> float | None:
    """``budget`` (k USD) if it is a positive finite number (or None).

    Raises
    ------
    LasimInputError
        For zero, a negative number, NaN or infinity.
    """
    if budget is None:
        return None
    if not math.isfinite(budget) or budget <= 0:
        raise LasimInputError(f"--budget {budget:g}: must be a positive number of k USD (e.g. 1500)")
    return float(budget)


def check_outcome(outcome: str, option: str = "--outcome") -> str:
    """``outcome`` if it is a yes/no run outcome a ranking can use."""
    if outcome not in YES_NO:
        raise LasimInputError(f"{option} {outcome!r}: not a yes/no outcome; allowed: {', '.join(YES_NO)}")
    return outcome


def cost_column(cost_of: str) -> str:
    """The run-table column of ``cost_of`` (``total`` or a payer)."""
    if cost_of not in COST_OF:
        raise LasimInputError(f"--cost-of {cost_of!r}: allowed: {', '.join(COST_OF)}")
    return "total_cost" if cost_of == "total" else f"cost_{cost_of}"


def _cost_interval(values: Any) -> tuple[float, float, float]:
    """Mean cost with its t 95% interval, the lower end kept at 0 (spending is never negative)."""
    m, lo, hi = mean_interval(values)
    return m, (max(0.0, lo) if np.isfinite(lo) else lo), hi


def cost_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per design: mean total cost and each payer's share, each with a t 95% interval of the mean.

    Also the number of runs that reached no community, and the cost per community
    reached (ratio of means) or ``inf`` when no run reached any.
    """
    rows = []
    for label in design_order(runs):
        r = runs[runs["design"] == label]
        row: dict[str, Any] = {"design": label, "runs": len(r)}
        for who in COST_OF:
            col = cost_column(who)
            if col not in r:  # a run table from before costs were split by payer
                row |= {f"cost_{who}_mean": math.nan, f"cost_{who}_lo": math.nan, f"cost_{who}_hi": math.nan}
                continue
            m, lo, hi = _cost_interval(r[col])
            row |= {f"cost_{who}_mean": m, f"cost_{who}_lo": lo, f"cost_{who}_hi": hi}
        reach = r["peak_communities_reached"].to_numpy(dtype=float)
        row["runs_reaching_none"] = int((reach <= 0).sum())
        row["cost_per_community"] = (float(r["total_cost"].mean() / reach.mean()) if reach.mean() > 0
                                     else math.inf)
        rows.append(row)
    return pd.DataFrame(rows)


def pairwise(runs: pd.DataFrame, outcome: str = "scaled") -> pd.DataFrame:
    """Paired difference ``P(b) - P(a)`` for every pair of designs, with its 95% interval.

    Runs are paired by replication (common random numbers), so the interval is far
    narrower than two independent shares would allow.
    """
    order = design_order(runs)
    by = {lab: runs[runs["design"] == lab].set_index("replication") for lab in order}
    rows = []
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            common = by[a].index.intersection(by[b].index)
            d, lo, hi, n = paired_difference(by[a].loc[common, outcome].astype(float),
                                             by[b].loc[common, outcome].astype(float))
            clear = is_clear(lo, hi, n)
            rows.append({"a": a, "b": b, "d": d, "lo": lo, "hi": hi, "pairs": n, "clear": clear})
    return pd.DataFrame(rows, columns=["a", "b", "d", "lo", "hi", "pairs", "clear"])


def non_dominated(p: Sequence[float], cost: Sequence[float]) -> list[bool]:
    """Whether each design is on the front: no other is at least as likely and as cheap, and better in one."""
    p_, c_ = np.asarray(p, dtype=float), np.asarray(cost, dtype=float)
    out = []
    for i in range(p_.size):
        dominated = ((p_ >= p_[i]) & (c_ <= c_[i]) & ((p_ > p_[i]) | (c_ < c_[i]))).any()
        out.append(not bool(dominated))
    return out


def ranking(runs: pd.DataFrame, outcome: str = "scaled", cost_of: str = "total") -> pd.DataFrame:
    """Every design ranked on ``P(outcome)``, with intervals, cost and what the pairs say.

    Ranked by the share of runs (ties: the cheaper first). ``clearly_behind`` names the
    designs whose paired interval against this one excludes zero in their favour;
    ``top_group`` is true for designs that no other design clearly beats (the ones a
    decision should still consider). ``front`` marks the designs not dominated on
    (P(outcome), mean cost).
    """
    check_outcome(outcome)
    col = cost_column(cost_of)
    pairs = pairwise(runs, outcome)
    rows = []
    for label in design_order(runs):
        r = runs[runs["design"] == label]
        k, n = int(r[outcome].astype(bool).sum()), len(r)
        p, lo, hi = wilson(k, n)
        c, c_lo, c_hi = _cost_interval(r[col]) if col in r else (math.nan,) * 3
        beaten_by = ([b for a, b in pairs.loc[pairs["clear"] & (pairs["d"] > 0) & (pairs["a"] == label),
                                              ["a", "b"]].itertuples(index=False)]
                     + [a for a, b in pairs.loc[pairs["clear"] & (pairs["d"] < 0) & (pairs["b"] == label),
                                                ["a", "b"]].itertuples(index=False)])
        rows.append({"design": label, "runs": n, "p": p, "p_lo": lo, "p_hi": hi,
                     "cost": c, "cost_lo": c_lo, "cost_hi": c_hi, "beaten_by": beaten_by})
    table = pd.DataFrame(rows)
    table["front"] = non_dominated(table["p"], table["cost"])
    table["top_group"] = [not b for b in table["beaten_by"]]
    table = table.sort_values(["p", "cost"], ascending=[False, True], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table["clearly_behind"] = ["; ".join(b) for b in table.pop("beaten_by")]
    table.insert(1, "outcome", outcome)
    return table


@dataclass
class Decision:
    """What ``--target`` and ``--budget`` choose, and the sentences that say why."""

    outcome: str
    target: Target | None
    budget: float | None
    cost_of: str
    chosen: str | None
    lines: list[str]
    ranking: pd.DataFrame


def _k(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:,.0f} k USD"


def _cost_text(row: pd.Series, cost_of: str) -> str:
    who = "" if cost_of == "total" else f" ({cost_of})"
    if not np.isfinite(row["cost_lo"]):
        return f"{_k(row['cost'])}{who}"
    return f"{_k(row['cost'])} [{row['cost_lo']:,.0f}, {row['cost_hi']:,.0f}]{who}"


def _p_text(row: pd.Series) -> str:
    return f"{_pct(row['p'])} [{100 * row['p_lo']:.0f}, {100 * row['p_hi']:.0f}]"


def decide(runs: pd.DataFrame, outcome: str = "scaled", *, target: Target | None = None,
           budget: float | None = None, cost_of: str = "total") -> Decision:
    """Rank the designs and pick one for a target and/or a budget.

    Rules (conservative, as a funder reads them):

    - a design is **within budget** when the upper end of the 95% interval of its mean
      cost (``cost_of``: total or one payer) is at most ``budget``;
    - it **meets the target** when its whole 95% interval of ``P(outcome)`` is on the
      target's side (lower bound >= P for ``>=``);
    - with a target, the choice is the cheapest design (mean cost) within budget that
      meets it; if none does, "none meets it" and the closest (smallest shortfall of the
      conservative bound; ties the cheaper);
    - with a budget alone, the most likely design within budget (ties the cheaper).
    """
    if target is not None:
        outcome = target.outcome
    table = ranking(runs, outcome, cost_of)
    lines: list[str] = []
    n = int(table["runs"].min()) if len(table) else 0
    top = table[table["top_group"]]["design"].tolist()
    lines.append(
        f"Ranking on P({outcome}) ({n} runs per design, common random numbers): "
        + "; ".join(f"{int(r['rank'])}. {r['design']} {_p_text(r)}" for _, r in table.iterrows()) + ".")
    if len(top) == len(table):
        lines.append("No design is clearly better than another on this outcome (every paired 95% interval "
                     "includes zero): more replications could tell them apart.")
    else:
        lines.append(f"Not clearly beaten by any other design: {', '.join(top)}.")
    front = table[table["front"]].sort_values("cost")["design"].tolist()
    lines.append(f"Non-dominated on P({outcome}) and mean cost: {', '.join(front)}.")
    affordable = table
    if budget is not None:
        affordable = table[table["cost_hi"].fillna(table["cost"]) <= budget]
        who = "total cost" if cost_of == "total" else f"{cost_of} cost"
        if affordable.empty:
            cheapest = table.sort_values("cost").iloc[0]
            lines.append(f"No design is within the budget of {_k(budget)} ({who}, upper 95% bound of the mean); "
                         f"the cheapest is {cheapest['design']} at {_cost_text(cheapest, cost_of)}.")
            return Decision(outcome, target, budget, cost_of, None, lines, table)
        lines.append(f"Within the budget of {_k(budget)} ({who}, upper 95% bound of the mean): "
                     f"{', '.join(affordable['design'])}.")
    chosen: str | None = None
    if target is not None:
        meets = affordable[[target.met(lo, hi) for lo, hi in zip(affordable["p_lo"], affordable["p_hi"],
                                                                  strict=True)]]
        scope = " within budget" if budget is not None else ""
        if not meets.empty:
            best = meets.sort_values(["cost", "p"], ascending=[True, False], kind="stable").iloc[0]
            chosen = str(best["design"])
            others = [d for d in meets["design"] if d != chosen]
            lines.append(
                f"Cheapest design{scope} that meets {target} (whole 95% interval): {chosen}, "
                f"P({outcome}) {_p_text(best)} at {_cost_text(best, cost_of)}."
                + (f" Also meeting it, at a higher cost: {', '.join(others)}." if others else ""))
        else:
            gap = [target.shortfall(lo, hi) for lo, hi in zip(affordable["p_lo"], affordable["p_hi"], strict=True)]
            closest = affordable.assign(_gap=gap).sort_values(["_gap", "cost"], kind="stable").iloc[0]
            lines.append(
                f"None{scope} meets {target} with its whole 95% interval. Closest: {closest['design']}, "
                f"P({outcome}) {_p_text(closest)} at {_cost_text(closest, cost_of)} "
                f"({100 * closest['_gap']:.0f} points short at the interval's end).")
    elif budget is not None:
        best = affordable.sort_values(["p", "cost"], ascending=[False, True], kind="stable").iloc[0]
        chosen = str(best["design"])
        lines.append(f"Most likely to reach {outcome} within budget: {chosen}, P({outcome}) {_p_text(best)} "
                     f"at {_cost_text(best, cost_of)}.")
    return Decision(outcome, target, budget, cost_of, chosen, lines, table)
