"""``lasim calibrate`` and ``lasim validate`` on the real model, small and short."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.posterior import load_ensemble
from lasim.cli import main

SMALL_BASS = Path(__file__).resolve().parents[2] / "model" / "scenarios" / "bass.toml"


def _small_bass(tmp: Path) -> Path:
    text = SMALL_BASS.read_text(encoding="utf-8")
    text = text.replace('name = "bass"', 'name = "small_bass"')
    text = text.replace("community_group = 2000", "community_group = 150")
    text = text.replace("horizon_months = 60", "horizon_months = 36")
    path = tmp / "small_bass.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def series_case(tmp_path):
    from model.runner import run_scenario
    from model.scenario import load_scenario

    scen = _small_bass(tmp_path)
    truth = load_scenario(scen).with_parameters(external_influence=0.02, imitation=0.15)
    share = run_scenario(truth, 11).series["adoption_all"]
    counts = (share * 150).round().astype(int)
    pd.DataFrame({"month": counts.index[::3], "adopters": counts.to_numpy()[::3]}).to_csv(
        tmp_path / "obs.csv", index=False)
    (tmp_path / "targets.toml").write_text("""
scenario = "small_bass.toml"
replications = 1
[priors]
external_influence = {low = 0.001, high = 0.05}
imitation = {low = 0.0, high = 0.4}
[[targets]]
name = "adoption"
file = "obs.csv"
outcome = "adoption_all"
population = 150
""", encoding="utf-8")
    return tmp_path


def test_calibrate_series_end_to_end(series_case, capsys):
    out = series_case / "fit"
    args = ["calibrate", str(series_case / "targets.toml"), "--params",
            "external_influence,imitation", "--out", str(out), "--population", "12",
            "--generations", "2", "--draws", "4", "--workers", "2"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "generation 0: epsilon" in text and "generation 1: epsilon" in text
    assert "acceptance" in text
    for name in ("calibration.db", "posterior.csv", "posterior_summary.csv", "generations.csv",
                 "marginals.png", "pairs.png", "epsilon.png", "predictive.png",
                 "predictive.csv", "posterior_ensemble.toml", "calibration.json"):
        assert (out / name).is_file(), name
    meta = json.loads((out / "calibration.json").read_text())
    assert meta["provenance"]["git_commit"] and meta["provenance"]["lasim_version"]
    assert meta["config"]["seed"] == 1
    ens = load_ensemble(out / "posterior_ensemble.toml")
    assert len(ens.members) == 12
    scenarios = ens.scenarios()
    assert scenarios[0].structure.platforms[0].members == {"community_group": 150}
    # re-running with more generations continues from the database
    args[args.index("--generations") + 1] = "3"
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "generation 2: epsilon" in text and "generation 0:" not in text


def test_validate_quick_check_1_verdict_follows_its_criterion(tmp_path, capsys, monkeypatch):
    import calibration.validation as validation

    code = main(["validate", "--quick", "--checks", "1", "--out", str(tmp_path / "v"),
                 "--workers", "2"])
    text = capsys.readouterr().out
    assert "1 Bass limit" in text and "overall:" in text
    assert (tmp_path / "v" / "check1_bass.png").is_file()
    result = json.loads((tmp_path / "v" / "validation.json").read_text())
    details = result["checks"][0]["details"]
    err = details["max_abs_error"]
    # the error splits into the one-month step's bias (deterministic, about 0.012) and the
    # sampling noise of --quick's 400 agents x 4 runs: at most 5 binomial standard errors
    # of a share (sqrt(0.25 / 1600) = 0.0125), whichever seed
    assert 0.005 < details["time_step_bias"] < 0.02
    assert details["model_vs_mean_field"] < 5 * np.sqrt(0.25 / (400 * 4))
    assert 0 < err <= details["time_step_bias"] + details["model_vs_mean_field"] + 1e-12
    # the verdict and the exit code follow the criterion, both ways
    assert result["passed"] == (err < validation.BASS_TOLERANCE)
    assert code == (0 if result["passed"] else 1)
    monkeypatch.setattr(validation, "BASS_TOLERANCE", err / 2)
    assert main(["validate", "--quick", "--checks", "1", "--out", str(tmp_path / "w")]) == 1
    assert "FAIL" in capsys.readouterr().out
    monkeypatch.setattr(validation, "BASS_TOLERANCE", err * 2)
    assert main(["validate", "--quick", "--checks", "1", "--out", str(tmp_path / "x")]) == 0
    assert "overall: PASS" in capsys.readouterr().out


def test_validate_bad_checks_exit_2(tmp_path, capsys):
    assert main(["validate", "--checks", "6", "--out", str(tmp_path / "v")]) == 2
    assert "--checks" in capsys.readouterr().err
    assert not (tmp_path / "v").exists()


def _tables(out: Path) -> dict[str, str]:
    gens = pd.read_csv(out / "generations.csv").drop(columns=["wall_time_s"])
    ensemble = [ln for ln in (out / "posterior_ensemble.toml").read_text().splitlines()
                if not ln.startswith(("created", "calibration ="))]
    return {
        "posterior": (out / "posterior.csv").read_text(),
        "summary": (out / "posterior_summary.csv").read_text(),
        "predictive": (out / "predictive.csv").read_text(),
        "generations": gens.to_csv(index=False),
        "ensemble": "\n".join(ensemble),
    }


@pytest.mark.slow
def test_seed_patterns_same_tables_with_one_or_two_workers(tmp_path, capsys):
    """The acceptance test at small size: lasim calibrate seed_patterns --seed 5."""
    tables = {}
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        assert main(["calibrate", "seed_patterns", "--seed", "5", "--population", "2",
                     "--generations", "1", "--draws", "1", "--workers", workers,
                     "--out", str(out)]) == 0
        tables[workers] = _tables(out)
    capsys.readouterr()
    assert tables["1"] == tables["2"]
    assert len(pd.read_csv(tmp_path / "w1" / "posterior.csv")) == 2


@pytest.mark.slow
def test_ctrl_c_prints_the_resume_command_and_a_rerun_resumes(series_case):
    import os
    import signal
    import subprocess
    import sys

    out = series_case / "fit"
    # ten generations: with the compiled model three were over before the interrupt landed
    cmd = [sys.executable, "-m", "lasim.cli", "calibrate", str(series_case / "targets.toml"),
           "--params", "external_influence,imitation", "--out", str(out), "--population", "30",
           "--generations", "10", "--draws", "2", "--workers", "1", "--min-eps-drop", "0"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PYTHONUNBUFFERED": "1"}
    # a child of a background job inherits an ignored Ctrl-C (and lasim leaves an ignored
    # Ctrl-C ignored): give it the default, whatever started the tests
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        # interrupt as soon as the first generation is reported: reading the history's
        # database instead raced the child's writes on a loaded machine
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "generation 0:" in line:
                break
        proc.send_signal(signal.SIGINT)
        rest, stderr = proc.communicate(timeout=60)
        stdout = "".join(seen) + rest
    finally:
        if proc.poll() is None:
            proc.kill()
    if proc.returncode == 0:
        pytest.skip("the calibration finished before it could be interrupted")
    assert proc.returncode == 130, stderr[-2000:]
    assert "generation 0:" in stdout
    assert "Resume with:" in stderr and f"--out {out}" in stderr and "calibrate" in stderr
    rerun = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "resuming from generation" in rerun.stdout
