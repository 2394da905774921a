"""Where runs execute: in this process, in local processes, or on a Dask cluster.

An executor only maps a picklable function over chunks of work and yields the
results as they complete, in any order. It knows nothing about specs, seeds or
stores, so sampling and analysis never change when the executor does. Every
run is seeded from its own stored seed, which is why the results do not depend
on the executor, the worker count or the completion order.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from model.errors import LasimInputError

StopCheck = Callable[[], bool]


def _never() -> bool:
    return False


class Executor(Protocol):
    """Runs ``fn(item)`` for each item; yields the results as they complete.

    ``should_stop`` is polled a few times a second; once it returns true, no new
    item is started, pending ones are cancelled and the iteration ends. That is
    how Ctrl-C stops a sweep: a flag, never an exception raised at a random
    point inside the pool's locks (which can hang its shutdown).
    """

    workers: int
    label: str

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any],
                      should_stop: StopCheck = _never) -> Iterator[Any]:
        ...

    def close(self) -> None:
        ...


_END = object()


class SerialExecutor:
    """Runs everything in this process, in order. The reference the others must match."""

    workers = 1
    label = "serial"

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any],
                      should_stop: StopCheck = _never) -> Iterator[Any]:
        for item in items:
            if should_stop():
                return
            yield fn(item)

    def close(self) -> None:
        pass

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ignore_sigint() -> None:
    # Ctrl-C goes to the whole process group; only the parent should react, so it
    # can flush finished runs and shut the pool down in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_method() -> str:
    """forkserver on POSIX: cheap worker starts without forking a parent that has threads.

    Plain fork is unsafe once the parent runs threads (the progress bar, Dask's
    client); spawn re-imports everything per worker. forkserver forks workers
    from a clean server process that has imported the model once.
    """
    methods = mp.get_all_start_methods()
    return "forkserver" if "forkserver" in methods and sys.platform != "darwin" else "spawn"


class ProcessExecutor:
    """A pool of local worker processes (default: one per core).

    Keeps at most ``2 * workers`` chunks in flight, so a 10,000-run sweep does
    not pickle every task up front and Ctrl-C has little to cancel.
    """

    label = "processes"

    def __init__(self, workers: int | None = None, preload: Iterable[str] = ("model.runner",)):
        self.workers = workers or os.cpu_count() or 1
        ctx = mp.get_context(_start_method())
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload(list(preload))
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                         initializer=_ignore_sigint)

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any],
                      should_stop: StopCheck = _never) -> Iterator[Any]:
        pending: set[Future] = set()
        it = iter(items)
        exhausted = False
        try:
            while not should_stop():
                while not exhausted and len(pending) < 2 * self.workers:
                    item = next(it, _END)
                    if item is _END:
                        exhausted = True
                    else:
                        pending.add(self._pool.submit(fn, item))
                if not pending:
                    return
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
        finally:
            for fut in pending:
                fut.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DaskExecutor:
    """Dask distributed: an existing cluster (``scheduler``) or a LocalCluster of ``workers``.

    Dask is an optional extra (``pip install lasim[cluster]``), imported only here.
    """

    label = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None,
                 connect_timeout: float = 10.0):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise LasimInputError(
                "--scheduler/--workers: Dask is not installed; install it with "
                "pip install 'lasim[cluster]'"
            ) from None
        import logging

        self._cluster = None
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
            # and bokeh, and a laptop sweep does not need it.
            self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
            self.label = f"dask LocalCluster({n})"
        info = self._client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info["workers"].values()))

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any],
                      should_stop: StopCheck = _never) -> Iterator[Any]:
        import time

        from dask.distributed import as_completed

        items = list(items)
        # pure=False: two chunks with equal content are still two tasks; Dask must
        # not deduplicate them by hashing the arguments.
        futures = self._client.map(fn, items, pure=False)
        ac = as_completed(futures)
        try:
            while not ac.is_empty() and not should_stop():
                batch = ac.next_batch(block=False)
                if not batch:
                    time.sleep(0.05)
                for fut in batch:
                    yield fut.result()
        finally:
            self._client.cancel(futures)

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_executor(*, processes: int | None = None, workers: int | None = None,
                  scheduler: str | None = None) -> Executor:
    """Pick an executor from CLI-style options.

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
