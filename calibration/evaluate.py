"""Run the model for one parameter set and compute every target's statistics.

This is the function pyabc calls for each particle. It is a pure function of
``(parameters, root seed)``: replication seeds are derived from the root seed and
the exact bits of the parameter values, so a particle gives the same statistics
in any process, on any sampler, and again when a calibration is resumed. Both
arms of a paired comparison use the same replication seeds (common random
numbers), which makes the comparison sharper than independent runs would.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .simulator import Simulator
from .targets import Target, TargetSet, discrepancy, statistic

#: Fewest replications per particle and arm for a yes/no pattern (its statistic is
#: the share of runs in which the outcome happens): with 3 runs a share moves in
#: steps of 1/3 and "holds" is mostly luck; see docs/calibration.md.
MIN_YES_NO_REPLICATIONS = 10


def is_yes_no(target: Target, simulator: Simulator) -> bool:
    """Whether a target scores a yes/no outcome (a share of runs) in some arm."""
    yes_no = set(getattr(simulator, "yes_no_outcomes", lambda: ())())
    return target.kind != "series" and any(
        q.statistic in ("share", "happened") or (q.month is None and q.outcome in yes_no)
        for q in target.quantities
    )


def arm_replications(targets: TargetSet, simulator: Simulator) -> dict[tuple, int]:
    """Replications per arm: the file's ``replications``, at least
    :data:`MIN_YES_NO_REPLICATIONS` for an arm a yes/no target reads."""
    out: dict[tuple, int] = {}
    for t in targets.targets:
        n = targets.replications
        if is_yes_no(t, simulator):
            n = max(n, MIN_YES_NO_REPLICATIONS)
        for q in t.quantities:
            out[q.arm] = max(out.get(q.arm, 0), n)
    return out


#: Significant digits of a parameter value that enter its replication seeds.
SEED_DIGITS = 12


def replication_seeds(root: int, parameters: Mapping[str, Any], n: int) -> list[int]:
    """Seeds of ``n`` replications for one parameter set.

    Parameters
    ----------
    root : int
        The calibration's root seed.
    parameters : mapping
        Parameter values; each, rounded to :data:`SEED_DIGITS` significant
        digits, enters the seed (in name order). The rounding keeps a last-bit
        difference in a proposal (another BLAS kernel, CPU or library build
        computing the transition) from giving the particle other model runs.
    n : int
        Number of replications.
    """
    words = [int(root) & 0xFFFFFFFF]
    for name in sorted(parameters):
        value = float(f"{float(parameters[name]):.{SEED_DIGITS}g}")
        bits = struct.unpack("<Q", struct.pack("<d", value))[0]
        words += [bits & 0xFFFFFFFF, bits >> 32]
    children = np.random.SeedSequence(words).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def _value(
    summary: Mapping[str, Any], series: pd.DataFrame | None, outcome: str,
    month: int | tuple[int, int] | None,
) -> Any:
    if month is None:
        return summary.get(outcome)
    assert series is not None
    if isinstance(month, tuple):
        # a window's mean over the months that have a value (NaN if none has)
        window = series.loc[month[0]:month[1], outcome].to_numpy(dtype=float)
        window = window[~np.isnan(window)]
        return float(window.mean()) if window.size else np.nan
    if month not in series.index:
        return np.nan
    return series.at[month, outcome]


def _series_at(series: pd.DataFrame, outcome: str, months: np.ndarray) -> np.ndarray:
    col = series[outcome]
    return col.reindex(months).to_numpy(dtype=float)


@dataclass
class TargetModel:
    """Particle parameters in, target statistics out (the model pyabc samples).

    Parameters
    ----------
    targets : TargetSet
        What to compute.
    simulator : Simulator
        The model.
    root_seed : int
        Root of every replication seed.
    fixed : mapping, optional
        Parameter values held fixed for all particles (on top of the scenario).
    """

    targets: TargetSet
    simulator: Simulator
    root_seed: int
    fixed: Mapping[str, float] | None = None

    def run_arms(self, parameters: Mapping[str, Any]) -> dict[tuple, list[tuple[Mapping, Any]]]:
        """Replicated runs of every arm the targets use.

        Arms whose parameters end up equal (an override that repeats the base
        scenario's value) share one set of runs.
        """
        params = {**(self.fixed or {}), **{k: float(v) for k, v in parameters.items()}}
        reps = arm_replications(self.targets, self.simulator)
        # replication j has the same seed in every arm (common random numbers), and
        # an arm with fewer replications runs the first ones
        seeds = replication_seeds(self.root_seed, params, max(reps.values()))
        base_values = getattr(self.simulator, "base_values", None)
        base = base_values() if base_values else {}
        done: dict[tuple, tuple[bool, list[tuple[Mapping, Any]]]] = {}
        runs: dict[tuple, list[tuple[Mapping, Any]]] = {}
        for arm in self.targets.used_arms():
            want_series = self.targets.arm_needs_series(arm)
            values = {**params, **dict(arm)}
            key = tuple(sorted((k, v) for k, v in values.items() if base.get(k) != v))
            n = reps[arm]
            if key in done and (done[key][0] or not want_series) and len(done[key][1]) >= n:
                runs[arm] = done[key][1]
                continue
            runs[arm] = [self.simulator.run(values, s, series=want_series) for s in seeds[:n]]
            done[key] = (want_series, runs[arm])
        return runs

    def statistics(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """Every target's statistic(s) for one parameter set.

        Keys: the target name for range and series targets (a float, or an
        array of monthly shares), ``name:a`` and ``name:b`` for paired comparisons.
        """
        runs = self.run_arms(parameters)
        return compute_statistics(self.targets.targets, runs)

    def __call__(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        return self.statistics(dict(parameters))


def compute_statistics(
    targets: list[Target], runs: Mapping[tuple, list[tuple[Mapping, Any]]]
) -> dict[str, Any]:
    """Target statistics from replicated runs per arm (see :meth:`TargetModel.statistics`)."""
    out: dict[str, Any] = {}
    for t in targets:
        if t.kind == "series":
            months = t.observed["month"].to_numpy()
            curves = [_series_at(s, t.quantity.outcome, months) for _, s in runs[t.quantity.arm]]
            out[t.name] = np.mean(curves, axis=0)
            continue
        keys = [t.name] if t.kind == "range" else [t.name + ":a", t.name + ":b"]
        for key, q in zip(keys, t.quantities, strict=True):
            vals = [_value(summ, ser, q.outcome, q.month) for summ, ser in runs[q.arm]]
            out[key] = statistic(vals, q.statistic)
    return out


@dataclass
class TargetDistance:
    """The ABC distance: ``sum(weight * discrepancy)`` over targets.

    pyabc passes the observed statistics as ``x_0``; they are only a record
    (what each target asks for): the targets themselves decide the discrepancy.
    """

    targets: TargetSet

    def __call__(self, x: Mapping[str, Any], x_0: Mapping[str, Any] | None = None) -> float:
        return float(sum(t.weight * discrepancy(t, x) for t in self.targets.targets))

    def parts(self, x: Mapping[str, Any]) -> dict[str, float]:
        """Each target's weighted discrepancy."""
        return {t.name: t.weight * discrepancy(t, x) for t in self.targets.targets}


def never_computed(targets: TargetSet, particles: Sequence[Mapping[str, Any]]) -> list[str]:
    """Targets whose statistic is missing in every particle given (an empty list if none).

    A missing statistic takes the largest discrepancy, so a target that can never be
    computed (a single month with no value in any run, say) adds a constant to every
    distance and silently stops the fit from improving; the fit should say so.
    """
    if not particles:
        return []
    out = []
    for t in targets.targets:
        keys = [t.name] if t.kind in ("range", "series") else [t.name + ":a", t.name + ":b"]

        def missing(stats: Mapping[str, Any], keys: list[str] = keys) -> bool:
            return any(np.all(np.isnan(np.asarray(stats.get(k, np.nan), dtype=float))) for k in keys)

        if all(missing(p) for p in particles):
            out.append(t.name)
    return out


def never_computed_warning(names: Sequence[str]) -> str:
    """The progress line for :func:`never_computed` (empty when every target had a value)."""
    if not names:
        return ""
    return (f"  warning: no value in any accepted particle for {', '.join(names)}: each adds the largest "
            "distance to every particle (is its outcome missing in every run, e.g. a month without meetings?)")


def observed_statistics(targets: TargetSet) -> dict[str, Any]:
    """What each target asks for, stored in the pyabc database as its ``x_0``."""
    out: dict[str, Any] = {}
    for t in targets.targets:
        out[t.name] = np.asarray(t.observed_value(), dtype=float)
    return out
