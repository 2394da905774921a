"""Out-of-sample pattern checks: held-out patterns and a k-fold over patterns.

A posterior fitted to some patterns is scored on patterns it never saw, with
fresh replication seeds. For every held-out pattern the table gives the share
of posterior draws in which it holds and its Wilson 95% interval over the
draws. A pattern whose model outputs (or arm parameters) do not exist in the
model is reported as not computable, naming what it needs, and fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from experiments.files import atomic_write_text
from experiments.statistics import wilson

from .abc import calibrate
from .posterior import posterior_frame, predictive_check, resample
from .simulator import Simulator
from .targets import TargetSet, load_targets, read_targets_file, resolve_targets_path

Say = Callable[[str], None]


@dataclass
class PatternScore:
    """How one pattern holds under a posterior."""

    name: str
    description: str
    draws: int
    held: int
    computable: bool = True
    needs: str = ""

    @property
    def share(self) -> float:
        return self.held / self.draws if self.draws else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        _, lo, hi = wilson(self.held, self.draws)
        return lo, hi

    def row(self) -> str:
        if not self.computable:
            return f"{self.name:<6} not computable: {self.needs}"
        lo, hi = self.interval
        return (
            f"{self.name:<6} {self.description[:64]:<66} {self.share:>4.0%} "
            f"[{lo:.0%}, {hi:.0%}] of {self.draws} draws"
        )


def _needs(raw: Mapping[str, Any], simulator: Simulator) -> list[str]:
    """Model outputs and parameters a raw ``[[targets]]`` entry names that the model lacks."""
    summary, series = simulator.summary_fields(), simulator.series_fields()
    specs = simulator.parameter_specs()
    missing = []
    outcomes = [(raw.get("outcome"), "month" in raw)]
    if {"versus", "versus_outcome", "versus_month", "versus_statistic"} & set(raw):
        monthly = "versus_month" in raw or ("month" in raw and "versus_outcome" not in raw)
        outcomes.append((raw.get("versus_outcome", raw.get("outcome")), monthly))
    if raw.get("kind") == "series" or "file" in raw:
        outcomes = [(raw.get("outcome"), True)]
    for outcome, monthly in outcomes:
        known = series if monthly else summary
        if isinstance(outcome, str) and outcome not in known:
            missing.append(f"{'series' if monthly else 'run outcome'} {outcome!r}")
    for key in ("set", "versus"):
        for name in raw.get(key, {}) or {}:
            if name not in specs:
                missing.append(f"parameter {name!r}")
    return sorted(set(missing))


def computable_targets(
    name_or_path: str | Path, simulator: Simulator, workdir: Path
) -> tuple[TargetSet | None, dict[str, str], dict[str, str]]:
    """The targets of a file the model can compute, and those it cannot.

    Returns ``(targets, not_computable, descriptions)``: ``targets`` holds the
    computable ones (``None`` if there are none; written as
    ``workdir/<stem>_computable.toml`` so the run is documented),
    ``not_computable`` maps a target name to what it needs.
    """

    path = resolve_targets_path(name_or_path)
    _, raw = read_targets_file(path)  # types and keys first: a malformed file is one line
    keep, missing, descriptions = [], {}, {}
    for t in raw.get("targets", []):
        descriptions[t["name"]] = str(t.get("description", ""))
        needs = _needs(t, simulator)
        if needs:
            missing[t["name"]] = "the model has no " + ", no ".join(needs)
        else:
            keep.append(t)
    if not keep:
        return None, missing, descriptions
    scenario = raw.get("scenario", "default")
    if str(scenario).endswith(".toml"):
        scenario = str((path.parent / scenario).resolve())
    used = {**raw, "scenario": scenario, "targets": keep}
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"{path.stem}_computable.toml"
    atomic_write_text(
        out, f"# the computable targets of {path}\n" + tomli_w.dumps(used)
    )
    return load_targets(out, simulator), missing, descriptions


def score_patterns(
    targets: TargetSet,
    simulator: Simulator,
    draws: pd.DataFrame,
    *,
    seed: int,
    workers: int,
    fixed: Mapping[str, float] | None = None,
) -> tuple[list[PatternScore], pd.DataFrame]:
    """Share of posterior ``draws`` in which each pattern holds (fresh seeds from ``seed``)."""

    pred = predictive_check(targets, simulator, draws, seed=seed, workers=workers, fixed=fixed)
    scores = [
        PatternScore(t.name, t.description or t.describe(), len(pred), int(pred[f"{t.name}:holds"].sum()))
        for t in targets.targets
        if f"{t.name}:holds" in pred
    ]
    return scores, pred


def heldout_scores(
    heldout: str | Path,
    simulator: Simulator,
    draws: pd.DataFrame,
    *,
    seed: int,
    workers: int,
    workdir: Path,
) -> tuple[list[PatternScore], pd.DataFrame | None]:
    """Score a held-out targets file under posterior ``draws``; not computable ones included."""
    targets, missing, descriptions = computable_targets(heldout, simulator, workdir)
    scores: list[PatternScore] = []
    pred = None
    if targets is not None:
        scores, pred = score_patterns(targets, simulator, draws, seed=seed, workers=workers)
    by_name = {s.name: s for s in scores}
    for name, needs in missing.items():
        by_name[name] = PatternScore(name, descriptions[name], len(draws), 0, False, needs)
    return [by_name[n] for n in descriptions if n in by_name], pred


def kfold_splits(targets: TargetSet, k: int) -> list[tuple[TargetSet, TargetSet]]:
    """``k`` (fit, held-out) splits of a target set, fixed in advance.

    Target ``i`` (in file order) is held out in fold ``i mod k``, so every
    pattern is held out exactly once and the folds do not depend on any result.
    """
    n = len(targets.targets)
    if not 2 <= k <= n:
        raise ValueError(f"k = {k}: a k-fold over {n} patterns needs 2 <= k <= {n}")
    out = []
    for fold in range(k):
        held = [t for i, t in enumerate(targets.targets) if i % k == fold]
        fit = [t for i, t in enumerate(targets.targets) if i % k != fold]
        out.append((replace(targets, targets=fit), replace(targets, targets=held)))
    return out


def kfold_scores(
    targets: TargetSet,
    simulator: Simulator,
    out: Path,
    *,
    k: int,
    population: int,
    generations: int,
    draws: int,
    seed: int,
    workers: int,
    say: Say = print,
) -> list[PatternScore]:
    """Calibrate on each fold's fit part; score its held-out part under that posterior.

    Fold ``f`` is calibrated in ``out/fold<f>`` with seed ``seed + f`` and scored
    with fresh seeds ``seed + 100 + f``.
    """

    scores: list[PatternScore] = []
    for f, (fit, held) in enumerate(kfold_splits(targets, k)):
        say(
            f"  fold {f}: fit on {', '.join(t.name for t in fit.targets)}; "
            f"hold out {', '.join(t.name for t in held.targets)}"
        )
        history = calibrate(
            fit,
            out / f"fold{f}",
            simulator=simulator,
            population=population,
            generations=generations,
            seed=seed + f,
            workers=workers,
        )
        sample = resample(posterior_frame(history), draws, seed + 50 + f)
        s, _ = score_patterns(held, simulator, sample, seed=seed + 100 + f, workers=workers)
        scores += s
    order = {t.name: i for i, t in enumerate(targets.targets)}
    return sorted(scores, key=lambda s: order[s.name])


def scores_frame(scores: Sequence[PatternScore]) -> pd.DataFrame:
    """A table of pattern scores (for CSV)."""
    rows = []
    for s in scores:
        lo, hi = s.interval if s.computable else (np.nan, np.nan)
        rows.append(
            {
                "pattern": s.name,
                "description": s.description,
                "computable": s.computable,
                "needs": s.needs,
                "draws": s.draws,
                "held": s.held,
                "share": s.share if s.computable else np.nan,
                "low95": lo,
                "high95": hi,
            }
        )
    return pd.DataFrame(rows)
