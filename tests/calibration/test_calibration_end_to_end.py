"""``lasim calibrate`` and ``lasim validate`` on the real model, small and short."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_validate_quick_check_1_prints_table(tmp_path, capsys):
    code = main(["validate", "--quick", "--checks", "1", "--out", str(tmp_path / "v"),
                 "--workers", "2"])
    text = capsys.readouterr().out
    assert "1 Bass limit" in text and "overall:" in text
    assert (tmp_path / "v" / "check1_bass.png").is_file()
    result = json.loads((tmp_path / "v" / "validation.json").read_text())
    assert result["checks"][0]["details"]["max_abs_error"] < 0.05
    assert code in (0, 1)


def test_validate_bad_checks_exit_2(tmp_path, capsys):
    assert main(["validate", "--checks", "4", "--out", str(tmp_path / "v")]) == 2
    assert "--checks" in capsys.readouterr().err
    assert not (tmp_path / "v").exists()
