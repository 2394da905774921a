"""``lasim calibrate`` and ``lasim validate``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from model.errors import LasimInputError

# the defaults only; the heavy modules load when a command runs
from .evaluate import never_computed_warning
from .stopping import MAX_GENERATIONS, MIN_ACCEPTANCE, MIN_EPS_DROP, MIN_ESS


def _positive(kind: str, minimum: int = 1):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{kind} must be a whole number, got {text!r}"
            ) from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"{kind} must be at least {minimum}, got {v}")
        return v

    return parse


def register(subparsers: Any) -> None:
    """Add ``calibrate`` and ``validate`` to the ``lasim`` command."""
    p = subparsers.add_parser(
        "calibrate",
        help="fit parameters to patterns or an adoption series (ABC-SMC)",
        description=(
            "Approximate Bayesian computation (pyabc ABC-SMC) of scenario parameters against a "
            "targets file. Re-running the same command on DIR continues from its database."
        ),
    )
    p.add_argument(
        "targets", help="targets TOML file, or a shipped name (seed_patterns, bass_series)"
    )
    p.add_argument(
        "--params",
        help="comma-separated parameters to calibrate (default: the targets file's parameters)",
    )
    p.add_argument(
        "--out", required=True, help="output directory (the calibration database lives here)"
    )
    p.add_argument(
        "--population",
        type=_positive("--population"),
        default=100,
        help="particles per generation (default 100)",
    )
    p.add_argument(
        "--generations",
        type=_positive("--generations"),
        default=MAX_GENERATIONS,
        help="the most generations in all, counting those already done; it stops earlier "
        f"when a stopping rule holds (default {MAX_GENERATIONS})",
    )
    p.add_argument("--seed", type=_positive("--seed", 0), default=1, help="root seed (default 1)")
    p.add_argument(
        "--workers",
        type=_positive("--workers"),
        default=None,
        help="processes (default: all cores)",
    )
    p.add_argument("--scheduler", help="Dask scheduler address: sample on that cluster")
    p.add_argument(
        "--draws",
        type=_positive("--draws"),
        default=40,
        help="posterior draws for the predictive check (default 40)",
    )
    p.add_argument(
        "--min-epsilon",
        type=float,
        default=0.0,
        help="stop once epsilon is at most this (default 0: every accepted particle meets "
        "every target)",
    )
    p.add_argument(
        "--min-eps-drop",
        type=float,
        default=MIN_EPS_DROP,
        help="stop once epsilon falls by less than this share from one generation to the "
        f"next (default {MIN_EPS_DROP:g})",
    )
    p.add_argument(
        "--min-ess",
        type=float,
        default=MIN_ESS,
        help="the epsilon rules wait until the last generation's effective sample size is at "
        f"least this share of its particles (default {MIN_ESS:g})",
    )
    p.add_argument(
        "--min-acceptance",
        type=float,
        default=MIN_ACCEPTANCE,
        help="stop when a generation would accept less than this share of its proposals; "
        f"that generation is abandoned (default {MIN_ACCEPTANCE:g})",
    )
    p.set_defaults(func=run_calibrate)

    v = subparsers.add_parser(
        "validate",
        help="validity checks: Bass limit, parameter recovery, patterns under the posterior",
        description="Run the validation suite and print a table of checks with pass/fail.",
    )
    v.add_argument(
        "--out",
        default="validation",
        help="directory for figures and results (default ./validation)",
    )
    v.add_argument(
        "--checks",
        default="1,2,3,4",
        help="which checks, e.g. 1,3 (default 1,2,3,4; 5, the k-fold over the seed patterns, "
        "calibrates k times)",
    )
    v.add_argument(
        "--quick",
        action="store_true",
        help="smaller populations and fewer agents: a smoke test, not the full check",
    )
    v.add_argument(
        "--posterior",
        help="calibration directory of the default scenario for checks 3 and 4 "
        "(default: calibrate seed_patterns.toml first)",
    )
    v.add_argument(
        "--workers",
        type=_positive("--workers"),
        default=None,
        help="processes (default: all cores)",
    )
    v.add_argument("--seed", type=_positive("--seed", 0), default=20240601, help="root seed")
    v.set_defaults(func=run_validate)


def _say(text: str) -> None:
    print(text, flush=True)


def _progress(row: dict[str, Any]) -> None:
    if "resuming" in row:
        _say(f"  resuming from generation {row['resuming']} (generations 0-{row['resuming'] - 1} "
             "are in the database)")
        return
    if "stopped" in row:
        _say(f"  stopped after generation {row['generation']}: {row['stopped']}")
        return
    _say(
        f"  generation {row['generation']}: epsilon {row['epsilon']:.4g}, acceptance "
        f"{row['accepted']}/{row['simulations']} = {row['acceptance_rate']:.1%}, effective "
        f"sample size {row.get('ess', float('nan')):.0f} ({row['wall_time_s']:.1f} s)"
    )
    if row.get("never_computed"):
        _say(never_computed_warning(row["never_computed"]))


class ParticleBar:
    """A progress bar inside a generation: particles accepted and proposals evaluated."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._t: int | None = None

    def __call__(self, info: dict[str, Any]) -> None:
        from tqdm import tqdm

        if info["t"] != self._t:
            self.close()
            self._t = info["t"]
            label = "prior sample" if info["t"] < 0 else f"generation {info['t']}"
            self._bar = tqdm(
                total=info["n"], desc=f"  {label}", unit="particle", file=sys.stderr,
                leave=False, disable=None,
            )
        self._bar.n = info["filled"]
        self._bar.set_postfix_str(f"{info['evaluated']} evaluated", refresh=False)
        self._bar.refresh()
        if info["filled"] >= info["n"]:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            self._t = None


def resume_command(argv: list[str] | None = None) -> str:
    """The command that resumes this calibration (the same command line)."""
    import shlex

    args = list(sys.argv[1:] if argv is None else argv)
    return "lasim " + " ".join(shlex.quote(a) for a in args)


def run_calibrate(args: argparse.Namespace) -> int:
    """``lasim calibrate``."""
    from .abc import calibrate
    from .evaluate import MIN_YES_NO_REPLICATIONS
    from .outputs import write_outputs
    from .simulator import ModelSimulator
    from .targets import load_targets

    if not 0 <= args.min_acceptance < 1:
        raise LasimInputError(f"--min-acceptance: {args.min_acceptance} must be in [0, 1)")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise LasimInputError(f"--out = {args.out!r}: exists and is not a directory")
    targets = load_targets(args.targets)
    simulator = ModelSimulator(targets.scenario)
    params = [p.strip() for p in args.params.split(",") if p.strip()] if args.params else None
    workers = args.workers or os.cpu_count() or 1
    _say(
        f"calibrating {', '.join(params or targets.parameters)} of scenario {targets.scenario} on "
        f"{len(targets.targets)} targets of {targets.path.name} ({targets.replications} "
        f"replications per particle and arm, at least {MIN_YES_NO_REPLICATIONS} for yes/no "
        f"patterns; population {args.population}, at most {args.generations} generations)"
    )
    bar = ParticleBar()

    def progress(row: dict[str, Any]) -> None:
        bar.close()
        _progress(row)

    try:
        history = calibrate(
            targets,
            args.out,
            params=params,
            simulator=simulator,
            population=args.population,
            generations=args.generations,
            seed=args.seed,
            workers=workers,
            scheduler=args.scheduler,
            min_epsilon=args.min_epsilon,
            min_eps_drop=args.min_eps_drop,
            min_acceptance=args.min_acceptance,
            min_ess=args.min_ess,
            progress=progress,
            particle_progress=bar,
        )
    except KeyboardInterrupt:
        bar.close()
        print(
            "lasim: calibration interrupted; finished generations are kept in "
            f"{Path(args.out) / 'calibration.db'}. Resume with:\n  {resume_command()}",
            file=sys.stderr,
            flush=True,
        )
        raise
    _say(f"  {history.n_populations} generation(s) in {Path(args.out) / 'calibration.db'}")
    results = write_outputs(args.out, targets, simulator, draws=args.draws, workers=workers)
    _say("posterior (weighted, last generation):")
    _say(f"  {'parameter':<28}{'mean':>10}{'5%':>10}{'median':>10}{'95%':>10}")
    for r in results["posterior"]:
        _say(
            f"  {r['parameter']:<28}{r['mean']:>10.4g}{r['q05']:>10.4g}{r['median']:>10.4g}"
            f"{r['q95']:>10.4g}"
        )
    pred = results["predictive"]
    _say(f"predictive check over {pred['draws']} posterior draws:")
    for name, share in pred["share_holding"].items():
        _say(f"  {name:<28} holds in {share:.0%}")
    for name, rmse in pred["median_rmse"].items():
        _say(f"  {name:<28} median RMSE {rmse:.4f}")
    _say(f"wrote {args.out}/: {', '.join(results['files'])}")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """``lasim validate``."""
    from .validation import run_validation

    try:
        checks = sorted({int(c) for c in args.checks.split(",") if c.strip()})
    except ValueError:
        raise LasimInputError(f"--checks: {args.checks!r} must be numbers such as 1,2,3") from None
    if not checks or any(c not in (1, 2, 3, 4, 5) for c in checks):
        raise LasimInputError(f"--checks: {args.checks!r}: the checks are 1, 2, 3, 4 and 5")
    table = run_validation(
        args.out,
        checks=checks,
        quick=args.quick,
        posterior=args.posterior,
        workers=args.workers or os.cpu_count() or 1,
        seed=args.seed,
        say=_say,
    )
    print(table.render(), file=sys.stdout, flush=True)
    return 0 if table.passed else 1
