"""``lasim validate``: the validation suite.

1. **Bass limit.** The ``bass`` scenario's mean adoption curve over replications
   against the closed-form Bass curve for the same ``p`` and ``q``: passes when
   the maximum absolute error over the months is below 0.02. The table also
   reports how much of that error the monthly time step alone explains (the
   mean-field recursion of :func:`calibration.bass.monthly_bass_share`).
2. **Parameter recovery.** For several known ``(p, q)``, one adoption series is
   simulated from the ``bass`` scenario, ``p`` and ``q`` are calibrated on it by
   ABC-SMC, and each true value must lie inside its 90% posterior interval;
   the coverage over all cases is reported.
3. **Patterns under the posterior (in sample).** The default scenario calibrated on
   ``seed_patterns.toml``; for posterior draws, the share in which each pattern
   holds (fresh replications, not the ones ABC selected on). Passes when every
   pattern holds in at least :data:`PATTERN_SHARE` of the draws.
4. **Held-out patterns (out of sample).** The same posterior scored on
   ``heldout_patterns.toml`` (P11-P13 and the centralisation pattern C1), which it
   was never fitted to, with fresh seeds; each share with its Wilson 95% interval
   over the draws. Passes when every held-out pattern is computable and holds in
   at least :data:`PATTERN_SHARE` of the draws.
5. **k-fold over the seed patterns** (not run by default: k calibrations). Each
   pattern of ``seed_patterns.toml`` is held out once (:data:`KFOLD_K` folds);
   same criterion as check 4.

Every threshold is fixed here, before any result is seen; a check that fails
is reported as failing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.executors import make_executor
from experiments.files import atomic_write, atomic_write_json, atomic_write_text, provenance, write_csv
from experiments.plots import save_figure
from experiments.runs import Run, failed, run_many
from model.runner import replication_seeds
from model.scenario import load_scenario, scenario_to_toml

from .abc import calibrate, load_history
from .abc import code_digest as digest
from .bass import bass_share, monthly_bass_share
from .evaluate import never_computed_warning
from .outofsample import heldout_scores, kfold_scores, score_patterns, scores_frame
from .posterior import posterior_frame, resample, weighted_quantile
from .simulator import ModelSimulator
from .targets import load_targets

#: Check 1: largest allowed absolute error between mean curve and closed form.
BASS_TOLERANCE = 0.02
#: Check 1: Bass parameters (per month), agents and replications. q = 0.05 keeps
#: the one-month step's own bias (about 0.012) inside the tolerance with room for
#: the sampling noise of 2,000 agents x 20 runs; see docs/calibration.md.
BASS_P, BASS_Q = 0.01, 0.05
BASS_AGENTS, BASS_REPLICATIONS = 2000, 20
BASS_MONTHS = 120
#: Check 2: true (p, q) values, priors and ABC settings.
RECOVERY_TRUTHS = ((0.005, 0.04), (0.01, 0.06), (0.02, 0.03), (0.008, 0.09))
RECOVERY_PRIORS = {"external_influence": (0.001, 0.04), "imitation": (0.0, 0.15)}
RECOVERY_AGENTS = 500
RECOVERY_MONTHS = 60
RECOVERY_LEVEL = 0.90
#: Checks 3-5: a pattern must hold in at least this share of posterior draws.
PATTERN_SHARE = 0.8
#: Check 4: the held-out patterns (never used for fitting).
HELDOUT_TARGETS = "heldout_patterns"
#: Check 5: folds of the k-fold over the seed patterns.
KFOLD_K = 4
#: The checks ``lasim validate`` runs unless told otherwise.
DEFAULT_CHECKS = (1, 2, 3, 4)

Say = Callable[[str], None]


@dataclass
class Check:
    """One row of the validation table."""

    number: int
    name: str
    measured: str
    criterion: str
    passed: bool
    figure: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class ValidationTable:
    """The checks run, printable as a table."""

    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def render(self) -> str:
        head = f"{'check':<32} {'measured':<44} {'criterion':<30} {'result':<6} figure"
        lines = [head, "-" * len(head)]
        for c in self.checks:
            lines.append(
                f"{str(c.number) + ' ' + c.name:<32} {c.measured:<44} {c.criterion:<30} "
                f"{'PASS' if c.passed else 'FAIL':<6} {c.figure}"
            )
            for sub in c.details.get("rows", []):
                lines.append(f"    {sub}")
        lines.append(f"overall: {'PASS' if self.passed else 'FAIL'}")
        return "\n".join(lines)


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _savefig(fig: Any, path: Path) -> None:
    save_figure(fig, path, {"what": "lasim validate"}, dpi=110)


def bass_scenario(agents: int, p: float, q: float, horizon: int | None = None) -> Any:
    """The shipped ``bass`` scenario with ``agents`` members on its one platform and ``p``, ``q``."""
    base = load_scenario("bass")
    platforms = base.structure.platforms
    if len(platforms) != 1 or len(platforms[0].members) != 1:
        raise RuntimeError("the bass scenario must have one platform with members of one kind")
    kind = next(iter(platforms[0].members))
    platform = platforms[0].model_copy(update={"members": {kind: int(agents)}})
    structure = base.structure.model_copy(update={"platforms": [platform]})
    values: dict[str, Any] = {"external_influence": p, "imitation": q}
    if horizon is not None:
        values.update(horizon_months=int(horizon), project_months=int(horizon))
    return base.model_copy(update={"structure": structure}).with_parameters(**values)


def _mean_curve(scenario: Any, seeds: Sequence[int], workers: int, column: str) -> np.ndarray:
    with make_executor(processes=max(1, workers)) as executor:
        runs = run_many([scenario], list(seeds), executor=executor, series=True)
    bad = failed(runs)
    if bad:
        raise RuntimeError(f"a validation run failed (seed {bad[0].seed}): {bad[0].error}")
    return np.mean([_curve_of(r, column) for r in runs], axis=0)


def _curve_of(run: Run, column: str) -> np.ndarray:
    return run.series[column].to_numpy(dtype=float)


def check_bass(
    out: Path, *, agents: int, replications: int, seed: int, workers: int, say: Say
) -> Check:
    """Check 1: mean adoption curve of the bass scenario vs the closed-form Bass curve."""
    scenario = bass_scenario(agents, BASS_P, BASS_Q, horizon=BASS_MONTHS)
    horizon = scenario.parameters.horizon_months
    say(f"check 1: bass scenario, {agents} agents x {replications} runs, p={BASS_P}, q={BASS_Q}")
    mean = _mean_curve(scenario, replication_seeds(seed, replications), workers, "adoption_all")
    months = np.arange(1, len(mean) + 1)
    closed = bass_share(months, BASS_P, BASS_Q)
    meanfield = monthly_bass_share(len(mean), BASS_P, BASS_Q)[1:]
    err = np.abs(mean - closed)
    worst = int(np.argmax(err))
    step_bias = float(np.max(np.abs(meanfield - closed)))
    noise = float(np.max(np.abs(mean - meanfield)))
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    a1.plot(months, mean, label=f"lasim bass, mean of {replications} runs")
    a1.plot(months, closed, "--", label="closed-form Bass")
    a1.plot(months, meanfield, ":", label="monthly mean field")
    a1.set_xlabel("month")
    a1.set_ylabel("share adopted")
    a1.legend(fontsize=8)
    a2.plot(months, mean - closed, label="model - closed form")
    a2.plot(months, meanfield - closed, ":", label="one-month step alone")
    a2.axhspan(-BASS_TOLERANCE, BASS_TOLERANCE, color="#55a868", alpha=0.15, label="tolerance")
    a2.set_xlabel("month")
    a2.set_ylabel("error")
    a2.legend(fontsize=8)
    fig.suptitle(f"Check 1: Bass limit (p = {BASS_P}/month, q = {BASS_Q}/month, {agents} agents)")
    _savefig(fig, out / "check1_bass.png")
    frame = pd.DataFrame(
        {
            "month": months,
            "model_mean": mean,
            "closed_form": closed,
            "monthly_mean_field": meanfield,
        }
    )
    atomic_write(out / "check1_bass.csv", lambda p: frame.to_csv(p, index=False))
    maxerr = float(err.max())
    return Check(
        1,
        "Bass limit",
        f"max |error| {maxerr:.4f} at month {months[worst]}",
        f"< {BASS_TOLERANCE}",
        maxerr < BASS_TOLERANCE,
        "check1_bass.png",
        {
            "max_abs_error": maxerr,
            "month": int(months[worst]),
            "time_step_bias": step_bias,
            "model_vs_mean_field": noise,
            "p": BASS_P,
            "q": BASS_Q,
            "agents": agents,
            "replications": replications,
            "horizon": horizon,
            "rows": [
                f"one-month step alone explains {step_bias:.4f}; model vs its mean field "
                f"{noise:.4f}"
            ],
        },
    )


def _recovery_case(
    out: Path,
    k: int,
    p: float,
    q: float,
    *,
    agents: int,
    population: int,
    generations: int,
    seed: int,
    workers: int,
    say: Say,
) -> dict[str, Any]:
    case = out / f"case{k}"
    case.mkdir(parents=True, exist_ok=True)
    scenario = bass_scenario(agents, p, q, horizon=RECOVERY_MONTHS)
    (run,) = run_many([scenario], [seed + 1000 + k], series=True)
    if not run.ok:
        raise RuntimeError(f"the recovery case's observed run failed: {run.error}")
    series = run.series["adoption_all"]
    observed = pd.DataFrame(
        {"month": series.index.to_numpy()[2::3], "share": series.to_numpy()[2::3]}
    )
    # plain CSV, what made it beside it (observed.provenance.json)
    write_csv(case / "observed.csv", observed, {
        "source": f"simulated from the bass scenario with {agents} agents, p = {p}, q = {q}, seed "
                  f"{seed + 1000 + k} (a parameter-recovery case, not observed data)", **provenance()})
    scen_path = case / "scenario.toml"
    atomic_write_text(scen_path, scenario_to_toml(scenario))
    priors = "\n".join(
        f"{n} = {{low = {lo}, high = {hi}}}" for n, (lo, hi) in RECOVERY_PRIORS.items()
    )
    atomic_write_text(
        case / "targets.toml",
        f"""# parameter recovery case {k}
scenario = "scenario.toml"
replications = 1
parameters = ["external_influence", "imitation"]
[priors]
{priors}
[[targets]]
name = "adoption"
kind = "series"
file = "observed.csv"
outcome = "adoption_all"
""",
    )
    targets = load_targets(case / "targets.toml")
    calib = case / "calibration"
    if (calib / "calibration.json").exists():
        old = json.loads((calib / "calibration.json").read_text())["config"]
        if old.get("population") != population:
            raise RuntimeError(f"{calib} holds a calibration with another population; remove it")
    history = calibrate(
        targets,
        calib,
        simulator=ModelSimulator(str(scen_path)),
        population=population,
        generations=generations,
        seed=seed + k,
        workers=workers,
    )
    post = posterior_frame(history)
    row: dict[str, Any] = {"case": k, "generations": int(history.n_populations)}
    lo_q, hi_q = (1 - RECOVERY_LEVEL) / 2, 1 - (1 - RECOVERY_LEVEL) / 2
    for name, truth in (("external_influence", p), ("imitation", q)):
        x, w = post[name].to_numpy(), post["weight"].to_numpy()
        lo, hi = weighted_quantile(x, w, lo_q), weighted_quantile(x, w, hi_q)
        row |= {
            f"{name}_true": truth,
            f"{name}_low": lo,
            f"{name}_high": hi,
            f"{name}_mean": float(np.sum(w * x)),
            f"{name}_inside": bool(lo <= truth <= hi),
        }
    # three significant digits: at 4 decimals a bound of 0.00804 printed as 0.0080 and a
    # true 0.008 outside its interval looked inside
    def said(name: str, truth: float) -> str:
        where = "in" if row[f"{name}_inside"] else "OUTSIDE"
        return f"{truth} {where} [{row[f'{name}_low']:.3g}, {row[f'{name}_high']:.3g}]"

    say(f"  case {k}: p={said('external_influence', p)}, q={said('imitation', q)}")
    return row


def check_recovery(
    out: Path,
    *,
    agents: int,
    population: int,
    generations: int,
    seed: int,
    workers: int,
    truths: Sequence[tuple[float, float]],
    say: Say,
) -> Check:
    """Check 2: calibrate p and q on series simulated from known values."""
    say(
        f"check 2: parameter recovery, {len(truths)} cases, population {population}, "
        f"{generations} generations, {agents} agents"
    )
    rows = [
        _recovery_case(
            out / "check2_recovery",
            k,
            p,
            q,
            agents=agents,
            population=population,
            generations=generations,
            seed=seed,
            workers=workers,
            say=say,
        )
        for k, (p, q) in enumerate(truths)
    ]
    frame = pd.DataFrame(rows)
    atomic_write(out / "check2_recovery.csv", lambda p: frame.to_csv(p, index=False))
    inside = frame[["external_influence_inside", "imitation_inside"]].to_numpy()
    coverage = float(inside.mean())
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, name in zip(axes, ("external_influence", "imitation"), strict=True):
        y = np.arange(len(frame))
        ax.hlines(
            y,
            frame[f"{name}_low"],
            frame[f"{name}_high"],
            lw=3,
            color="#4c72b0",
            label="90% posterior interval",
        )
        ax.plot(frame[f"{name}_true"], y, "o", color="#c44e52", label="true value")
        ax.set_yticks(y, [f"case {k}" for k in frame["case"]])
        ax.set_xlabel(name)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Check 2: parameter recovery (coverage {coverage:.0%})")
    _savefig(fig, out / "check2_recovery.png")
    n_in, n = int(inside.sum()), inside.size
    return Check(
        2,
        "parameter recovery",
        f"{n_in}/{n} true values inside (coverage {coverage:.0%})",
        "every true value inside its 90% interval",
        n_in == n,
        "check2_recovery.png",
        {"coverage": coverage, "cases": rows},
    )


def pattern_posterior(
    out: Path,
    *,
    posterior: str | None,
    population: int,
    generations: int,
    seed: int,
    workers: int,
    say: Say,
) -> tuple[Any, str]:
    """The posterior of the default scenario on seed_patterns.toml: ``--posterior`` or a fresh fit.

    A fit left in ``out/check3_calibration`` by the same code and inputs is
    resumed; one made by other code or library versions is refused
    (:func:`calibration.abc.calibrate`).
    """

    if posterior:
        return load_history(posterior), posterior
    targets = load_targets("seed_patterns")
    source = str(out / "check3_calibration")
    say(
        f"calibrating {targets.scenario} on seed_patterns.toml (population {population}, "
        f"at most {generations} generations)"
    )
    history = calibrate(
        targets,
        source,
        simulator=ModelSimulator(targets.scenario),
        population=population,
        generations=generations,
        seed=seed,
        workers=workers,
        progress=lambda r: say(_progress_line(r)),
    )
    return history, source


def _share_plot(scores: Sequence[Any], path: Path, title: str) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5.0, 0.7 * len(scores) + 1), 3.2))
    x = np.arange(len(scores))
    shares = [s.share if s.computable else 0.0 for s in scores]
    ax.bar(
        x,
        shares,
        color=["#55a868" if s.computable and s.share >= PATTERN_SHARE else "#c44e52" for s in scores],
    )
    for i, s in enumerate(scores):
        if s.computable:
            lo, hi = s.interval
            ax.plot([i, i], [lo, hi], color="black", lw=1.5)
        else:
            ax.text(i, 0.03, "not computable", ha="center", va="bottom", fontsize=7, rotation=90)
    ax.set_xticks(x, [s.name for s in scores])
    ax.axhline(PATTERN_SHARE, color="grey", ls="--")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of posterior draws (95% interval)")
    ax.tick_params(axis="x", rotation=45)
    fig.suptitle(title)
    _savefig(fig, path)


def _pattern_check(number: int, name: str, scores: Sequence[Any], figure: str, extra: dict) -> Check:
    computable = [s for s in scores if s.computable]
    missing = [s for s in scores if not s.computable]
    if computable:
        worst = min(computable, key=lambda s: s.share)
        measured = f"lowest: {worst.name} holds in {worst.share:.0%} of {worst.draws} draws"
    else:
        measured = "no pattern computable"
    if missing:
        measured += f"; {len(missing)} not computable"
    return Check(
        number,
        name,
        measured,
        f">= {PATTERN_SHARE:.0%} of draws each",
        bool(scores) and not missing and all(s.share >= PATTERN_SHARE for s in computable),
        figure,
        {
            **extra,
            "shares": {s.name: (s.share if s.computable else None) for s in scores},
            "intervals95": {s.name: (list(s.interval) if s.computable else None) for s in scores},
            "not_computable": {s.name: s.needs for s in missing},
            "rows": [s.row() for s in scores],
        },
    )


def check_patterns(
    out: Path,
    *,
    history: Any,
    source: str,
    draws: int,
    seed: int,
    workers: int,
    say: Say,
) -> Check:
    """Check 3: share of posterior draws of the default scenario in which each fitted pattern holds."""

    targets = load_targets("seed_patterns")
    simulator = ModelSimulator(targets.scenario)
    sample = resample(posterior_frame(history), draws, seed + 11)
    say(f"check 3: {draws} posterior draws, fresh replications, on the fitted patterns")
    scores, pred = score_patterns(targets, simulator, sample, seed=seed + 12, workers=workers)
    figure = _write_scores(out, 3, "patterns", scores, pred, "Check 3: fitted patterns under the posterior")
    return _pattern_check(3, "patterns P1-P10 (in sample)", scores, figure, {"posterior": source})


def _write_scores(out: Path, number: int, label: str, scores: Any, pred: pd.DataFrame | None,
                  title: str) -> str:
    """A pattern check's files: the draws' statistics (CSV), the shares (CSV) and their plot; the plot's name."""
    if pred is not None:
        flat = pred[[c for c in pred.columns if not isinstance(pred[c].iloc[0], np.ndarray)]]
        atomic_write(out / f"check{number}_{label}.csv", lambda p: flat.to_csv(p, index=False))
    atomic_write(out / f"check{number}_shares.csv", lambda p: scores_frame(scores).to_csv(p, index=False))
    figure = f"check{number}_{label}.png"
    _share_plot(scores, out / figure, title)
    return figure


def check_heldout(
    out: Path,
    *,
    history: Any,
    source: str,
    draws: int,
    seed: int,
    workers: int,
    say: Say,
    heldout: str = HELDOUT_TARGETS,
) -> Check:
    """Check 4: the held-out patterns under the posterior fitted to the seed patterns."""

    simulator = ModelSimulator("default")
    sample = resample(posterior_frame(history), draws, seed + 21)
    say(f"check 4: {draws} posterior draws, fresh replications, on the held-out patterns")
    scores, pred = heldout_scores(
        heldout, simulator, sample, seed=seed + 22, workers=workers, workdir=out
    )
    figure = _write_scores(out, 4, "heldout", scores, pred, "Check 4: held-out patterns (out of sample)")
    return _pattern_check(4, "held-out P11-P13, C1", scores, figure, {"posterior": source})


def check_kfold(
    out: Path,
    *,
    population: int,
    generations: int,
    draws: int,
    seed: int,
    workers: int,
    say: Say,
    k: int = KFOLD_K,
) -> Check:
    """Check 5: a k-fold over the seed patterns (each held out once)."""

    targets = load_targets("seed_patterns")
    say(f"check 5: {k}-fold over {len(targets.targets)} seed patterns")
    scores = kfold_scores(
        targets,
        ModelSimulator(targets.scenario),
        out / "check5_kfold",
        k=k,
        population=population,
        generations=generations,
        draws=draws,
        seed=seed + 500,
        workers=workers,
        say=say,
    )
    atomic_write(out / "check5_shares.csv", lambda p: scores_frame(scores).to_csv(p, index=False))
    _share_plot(scores, out / "check5_kfold.png", f"Check 5: {k}-fold over the seed patterns")
    return _pattern_check(5, f"{k}-fold P1-P10", scores, "check5_kfold.png", {"k": k})


def code_digest() -> dict[str, str]:
    """Sources and library versions behind the table (see :func:`calibration.abc.code_digest`)."""

    return digest()


def run_validation(
    out: str | Path,
    *,
    checks: Sequence[int] = DEFAULT_CHECKS,
    quick: bool = False,
    posterior: str | None = None,
    workers: int = 1,
    seed: int = 20240601,
    say: Say = print,
) -> ValidationTable:
    """Run the chosen checks, write figures and ``validation.json`` into ``out``.

    ``quick`` shrinks every size (a smoke test of the machinery, not evidence:
    its table says so).
    """

    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[Check] = []
    if 1 in checks:
        rows.append(
            check_bass(
                out,
                agents=400 if quick else BASS_AGENTS,
                replications=4 if quick else BASS_REPLICATIONS,
                seed=seed,
                workers=workers,
                say=say,
            )
        )
    if 2 in checks:
        rows.append(
            check_recovery(
                out,
                agents=200 if quick else RECOVERY_AGENTS,
                population=20 if quick else 100,
                generations=2 if quick else 6,
                seed=seed,
                workers=workers,
                truths=RECOVERY_TRUTHS[:1] if quick else RECOVERY_TRUTHS,
                say=say,
            )
        )
    sizes = dict(
        population=16 if quick else 60,
        generations=2 if quick else 4,
        draws=8 if quick else 40,
    )
    if 3 in checks or 4 in checks:
        history, source = pattern_posterior(
            out,
            posterior=posterior,
            population=sizes["population"],
            generations=sizes["generations"],
            seed=seed,
            workers=workers,
            say=say,
        )
        common = dict(history=history, source=source, draws=sizes["draws"], seed=seed,
                      workers=workers, say=say)
        if 3 in checks:
            rows.append(check_patterns(out, **common))
        if 4 in checks:
            rows.append(check_heldout(out, **common))
    if 5 in checks:
        rows.append(check_kfold(out, seed=seed, workers=workers, say=say, **sizes))
    table = ValidationTable(rows)
    atomic_write_json(
        out / "validation.json",
        {
            "quick": quick,
            "seed": seed,
            "workers": workers,
            "elapsed_s": round(time.perf_counter() - started, 1),
            "table": table.render(),
            "passed": table.passed,
            "provenance": provenance(),
            "code": code_digest(),
            "checks": [
                {
                    "number": c.number,
                    "name": c.name,
                    "measured": c.measured,
                    "criterion": c.criterion,
                    "passed": c.passed,
                    "figure": c.figure,
                    "details": {k: v for k, v in c.details.items() if k != "rows"},
                }
                for c in rows
            ],
        },
    )
    if quick:
        say("note: --quick uses small sizes; its verdicts are a smoke test, not the validation")
    return table


def _progress_line(row: dict[str, Any]) -> str:
    if "stopped" in row:
        return f"  stopped after generation {row['generation']}: {row['stopped']}"
    line = (
        f"  generation {row['generation']}: epsilon {row['epsilon']:.4g}, acceptance "
        f"{row['accepted']}/{row['simulations']} = {row['acceptance_rate']:.1%}"
    )
    if row.get("never_computed"):
        line += "\n" + never_computed_warning(row["never_computed"])
    return line
