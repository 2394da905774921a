"""``lasim compare DESIGN_A DESIGN_B [...] --replications N --out DIR``."""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import replace

from model.errors import LasimInputError

from .files import check_output, new_dir_beside, replace_dir
from .size import check_size


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compare`` sub-command."""
    p = subparsers.add_parser(
        "compare",
        help="compare alliance designs (scenario files) and write a report",
        description=(
            "Run every design the same number of times with the same seeds (common random numbers) "
            "and write report.html (self-contained), report.md, PNG figures, runs.csv and "
            "series.parquet: probability of scaling and of sustained adoption with 95% intervals, "
            "months to scale, adoption by level over time, cost, and a plain-language verdict."
        ),
    )
    p.add_argument("designs", nargs="+", metavar="DESIGN",
                   help="scenario files, shipped designs (district_hubs, linked_layers) or shipped "
                        "scenario names; the first is the baseline")
    p.add_argument("--replications", "-n", type=int, default=50, help="runs per design (default 50)")
    p.add_argument("--seed", type=int, default=0, help="root seed of the replications (default 0)")
    p.add_argument("--out", "-o", default="comparison", help="output directory (default ./comparison)")
    p.add_argument("--processes", type=int, default=None,
                   help="local worker processes (default: all cores; 1 runs in this process)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing non-empty output directory (swapped in whole at the end)")
    p.add_argument("--allow-large", action="store_true",
                   help="run even when the memory estimate exceeds the size guard")
    p.add_argument("--off", action="append", default=[], metavar="MECHANISM",
                   help="switch a mechanism off in every design, e.g. --off donor_distortion (repeatable)")
    p.add_argument("--set", dest="assignments", action="append", default=[], metavar="NAME=VALUE",
                   help="change a parameter in every design, e.g. --set facilitation_quality=0.4 (repeatable)")
    p.add_argument("--outcome", default="scaled",
                   help="yes/no outcome the ranking and the cost chart use (default scaled; also sustained, "
                        "functioning, institutionalised, local_impact)")
    p.add_argument("--target", default=None, metavar="OUTCOME>=P",
                   help="choose the cheapest design whose whole 95%% interval of P(OUTCOME) meets this, "
                        "e.g. 'scaled>=0.8' (or <=); sets --outcome")
    p.add_argument("--budget", type=float, default=None, metavar="K",
                   help="k USD a design may cost per run (mean over runs, upper 95%% bound; see --cost-of)")
    p.add_argument("--cost-of", default="total", choices=("total", "donor", "members", "government"),
                   help="which spending --budget and 'cheapest' count (default total: all payers)")
    p.add_argument("--uncertain", default=None, metavar="FILE",
                   help="is the choice robust? run every design over conditions sampled from the parameter "
                        "ranges in FILE (sweep spec syntax) and report how often each is best, its regret and "
                        "the conditions that flip the ranking (writes robustness/ in the output folder)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check everything, run the designs, write the report, print the verdict."""
    from model.scenario import parse_assignments

    from .compare import (
        check_budget,
        check_outcome,
        check_replications,
        load_designs,
        outcome_table,
        parse_target,
        run_comparison,
    )
    from .report import write_report

    if len(args.designs) < 2:
        raise LasimInputError(f"compare needs at least two designs, got {len(args.designs)}: {args.designs[0]}")
    check_replications(args.replications)
    if args.processes is not None and args.processes < 1:
        raise LasimInputError(f"--processes {args.processes}: must be at least 1")
    target = parse_target(args.target) if args.target is not None else None
    outcome = target.outcome if target is not None else check_outcome(args.outcome)
    budget = check_budget(args.budget)
    overrides = parse_assignments(args.assignments)
    out = check_output(args.out, overwrite=args.overwrite)
    designs = load_designs(args.designs)  # every design is validated before any run starts
    if overrides:
        designs = [replace(d, scenario=d.scenario.with_parameters("--set", **overrides)) for d in designs]
    if args.off:
        designs = [replace(d, scenario=d.scenario.knock_out(args.off)) for d in designs]
    uncertain = None
    if args.uncertain is not None:
        from .robustness import load_uncertainties

        uncertain = load_uncertainties(args.uncertain, [d.scenario for d in designs])
        both = sorted(set(uncertain.factors) & set(overrides))
        if both:
            raise LasimInputError(f"--set {both[0]}: is also uncertain in {args.uncertain}; "
                                  "a parameter is either set or uncertain")
    options = {"outcome": outcome, "target": str(target) if target else None, "budget": budget,
               "cost_of": args.cost_of, "set": args.assignments}
    for d in designs:
        check_size(d.scenario, len(designs) * args.replications, allow=args.allow_large)

    from experiments.executors import make_executor

    total = len(designs) * args.replications + (
        len(designs) * len(uncertain.conditions) * uncertain.replications if uncertain is not None else 0)
    processes = args.processes if args.processes is not None else (1 if total <= 8 else None)
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="compare", unit="run", file=sys.stderr)
    executor = make_executor(processes=processes)
    robust = None
    try:
        comparison = run_comparison(
            designs, args.replications, args.seed, executor=executor,
            progress=(lambda done, n: bar.update(1)) if bar else None,
        )
        if bar:
            bar.close()
            bar = None
        if uncertain is not None:
            from .robustness import progress_bar, run_robustness, total_runs

            bar = progress_bar(total_runs(designs, uncertain), args.quiet)
            robust = run_robustness(designs, uncertain, outcome, executor=executor,
                                    progress=(lambda done, n: bar.update(1)) if bar else None)
    finally:
        executor.close()
        if bar:
            bar.close()
    # the whole report is written beside the target and swapped in at the end: a kill
    # leaves the old report or the new one, never new runs beside an old report.html
    new = new_dir_beside(out)
    try:
        write_report(comparison, new, options, robust)
        replace_dir(new, out)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    from .report import figure_data, read_tables

    runs, series = read_tables(out)
    data = figure_data(runs, series, options)
    table = outcome_table(runs)
    print(table[["design", "runs", "p_scaled", "p_sustained", "total_cost_mean"]].to_string(
        index=False, float_format=lambda x: f"{x:.2f}"))
    print()
    for line in data["decision"]["lines"]:
        print(line)
    print()
    for line in data["verdict"]:
        print(line)
    if uncertain is not None:
        print()
        print((out / "robustness" / "report.txt").read_text(encoding="utf-8").rstrip())
    print(f"\nwrote {out / 'report.html'} (and report.md, figures, runs.csv, series.parquet)")
    return 0
