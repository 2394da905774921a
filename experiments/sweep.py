"""The sweep loop: plan the runs, skip finished ones, execute the rest, store as they finish.

:func:`execute_chunk` is what workers run. It depends only on the chunk it is
given (base scenario, parameter values, seeds), never on worker state, so any
executor produces the same rows.
"""

from __future__ import annotations

import importlib
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .executors import Executor, SerialExecutor
from .spec import ExperimentSpec
from .store import Store

DEFAULT_RUN_FUNCTION = "model.runner:run_scenario"
# Test-only hook: a "module:function" with run_scenario's signature to use instead
# of the model (e.g. one that raises for some parameter values). Read by the CLI.
RUN_FUNCTION_ENV = "LASIM_RUN_FUNCTION"


@lru_cache(maxsize=8)
def resolve_run_function(path: str) -> Callable[..., Any]:
    """Import ``"package.module:function"``; cached so a worker imports it once."""
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class Chunk:
    """A batch of runs sent to one worker in one message (amortises pickling and IPC)."""

    scenario: Any
    rows: list[dict[str, Any]]          # run_id, sample_id, replication, seed, factor values
    factors: tuple[str, ...]
    outcomes: tuple[str, ...] | None
    series: bool
    run_function: str = DEFAULT_RUN_FUNCTION


@dataclass
class Outcome:
    """What a worker sends back for one run: a summary row, or a failure."""

    row: dict[str, Any]
    series: pd.DataFrame | None = None
    error: str | None = None
    traceback: str | None = None


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def execute_chunk(chunk: Chunk) -> list[Outcome]:
    """Run every run of ``chunk``; a run that raises becomes a failure, not a crash."""
    fn = resolve_run_function(chunk.run_function)
    out = []
    for row in chunk.rows:
        params = {name: _plain(row[name]) for name in chunk.factors}
        t0 = time.perf_counter()
        try:
            scenario, member = chunk.scenario, None
            if isinstance(scenario, tuple):  # an ensemble: replication r runs member r mod M
                member = int(row["replication"]) % len(scenario)
                scenario = scenario[member]
            scenario = scenario.with_parameters(**params) if params else scenario
            result = fn(scenario, int(row["seed"]), series=chunk.series)
            summary = dict(result.summary)
            if member is not None:
                summary["ensemble_member"] = member
            if chunk.outcomes is not None:
                summary = {k: summary.get(k) for k in (*chunk.outcomes, "ensemble_member") if k in summary
                           or k in chunk.outcomes}
            record = dict(row) | {k: _plain(v) for k, v in summary.items()}
            record["run_seconds"] = time.perf_counter() - t0
            ser = None
            if chunk.series and result.series is not None:
                ser = result.series.reset_index()
                if "index" in ser.columns and "month" not in ser.columns:
                    ser = ser.rename(columns={"index": "month"})
                ser.insert(0, "run_id", row["run_id"])
            out.append(Outcome(record, ser))
        except Exception as exc:  # noqa: BLE001 -- any model error is recorded, not fatal
            out.append(Outcome(dict(row), error=f"{type(exc).__name__}: {exc}",
                               traceback=traceback.format_exc()))
    return out


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


def chunk_size(n_runs: int, workers: int) -> int:
    """Runs per chunk: large enough to amortise overhead, small enough to balance load.

    Eight chunks per worker keeps the tail short when runs differ in length;
    32 runs (about 1.5 s of the default scenario) caps how much a killed worker
    or Ctrl-C throws away.
    """
    return max(1, min(32, math.ceil(n_runs / (workers * 8))))


def run_sweep(spec: ExperimentSpec, out: str | Path, *, executor: Executor | None = None,
              progress: bool = True, run_function: str | None = None,
              flush_seconds: float = 5.0, flush_runs: int = 2000,
              limit: int | None = None) -> SweepReport:
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

    Returns
    -------
    SweepReport
        ``status`` is ``"complete"``, ``"failures"``, ``"partial"`` or ``"interrupted"``.
    """
    executor = executor or SerialExecutor()
    run_function = run_function or os.environ.get(RUN_FUNCTION_ENV) or DEFAULT_RUN_FUNCTION
    base = spec.base_scenario()
    raw, plan = spec.plan()
    store = Store.open(out, spec, base, plan, raw, executor_label=executor.label)
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

    size = chunk_size(len(todo), executor.workers)
    records = todo.to_dict("records")
    chunks = [
        Chunk(base, records[i:i + size], tuple(spec.factor_names), spec.outcomes, spec.series,
              run_function)
        for i in range(0, len(records), size)
    ]

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
        for outcomes in executor.map_unordered(execute_chunk, chunks, stop.is_set):
            for o in outcomes:
                attempted.add(int(o.row["run_id"]))
                if o.error is None:
                    buffer.append(o.row)
                    if o.series is not None:
                        series_buf.append(o.series)
                    report.done += 1
                else:
                    new_failures.append(o.row | {"error": o.error, "traceback": o.traceback,
                                                 "session": store._session})
                    report.failed += 1
                    if len(report.failure_examples) < 3:
                        report.failure_examples.append(f"run {o.row['run_id']}: {o.error}")
            if bar is not None:
                bar.update(len(outcomes))
                bar.set_postfix(failed=report.failed, refresh=False)
            if len(buffer) >= flush_runs or time.monotonic() - last_flush >= flush_seconds:
                flush()
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
