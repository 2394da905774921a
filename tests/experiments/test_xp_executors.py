"""Same spec and seed, same results: serial, local processes and a Dask LocalCluster."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pandas as pd
import pytest

from experiments.executors import Batcher, DaskExecutor, ProcessExecutor, SerialExecutor, make_executor
from experiments.spec import load_spec
from experiments.store import load_results
from experiments.sweep import run_sweep
from experiments.tasks import Run
from model.errors import LasimInputError

# The real model, on a short horizon so the whole comparison takes seconds.
SPEC = """
name = "exec"
scenario = "default"
replications = 2
seed = 5
series = true
outcomes = ["scaled", "sustained", "functioning", "peak_adoption", "final_adoption",
            "total_cost"]
[fixed]
horizon_months = 18
[sampler]
method = "lhs"
n = 6
[factors.facilitation_quality]
range = [0.1, 1.0]
[factors.funding_gap_months]
range = [0, 12]
[factors.government_involvement]
"""


def _results(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    summary = load_results(out).drop(columns="run_seconds")
    series = load_results(out, series=True)
    return summary, series


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "exec.toml"
    path.write_text(SPEC)
    return load_spec(path)


@pytest.fixture(scope="module")
def serial_results(spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "out"
    report = run_sweep(spec, out, executor=SerialExecutor(), progress=False)
    assert report.status == "complete" and report.done == spec.n_runs == 12
    return _results(out)


def test_processes_match_serial(spec, serial_results, tmp_path):
    with ProcessExecutor(2) as ex:
        run_sweep(spec, tmp_path / "out", executor=ex, progress=False)
    summary, series = _results(tmp_path / "out")
    pd.testing.assert_frame_equal(summary, serial_results[0])
    pd.testing.assert_frame_equal(series, serial_results[1])


def test_dask_local_cluster_matches_serial(spec, serial_results, tmp_path):
    with DaskExecutor(workers=2) as ex:
        assert ex.workers == 2
        run_sweep(spec, tmp_path / "out", executor=ex, progress=False)
    summary, series = _results(tmp_path / "out")
    pd.testing.assert_frame_equal(summary, serial_results[0])
    pd.testing.assert_frame_equal(series, serial_results[1])


def test_results_do_not_depend_on_sharding(spec, serial_results, tmp_path):
    # A shard per chunk instead of one per session: load_results gives the same frame.
    out = tmp_path / "out"
    run_sweep(spec, out, executor=SerialExecutor(), progress=False, flush_runs=1)
    summary, _ = _results(out)
    pd.testing.assert_frame_equal(summary, serial_results[0])
    assert len(list((out / "runs").glob("summary-*.parquet"))) > 1


def test_batches_hold_about_the_target_work_and_leave_two_per_worker():
    def batcher(n: int) -> Batcher:
        return Batcher(deque(range(n)), workers=2, target=0.25)

    b = batcher(10_000)
    assert b.size() == 4  # unknown run time: small first batches
    b.observe(Run(0, 0, 0, 1, seconds=0.05))
    assert b.size() == 5  # 0.25 s of 50 ms runs
    b.observe(Run(1, 0, 0, 1, seconds=0.0))  # mean 25 ms
    assert b.size() == 10
    fast = batcher(40)
    fast.observe(Run(0, 0, 0, 1, seconds=0.001))
    assert fast.size() == 10  # 250 would leave one worker idle: 40 / (2 workers x 2)
    assert len(fast.next()) == 10 and len(fast.tasks) == 30


def test_make_executor_choices():
    assert isinstance(make_executor(processes=1), SerialExecutor)
    with pytest.raises(LasimInputError, match="--processes = 0"):
        make_executor(processes=0)
    with pytest.raises(LasimInputError, match="choose one"):
        make_executor(processes=2, workers=2)


def test_existing_dask_scheduler_by_address(spec, serial_results, tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, make_executor(scheduler=cluster.scheduler_address) as ex:
        assert ex.label.startswith("dask tcp://") or ex.label.startswith("dask inproc://")
        run_sweep(spec, tmp_path / "out", executor=ex, progress=False)
    summary, _ = _results(tmp_path / "out")
    pd.testing.assert_frame_equal(summary, serial_results[0])


def test_unreachable_or_malformed_scheduler_is_one_line_error():
    with pytest.raises(LasimInputError, match="cannot connect"):
        DaskExecutor(scheduler="tcp://127.0.0.1:1", connect_timeout=1)
    with pytest.raises(LasimInputError, match="--scheduler = 'nowhere'"):
        make_executor(scheduler="nowhere")


WORKER_WITHOUT_LISTENER = """
import multiprocessing as mp
import experiments.executors as ex

ex.resolve_run_function = lambda name: None
ex.execute = lambda task, fn, series: b"x" * 100_000
parent, child = mp.Pipe()
parent.send(([1, 2], "toy", False))
parent.close()  # the parent stops listening: an ABC generation filled, runs in flight dropped
ex._worker_main(child)
print("quiet")
"""


def test_a_worker_whose_parent_stopped_listening_ends_quietly():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", WORKER_WITHOUT_LISTENER], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "quiet", proc.stderr
    assert "Traceback" not in proc.stderr
