"""``lasim knockout [SCENARIO] [--replications N] [--seed S] [--off NAME] [--mechanism NAME] [--out DIR]``.

Only argparse is imported at module level: ``lasim --help`` builds every
sub-command's parser and should not wait for pandas or matplotlib.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from model.errors import LasimInputError


def _int_at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (need {minimum} or more)") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is too small (need {minimum} or more)")
        return value

    return parse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``knockout`` sub-command."""
    p = sub.add_parser(
        "knockout", help="switch each mechanism off in turn and show its effect on the outcomes",
        description="Run the full model and one copy per mechanism with that mechanism switched off, on the "
                    "same replication seeds (common random numbers); print and plot each mechanism's effect "
                    "(knocked out - full, mean of paired differences with a 95% t interval) on the headline "
                    "outcomes, and write knockout.csv, runs.csv, knockout.png and run.json into --out.")
    p.add_argument("scenario", nargs="?", default="default",
                   help="shipped scenario name or scenario .toml file (default: default)")
    p.add_argument("--replications", "-n", type=_int_at_least(2), default=50, metavar="N",
                   help="paired seeds per design (default 50)")
    p.add_argument("--seed", type=_int_at_least(0), default=0, metavar="S",
                   help="root seed of the replications (default 0)")
    p.add_argument("--set", dest="assignments", action="append", default=[], metavar="NAME=VALUE",
                   help="change a parameter of the full model, e.g. --set facilitation_quality=0.4 (repeatable)")
    p.add_argument("--off", action="append", default=[], metavar="NAME",
                   help="switch a mechanism off in the full model too, as in `lasim run --off` (repeatable)")
    p.add_argument("--mechanism", "-m", dest="mechanisms", action="append", default=None, metavar="NAME",
                   help="knock out only this mechanism (repeatable; default: every mechanism that runs)")
    p.add_argument("--out", "-o", type=Path, default=None, metavar="DIR",
                   help="output directory (default: runs/knockout-<scenario>-seed<seed>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    p.add_argument("--processes", type=int, default=None, metavar="N",
                   help="local worker processes (default: all cores; 1 runs in this process)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check everything, run the knock-outs, write the outputs atomically, print the table."""
    from model.scenario import load_scenario, parse_assignments, scenario_to_toml

    if args.processes is not None and args.processes < 1:
        raise LasimInputError(f"--processes {args.processes}: must be at least 1")
    overrides = parse_assignments(args.assignments)
    scenario = load_scenario(args.scenario).with_parameters("--set", **overrides).knock_out(args.off)
    from experiments.knockout import knockout_designs

    designs = knockout_designs(scenario, args.mechanisms)  # validate names before anything runs
    out: Path = args.out or Path("runs") / f"knockout-{scenario.name}-seed{args.seed}"
    if out.exists() and not out.is_dir():
        raise LasimInputError(f"--out {out}: exists and is not a directory")
    if out.exists() and any(out.iterdir()) and not args.overwrite:
        raise LasimInputError(f"--out {out}: directory exists and is not empty; choose another or add --overwrite")

    from experiments.files import atomic_write_json, atomic_write_text, provenance
    from experiments.knockout import format_effects, plot_knockout, run_knockout
    from experiments.plots import save_figure

    total = len(designs) * args.replications
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=f"knockout {scenario.name}", unit="run", file=sys.stderr)
    try:
        result = run_knockout(scenario, args.replications, args.seed, mechanisms=list(designs)[1:],
                              processes=args.processes, progress=(lambda done, n: bar.update(1)) if bar else None)
    finally:
        if bar:
            bar.close()
    print(f"\n{scenario.name}: {len(result.mechanisms)} knock-outs x {args.replications} paired seeds, "
          f"root seed {args.seed}; effect = knocked out - full, mean [95% interval], * = interval excludes 0")
    print(format_effects(result.effects))

    # a fresh sibling directory moved into place at the end: an interrupted run
    # leaves either the old results or the new ones, never a mix
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        meta = {
            "command": "knockout", "scenario_name": scenario.name, "scenario_source": str(args.scenario),
            "root_seed": args.seed, "seeds": result.seeds, "replications": args.replications,
            "overrides": overrides, "off": scenario.switched_off(), "mechanisms": result.mechanisms,
            "statistic": "mean of paired differences (knocked out - full) over common seeds, 95% Student-t interval",
            **provenance(), "scenario": scenario.model_dump(mode="json"),
        }
        atomic_write_json(tmp / "run.json", meta)
        atomic_write_text(tmp / "scenario.toml", scenario_to_toml(scenario))
        result.effects.to_csv(tmp / "knockout.csv", index=False)
        result.runs.to_csv(tmp / "runs.csv", index=False)
        save_figure(plot_knockout(result.effects, scenario.name), tmp / "knockout.png",
                    {k: meta[k] for k in ("scenario_name", "root_seed", "replications", "lasim_version",
                                          "git_commit")})
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"\nwrote {out}/: knockout.csv, runs.csv, knockout.png, run.json, scenario.toml")
    return 0
