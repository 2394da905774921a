"""``lasim optimise [BASE] --trials N --replications R [--target "scaled>=0.8"] --out DIR``.

Optuna, the model and tqdm are imported when the command runs: ``lasim --help``
builds every sub-command's parser.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from pathlib import Path

from experiments.files import check_output
from model.errors import LasimInputError

from .commands import int_at_least


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``optimise`` sub-command."""
    p = sub.add_parser(
        "optimise", aliases=["optimize"],
        help="search designs for the cheapest that meets a target, or the front of cost against success",
        description="Search alliance designs (structure variables and levers) with Optuna's NSGA-II: every "
                    "design runs on the same seeds (common random numbers); objectives are its cost (model "
                    "spending plus a facilitation premium, docs/decisions.md) and P(outcome). The study is "
                    "DIR/study.db: rerun the same command to resume an interrupted search. The front is run "
                    "again on fresh seeds and written with Wilson intervals to DIR/front.csv, front.png, "
                    "optimise.md and DIR/designs/*.toml (ready for `lasim compare`).")
    p.add_argument("base", nargs="?", default="default",
                   help="base scenario: shipped name or .toml file (default: default)")
    p.add_argument("--target", default=None, metavar="OUTCOME>=SHARE",
                   help='e.g. "scaled>=0.8": find the cheapest design reaching it (a constraint of the search)')
    p.add_argument("--objectives", default="scaled", metavar="NAMES",
                   help="yes/no outcomes whose probability is maximised, comma-separated "
                        "(default scaled; e.g. scaled,sustained)")
    p.add_argument("--trials", type=int_at_least(1), default=100, metavar="N",
                   help="designs in the study in total; a rerun with more extends it (default 100)")
    p.add_argument("--replications", "-n", type=int_at_least(2), default=50, metavar="R",
                   help="runs per design during the search, on common seeds (default 50)")
    p.add_argument("--confirm", type=int_at_least(2), default=200, metavar="M",
                   help="fresh-seed runs per front design at the end (default 200)")
    p.add_argument("--front-size", type=int_at_least(1), default=6, metavar="K",
                   help="front designs re-evaluated and written (default 6)")
    p.add_argument("--population", type=int_at_least(2), default=20, metavar="P",
                   help="NSGA-II population size (default 20)")
    p.add_argument("--seed", type=int_at_least(0), default=0, metavar="S",
                   help="seed of the sampler and of the replications (default 0)")
    p.add_argument("--vary", action="append", default=[], metavar="NAME=LOW:HIGH[:STEP]",
                   help="search this parameter or structure variable (repeatable; replaces the default space: "
                        "community_platforms, linking_members, exchange_links, meeting_interval, "
                        "action_research_intensity, cost_sharing, facilitation_quality)")
    p.add_argument("--set", dest="assignments", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a condition of the setting, e.g. --set facilitation_quality=0.5 (repeatable)")
    p.add_argument("--out", "-o", type=Path, default=Path("optimise"), metavar="DIR",
                   help="output directory, also holding the study (default ./optimise)")
    p.add_argument("--overwrite", action="store_true",
                   help="start a new search in DIR, deleting what is there")
    p.add_argument("--processes", type=int, default=None, metavar="N",
                   help="local worker processes (default: all cores; 1 runs in this process)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check everything, search (or resume), confirm the front on fresh seeds, write the outputs."""
    from experiments.optimise import (
        DB_NAME,
        DEFAULT_SPACE,
        OptimiseSettings,
        answer,
        confirm,
        parse_objectives,
        parse_target,
        parse_vary,
        search,
        search_front,
    )
    from model.scenario import parse_assignments

    if args.processes is not None and args.processes < 1:
        raise LasimInputError(f"--processes {args.processes}: must be at least 1")
    try:
        import optuna  # noqa: F401
    except ModuleNotFoundError:
        raise LasimInputError("lasim optimise needs Optuna: pip install 'lasim[optimise]'") from None
    settings = OptimiseSettings(
        base=str(args.base), conditions=parse_assignments(args.assignments),
        space=parse_vary(args.vary) if args.vary else DEFAULT_SPACE,
        objectives=parse_objectives(args.objectives),
        target=parse_target(args.target) if args.target else None,
        replications=args.replications, seed=args.seed, population=args.population)
    settings.check()  # every mistake is one line before anything is written
    out: Path = args.out
    resuming = (out / DB_NAME).exists() and not args.overwrite
    if not resuming:
        check_output(out, overwrite=args.overwrite)
        if args.overwrite and out.is_dir() and any(out.iterdir()):
            _clear_search(out)

    from experiments.executors import make_executor

    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=0, desc="optimise", unit="run", file=sys.stderr)
    executor = make_executor(processes=args.processes)
    state = None
    try:
        state = _search(search, settings, out, args, executor, bar)
        front = search_front(state.trials, settings, args.front_size)
        if bar is not None:
            bar.reset(total=len(front) * args.confirm)
            bar.set_description("confirm front")
            bar.set_postfix_str("")
        confirmed = confirm(settings, front, args.confirm, executor=executor,
                            on_result=(lambda run: bar.update(1)) if bar is not None else None)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        from experiments.optimise import finished_trials

        done = finished_trials(settings, out)
        print(f"lasim: interrupted; {done} finished trials are saved in {out / DB_NAME}: "
              "rerun the same command to resume", file=sys.stderr)
        return 130
    finally:
        executor.close()
        if bar is not None:
            bar.close()

    from experiments.optimise_report import summary_lines, write_outputs

    text = answer(settings, confirmed)
    command = "lasim optimise " + " ".join(shlex.quote(a) for a in sys.argv[2:]) if sys.argv[1:2] == [
        "optimise"] else "lasim optimise ..."
    write_outputs(out, settings, state.trials, confirmed, text, command)
    print(f"front of {len(confirmed)} designs on {args.confirm} fresh seeds each "
          f"(search: {state.completed} designs x {settings.replications} common seeds):")
    for line in summary_lines(confirmed, settings):
        print(line)
    print()
    print(text)
    print(f"\nwrote {out}/: optimise.md, front.png, front.csv, trials.csv, designs/*.toml (study: {DB_NAME})")
    return 0


def _search(search, settings, out: Path, args: argparse.Namespace, executor, bar):
    from experiments.optimise import DB_NAME, finished_trials

    before = finished_trials(settings, out)
    if before:
        print(f"lasim: resuming the search in {out / DB_NAME} from trial {before + 1} "
              f"({before} finished, {max(0, args.trials - before)} to go)", file=sys.stderr)
    if bar is not None:
        bar.reset(total=max(0, args.trials - before) * settings.replications)
        bar.set_description("search")
    if bar is None:
        return search(settings, out, args.trials, executor=executor)
    return search(settings, out, args.trials, executor=executor,
                  on_trial=lambda done, n: bar.set_postfix_str(f"design {done}/{n}"),
                  on_result=lambda run: bar.update(1))


#: What a search writes into its folder; --overwrite removes these and nothing else.
_SEARCH_FILES = ("study.db", "study.db-journal", "trials.csv", "trials.provenance.json", "front.csv",
                 "front.provenance.json", "front.png", "optimise.md", "settings.json")


def _clear_search(out: Path) -> None:
    """Remove an earlier search from ``out``; refuse a folder that holds anything else."""
    known = set(_SEARCH_FILES) | {"designs"}
    other = sorted(p.name for p in out.iterdir() if p.name not in known)
    designs = out / "designs"
    if designs.is_dir():
        other += sorted(f"designs/{p.name}" for p in designs.iterdir() if not p.name.startswith("design_"))
    if other:
        raise LasimInputError(f"--out {str(out)!r}: holds {other[0]!r}, which lasim optimise did not write; "
                              "--overwrite only replaces an earlier search: choose another --out")
    for name in _SEARCH_FILES:
        (out / name).unlink(missing_ok=True)
    if designs.is_dir():
        shutil.rmtree(designs)
