"""The model's own sub-commands: ``lasim run``, ``lasim scenarios``, ``lasim show``."""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.alliance import AllianceModel
from model.ensemble import is_ensemble_file, load_ensemble
from model.errors import LasimInputError
from model.outcomes import SUMMARY_FIELDS
from model.runner import replication_seeds
from model.scenario import Scenario, list_scenarios, load_scenario, parse_assignments, scenario_to_toml

from .io import atomic_write_json, atomic_write_text
from .provenance import provenance

#: Outcomes shown in the table `lasim run` prints (all are in summary.csv).
TABLE_FIELDS = (
    "functioning", "functioning_month", "institutionalised", "institutionalised_month", "scaled", "scale_month",
    "sustained", "peak_adoption", "final_adoption", "final_outside_adoption", "peak_communities_reached",
    "total_cost", "cost_per_community", "inclusion",
)


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
    p.add_argument("--out", type=Path, default=None, help="output directory (default: runs/<scenario>-seed<seed>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.set_defaults(func=run_command)

    s = sub.add_parser("scenarios", help="list the shipped scenarios")
    s.set_defaults(func=lambda args: _list())

    sh = sub.add_parser("show", help="print a scenario as TOML (copy it to make your own)")
    sh.add_argument("scenario", help="shipped scenario name or .toml file")
    sh.set_defaults(func=lambda args: print(scenario_to_toml(load_scenario(args.scenario))) or 0)


def _int_at_least(minimum: int):
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


_pos_int = _int_at_least(1)
_nonneg_int = _int_at_least(0)


def _list() -> int:
    rows = list_scenarios()
    width = max(len(n) for n, _ in rows)
    for name, text in rows:
        print(f"{name:<{width}}  {text}")
    return 0


# --------------------------------------------------------------------------- run


def run_replications(scenario: Scenario, seeds: list[int], *, progress: bool = True, snapshot_months=()) -> tuple:
    """Run one model per seed; return (summaries, long series, first model's snapshots, first world)."""
    from tqdm import tqdm

    summaries, series = [], []
    snapshots: list[tuple[str, dict[str, np.ndarray]]] = []
    world = None
    bar = tqdm(total=len(seeds), desc=f"{scenario.name}", unit="run", disable=not progress, file=sys.stderr)
    for rep, seed in enumerate(seeds):
        model = AllianceModel(scenario, rng=seed)
        if rep == 0:
            world = model.world
            for month in sorted(m for m in snapshot_months if 0 < m < scenario.parameters.horizon_months):
                model.run(month - model.month)
                snapshots.append((f"month {month}", _snapshot(model)))
        model.run(scenario.parameters.horizon_months - model.month)
        if rep == 0:
            snapshots.append((f"month {model.month} (end)", _snapshot(model)))
        summaries.append({"replication": rep, "seed": seed, **model.summary()})
        s = model.series().reset_index()
        s.insert(0, "seed", seed)
        s.insert(0, "replication", rep)
        series.append(s)
        bar.update()
    bar.close()
    return pd.DataFrame(summaries), pd.concat(series, ignore_index=True), snapshots, world


def _snapshot(model: AllianceModel) -> dict[str, np.ndarray]:
    return {"stage": model.stage.copy(), "seat_active": model.seat_active.copy(), "member": model.is_member.copy()}


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def outcome_table(summary: pd.DataFrame, fields=TABLE_FIELDS) -> pd.DataFrame:
    """Mean and 95% interval of each outcome over replications.

    Yes/no outcomes: the share of runs with a Wilson 95% interval; numbers: the
    mean with the 2.5-97.5 percentiles of the runs (the spread a programme should
    expect, not the uncertainty of the mean). Months that never happened are
    left out and counted in ``n``.
    """
    rows = []
    for f in fields:
        col = summary[f]
        if col.dtype == bool:
            k, n = int(col.sum()), len(col)
            lo, hi = _wilson(k, n)
            rows.append({"outcome": f, "mean": k / n, "low": lo, "high": hi, "n": n, "kind": "share of runs"})
        else:
            vals = col.replace([np.inf, -np.inf], np.nan).dropna().to_numpy(dtype=float)
            if vals.size == 0:
                rows.append({"outcome": f, "mean": math.nan, "low": math.nan, "high": math.nan, "n": 0,
                             "kind": "never"})
                continue
            lo, hi = np.percentile(vals, [2.5, 97.5])
            rows.append({"outcome": f, "mean": vals.mean(), "low": lo, "high": hi, "n": vals.size,
                         "kind": "mean, 2.5-97.5%"})
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame, replications: int) -> str:
    lines = [f"{'outcome':<26} {'mean':>9}  {'95% interval':<21} {'runs':>5}  meaning"]
    for r in table.itertuples():
        if r.kind == "never":
            lines.append(f"{r.outcome:<26} {'never':>9}  {'':<21} {0:>5}  {SUMMARY_FIELDS[r.outcome]}")
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
        members = [(i, s.with_parameters("--set", **overrides)) for i, s in zip(ensemble.ids, ensemble.scenarios(),
                                                                              strict=True)]
        scenario = members[0][1].model_copy(update={"name": Path(args.scenario).stem})
    else:
        scenario = load_scenario(args.scenario).with_parameters("--set", **overrides)
        members = [(None, scenario)]
    out: Path = args.out or Path("runs") / f"{scenario.name}-seed{args.seed}"
    if out.exists() and not out.is_dir():
        raise LasimInputError(f"--out {out}: exists and is not a directory")
    if out.exists() and any(out.iterdir()) and not args.overwrite:
        raise LasimInputError(f"--out {out}: directory exists and is not empty; choose another or add --overwrite")

    seeds = replication_seeds(args.seed, args.replications * len(members))
    p = scenario.parameters
    snap_months = [p.project_months] if 0 < p.project_months < p.horizon_months else []
    summaries, all_series = [], []
    for k, (member, member_scenario) in enumerate(members):
        member_seeds = seeds[k * args.replications:(k + 1) * args.replications]
        summary, series, snaps, world_k = run_replications(member_scenario, member_seeds,
                                                           snapshot_months=snap_months)
        if k == 0:
            snapshots, world = snaps, world_k
        if member is not None:
            summary.insert(0, "member", member)
            series.insert(0, "member", member)
            series.insert(0, "run", series["replication"] + k * args.replications)
        summaries.append(summary)
        all_series.append(series)
    summary, series = pd.concat(summaries, ignore_index=True), pd.concat(all_series, ignore_index=True)
    n_runs = len(summary)
    table = outcome_table(summary)
    what = f"{len(members)} ensemble members x {args.replications}" if len(members) > 1 else f"{args.replications}"
    print(f"\n{scenario.name}: {what} run(s), {p.horizon_months} months, root seed {args.seed}")
    print(format_table(table, n_runs))

    # write into a fresh sibling directory and move it into place at the end, so an
    # interrupted run leaves either the old results or the new ones, never a mix
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        meta = {
            "scenario_name": scenario.name, "scenario_source": str(args.scenario), "root_seed": args.seed,
            "seeds": seeds, "replications": args.replications, "overrides": overrides,
            "ensemble_members": [m for m, _ in members] if members[0][0] is not None else None,
            **provenance(), "scenario": scenario.model_dump(mode="json"),
        }
        atomic_write_json(tmp / "run.json", meta)
        atomic_write_text(tmp / "scenario.toml", scenario_to_toml(scenario))
        tagged = summary.assign(scenario=scenario.name, lasim_version=meta["lasim_version"],
                                git_commit=meta["git_commit"])
        tagged.to_csv(tmp / "summary.csv", index=False)
        table.to_csv(tmp / "outcomes.csv", index=False)
        _write_parquet(series, tmp / "timeseries.parquet", meta)
        if not args.no_plots:
            from .plots import adoption_figure, alliance_figure, save

            save(adoption_figure(series, p, scenario.name), tmp / "adoption.png")
            save(alliance_figure(world, snapshots, scenario.name), tmp / "alliance.png")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"\nwrote {out}/: timeseries.parquet, summary.csv, outcomes.csv, run.json, scenario.toml"
          + ("" if args.no_plots else ", adoption.png, alliance.png"))
    return 0


def _write_parquet(df: pd.DataFrame, path: Path, meta: dict[str, Any]) -> None:
    """Parquet with the provenance in the file's own metadata, so the file alone says what made it."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    keep = {k: meta[k] for k in ("scenario_name", "root_seed", "seeds", "lasim_version", "git_commit", "created")}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"lasim": json.dumps(keep).encode()})
    pq.write_table(table, path)
