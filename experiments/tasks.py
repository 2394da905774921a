"""What a worker runs: one task is one seeded run of one scenario.

This module is the part of the run layer that executes inside workers, so it
stays small and imports only ``model``: a worker (a local process or a Dask
worker) unpickles a batch of :class:`Task` and sends back one :class:`Run` per
task. :mod:`experiments.runs` plans the tasks and :mod:`experiments.executors`
moves them.
"""

from __future__ import annotations

import importlib
import os
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from model.errors import LasimInputError

#: The model's own run function; everything else is a test stand-in.
DEFAULT_RUN_FUNCTION = "model.runner:run_scenario"
#: The command line's only testing hook: ``module:function`` with ``run_scenario``'s
#: signature, used instead of the model by every command. Read in one place,
#: :func:`run_function_name`.
RUN_FUNCTION_ENV = "LASIM_RUN_FUNCTION"

RunFunction = Callable[..., Any]


@dataclass(frozen=True)
class Variant:
    """A base scenario with some parameters changed, built in the worker.

    A sweep sends thousands of these: a batch pickles its shared ``base`` once
    (pickle memoises the object), where fully built scenarios would be pickled
    one by one.
    """

    base: Any
    values: Mapping[str, Any] = field(default_factory=dict)

    def build(self) -> Any:
        return self.base.with_parameters(**dict(self.values)) if self.values else self.base


@dataclass(frozen=True)
class Task:
    """One run: ``scenario`` (a Scenario or a :class:`Variant`) with ``seed``.

    ``index`` is its place in the order :func:`experiments.runs.run_many` returns;
    ``scenario_index`` and ``replication`` say which scenario and which of its seeds.
    """

    index: int
    scenario_index: int
    replication: int
    seed: int
    scenario: Any


@dataclass
class Run:
    """The outcome of one task: a summary (and series), or a failure with its cause."""

    index: int
    scenario_index: int
    replication: int
    seed: int
    summary: dict[str, Any] | None = None
    series: pd.DataFrame | None = None
    error: str | None = None
    traceback: str | None = None
    seconds: float = 0.0
    extra: Any = None
    #: The run's events (``model.alliance.Event``: month, kind, text, cause), kept with the series.
    events: list | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run_function_name(run_fn: str | None = None) -> str:
    """The run function to use: ``run_fn``, else the testing hook, else the model."""
    return run_fn or os.environ.get(RUN_FUNCTION_ENV) or DEFAULT_RUN_FUNCTION


@lru_cache(maxsize=16)
def _import(path: str) -> RunFunction:
    module, _, attr = path.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise LasimInputError(f"{RUN_FUNCTION_ENV} = {path!r}: cannot import it ({exc}); "
                              "use module:function") from None


def resolve_run_function(run_fn: str | RunFunction | None) -> RunFunction:
    """A callable from ``"module:function"`` (imported once per process) or a callable."""
    if callable(run_fn):
        return run_fn
    return _import(run_function_name(run_fn))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def execute(task: Task, fn: RunFunction, series: bool) -> Run:
    """Run one task; an exception becomes a failed :class:`Run`, never a crash."""
    t0 = time.perf_counter()
    run = Run(task.index, task.scenario_index, task.replication, task.seed)
    try:
        scenario = task.scenario.build() if isinstance(task.scenario, Variant) else task.scenario
        result = fn(scenario, int(task.seed), series=series)
        run.summary = {k: _plain(v) for k, v in dict(result.summary).items()}
        if series and getattr(result, "series", None) is not None:
            run.series = result.series
        if series and getattr(result, "events", None) is not None:
            # a few dozen small records a run: kept where the series is (lasim run writes events.csv)
            run.events = list(result.events)
        run.extra = getattr(result, "extra", None)
    except Exception as exc:  # noqa: BLE001 -- a model error is this run's failure, not the sweep's
        run.error = f"{type(exc).__name__}: {exc}"
        run.traceback = traceback.format_exc()
    run.seconds = time.perf_counter() - t0
    return run


def execute_batch(tasks: list[Task], run_fn: str | RunFunction | None, series: bool) -> list[Run]:
    """Run a batch in order (what a Dask task and the serial executor do)."""
    fn = resolve_run_function(run_fn)
    return [execute(t, fn, series) for t in tasks]
