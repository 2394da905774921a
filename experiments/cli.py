"""Sub-commands ``lasim sweep``, ``sensitivity``, ``discover`` and ``results``.

Only argparse is imported at module level: ``lasim --help`` builds every
sub-command's parser, and should not wait for pandas, SALib or Dask.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from model.errors import LasimInputError


def _executor_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--processes", type=int, metavar="N",
                   help="local worker processes (default: all cores; 1 runs in this process)")
    g.add_argument("--workers", type=int, metavar="N",
                   help="start a Dask LocalCluster with N workers (needs lasim[cluster])")
    g.add_argument("--scheduler", metavar="ADDR",
                   help="run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--no-progress", action="store_true", help="do not show the progress bar")


def _resume_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-large", action="store_true",
                   help="run even when one model's memory estimate exceeds the size guard")
    p.add_argument("--force-resume", action="store_true",
                   help="resume DIR even if its runs were made by another lasim version or run "
                        "function (their results then merge)")
    p.add_argument("--off", action="append", default=[], metavar="MECHANISM",
                   help="switch a mechanism off in every run, e.g. --off donor_distortion (repeatable; "
                        "adds to the spec's off = [...]; part of what identifies DIR)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the experiment sub-commands to the ``lasim`` parser."""
    p = subparsers.add_parser(
        "sweep", help="run an experiment spec (parameter sweep with replications)",
        description="Run every run of an experiment spec into DIR. Rerunning the same command "
                    "resumes: finished runs are skipped. Exit 1 if some runs failed "
                    "(see DIR/failures.parquet).")
    p.add_argument("spec", metavar="SPEC", help="spec TOML file, or a shipped spec name "
                   "(headline, sobol, morris)")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    _executor_options(p)
    _resume_options(p)
    p.set_defaults(func=cmd_sweep)

    p = subparsers.add_parser(
        "sensitivity", help="Sobol or Morris global sensitivity analysis of a spec",
        description="Run (or resume) the spec's Sobol or Morris design into DIR, then write "
                    "indices with confidence intervals and plots to DIR/sensitivity.")
    p.add_argument("spec", metavar="SPEC", help="a shipped spec name (sobol, morris) or a spec TOML file "
                   "whose sampler is sobol or morris")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    _executor_options(p)
    _resume_options(p)
    p.set_defaults(func=cmd_sensitivity)

    p = subparsers.add_parser(
        "discover", help="scenario discovery (PRIM, CART) on a finished sweep",
        description="Find the regions of the swept factors where an outcome happens, with "
                    "coverage and density; writes DIR/discovery/OUTCOME.")
    p.add_argument("dir", metavar="DIR", help="experiment output directory")
    p.add_argument("--outcome", default="scaled",
                   help="yes/no outcome to explain (default: scaled)")
    p.add_argument("--above", type=float, metavar="VALUE",
                   help="for a numeric outcome: count runs where it reaches VALUE")
    p.add_argument("--min-density", type=float, default=0.8,
                   help="report the widest box at least this dense (default 0.8)")
    p.add_argument("--boxes", type=int, default=2, help="PRIM boxes to find (default 2)")
    p.add_argument("--mass-min", type=float, default=0.05,
                   help="smallest share of runs a box may hold (default 0.05)")
    p.set_defaults(func=cmd_discover)

    p = subparsers.add_parser(
        "results", help="load an experiment directory into one table",
        description="Print what an experiment directory holds; optionally export one table.")
    p.add_argument("dir", metavar="DIR", help="experiment output directory")
    p.add_argument("--export", metavar="FILE",
                   help="write the table to FILE (.csv or .parquet); a CSV is plain, its provenance "
                        "(experiment, scenario, seed, lasim version, commit) in FILE's stem + .provenance.json")
    p.add_argument("--csv-comment", action="store_true",
                   help="also put the provenance in a leading '# key=value' line of the CSV "
                        "(read it with pd.read_csv(f, comment='#'))")
    p.add_argument("--failures", action="store_true",
                   help="show the failed runs (error and traceback) instead")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --export file")
    p.set_defaults(func=cmd_results)


def _sweep(args: argparse.Namespace) -> tuple[Any, Any]:
    from .executors import make_executor
    from .size import check_size
    from .spec import load_spec
    from .store import Store, scenario_fingerprint
    from .sweep import run_sweep

    spec = load_spec(args.spec).with_off(args.off)
    # Refuse a foreign directory or an oversized model before starting workers
    # (and before writing anything).
    base = spec.base_scenario()
    Store.check_target(args.out, spec, scenario_fingerprint(base))
    check_size(base[0] if isinstance(base, tuple) else base, 0, keep_series=False,
               allow=args.allow_large)
    with make_executor(processes=args.processes, workers=args.workers,
                       scheduler=args.scheduler) as executor:
        print(f"lasim: {spec.name}: {spec.n_runs:,} runs ({spec.n_samples:,} points x "
              f"{spec.replications} replications) on {executor.label} "
              f"({executor.workers} workers) -> {args.out}", file=sys.stderr)
        report = run_sweep(spec, args.out, executor=executor, progress=not args.no_progress,
                           force_resume=args.force_resume)
    return spec, report


def _finish(spec: Any, report: Any, command: str, off: list[str]) -> int:
    out = report.out
    if report.status == "interrupted":
        flags = "".join(f" --off {name}" for name in off)
        print(f"lasim: interrupted: {report.skipped + report.done:,} of {report.planned:,} "
              f"runs are stored; rerun `lasim {command} {spec.source} --out {out}{flags}` to resume",
              file=sys.stderr)
        return 130
    skipped = f", {report.skipped:,} already done" if report.skipped else ""
    print(f"lasim: {report.done:,} runs done in {report.seconds:.1f} s{skipped}; "
          f"results in {out}", file=sys.stderr)
    if report.failed:
        for line in report.failure_examples:
            print(f"  {line}", file=sys.stderr)
        print(f"lasim: {report.failed:,} of {report.planned:,} runs failed; see "
              f"{out / 'failures.parquet'} (lasim results {out} --failures); rerunning the same "
              "command retries them", file=sys.stderr)
        return 1
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    spec, report = _sweep(args)
    code = _finish(spec, report, "sweep", args.off)
    if spec.heatmap is not None and report.status in ("complete", "failures"):
        path = write_heatmap(spec, report.out)
        print(f"lasim: heatmap: {path}", file=sys.stderr)
    return code


def write_heatmap(spec: Any, out: Path) -> Path:
    """The spec's faceted heatmap (PNG) and its table (CSV) in ``out/plots``."""
    from . import plots
    from .files import provenance, write_csv
    from .store import load_results

    df = load_results(out)
    table = plots.heatmap_table(df, spec.heatmap)
    meta = {"experiment": spec.name, "scenario": spec.scenario, "root_seed": spec.seed,
            "replications": spec.replications, **provenance()}
    write_csv(out / "plots" / "heatmap.csv", table, meta)
    title = (f"{spec.name}: share of runs per cell ({spec.replications} replications, "
             f"scenario {spec.scenario})")
    return plots.save_figure(plots.plot_heatmap(table, spec.heatmap, title),
                             out / "plots" / "heatmap.png", meta)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from .sensitivity import analyse, format_table
    from .spec import load_spec

    spec = load_spec(args.spec)
    if spec.sampler.method not in ("sobol", "morris"):
        raise LasimInputError(f"{args.spec}: sampler.method = {spec.sampler.method!r}: "
                              "lasim sensitivity needs 'sobol' or 'morris' (use lasim sweep "
                              "for other designs)")
    spec, report = _sweep(args)
    code = _finish(spec, report, "sensitivity", args.off)
    if report.status == "interrupted":
        return code
    try:
        result = analyse(spec, report.out)
    except LasimInputError as exc:
        print(f"lasim: cannot analyse yet: {exc}", file=sys.stderr)
        return code or 1
    print(format_table(result))
    for note in result.notes:
        print(f"note: {note}")
    print(f"lasim: tables and plots in {report.out / 'sensitivity'}", file=sys.stderr)
    return code


def cmd_discover(args: argparse.Namespace) -> int:
    from .discovery import discover

    if not 0 < args.min_density <= 1:
        raise LasimInputError(f"--min-density = {args.min_density}: must be in (0, 1]")
    if not 0 < args.mass_min < 1:
        raise LasimInputError(f"--mass-min = {args.mass_min}: must be in (0, 1)")
    if args.boxes < 1:
        raise LasimInputError(f"--boxes = {args.boxes}: must be at least 1")
    result = discover(args.dir, args.outcome, above=args.above, min_density=args.min_density,
                      max_boxes=args.boxes, mass_min=args.mass_min)
    print(result.text())
    if result.files:
        print(f"lasim: tables and plots in {result.files[0].parent}", file=sys.stderr)
    return 0


def cmd_results(args: argparse.Namespace) -> int:
    import pandas as pd

    from .files import check_output, provenance, provenance_path, write_csv, write_parquet
    from .store import load_results

    if args.export:
        if Path(args.export).suffix not in (".csv", ".parquet"):
            raise LasimInputError(f"--export = {args.export!r}: use a .csv or .parquet file name")
        check_output(args.export, overwrite=args.overwrite, flag="--export", directory=False)
        if Path(args.export).suffix == ".csv":
            check_output(provenance_path(args.export), overwrite=args.overwrite, flag="--export (its provenance)",
                         directory=False)
    if args.csv_comment and Path(args.export or "").suffix != ".csv":
        raise LasimInputError("--csv-comment: only with --export FILE.csv")
    df = load_results(args.dir, failures=args.failures)
    m = df.attrs["manifest"]
    planned = m["runs"]["count"]
    last = m["sessions"][-1] if m["sessions"] else {}
    print(f"{m['name']} ({m['spec_source']}): scenario {m['scenario']}, "
          f"{planned:,} runs planned, status {m['status']}")
    print(f"last session: {last.get('started')} .. {last.get('ended')}, lasim "
          f"{last.get('lasim_version')}, commit {last.get('git_commit')}, {last.get('executor')}")
    if args.failures:
        print(f"{len(df):,} failed runs")
        for row in df.head(20).itertuples():
            print(f"  run {row.run_id} (seed {row.seed}): {row.error}")
    else:
        print(f"{len(df):,} finished runs")
        with pd.option_context("display.width", 120, "display.max_columns", 12):
            print(df.head(10).to_string(max_cols=12))
    if args.export:
        path = Path(args.export)
        meta = {"experiment": m["name"], "scenario": m["scenario"],
                "root_seed": m["runs"]["root_seed"], **provenance()}
        if path.suffix == ".csv":
            written = write_csv(path, df, meta, comment=args.csv_comment)
            print(f"lasim: wrote {written[0]} (provenance in {written[1].name})", file=sys.stderr)
        else:
            write_parquet(path, df, meta)
            print(f"lasim: wrote {path}", file=sys.stderr)
    return 0
