"""Where runs execute: in this process, in local worker processes, or on a Dask cluster.

Every executor has one method, :meth:`Executor.execute`: run these tasks with
this run function and hand each finished :class:`~experiments.tasks.Run` to
``emit``, in any order. Executors know nothing of specs, stores or seeds' meaning;
each run is seeded from its own task, so results never depend on the executor,
the worker count, the batching or the completion order.

A worker that dies (``os._exit``, the out-of-memory killer, a segfault) is a
failure of the run it held, not of the session: the run is retried once in a
fresh worker and, if it kills that one too, emitted as failed with the cause;
every other run goes on. The local pool knows exactly which run a dead worker
held because workers report run by run; on Dask a lost batch is split and its
runs retried one by one, so the culprit is the one that dies twice.
"""

from __future__ import annotations

import logging
import math
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing import forkserver
from multiprocessing.connection import wait as wait_ready
from typing import Any, Protocol

from model.errors import LasimInputError

from .tasks import Run, RunFunction, Task, execute, execute_batch, resolve_run_function

Emit = Callable[[Run], None]
StopCheck = Callable[[], bool]

#: Work per batch the executors aim for: enough that scheduling costs little
#: (a Dask task costs a few ms of scheduler time and its results a round trip),
#: little enough that a lost batch or a Ctrl-C throws little away. On the
#: 10,000-run Sobol sample (benchmarks/bench_experiments.py), Dask(2) took 43.2,
#: 41.2 and 40.4 s with 0.5, 1 and 2 s tasks, two local processes 37.3 s: most of
#: the gap is the cluster's 2 s start-up, the rest shrinks with fewer tasks.
TARGET_BATCH_SECONDS = {"processes": 0.25, "dask": 2.0}
#: Attempts a run gets when it kills its worker: the first and one retry.
ATTEMPTS = 2


def _never() -> bool:
    return False


class Executor(Protocol):
    """Runs tasks and emits one :class:`Run` per task, in any order.

    ``should_stop`` is polled a few times a second; once true, no new batch
    starts, runs already in a worker are finished and emitted, and ``execute``
    returns. That is how Ctrl-C stops a session: a flag, never an exception
    raised inside a pool's locks.
    """

    workers: int
    label: str

    def execute(self, tasks: Sequence[Task], run_fn: str | RunFunction, series: bool,
                emit: Emit, should_stop: StopCheck = _never) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


def death_cause(exitcode: int | None) -> str:
    """A dead worker's exit status in words (``killed by SIGKILL`` for the OOM killer)."""
    if exitcode is None:
        return "worker died (exit status unknown)"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (the out-of-memory killer sends SIGKILL)" if name == "SIGKILL" else ""
        return f"worker died: killed by {name}{hint}"
    return f"worker died: exit code {exitcode}"


def worker_died(task: Task, cause: str) -> Run:
    """The failed run of a task whose worker died on every attempt."""
    return Run(task.index, task.scenario_index, task.replication, task.seed,
               error=f"WorkerDied: {cause} (twice: first attempt and one retry in a fresh worker)")


@dataclass
class Batcher:
    """Cuts tasks into batches of about ``target`` seconds of work.

    The first batches are small (run times are unknown); once runs have been
    timed the size follows the measured mean, never so large that fewer than
    two batches per worker remain (the tail would then run on one core).
    Batching changes no result: every task carries its own seed.
    """

    tasks: deque[Task]
    workers: int
    target: float
    retry: deque[Task] = field(default_factory=deque)
    _seconds: float = 0.0
    _timed: int = 0

    def observe(self, run: Run) -> None:
        self._seconds += run.seconds
        self._timed += 1

    def __bool__(self) -> bool:
        return bool(self.tasks or self.retry)

    def size(self) -> int:
        remaining = len(self.tasks)
        balance = max(1, math.ceil(remaining / (2 * self.workers)))
        if not self._timed:
            return min(balance, 4)
        per_run = max(self._seconds / self._timed, 1e-4)
        return max(1, min(balance, math.ceil(self.target / per_run), 512))

    def next(self) -> list[Task]:
        if self.retry:  # a suspect runs alone, so a second death names it
            return [self.retry.popleft()]
        n = self.size()
        return [self.tasks.popleft() for _ in range(min(n, len(self.tasks)))]


class SerialExecutor:
    """Runs everything in this process, in order: the reference the others must match.

    A run that kills the process (``os._exit``) kills the session too; use
    local processes to survive such runs.
    """

    workers = 1
    label = "serial"

    def execute(self, tasks: Sequence[Task], run_fn: str | RunFunction, series: bool,
                emit: Emit, should_stop: StopCheck = _never) -> None:
        fn = resolve_run_function(run_fn)
        for task in tasks:
            if should_stop():
                return
            emit(execute(task, fn, series))

    def close(self) -> None:
        pass

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------ local processes


def _worker_main(conn: Any) -> None:
    """A worker's loop: receive a batch, send back each run as it finishes."""
    # Ctrl-C reaches the whole process group; only the parent reacts, so it can
    # record finished runs and stop the workers in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        tasks, run_fn, series = msg
        fn = resolve_run_function(run_fn)
        for task in tasks:
            result = execute(task, fn, series)
            try:
                conn.send(result)
            except (BrokenPipeError, EOFError, OSError):
                # the parent stopped listening (an ABC generation filled its population and
                # dropped the runs still in flight, or the user stopped it): nothing wants
                # this result, so end quietly instead of printing a traceback
                return


def _start_method() -> str:
    """forkserver on POSIX: cheap worker starts without forking a parent that has threads.

    Plain fork is unsafe once the parent runs threads (a progress bar, Dask);
    spawn re-imports everything per worker. forkserver forks workers from a
    clean server process that has imported the model once.
    """
    methods = mp.get_all_start_methods()
    return "forkserver" if "forkserver" in methods and sys.platform != "darwin" else "spawn"


class _Worker:
    """One worker process, its pipe, and the tasks it holds, in the order it runs them."""

    def __init__(self, ctx: Any) -> None:
        parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child,), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        self.held: deque[Task] = deque()

    def send(self, batch: list[Task], run_fn: str | RunFunction, series: bool) -> bool:
        """Hand ``batch`` to the worker; False if it is already dead."""
        try:
            self.conn.send((batch, run_fn, series))
        except (OSError, ValueError):
            return False
        self.held.extend(batch)
        return True

    def stop(self, timeout: float = 2.0) -> None:
        with suppress(OSError, ValueError):
            self.conn.send(None)
        self.proc.join(timeout)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(1.0)
        self.conn.close()


class ProcessExecutor:
    """A pool of local worker processes (default: one per core).

    Each worker holds at most two batches, so a sweep of 10,000 runs does not
    pickle every task up front and Ctrl-C has little to wait for. A dead worker
    is replaced by a fresh one (see the module docstring).
    """

    label = "processes"

    def __init__(self, workers: int | None = None, preload: Sequence[str] = ("model.runner",)):
        self.workers = workers or os.cpu_count() or 1
        self._ctx = mp.get_context(_start_method())
        if self._ctx.get_start_method() == "forkserver":
            self._ctx.set_forkserver_preload(list(preload))
        self._pool: list[_Worker] = []

    def _ensure_pool(self) -> None:
        # called after every batch of results: with a full pool there is nothing to start,
        # and Ctrl-C must not be ignored for nothing (a Ctrl-C that arrives while it is
        # ignored is lost: a sweep under load ran to its end after one, CI)
        if len(self._pool) >= self.workers:
            return
        if self._ctx.get_start_method() == "forkserver":
            # The server imports the model before it protects itself from Ctrl-C;
            # started with SIGINT ignored it inherits the ignoring, so a Ctrl-C
            # during start-up reaches only this process (which stops in order).
            with _sigint_ignored():
                forkserver.ensure_running()
        while len(self._pool) < self.workers:
            self._pool.append(_Worker(self._ctx))

    def _replace_dead(self, emit: Emit, batcher: Batcher, deaths: dict[int, int],
                      stopping: bool) -> None:
        """Collect what dead workers sent, charge the run each was in, start fresh ones."""
        alive = []
        for w in self._pool:
            if w.proc.is_alive():  # one check per worker: it may die between two checks
                alive.append(w)
                continue
            self._collect(w, emit, batcher)
            if w.held:
                self._bury(w, emit, batcher, deaths, stopping)
        self._pool = alive
        self._ensure_pool()

    def execute(self, tasks: Sequence[Task], run_fn: str | RunFunction, series: bool,
                emit: Emit, should_stop: StopCheck = _never) -> None:
        batcher = Batcher(deque(tasks), self.workers, TARGET_BATCH_SECONDS["processes"])
        deaths: dict[int, int] = {}
        try:
            self._ensure_pool()
            self._loop(batcher, run_fn, series, emit, should_stop, deaths)
        except BaseException:
            # a second Ctrl-C (or an error in emit): leave at once, the runs in the
            # workers are abandoned and redone by a resume
            self.kill()
            raise

    def _loop(self, batcher: Batcher, run_fn: str | RunFunction, series: bool, emit: Emit,
              should_stop: StopCheck, deaths: dict[int, int]) -> None:
        while True:
            stopping = should_stop()
            if not stopping:
                for w in self._pool:
                    while batcher and len(w.held) < 2 * batcher.size():
                        batch = batcher.next()
                        if not w.send(batch, run_fn, series):
                            batcher.tasks.extendleft(reversed(batch))
                            break
            busy = [w for w in self._pool if w.held]
            if not busy:
                return
            ready = wait_ready([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=0.2)
            for w in busy:
                if w.conn in ready or w.proc.sentinel in ready:
                    self._collect(w, emit, batcher)
            self._replace_dead(emit, batcher, deaths, stopping)

    def _collect(self, w: _Worker, emit: Emit, batcher: Batcher) -> None:
        try:
            while w.conn.poll():
                run: Run = w.conn.recv()
                task = w.held.popleft()
                if task.index != run.index:  # a protocol error, never expected
                    raise RuntimeError(f"worker returned run {run.index} for task {task.index}")
                batcher.observe(run)
                emit(run)
        except (EOFError, OSError):  # the worker died; its held runs are buried next
            pass

    def _bury(self, w: _Worker, emit: Emit, batcher: Batcher, deaths: dict[int, int],
              stopping: bool) -> None:
        w.proc.join(0.5)
        cause = death_cause(w.proc.exitcode)
        culprit = w.held.popleft()
        rest = list(w.held)
        w.held.clear()
        w.conn.close()
        # the runs queued behind the culprit never started: back to the front, innocent
        batcher.tasks.extendleft(reversed(rest))
        deaths[culprit.index] = deaths.get(culprit.index, 0) + 1
        if deaths[culprit.index] >= ATTEMPTS:
            emit(worker_died(culprit, cause))
        elif not stopping:  # when stopping it stays unrecorded, and a resume retries it
            batcher.retry.append(culprit)

    def kill(self) -> None:
        """Stop every worker now, whatever it is running."""
        for w in self._pool:
            w.proc.kill()
        for w in self._pool:
            w.proc.join(1.0)
            w.conn.close()
        self._pool = []

    def close(self) -> None:
        for w in self._pool:
            w.stop()
        self._pool = []

    def __enter__(self) -> ProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------ Dask


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while starting worker processes, so they inherit the ignoring.

    Python leaves SIGINT ignored in a child started while it is ignored, so the
    workers (the forkserver; a LocalCluster's nannies and workers) never print a
    KeyboardInterrupt traceback; this process alone handles Ctrl-C. For the
    forkserver the window is an instant; a Ctrl-C during the two or three
    seconds a LocalCluster starts is ignored (blocking it instead does not
    reach Dask's workers, which then print tracebacks).
    """
    in_main = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
    try:
        yield
    finally:
        if in_main:
            signal.signal(signal.SIGINT, old)


class DaskExecutor:
    """Dask distributed: an existing cluster (``scheduler``) or a LocalCluster of ``workers``.

    Dask is an optional extra (``pip install lasim[cluster]``); it is imported
    when this executor is made, not when lasim starts.
    """

    label = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None,
                 connect_timeout: float = 10.0):
        try:
            import dask
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise LasimInputError(
                "--scheduler/--workers: Dask is not installed; install it with "
                "pip install 'lasim[cluster]'"
            ) from None
        self._cluster = None
        self._client = None
        if scheduler:
            try:
                self._client = Client(scheduler, timeout=f"{connect_timeout}s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise LasimInputError(
                    f"--scheduler = {scheduler!r}: cannot connect to a Dask scheduler ({exc})"
                ) from None
            self.label = f"dask {scheduler}"
        else:
            n = workers or os.cpu_count() or 1
            # One single-threaded process per worker: the model holds the GIL, so
            # threads would not run in parallel. No dashboard: it needs a free port
            # and bokeh. allowed-failures 0: a batch whose worker dies comes back
            # at once as KilledWorker, and the batch's runs are retried one by one.
            # No statistical profiler either: it samples each worker's stack every 10 ms
            # (under the GIL, which the model's Python holds) for a dashboard there is not.
            settings = {"distributed.scheduler.allowed-failures": 0, "distributed.worker.profile.enabled": False}
            with dask.config.set(settings), _sigint_ignored():
                self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=logging.CRITICAL)
                self._client = Client(self._cluster)
            self.label = f"dask LocalCluster({n})"
        info = self._client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info["workers"].values()))

    def execute(self, tasks: Sequence[Task], run_fn: str | RunFunction, series: bool,
                emit: Emit, should_stop: StopCheck = _never) -> None:
        from dask.distributed import as_completed

        batcher = Batcher(deque(tasks), self.workers, TARGET_BATCH_SECONDS["dask"])
        deaths: dict[int, int] = {}
        ac = as_completed()
        batches: dict[Any, list[Task]] = {}

        def submit() -> None:
            while batcher and len(batches) < 2 * self.workers and not should_stop():
                if batcher.retry and batches:
                    # a suspect runs alone on the cluster: a worker's death also kills the
                    # batches queued behind the running one, so only a lone death is evidence
                    return
                batch = batcher.next()
                # pure=False: two equal batches are still two tasks, never deduplicated
                fut = self._client.submit(execute_batch, batch, run_fn, series, pure=False)
                batches[fut] = batch
                ac.add(fut)
                if len(batch) == 1 and deaths.get(batch[0].index):
                    return

        try:
            submit()
            while batches:
                got = ac.next_batch(block=False)
                if not got:
                    time.sleep(0.05)
                for fut in got:
                    batch = batches.pop(fut)
                    if fut.status == "finished":
                        for run in fut.result():
                            batcher.observe(run)
                            emit(run)
                    else:
                        self._lost(batch, fut, emit, batcher, deaths)
                submit()
        finally:
            if batches:
                self._client.cancel(list(batches))

    @staticmethod
    def _lost(batch: list[Task], fut: Any, emit: Emit, batcher: Batcher,
              deaths: dict[int, int]) -> None:
        exc = fut.exception()
        cause = f"{type(exc).__name__}: {exc}"
        alone = len(batch) == 1 and deaths.get(batch[0].index, 0) > 0
        if not alone:  # which run killed the worker is unknown: each is retried alone
            for task in batch:
                deaths[task.index] = 1
                batcher.retry.append(task)
            return
        task = batch[0]
        deaths[task.index] += 1
        if deaths[task.index] >= ATTEMPTS:
            emit(worker_died(task, cause))
        else:
            batcher.retry.append(task)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_executor(*, processes: int | None = None, workers: int | None = None,
                  scheduler: str | None = None) -> Executor:
    """Pick an executor from command-line options.

    Parameters
    ----------
    processes : int, optional
        Local process count; 1 means serial in this process. Default: all cores.
    workers : int, optional
        Start a Dask LocalCluster with this many single-threaded workers.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``).
    """
    chosen = [name for name, v in (("--processes", processes), ("--workers", workers),
                                   ("--scheduler", scheduler)) if v is not None]
    if len(chosen) > 1:
        raise LasimInputError(f"{' and '.join(chosen)}: choose one way to run, not several")
    for flag, v in (("--processes", processes), ("--workers", workers)):
        if v is not None and v < 1:
            raise LasimInputError(f"{flag} = {v}: must be at least 1")
    if scheduler is not None or workers is not None:
        return DaskExecutor(scheduler=scheduler, workers=workers)
    if processes == 1:
        return SerialExecutor()
    return ProcessExecutor(processes)
