"""``lasim knockout [SCENARIO] [--replications N] [--seed S] [--off NAME] [--mechanism NAME] [--out DIR]``.

Model, plotting and tqdm imports wait for the command to run: ``lasim --help``
builds every sub-command's parser.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from experiments.files import (
    atomic_write,
    atomic_write_json,
    atomic_write_text,
    check_output,
    new_dir_beside,
    path_safe,
    provenance,
    replace_dir,
)
from experiments.size import check_size
from model.errors import LasimInputError

from .commands import int_at_least


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
    p.add_argument("--replications", "-n", type=int_at_least(2), default=50, metavar="N",
                   help="paired seeds per design (default 50)")
    p.add_argument("--seed", type=int_at_least(0), default=0, metavar="S",
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
    p.add_argument("--allow-large", action="store_true",
                   help="run even when the memory estimate exceeds the size guard")
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
    # a scenario's name is text from a file, never a path: it only names the default folder
    out = check_output(args.out or Path("runs") / f"knockout-{path_safe(scenario.name)}-seed{args.seed}",
                       overwrite=args.overwrite)
    check_size(scenario, len(designs) * args.replications, keep_series=False, allow=args.allow_large)

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

    # filled beside the target and swapped in whole: an interrupted run leaves the
    # old results or the new ones, never a mix and never neither
    tmp = new_dir_beside(out)
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
        atomic_write(tmp / "knockout.csv", lambda p: result.effects.to_csv(p, index=False))
        atomic_write(tmp / "runs.csv", lambda p: result.runs.to_csv(p, index=False))
        save_figure(plot_knockout(result.effects, scenario.name), tmp / "knockout.png",
                    {k: meta[k] for k in ("scenario_name", "root_seed", "replications", "lasim_version",
                                          "git_commit")})
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"\nwrote {out}/: knockout.csv, runs.csv, knockout.png, run.json, scenario.toml")
    return 0
