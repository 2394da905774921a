"""run_many: one run layer, ordered results whatever the executor, and dead workers survived."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments.executors import DaskExecutor, ProcessExecutor, SerialExecutor
from experiments.runs import Variant, make_tasks, run_many
from model.scenario import load_scenario

TOY = "xp_fakes:toy_run"


@pytest.fixture(scope="module")
def scenarios():
    base = load_scenario("default")
    # facilitation 0.9 makes xp_fakes.dying_run kill its worker
    return [Variant(base, {"facilitation_quality": q}) for q in (0.2, 0.9, 0.5, 0.6)]


def _frame(runs) -> pd.DataFrame:
    return pd.DataFrame([{"index": r.index, "scenario": r.scenario_index, "rep": r.replication,
                          "seed": r.seed, **(r.summary or {}), "error": r.error} for r in runs])


def test_tasks_pair_every_scenario_with_every_seed_or_its_own():
    common = make_tasks(["a", "b"], [7, 8, 9])
    assert [(t.scenario, t.seed, t.replication) for t in common] == [
        ("a", 7, 0), ("a", 8, 1), ("a", 9, 2), ("b", 7, 0), ("b", 8, 1), ("b", 9, 2)]
    own = make_tasks(["a", "b"], [[1], [2, 3]])
    assert [(t.index, t.scenario, t.seed) for t in own] == [(0, "a", 1), (1, "b", 2), (2, "b", 3)]


@pytest.mark.parametrize("seed_root", [1, 40])
def test_processes_return_the_serial_runs_in_order(scenarios, seed_root):
    seeds = list(range(seed_root, seed_root + 9))
    serial = run_many(scenarios, seeds, run_fn=TOY)
    with ProcessExecutor(2) as ex:
        parallel = run_many(scenarios, seeds, executor=ex, run_fn=TOY)
    assert [r.index for r in parallel] == list(range(len(scenarios) * len(seeds)))
    pd.testing.assert_frame_equal(_frame(parallel), _frame(serial))


def test_ctrl_c_is_ignored_only_while_workers_start(scenarios, monkeypatch):
    # A Ctrl-C that arrives while it is ignored is lost. The pool used to ignore it around
    # its "is the fork server running?" check after every batch of results, and a sweep
    # under load once ran to its end after a Ctrl-C (CI).
    import contextlib

    import experiments.executors as executors

    windows = []
    real = executors._sigint_ignored

    @contextlib.contextmanager
    def counted():
        windows.append(1)
        with real():
            yield

    monkeypatch.setattr(executors, "_sigint_ignored", counted)
    seeds = list(range(1, 13))
    with ProcessExecutor(2) as ex:
        run_many(scenarios, seeds, executor=ex, run_fn=TOY)
        assert len(windows) <= 1  # the pool's start (none if the fork server already runs)
        started = len(windows)
        run_many(scenarios, seeds, executor=ex, run_fn="xp_fakes:dying_run")
    # workers that died are replaced, and only then is Ctrl-C ignored again
    assert len(windows) > started


def test_a_run_that_kills_its_worker_fails_alone_and_the_rest_go_on(scenarios):
    seeds = [3, 4, 5]
    expected = _frame(run_many(scenarios, seeds, run_fn=TOY))
    with ProcessExecutor(2) as ex:
        runs = run_many(scenarios, seeds, executor=ex, run_fn="xp_fakes:dying_run")
        # the pool is whole again afterwards
        again = run_many(scenarios[:1], seeds, executor=ex, run_fn=TOY)
    got = _frame(runs)
    dead = got["scenario"] == 1
    assert len(got) == 12 and dead.sum() == 3
    assert got.loc[dead, "error"].str.contains("WorkerDied: worker died: exit code 3").all()
    assert got.loc[~dead, "error"].isna().all()
    ok = expected[expected["scenario"] != 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(_frame([r for r in runs if r.scenario_index != 1]), ok)
    assert all(r.ok for r in again)


@pytest.mark.slow
def test_dask_records_a_killed_worker_as_that_runs_failure(scenarios):
    seeds = [3, 4]
    expected = _frame(run_many(scenarios, seeds, run_fn=TOY))
    with DaskExecutor(workers=2) as ex:
        runs = run_many(scenarios, seeds, executor=ex, run_fn="xp_fakes:dying_run")
    got = _frame(runs)
    dead = got["scenario"] == 1
    assert len(got) == 8 and got.loc[dead, "error"].str.contains("KilledWorker").all()
    ok = expected[expected["scenario"] != 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(_frame([r for r in runs if r.scenario_index != 1]), ok)


def test_a_stop_request_starts_no_new_run(scenarios):
    seen = []
    runs = run_many(scenarios, [1, 2], run_fn=TOY, executor=SerialExecutor(),
                    on_result=seen.append, should_stop=lambda: len(seen) >= 3)
    assert [r.index for r in runs] == [0, 1, 2]
