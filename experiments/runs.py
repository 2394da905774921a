"""The one run layer: every command that runs the model runs it through :func:`run_many`.

``lasim run``, ``compare``, ``sweep``/``sensitivity``, ``validate`` and calibration
describe their runs as scenarios and seeds and hand them here; where they run
(this process, local processes, Dask) is the executor's business
(:mod:`experiments.executors`), what a worker does is :mod:`experiments.tasks`.
Like EMA Workbench's evaluators, an executor is made once and used as a
context manager::

    with make_executor(processes=4) as ex:
        runs = run_many([scenario_a, scenario_b], seeds, executor=ex, series=True)

Swapping the model for a test stand-in has one mechanism: ``run_fn`` (a callable
or ``"module:function"``); the command line's ``LASIM_RUN_FUNCTION`` only sets
its default (:func:`experiments.tasks.run_function_name`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .executors import Executor, SerialExecutor, StopCheck, make_executor
from .tasks import (
    DEFAULT_RUN_FUNCTION,
    RUN_FUNCTION_ENV,
    Run,
    RunFunction,
    Task,
    Variant,
    run_function_name,
)

__all__ = ["DEFAULT_RUN_FUNCTION", "RUN_FUNCTION_ENV", "Run", "Task", "Variant", "failed",
           "make_executor", "make_tasks", "run_function_name", "run_many", "run_tasks"]

Seeds = Sequence[int] | Sequence[Sequence[int]]


def make_tasks(scenarios: Sequence[Any], seeds: Seeds) -> list[Task]:
    """One task per scenario and seed, in scenario-major order.

    ``seeds`` is either one list of seeds that every scenario runs (common
    random numbers: replication ``r`` of every scenario shares seed ``r``) or
    one list per scenario.
    """
    per_scenario = len(seeds) > 0 and hasattr(seeds[0], "__len__")
    if per_scenario and len(seeds) != len(scenarios):
        raise ValueError(f"{len(seeds)} seed lists for {len(scenarios)} scenarios")
    tasks: list[Task] = []
    for i, scenario in enumerate(scenarios):
        own = seeds[i] if per_scenario else seeds
        for r, seed in enumerate(own):
            tasks.append(Task(len(tasks), i, r, int(seed), scenario))
    return tasks


def run_tasks(tasks: Sequence[Task], *, executor: Executor | None = None, series: bool = False,
              run_fn: str | RunFunction | None = None,
              on_result: Callable[[Run], None] | None = None,
              should_stop: StopCheck | None = None, keep: bool = True) -> list[Run]:
    """Run prepared tasks; return their runs in task order (see :func:`run_many`)."""
    executor = executor or SerialExecutor()
    fn: str | RunFunction = run_fn if callable(run_fn) else run_function_name(run_fn)
    done: dict[int, Run] = {}

    def emit(run: Run) -> None:
        if keep:
            done[run.index] = run
        if on_result is not None:
            on_result(run)

    executor.execute(list(tasks), fn, series, emit, should_stop or (lambda: False))
    return [done[i] for i in sorted(done)]


def run_many(scenarios: Sequence[Any], seeds: Seeds, *, executor: Executor | None = None,
             series: bool = False, run_fn: str | RunFunction | None = None,
             on_result: Callable[[Run], None] | None = None,
             should_stop: StopCheck | None = None) -> list[Run]:
    """Run every scenario with its seeds; return the runs in order.

    Parameters
    ----------
    scenarios
        ``model.scenario.Scenario`` objects, or :class:`~experiments.tasks.Variant`
        (a base scenario plus parameter values, built in the worker).
    seeds
        One list of seeds for every scenario (common random numbers), or one list
        per scenario.
    executor
        From :func:`experiments.executors.make_executor`; default: this process.
    series
        Keep each run's monthly series.
    run_fn
        The function run per task, with ``model.runner.run_scenario``'s signature
        (a callable picklable by reference, or ``"module:function"``). Default:
        the ``LASIM_RUN_FUNCTION`` testing hook if set, else the model.
    on_result
        Called in this process with each :class:`Run` as it finishes (any order):
        progress bars, and stores that write as they go.
    should_stop
        Polled while running; once true no new run starts (Ctrl-C).

    Returns
    -------
    list of Run
        In scenario-major order (scenario 0's seeds, then scenario 1's, ...),
        whatever the executor and completion order. A run that raised, or killed
        its worker twice, has ``error`` set; the others have ``summary``. After a
        stop, runs that never started are missing.
    """
    return run_tasks(make_tasks(scenarios, seeds), executor=executor, series=series,
                     run_fn=run_fn, on_result=on_result, should_stop=should_stop)


def failed(runs: Sequence[Run]) -> list[Run]:
    """The runs that failed."""
    return [r for r in runs if not r.ok]
