"""The model's own sub-commands: ``lasim run``, ``lasim scenarios``, ``lasim show``."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from experiments import statistics
from experiments.executors import Executor
from experiments.files import (
    atomic_write_json,
    atomic_write_text,
    check_output,
    new_dir_beside,
    path_safe,
    provenance,
    replace_dir,
    write_parquet,
)
from experiments.runs import failed, run_many
from experiments.size import check_size
from model.alliance import AllianceModel
from model.ensemble import is_ensemble_file, load_ensemble
from model.errors import LasimInputError
from model.outcomes import SUMMARY_FIELDS
from model.runner import replication_seeds
from model.scenario import Scenario, list_scenarios, load_scenario, parse_assignments, scenario_to_toml

#: Outcomes shown in the table `lasim run` prints (all are in summary.csv).
TABLE_FIELDS = (
    "functioning", "functioning_month", "institutionalised", "institutionalised_month", "scaled", "scale_month",
    "sustained", "peak_adoption", "final_adoption", "final_outside_adoption", "peak_communities_reached",
    "total_cost", "cost_per_community", "inclusion",
)


#: Columns of events.csv: one row per event of every run, with its cause in plain words.
EVENT_COLUMNS = ("replication", "seed", "month", "kind", "text", "cause")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a scenario and write series, outcomes and plots",
                       description="Run a scenario (a shipped name or a .toml file) with replications; print the "
                                   "outcomes and write timeseries.parquet, summary.csv, run.json and PNG plots.")
    p.add_argument("scenario", nargs="?", default="default",
                   help="shipped scenario name, scenario .toml file, or a calibrated ensemble "
                        "(posterior_ensemble.toml from lasim calibrate) (default: default)")
    p.add_argument("--seed", type=_nonneg_int, default=1,
                   help="root seed (default 1); replication seeds derive from it")
    p.add_argument("--set", dest="assignments", action="append", default=[], metavar="NAME=VALUE",
                   help="change a parameter, e.g. --set facilitation_quality=0.4 (repeatable)")
    p.add_argument("--replications", type=_pos_int, default=1,
                   help="number of runs (default 1); for an ensemble, runs per member, each run with its own seed")
    p.add_argument("--off", action="append", default=[], metavar="MECHANISM",
                   help="switch a mechanism off, e.g. --off donor_distortion (repeatable; "
                        "`lasim knockout` lists them)")
    p.add_argument("--out", type=Path, default=None, help="output directory (default: runs/<scenario>-seed<seed>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    p.add_argument("--allow-large", action="store_true",
                   help="run even when the memory estimate exceeds the size guard")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.set_defaults(func=run_command)

    s = sub.add_parser("scenarios", help="list the shipped scenarios")
    s.set_defaults(func=lambda args: _list())

    sh = sub.add_parser("show", help="print a scenario as TOML (copy it to make your own)")
    sh.add_argument("scenario", help="shipped scenario name or .toml file")
    sh.set_defaults(func=lambda args: print(scenario_to_toml(load_scenario(args.scenario))) or 0)


def int_at_least(minimum: int):
    """An argparse type: a whole number no smaller than ``minimum``, else a one-line error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (need {minimum} or more)") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is too small (need {minimum} or more)")
        return value

    return parse


_pos_int = int_at_least(1)
_nonneg_int = int_at_least(0)


def _list() -> int:
    rows = list_scenarios()
    width = max(len(n) for n, _ in rows)
    for name, text in rows:
        print(f"{name:<{width}}  {text}")
    return 0


# --------------------------------------------------------------------------- run


def run_replications(scenario: Scenario, seeds: list[int], *, progress: bool = True, snapshot_months=(),
                     executor: Executor | None = None, replay: bool = True,
                     events: list[dict[str, Any]] | None = None) -> tuple:
    """Run one model per seed; return (summaries, long series, first model's snapshots, first world).

    The runs go through :func:`experiments.runs.run_many`; the snapshots of the
    alliance for the figure come from replaying replication 0 step by step here
    (the same seed gives the same run); ``replay=False`` skips them (no figure).
    Each run's events (:data:`EVENT_COLUMNS`) are appended to ``events`` when a
    list is given.
    """
    bar = tqdm(total=len(seeds), desc=f"{scenario.name}", unit="run", disable=not progress, file=sys.stderr)
    try:
        runs = run_many([scenario], seeds, executor=executor, series=True, on_result=lambda r: bar.update())
    finally:
        bar.close()
    bad = failed(runs)
    if bad:
        raise LasimInputError(f"{len(bad)} of {len(runs)} runs of {scenario.name} failed; first: replication "
                              f"{bad[0].replication} (seed {bad[0].seed}): {bad[0].error}")
    summaries, series = [], []
    for run in runs:
        summaries.append({"replication": run.replication, "seed": run.seed, **run.summary})
        if events is not None:
            events.extend({"replication": run.replication, "seed": run.seed, "month": e.month, "kind": e.kind,
                           "text": e.text, "cause": getattr(e, "cause", "")} for e in run.events or ())
        s = run.series.reset_index()
        s.insert(0, "seed", run.seed)
        s.insert(0, "replication", run.replication)
        series.append(s)
    snapshots, world = (_replay_snapshots(scenario, seeds[0], snapshot_months) if seeds and replay
                        else ([], None))
    return pd.DataFrame(summaries), pd.concat(series, ignore_index=True), snapshots, world


def _replay_snapshots(scenario: Scenario, seed: int, months) -> tuple[list, Any]:
    model = AllianceModel(scenario, rng=seed)
    snapshots: list[tuple[str, dict[str, np.ndarray]]] = []
    for month in sorted(m for m in months if 0 < m < scenario.parameters.horizon_months):
        model.run(month - model.month)
        snapshots.append((f"month {month}", _snapshot(model)))
    model.run(scenario.parameters.horizon_months - model.month)
    snapshots.append((f"month {model.month} (end)", _snapshot(model)))
    return snapshots, model.world


def _snapshot(model: AllianceModel) -> dict[str, np.ndarray]:
    return {"stage": model.stage.copy(), "seat_active": model.seat_active.copy(), "member": model.is_member.copy()}


def outcome_table(summary: pd.DataFrame, fields=TABLE_FIELDS) -> pd.DataFrame:
    """Mean and 95% interval of each outcome over replications (see :mod:`experiments.statistics`)."""
    return statistics.outcome_table(summary, fields)


def format_table(table: pd.DataFrame, replications: int) -> str:
    lines = [f"{'outcome':<26} {'mean':>9}  {'95% interval':<21} {'runs':>5}  meaning"]
    for r in table.itertuples():
        if r.kind == "never":
            # a per-community cost with no community reached is not "never": nothing was reached to divide by
            shown = "none" if r.outcome == "cost_per_community" else "never"
            note = " (no run reached a community)" if r.outcome == "cost_per_community" else ""
            lines.append(f"{r.outcome:<26} {shown:>9}  {'':<21} {0:>5}  {SUMMARY_FIELDS[r.outcome]}{note}")
            continue
        fmt = "{:.0%}" if r.kind == "share of runs" else ("{:.0f}" if abs(r.mean) >= 10 else "{:.2f}")
        interval = f"[{fmt.format(r.low)}, {fmt.format(r.high)}]" if replications > 1 else ""
        lines.append(f"{r.outcome:<26} {fmt.format(r.mean):>9}  {interval:<21} {r.n:>5}  {SUMMARY_FIELDS[r.outcome]}")
    return "\n".join(lines)


def run_command(args: argparse.Namespace) -> int:
    # validate everything before anything is written
    overrides = parse_assignments(args.assignments)
    if is_ensemble_file(args.scenario):
        # a calibrated posterior: every member runs --replications runs with its own seeds
        # (member k takes seeds k*R .. k*R+R-1 of the root seed's stream), so a
        # predictive check averages over members and chance, not one seed's luck
        ensemble = load_ensemble(args.scenario)
        members = [(i, s.with_parameters("--set", **overrides).knock_out(args.off))
                   for i, s in zip(ensemble.ids, ensemble.scenarios(), strict=True)]
        scenario = members[0][1].model_copy(update={"name": Path(args.scenario).stem})
    else:
        scenario = load_scenario(args.scenario).with_parameters("--set", **overrides).knock_out(args.off)
        members = [(None, scenario)]
    # a scenario's name is text from a file, never a path: it only names the default folder
    out = check_output(args.out or Path("runs") / f"{path_safe(scenario.name)}-seed{args.seed}",
                       overwrite=args.overwrite)
    check_size(scenario, len(members) * args.replications, allow=args.allow_large)

    seeds = replication_seeds(args.seed, args.replications * len(members))
    p = scenario.parameters
    snap_months = [p.project_months] if 0 < p.project_months < p.horizon_months else []
    summaries, all_series, all_events = [], [], []
    for k, (member, member_scenario) in enumerate(members):
        member_seeds = seeds[k * args.replications:(k + 1) * args.replications]
        rows: list[dict[str, Any]] = []
        summary, series, snaps, world_k = run_replications(member_scenario, member_seeds, snapshot_months=snap_months,
                                                           replay=not args.no_plots and k == 0, events=rows)
        events = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
        if k == 0:
            snapshots, world = snaps, world_k
        if member is not None:
            summary.insert(0, "member", member)
            series.insert(0, "member", member)
            series.insert(0, "run", series["replication"] + k * args.replications)
            events.insert(0, "member", member)
            events.insert(0, "run", events["replication"] + k * args.replications)
        summaries.append(summary)
        all_series.append(series)
        all_events.append(events)
    summary, series = pd.concat(summaries, ignore_index=True), pd.concat(all_series, ignore_index=True)
    events = pd.concat(all_events, ignore_index=True)
    n_runs = len(summary)
    table = outcome_table(summary)
    what = f"{len(members)} ensemble members x {args.replications}" if len(members) > 1 else f"{args.replications}"
    print(f"\n{scenario.name}: {what} run(s), {p.horizon_months} months, root seed {args.seed}")
    print(format_table(table, n_runs))

    # write into a fresh sibling directory and move it into place at the end, so an
    # interrupted run leaves either the old results or the new ones, never a mix
    tmp = new_dir_beside(out)
    try:
        meta = {
            "scenario_name": scenario.name, "scenario_source": str(args.scenario), "root_seed": args.seed,
            "seeds": seeds, "replications": args.replications, "overrides": overrides,
            "off": scenario.switched_off(),
            "ensemble_members": [m for m, _ in members] if members[0][0] is not None else None,
            **provenance(), "scenario": scenario.model_dump(mode="json"),
        }
        atomic_write_json(tmp / "run.json", meta)
        atomic_write_text(tmp / "scenario.toml", scenario_to_toml(scenario))
        tagged = summary.assign(scenario=scenario.name, lasim_version=meta["lasim_version"],
                                git_commit=meta["git_commit"])
        tagged.to_csv(tmp / "summary.csv", index=False)
        table.to_csv(tmp / "outcomes.csv", index=False)
        events.assign(scenario=scenario.name, lasim_version=meta["lasim_version"],
                      git_commit=meta["git_commit"]).to_csv(tmp / "events.csv", index=False)
        keep = ("scenario_name", "root_seed", "seeds", "lasim_version", "git_commit", "created")
        write_parquet(tmp / "timeseries.parquet", series, {k: meta[k] for k in keep})
        if not args.no_plots:
            from .plots import adoption_figure, alliance_figure, save

            save(adoption_figure(series, p, scenario.name), tmp / "adoption.png")
            save(alliance_figure(world, snapshots, scenario.name), tmp / "alliance.png")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"\nwrote {out}/: timeseries.parquet, summary.csv, outcomes.csv, events.csv, run.json, scenario.toml"
          + ("" if args.no_plots else ", adoption.png, alliance.png"))
    return 0
