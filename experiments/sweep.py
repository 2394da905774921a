"""The sweep loop: plan the runs, skip finished ones, run the rest with run_many, store as they finish.

Each planned run becomes one :class:`~experiments.tasks.Task`: the base scenario
(or, for an ensemble, the member replication ``r`` runs, ``r mod M``) with the
point's parameter values, and the run's stored seed. It depends on nothing
else, so any executor produces the same rows.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .executors import Executor, SerialExecutor
from .runs import RUN_FUNCTION_ENV, Run, Task, Variant, run_function_name, run_tasks
from .spec import ExperimentSpec
from .store import Store

__all__ = ["RUN_FUNCTION_ENV", "SweepReport", "run_sweep", "sweep_tasks"]


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def sweep_tasks(base: Any, todo: pd.DataFrame, factors: tuple[str, ...]) -> list[Task]:
    """One task per planned run; ``Task.index`` is the run's position in ``todo``."""
    tasks = []
    members = base if isinstance(base, tuple) else None
    # records, not itertuples: a factor such as ``district_members.ngo`` is no identifier
    for i, rec in enumerate(todo.to_dict("records")):
        scenario = members[int(rec["replication"]) % len(members)] if members else base
        values = {name: _plain(rec[name]) for name in factors}
        tasks.append(Task(i, int(rec["sample_id"]), int(rec["replication"]), int(rec["seed"]),
                          Variant(scenario, values)))
    return tasks


def _record(run: Run, row: dict[str, Any], outcomes: tuple[str, ...] | None,
            ensemble: int | None) -> dict[str, Any]:
    summary = dict(run.summary or {})
    if ensemble is not None:
        summary["ensemble_member"] = ensemble
    if outcomes is not None:
        summary = {k: summary.get(k) for k in (*outcomes, "ensemble_member")
                   if k in summary or k in outcomes}
    record = dict(row) | summary
    record["run_seconds"] = run.seconds
    return record


def _series(run: Run, run_id: int) -> pd.DataFrame | None:
    if run.series is None:
        return None
    ser = run.series.reset_index()
    if "index" in ser.columns and "month" not in ser.columns:
        ser = ser.rename(columns={"index": "month"})
    ser.insert(0, "run_id", run_id)
    return ser


@dataclass
class SweepReport:
    """What a sweep did: counts, where results are, and how it ended."""

    out: Path
    planned: int
    skipped: int
    done: int = 0
    failed: int = 0
    status: str = "running"
    seconds: float = 0.0
    executor: str = ""
    failure_examples: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return self.planned - self.skipped - self.done - self.failed


def run_sweep(spec: ExperimentSpec, out: str | Path, *, executor: Executor | None = None,
              progress: bool = True, run_function: str | None = None,
              flush_seconds: float = 5.0, flush_runs: int = 2000,
              limit: int | None = None, force_resume: bool = False) -> SweepReport:
    """Run (or resume) every planned run of ``spec`` into the directory ``out``.

    Parameters
    ----------
    spec : ExperimentSpec
    out : path
        Output directory: created if missing; resumed if it holds this spec;
        refused (``LasimInputError``) if it holds another one.
    executor : Executor, optional
        Default: serial in this process.
    progress : bool
        Show a tqdm bar (runs done, failures, ETA) on stderr.
    run_function : str, optional
        ``"module:function"`` replacing ``model.runner.run_scenario`` (tests).
    flush_seconds, flush_runs : float, int
        Finished runs are written as a shard at least this often; a SIGKILL loses
        at most this much work, which a resume redoes.
    limit : int, optional
        Run at most this many of the remaining runs (lowest ids first), e.g. to
        time a sample of a big design; the sweep then ends ``"partial"`` and a
        later call resumes it.
    force_resume : bool
        Resume a store whose runs were made by another lasim version or run function.

    Returns
    -------
    SweepReport
        ``status`` is ``"complete"``, ``"failures"``, ``"partial"`` or ``"interrupted"``.
    """
    executor = executor or SerialExecutor()
    run_function = run_function_name(run_function)
    base = spec.base_scenario()
    raw, plan = spec.plan()
    store = Store.open(out, spec, base, plan, raw, executor_label=executor.label,
                       run_function=run_function if isinstance(run_function, str) else
                       f"{run_function.__module__}:{run_function.__qualname__}",
                       force_resume=force_resume)
    finished = store.finished_ids()
    todo = plan[~plan["run_id"].isin(finished)]
    partial = limit is not None and limit < len(todo)
    if partial:
        todo = todo.iloc[:limit]
    report = SweepReport(Path(out), planned=len(plan), skipped=len(finished & set(plan["run_id"])),
                         executor=executor.label)
    # Failed runs are not finished, so they are retried; an earlier session's record
    # of a failure stays in failures.parquet until this session has retried that run.
    old_failures = store.failures()
    attempted: set[int] = set()
    new_failures: list[dict[str, Any]] = []

    records = todo.to_dict("records")
    tasks = sweep_tasks(base, todo, tuple(spec.factor_names))
    n_members = len(base) if isinstance(base, tuple) else None

    bar = _progress_bar(report, enabled=progress)
    buffer: list[dict[str, Any]] = []
    series_buf: list[pd.DataFrame] = []
    last_flush = time.monotonic()
    t0 = time.perf_counter()

    def current_failures() -> pd.DataFrame:
        kept = old_failures[~old_failures["run_id"].isin(attempted)]
        if not new_failures:
            return kept
        new = _failure_frame(new_failures)
        return new if kept.empty else pd.concat([kept, new], ignore_index=True)

    def flush() -> None:
        nonlocal last_flush
        store.write_shard(buffer, series_buf)
        store.write_failures(current_failures())
        buffer.clear()
        series_buf.clear()
        last_flush = time.monotonic()

    stop = threading.Event()

    def on_sigint(signum: int, frame: Any) -> None:
        if stop.is_set():  # a second Ctrl-C: stop waiting for running chunks
            raise KeyboardInterrupt
        stop.set()
        if bar is None:
            print("lasim: stopping after the runs in progress (Ctrl-C again to abort)",
                  file=sys.stderr)

    in_main = threading.current_thread() is threading.main_thread()
    old_handler = signal.signal(signal.SIGINT, on_sigint) if in_main else None
    try:
        def on_result(run: Run) -> None:
            row = records[run.index]
            attempted.add(int(row["run_id"]))
            if run.ok:
                member = int(row["replication"]) % n_members if n_members else None
                buffer.append(_record(run, row, spec.outcomes, member))
                ser = _series(run, int(row["run_id"])) if spec.series else None
                if ser is not None:
                    series_buf.append(ser)
                report.done += 1
            else:
                new_failures.append(dict(row) | {"error": run.error, "traceback": run.traceback,
                                                 "session": store._session})
                report.failed += 1
                if len(report.failure_examples) < 3:
                    report.failure_examples.append(f"run {row['run_id']}: {run.error}")
            if bar is not None:
                bar.update(1)
                bar.set_postfix(failed=report.failed, refresh=False)
            if len(buffer) >= flush_runs or time.monotonic() - last_flush >= flush_seconds:
                flush()

        run_tasks(tasks, executor=executor, series=spec.series, run_fn=run_function,
                  on_result=on_result, should_stop=stop.is_set, keep=False)
        report.status = ("interrupted" if stop.is_set() else "partial" if partial
                         else "complete")
    except KeyboardInterrupt:
        report.status = "interrupted"
    finally:
        if in_main:
            signal.signal(signal.SIGINT, old_handler)
        if bar is not None:
            bar.close()
        flush()
        report.failed = len(current_failures())
        if report.status == "complete" and report.failed:
            report.status = "failures"
        elif report.status == "running":  # an unexpected error: record it, then re-raise
            report.status = "aborted"
        report.seconds = time.perf_counter() - t0
        store.end_session(status=report.status, runs_done=report.done, failures=report.failed)
    return report


def _failure_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(rows)
    df["seed"] = df["seed"].astype(np.uint64)
    return df


def _progress_bar(report: SweepReport, *, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    # No monitor thread: forked workers must not inherit a running thread.
    tqdm.monitor_interval = 0
    return tqdm(total=report.planned, initial=report.skipped, unit="run", desc="runs",
                dynamic_ncols=True, postfix={"failed": 0})
