"""Knock-out experiments: what each named mechanism does to the headline outcomes.

The full model and one copy per mechanism with that mechanism switched off
(:meth:`model.scenario.Scenario.knock_out`) run on the *same* replication seeds
(common random numbers). A mechanism's effect on an outcome is the mean over
seeds of the paired difference ``knocked out - full``, with a 95% Student-t
interval of that mean. For a yes/no outcome each difference is -1, 0 or 1 and
the mean is the change in probability. The paired t interval is used (not a
bootstrap) because it is deterministic, cheap, and with 30 or more seeds its
coverage for a mean of bounded differences is close to nominal; when no seed's
outcome changed at all the interval is the single point 0 ("no run changed").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from model.errors import LasimInputError
from model.mechanisms import MECHANISMS
from model.outcomes import SUMMARY_FIELDS
from model.runner import replication_seeds
from model.scenario import Scenario

from .runs import Run, failed, make_executor, run_many
from .statistics import paired_difference

__all__ = [
    "FULL", "HEADLINE_OUTCOMES", "KnockoutResult", "headline_outcomes", "knockout_designs", "run_designs",
    "paired_effects", "run_knockout", "format_effects", "plot_knockout",
]

#: Label of the full model in the run table.
FULL = "full model"

#: Headline outcomes, in the order they are shown; names the model does not (yet) report are skipped.
HEADLINE_OUTCOMES: tuple[str, ...] = (
    "functioning", "scaled", "scale_extent", "sustained", "survival", "uptake_after_funding", "peak_adoption",
    "final_adoption", "persistence",
)


def headline_outcomes() -> list[str]:
    """The headline outcomes this version of the model reports."""
    return [o for o in HEADLINE_OUTCOMES if o in SUMMARY_FIELDS]


def knockout_designs(scenario: Scenario, mechanisms: Iterable[str] | None = None) -> dict[str, Scenario]:
    """The full scenario and one knock-out per mechanism, keyed by label (``FULL`` or the mechanism).

    Parameters
    ----------
    scenario
        The full model (mechanisms it already switches off stay off everywhere).
    mechanisms
        Mechanisms to knock out one at a time (default: every one the scenario runs).

    Raises
    ------
    ScenarioError
        For a name not in :data:`model.mechanisms.MECHANISMS`.
    LasimInputError
        When a named mechanism is already off in the scenario, or none is left to knock out.
    """
    names = list(mechanisms) if mechanisms is not None else [m for m in MECHANISMS if scenario.mechanisms.get(m, True)]
    designs = {FULL: scenario}
    for name in dict.fromkeys(names):
        knocked = scenario.knock_out([name], "--mechanism")  # validates the name
        if not scenario.mechanisms.get(name, True):
            raise LasimInputError(f"--mechanism {name}: is already off in scenario {scenario.name!r}; "
                                  "nothing to compare")
        designs[name] = knocked
    if len(designs) == 1:
        raise LasimInputError(f"scenario {scenario.name!r}: every mechanism is off; nothing to knock out")
    return designs


def run_designs(designs: dict[str, Scenario], seeds: Sequence[int], *, processes: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Run every design on every seed; one row per run, ordered by design then replication.

    Parameters
    ----------
    designs
        Label -> scenario.
    seeds
        Replication seeds; replication ``i`` gets ``seeds[i]`` in every design.
    processes
        Local worker processes (1: in this process; ``None``: all cores, or this
        process when there are only a few runs).
    progress
        Called with (runs done, runs in all) after each run.
    """
    labels = list(designs)
    n_runs = len(labels) * len(seeds)
    if processes is None and n_runs <= 8:
        processes = 1
    done = 0

    def tick(_run: Run) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, n_runs)

    with make_executor(processes=processes) as executor:
        runs = run_many(list(designs.values()), [int(s) for s in seeds], executor=executor, on_result=tick)
    bad = failed(runs)
    if bad:
        raise RuntimeError(f"{labels[bad[0].scenario_index]} replication {bad[0].replication} failed: {bad[0].error}")
    return pd.DataFrame([{"design": labels[r.scenario_index], "replication": r.replication, "seed": r.seed,
                          **r.summary} for r in runs])


def paired_effects(runs: pd.DataFrame, outcomes: Sequence[str] | None = None) -> pd.DataFrame:
    """Each knock-out's effect on each outcome, paired by seed against the full model.

    Parameters
    ----------
    runs
        From :func:`run_designs`: columns ``design``, ``seed`` and the outcomes; one
        design labelled :data:`FULL`.
    outcomes
        Outcomes to compare (default: :func:`headline_outcomes`).

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per (mechanism, outcome) with ``full`` and ``knocked_out``
        (means over the paired seeds), ``effect`` (mean of knocked out - full),
        ``low``/``high`` (95% t interval), ``n`` (seeds where both are defined),
        ``changed`` (seeds whose outcome differed) and ``clear`` (interval
        excludes 0).
    """
    outcomes = list(outcomes) if outcomes is not None else headline_outcomes()
    full = runs[runs["design"] == FULL].set_index("seed")
    if full.empty:
        raise LasimInputError(f"the run table has no {FULL!r} runs to compare against")
    rows = []
    for label in runs["design"].drop_duplicates():
        if label == FULL:
            continue
        ko = runs[runs["design"] == label].set_index("seed")
        seeds = full.index.intersection(ko.index)
        for outcome in outcomes:
            a = full.loc[seeds, outcome].astype(float).to_numpy()
            b = ko.loc[seeds, outcome].astype(float).to_numpy()
            mean, low, high, n = paired_difference(a, b)
            ok = np.isfinite(a) & np.isfinite(b)
            rows.append({
                "mechanism": label, "outcome": outcome,
                "full": float(a[ok].mean()) if n else math.nan, "knocked_out": float(b[ok].mean()) if n else math.nan,
                "effect": mean, "low": low, "high": high, "n": n,
                "changed": int(np.count_nonzero(b[ok] - a[ok])),
                "clear": bool(n >= 2 and (low > 0 or high < 0)),
            })
    return pd.DataFrame(rows, columns=["mechanism", "outcome", "full", "knocked_out", "effect", "low", "high",
                                       "n", "changed", "clear"])


@dataclass
class KnockoutResult:
    """Runs and effects of one knock-out experiment."""

    scenario: Scenario
    mechanisms: list[str]
    root_seed: int
    seeds: list[int]
    runs: pd.DataFrame
    effects: pd.DataFrame


def run_knockout(scenario: Scenario, replications: int, root_seed: int = 0, *,
                 mechanisms: Iterable[str] | None = None, outcomes: Sequence[str] | None = None,
                 processes: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> KnockoutResult:
    """Knock out each mechanism in turn and measure its effect with common random numbers.

    Parameters
    ----------
    scenario
        The full model.
    replications
        Seeds per design (at least 2, so an interval exists).
    root_seed
        Root of :func:`model.runner.replication_seeds`.
    mechanisms
        Mechanisms to knock out (default: every one the scenario runs).
    outcomes
        Outcomes to compare (default: :func:`headline_outcomes`).
    processes, progress
        As in :func:`run_designs`.
    """
    if isinstance(replications, bool) or int(replications) != replications or replications < 2:
        raise LasimInputError(f"--replications {replications}: must be a whole number, 2 or more "
                              "(a paired interval needs two seeds)")
    designs = knockout_designs(scenario, mechanisms)
    seeds = replication_seeds(root_seed, int(replications))
    runs = run_designs(designs, seeds, processes=processes, progress=progress)
    return KnockoutResult(scenario, [d for d in designs if d != FULL], int(root_seed), seeds, runs,
                          paired_effects(runs, outcomes))


def format_effects(effects: pd.DataFrame) -> str:
    """The effects as a wide text table: mechanisms down, outcomes across, ``effect [low, high]``.

    A ``*`` marks an interval that excludes zero.
    """
    if effects.empty:
        return "(no effects)"
    outcomes = list(dict.fromkeys(effects["outcome"]))
    mechs = list(dict.fromkeys(effects["mechanism"]))
    cells = {(r.mechanism, r.outcome): r for r in effects.itertuples()}

    def num(x: float) -> str:
        # two decimals hide small but clear effects (an interval of [-0.004, -0.001] is not zero)
        return f"{x:+.2f}" if abs(x) >= 0.01 or x == 0 else f"{x:+.3f}"

    def cell(r: Any) -> str:
        if not np.isfinite(r.effect):
            return "n/a"
        mark = "*" if r.clear else " "
        return f"{num(r.effect)} [{num(r.low)},{num(r.high)}]{mark}"

    width = max(len(o) for o in [*outcomes, *(cell(r) for r in cells.values())])
    mwidth = max(len(m) for m in mechs + ["mechanism off"])
    head = f"{'mechanism off':<{mwidth}}  " + "  ".join(f"{o:>{width}}" for o in outcomes)
    full = effects.drop_duplicates("outcome").set_index("outcome")["full"]
    base = f"{'(full model mean)':<{mwidth}}  " + "  ".join(f"{full[o]:>{width}.2f}" for o in outcomes)
    lines = [head, base]
    for m in mechs:
        lines.append(f"{m:<{mwidth}}  " + "  ".join(f"{cell(cells[(m, o)]):>{width}}" for o in outcomes))
    return "\n".join(lines)


def plot_knockout(effects: pd.DataFrame, title: str = "") -> Figure:
    """One panel per outcome: each mechanism's effect (knocked out - full) with its 95% interval.

    Mechanisms run down the y axis in the same order in every panel; a clear effect
    (interval excludes 0) is drawn solid, the others hollow.
    """
    outcomes = list(dict.fromkeys(effects["outcome"]))
    mechs = list(dict.fromkeys(effects["mechanism"]))
    ncol = min(4, max(1, len(outcomes)))
    nrow = math.ceil(len(outcomes) / ncol)
    fig = Figure(figsize=(3.0 * ncol + 1.6, 0.26 * len(mechs) * nrow + 1.2 * nrow + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol, sharey=True, squeeze=False)).ravel()
    y = np.arange(len(mechs))
    for ax, outcome in zip(axes, outcomes, strict=False):
        sub = effects[effects["outcome"] == outcome].set_index("mechanism").reindex(mechs)
        eff = sub["effect"].to_numpy(float)
        lo, hi = sub["low"].to_numpy(float), sub["high"].to_numpy(float)
        clear = sub["clear"].fillna(False).to_numpy(bool)
        ax.axvline(0, color="0.25", lw=0.9, zorder=0)
        ax.hlines(y, lo, hi, color="C0", lw=1.4)
        ax.plot(eff[clear], y[clear], "o", color="C0", ms=4.5)
        ax.plot(eff[~clear], y[~clear], "o", mfc="white", mec="C0", ms=4.5)
        ax.set_title(outcome.replace("_", " "), fontsize=10)
        ax.grid(axis="x", color="0.9")
        full = sub["full"].dropna()
        if len(full):
            ax.set_xlabel(f"change (full model {full.iloc[0]:.2f})", fontsize=8)
    for ax in axes[len(outcomes):]:
        ax.set_visible(False)
    for ax in axes[::ncol]:
        ax.set_yticks(y, [m.replace("_", " ") for m in mechs], fontsize=8)
    axes[0].invert_yaxis()
    n = int(effects["n"].max()) if len(effects) else 0
    fig.suptitle((title + ": " if title else "") + f"effect of switching each mechanism off "
                 f"(knocked out - full, mean and 95% interval over {n} paired seeds)", fontsize=10)
    return fig
