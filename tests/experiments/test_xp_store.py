"""The store never loses or doubles a run: SIGKILL and resume, Ctrl-C, failures, foreign specs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from experiments.executors import SerialExecutor
from experiments.files import read_parquet_meta
from experiments.spec import load_spec
from experiments.store import load_results
from experiments.sweep import RUN_FUNCTION_ENV, run_sweep
from lasim.cli import main
from model.errors import LasimInputError

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

SPEC = """
name = "store"
scenario = "default"
replications = 4
seed = 99
outcomes = ["scaled", "sustained", "peak_adoption", "scale_month"]
[factors.facilitation_quality]
levels = [0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
[factors.funding_gap_months]
levels = [0, 6, 12, 24]
[factors.government_involvement]
levels = [0.0, 0.5, 1.0]
"""  # 8 x 4 x 3 points x 4 replications = 384 runs


def _env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(REPO), str(HERE)])
    return os.environ | {"PYTHONPATH": path} | extra


def _all_shard_ids(out: Path) -> list[int]:
    ids: list[int] = []
    for shard in sorted((out / "runs").glob("summary-*.parquet")):
        ids += pq.read_table(shard, columns=["run_id"]).column(0).to_pylist()
    return ids


@pytest.fixture
def spec_path(tmp_path):
    path = tmp_path / "store.toml"
    path.write_text(SPEC)
    return path


KILLABLE = """
import sys
from experiments.executors import ProcessExecutor
from experiments.spec import load_spec
from experiments.sweep import run_sweep
if __name__ == "__main__":
    spec = load_spec(sys.argv[1])
    with ProcessExecutor(2) as ex:
        run_sweep(spec, sys.argv[2], executor=ex, progress=False,
                  run_function="xp_fakes:toy_run", flush_seconds=0.05)
"""


def test_sigkill_mid_sweep_then_resume_gives_each_planned_run_once(spec_path, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(spec_path), str(out)],
                            env=_env(LASIM_TOY_SLEEP="0.01"), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(list((out / "runs").glob("summary-*.parquet"))) >= 2:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        # The whole group: the sweep and its worker processes, mid-write or not.
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    spec = load_spec(spec_path)
    before = _all_shard_ids(out)
    assert 0 < len(before) < spec.n_runs, "the kill should land mid-sweep"

    report = run_sweep(spec, out, executor=SerialExecutor(), progress=False,
                       run_function="xp_fakes:toy_run")
    assert report.status == "complete"
    assert report.skipped == len(set(before))
    ids = _all_shard_ids(out)
    assert sorted(ids) == list(range(spec.n_runs))          # every planned run, each once
    df = load_results(out)
    assert list(df["run_id"]) == list(range(spec.n_runs))

    clean = tmp_path / "clean"
    run_sweep(spec, clean, executor=SerialExecutor(), progress=False,
              run_function="xp_fakes:toy_run")
    pd.testing.assert_frame_equal(df.drop(columns="run_seconds"),
                                  load_results(clean).drop(columns="run_seconds"))
    sessions = df.attrs["manifest"]["sessions"]
    assert [s["status"] for s in sessions] == ["running", "complete"]  # the killed one never ended


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(spec_path, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "lasim.cli", "sweep", str(spec_path), "--out", str(out),
           "--processes", "2", "--no-progress"]
    proc = subprocess.Popen(cmd, env=_env(**{RUN_FUNCTION_ENV: "xp_fakes:toy_run",
                                             "LASIM_TOY_SLEEP": "0.05"}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while not (out / "manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(4.0)  # worker start-up (~2 s) plus a few chunks of the ~10 s sweep
    # Like a terminal's Ctrl-C: SIGINT to the whole process group, workers included.
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "to resume" in stderr and "Traceback" not in stderr
    done = load_results(out)
    assert 0 < len(done) < 384
    assert done.attrs["manifest"]["status"] == "interrupted"


def test_failures_recorded_rest_finished_nonzero_exit_and_retry(spec_path, tmp_path,
                                                               monkeypatch, capsys):
    out = tmp_path / "out"
    monkeypatch.setenv(RUN_FUNCTION_ENV, "xp_fakes:flaky_run")
    args = ["sweep", str(spec_path), "--out", str(out), "--processes", "2", "--no-progress"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "runs failed" in err and "failures.parquet" in err
    fails = load_results(out, failures=True)
    # facilitation_quality 0.8, 0.9, 1.0: 3 of 8 levels x 4 x 3 points x 4 replications
    assert len(fails) == 3 * 4 * 3 * 4
    assert (fails["facilitation_quality"] >= 0.8).all()
    assert fails["traceback"].str.contains("injected failure").all()
    assert {"run_id", "seed", "funding_gap_months", "error"} <= set(fails.columns)
    done = load_results(out)
    assert len(done) == 384 - len(fails)
    assert not set(done["run_id"]) & set(fails["run_id"])
    meta = read_parquet_meta(out / "failures.parquet")
    assert meta["scenario"] == "default" and meta["git_commit"] and meta["lasim_version"]

    # Rerun: failed runs are retried (and fail again), finished ones are not redone.
    assert main(args) == 1
    capsys.readouterr()
    again = load_results(out, failures=True)
    assert sorted(again["run_id"]) == sorted(fails["run_id"])
    assert sorted(_all_shard_ids(out)) == sorted(done["run_id"])
    assert load_results(out).attrs["manifest"]["sessions"][-1]["runs_done"] == 0


def test_a_different_spec_is_refused_and_the_directory_untouched(spec_path, tmp_path,
                                                                  monkeypatch, capsys):
    out = tmp_path / "out"
    monkeypatch.setenv(RUN_FUNCTION_ENV, "xp_fakes:toy_run")
    assert main(["sweep", str(spec_path), "--out", str(out), "--processes", "1",
                 "--no-progress"]) == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    other = tmp_path / "other.toml"
    other.write_text(SPEC.replace("seed = 99", "seed = 100"))
    capsys.readouterr()
    assert main(["sweep", str(other), "--out", str(out), "--processes", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "different spec" in err and len(err.splitlines()) == 1
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_results_command_and_export(spec_path, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    monkeypatch.setenv(RUN_FUNCTION_ENV, "xp_fakes:toy_run")
    assert main(["sweep", str(spec_path), "--out", str(out), "--processes", "1",
                 "--no-progress"]) == 0
    capsys.readouterr()
    export = tmp_path / "all.csv"
    assert main(["results", str(out), "--export", str(export)]) == 0
    text = capsys.readouterr().out
    assert "384 finished runs" in text and "status complete" in text
    # plain CSV: pandas (and R, Excel) read it as it is; the provenance is beside it
    table = pd.read_csv(export)
    assert table.shape == load_results(out).shape == (384, table.shape[1])
    assert "facilitation_quality" in table.columns and not export.read_text().startswith("#")
    prov = json.loads((tmp_path / "all.provenance.json").read_text())
    assert prov["experiment"] == "store" and prov["scenario"] == "default" and prov["root_seed"] == 99
    assert {"lasim_version", "git_commit", "created"} <= set(prov)
    # an existing export or its provenance is never overwritten without --overwrite
    before = export.read_text()
    assert main(["results", str(out), "--export", str(export)]) == 2
    assert export.read_text() == before
    (tmp_path / "b.provenance.json").write_text("mine")
    assert main(["results", str(out), "--export", str(tmp_path / "b.csv")]) == 2
    assert not (tmp_path / "b.csv").exists() and (tmp_path / "b.provenance.json").read_text() == "mine"
    # the comment line on request
    commented = tmp_path / "c.csv"
    assert main(["results", str(out), "--export", str(commented), "--csv-comment"]) == 0
    assert commented.read_text().startswith("# experiment=store scenario=default")
    pd.testing.assert_frame_equal(pd.read_csv(commented, comment="#"), table)
    assert main(["results", str(out), "--csv-comment"]) == 2
    assert main(["results", str(tmp_path / "nowhere")]) == 2


SMALL_SPEC = """
name = "small"
scenario = "default"
replications = 2
seed = 3
outcomes = ["scaled", "peak_adoption"]
[factors.facilitation_quality]
levels = [0.2, 0.9]
"""


@pytest.fixture
def small_spec(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL_SPEC)
    return load_spec(path)


def _toy_sweep(spec, out, **kw):
    return run_sweep(spec, out, executor=SerialExecutor(), progress=False,
                     run_function=kw.pop("run_function", "xp_fakes:toy_run"), **kw)


def test_a_second_writer_is_refused_in_one_line_while_the_first_holds_the_store(small_spec,
                                                                                tmp_path):
    from experiments.store import Store, scenario_fingerprint

    out = tmp_path / "out"
    base = small_spec.base_scenario()
    raw, plan = small_spec.plan()
    first = Store.open(out, small_spec, base, plan, raw, run_function="xp_fakes:toy_run")
    holder = f"pid {os.getpid()}"
    with pytest.raises(LasimInputError, match=f"another lasim session \\({holder}\\)") as exc:
        _toy_sweep(small_spec, out)
    assert "\n" not in str(exc.value)
    first.end_session(status="interrupted", runs_done=0, failures=0)
    assert _toy_sweep(small_spec, out).status == "complete"  # released: the same command resumes
    assert scenario_fingerprint(base)  # the store kept its scenario's fingerprint


def test_a_kill_between_plan_and_manifest_leaves_a_store_the_same_command_starts(small_spec,
                                                                                 tmp_path):
    out = tmp_path / "out"
    _toy_sweep(small_spec, out)
    # what a kill right after plan.parquet leaves: no manifest, no shards, a stray temp file
    (out / "manifest.json").unlink()
    for shard in (out / "runs").iterdir():
        shard.unlink()
    (out / ".plan.parquet.x1.tmp").write_text("half")
    report = _toy_sweep(small_spec, out)
    assert report.status == "complete" and report.done == small_spec.n_runs
    assert not list(out.glob(".*.tmp"))


def test_resume_refuses_another_version_or_run_function_unless_forced(small_spec, tmp_path):
    import json

    out = tmp_path / "out"
    _toy_sweep(small_spec, out, limit=2)
    with pytest.raises(LasimInputError, match="run function 'xp_fakes:toy_run'.*--force-resume"):
        _toy_sweep(small_spec, out, run_function="xp_fakes:flaky_run")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["sessions"][-1]["lasim_version"] = "0.0.1-old"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(LasimInputError, match="lasim 0.0.1-old.*--force-resume"):
        _toy_sweep(small_spec, out)
    assert _toy_sweep(small_spec, out, force_resume=True).status == "complete"


def test_leftovers_of_killed_writes_are_cleaned_on_resume(small_spec, tmp_path):
    out = tmp_path / "out"
    _toy_sweep(small_spec, out, limit=1)
    (out / "runs" / ".summary-000-000009.parquet.abc.tmp").write_bytes(b"x")
    (out / ".manifest.json.k2.tmp").write_text("{")
    _toy_sweep(small_spec, out)
    assert not list(out.rglob("*.tmp"))
    assert sorted(load_results(out)["run_id"]) == list(range(small_spec.n_runs))


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Wait until ``path`` exists (the sweep got that far), failing if ``proc`` ended first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} did not appear within {timeout} s"
        time.sleep(0.02)


@pytest.mark.parametrize("delay", [0.2, 4.0])  # during start-up (imports, forkserver) and mid-sweep
def test_a_second_ctrl_c_exits_at_once_without_a_traceback(spec_path, tmp_path, delay):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "lasim.cli", "sweep", str(spec_path), "--out", str(out),
           "--processes", "2", "--no-progress"]
    proc = subprocess.Popen(cmd, env=_env(**{RUN_FUNCTION_ENV: "xp_fakes:toy_run",
                                             "LASIM_TOY_SLEEP": "0.2"}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    # a Ctrl-C while CPython itself starts (before any lasim code runs) ends it with a
    # "Fatal Python error" (exit 1), and on a loaded machine 0.2 s after launch can be
    # that early: count from the sweep's manifest, written before the workers start
    try:
        _wait_for(out / "manifest.json", proc)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.1)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        # 0.2 s runs in batches: waiting for the runs in progress would take seconds more
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:  # a failed wait must not leave a sweep running (and loading the machine)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert len(stderr.strip().splitlines()) <= 4, stderr


SHUTDOWN_CTRL_C = """
import os, signal, sys, time
import lasim.cli as cli

def interrupted(argv):
    raise KeyboardInterrupt

cli._main = interrupted
code = cli.main([])
os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C while the interpreter shuts down
time.sleep(5)
sys.exit(code)
"""


def test_a_ctrl_c_during_shutdown_after_the_first_still_exits_130_at_once():
    # the race behind a flaky exit -2 of the test above: the second Ctrl-C came after
    # main had handled the first and returned, and died as an uncaught KeyboardInterrupt
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", SHUTDOWN_CTRL_C], env=_env(), capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.strip() == "lasim: interrupted"
    assert time.monotonic() - start < 5  # at once: not after the 5 s sleep


def test_a_truncated_result_shard_is_one_line_naming_it(small_spec, tmp_path, capsys):
    out = tmp_path / "out"
    _toy_sweep(small_spec, out)
    [shard] = list((out / "runs").glob("summary-*.parquet"))
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    code = main(["results", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert shard.name in err and "truncated" in err


def test_runs_that_kill_their_worker_are_recorded_and_every_other_run_is_stored(small_spec,
                                                                                tmp_path):
    from experiments.executors import ProcessExecutor

    out = tmp_path / "out"
    with ProcessExecutor(2) as ex:
        report = run_sweep(small_spec, out, executor=ex, progress=False,
                           run_function="xp_fakes:dying_run")
    assert report.status == "failures" and report.done == 2 and report.failed == 2
    done = load_results(out)
    assert (done["facilitation_quality"] == 0.2).all() and len(done) == 2
    failed = load_results(out, failures=True)
    assert (failed["facilitation_quality"] == 0.9).all() and len(failed) == 2
    assert failed["error"].str.startswith("WorkerDied: worker died: exit code 3").all()
