"""Which way the outcomes respond to the design factors the sources speak about.

A full 3 x 3 x 3 grid (facilitation, funding gap, government involvement) run
with the same replication seeds in every cell (common random numbers). The
sources say P(functioning), P(scaled) and the survival of practice after
funding should not fall with better facilitation or more government, and not
rise with a longer funding gap (MODEL.md P3-P6). :func:`monotonicity_checks`
tests each adjacent pair of levels of one factor, the others fixed, with a
one-sided paired t-test for a change in the wrong direction.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from model.runner import replication_seeds
from model.scenario import Scenario, load_scenario

from .knockout import run_designs

#: Factor -> levels of the grid.
GRID: dict[str, tuple[float, ...]] = {
    "facilitation_quality": (0.3, 0.6, 0.9),
    "funding_gap_months": (0, 12, 24),
    "government_involvement": (0.0, 0.5, 1.0),
}

#: +1: the outcomes must not fall as the factor rises; -1: they must not rise.
DIRECTION: dict[str, int] = {"facilitation_quality": +1, "funding_gap_months": -1, "government_involvement": +1}

#: Outcomes checked (``sustained``: survival at least sustain_ratio). ``survival`` with nobody
#: practising at the end of funding counts as 0 (nothing survived), as it does for ``sustained``.
OUTCOMES: tuple[str, ...] = ("functioning", "scaled", "survival", "sustained")


def _label(cell: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in cell.items())


def response_grid(scenario: Scenario | str = "default", replications: int = 40, root_seed: int = 2026, *,
                  grid: Mapping[str, Sequence[float]] = GRID, processes: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Run every cell of ``grid`` on the same ``replications`` seeds; one row per run.

    Returns
    -------
    pandas.DataFrame
        The grid factors, ``replication``, ``seed`` and every run outcome.
    """
    base = load_scenario(scenario) if isinstance(scenario, str) else scenario
    cells = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    designs, by_label = {}, {}
    for cell in cells:
        params = {k: (int(v) if isinstance(getattr(base.parameters, k), int) else float(v)) for k, v in cell.items()}
        designs[_label(cell)] = base.with_parameters("grid", **params)
        by_label[_label(cell)] = cell
    runs = run_designs(designs, replication_seeds(root_seed, replications), processes=processes, progress=progress)
    factors = pd.DataFrame([by_label[d] for d in runs["design"]], index=runs.index)
    return pd.concat([factors, runs.drop(columns="design")], axis=1)


def _values(runs: pd.DataFrame, outcome: str) -> pd.Series:
    v = runs[outcome].astype(float)
    return v.fillna(0.0) if outcome == "survival" else v


def cell_table(runs: pd.DataFrame, outcomes: Sequence[str] = OUTCOMES, factors: Sequence[str] = tuple(GRID)
               ) -> pd.DataFrame:
    """Mean of each outcome per cell, with the number of runs."""
    data = runs[list(factors)].assign(**{o: _values(runs, o) for o in outcomes})
    table = data.groupby(list(factors))[list(outcomes)].mean()
    table["runs"] = data.groupby(list(factors)).size()
    return table.reset_index()


def _wrong_way_p(low: np.ndarray, high: np.ndarray, direction: int) -> tuple[float, float]:
    """Mean change from ``low`` to ``high`` and the one-sided p of a change against ``direction``."""
    d = (high - low) * -direction  # positive = the wrong way
    mean = float((high - low).mean())
    if d.std(ddof=1) == 0:
        return mean, 0.0 if d.mean() > 0 else 1.0
    return mean, float(stats.ttest_1samp(d, 0.0, alternative="greater").pvalue)


def monotonicity_checks(runs: pd.DataFrame, outcomes: Sequence[str] = OUTCOMES,
                        grid: Mapping[str, Sequence[float]] = GRID, alpha: float = 0.01) -> pd.DataFrame:
    """Every adjacent-level comparison of one factor with the others fixed, paired by seed.

    Returns
    -------
    pandas.DataFrame
        One row per (factor, level pair, other factors' values, outcome) with the
        mean change, ``p`` (one-sided, of a change against :data:`DIRECTION`) and
        ``ok`` (``p >= alpha``).
    """
    rows: list[dict[str, Any]] = []
    indexed = runs.set_index([*grid, "seed"]).sort_index()
    for factor, levels in grid.items():
        others = [f for f in grid if f != factor]
        for fixed in itertools.product(*(grid[f] for f in others)):
            where = dict(zip(others, fixed, strict=True))
            for lo, hi in itertools.pairwise(levels):
                a, b = (indexed.loc[tuple(level if f == factor else where[f] for f in grid)] for level in (lo, hi))
                seeds = a.index.intersection(b.index)
                for outcome in outcomes:
                    x = _values(a.loc[seeds], outcome).to_numpy()
                    y = _values(b.loc[seeds], outcome).to_numpy()
                    change, p = _wrong_way_p(x, y, DIRECTION[factor])
                    rows.append({"factor": factor, "from": lo, "to": hi, **where, "outcome": outcome,
                                 "mean_from": float(x.mean()), "mean_to": float(y.mean()), "change": change,
                                 "n": int(seeds.size), "p": p, "ok": p >= alpha})
    return pd.DataFrame(rows)


if __name__ == "__main__":  # print the cell table and any failed comparison (for the closing note)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    grid_runs = response_grid(replications=n)
    with pd.option_context("display.width", 200, "display.max_rows", 100):
        print(cell_table(grid_runs).to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        checks = monotonicity_checks(grid_runs)
        print(f"\n{(~checks['ok']).sum()} of {len(checks)} comparisons move the wrong way at 1%")
        if not checks["ok"].all():
            print(checks[~checks["ok"]].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
