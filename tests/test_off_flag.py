"""`--off NAME` switches a mechanism off in `lasim run`, `compare`, `sweep` and `sensitivity`."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import pandas as pd
import pytest

from lasim.cli import main


def test_run_off_switches_the_mechanism_off_and_records_it(tmp_path):
    full, off = tmp_path / "full", tmp_path / "off"
    common = ["run", "default", "--seed", "4", "--replications", "2", "--no-plots", "--set", "horizon_months=60"]
    assert main([*common, "--out", str(full)]) == 0
    assert main([*common, "--out", str(off), "--off", "adoption"]) == 0
    assert pd.read_csv(full / "summary.csv")["peak_adoption"].gt(0).all()
    # nobody can adopt: the knock-out reached the model, not just the record
    assert pd.read_csv(off / "summary.csv")["peak_adoption"].eq(0).all()
    meta = json.loads((off / "run.json").read_text())
    assert meta["off"] == ["adoption"]
    assert meta["scenario"]["mechanisms"]["adoption"] is False
    assert "adoption = false" in (off / "scenario.toml").read_text()


def test_compare_off_applies_to_every_design(tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", "default", "city", "-n", "2", "--seed", "1", "--processes", "1", "--quiet",
                 "--out", str(out), "--off", "adoption"]) == 0
    runs = pd.read_csv(out / "runs.csv")
    assert set(runs["design"].str[0]) == {"A", "B"}
    assert runs["peak_adoption"].eq(0).all()


@pytest.mark.parametrize("command", [
    ["run", "default", "--off", "donor_distortoin"],
    ["compare", "default", "city", "--off", "donor_distortoin"],
    ["sweep", "headline", "--off", "donor_distortoin"],
    ["sensitivity", "sobol", "--off", "donor_distortoin"],
])
def test_an_unknown_mechanism_is_one_line_with_a_suggestion(tmp_path, command):
    proc = subprocess.run([sys.executable, "-m", "lasim.cli", *command, "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "donor_distortoin" in lines[0] and "donor_distortion" in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


SWEEP_SPEC = """
name = "offs"
replications = 1
seed = 2
outcomes = ["peak_adoption"]
[fixed]
horizon_months = 24
[factors.facilitation_quality]
levels = [0.3, 0.8]
"""


def test_sweep_off_reaches_the_model_is_recorded_and_identifies_the_store(tmp_path, capsys):
    from experiments.store import load_results

    spec = tmp_path / "offs.toml"
    spec.write_text(SWEEP_SPEC)
    out = tmp_path / "out"
    sweep = ["sweep", str(spec), "--out", str(out), "--processes", "1", "--no-progress"]
    assert main([*sweep, "--off", "adoption", "--off", "adoption"]) == 0
    assert load_results(out)["peak_adoption"].eq(0).all()  # nobody adopts: the switch reached every run
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["spec"]["off"] == ["adoption"]
    assert tomllib.loads((out / "spec.toml").read_text())["off"] == ["adoption"]
    capsys.readouterr()
    # the same experiment resumes; without --off it is another experiment and is refused
    assert main([*sweep, "--off", "adoption"]) == 0
    capsys.readouterr()
    assert main(sweep) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "off = ['adoption']" in err[0] and "off = []" in err[0], err
    # `off = [...]` in the spec is the same experiment as the flag
    spec.write_text('off = ["adoption"]\n' + SWEEP_SPEC)
    assert main(sweep) == 0
    full = tmp_path / "full"
    spec.write_text(SWEEP_SPEC)
    assert main(["sweep", str(spec), "--out", str(full), "--processes", "1", "--no-progress"]) == 0
    assert load_results(full)["peak_adoption"].gt(0).all()
