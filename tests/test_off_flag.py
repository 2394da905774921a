"""`--off NAME` switches a mechanism off in `lasim run` and `lasim compare`."""

from __future__ import annotations

import json
import subprocess
import sys

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
])
def test_an_unknown_mechanism_is_one_line_with_a_suggestion(tmp_path, command):
    proc = subprocess.run([sys.executable, "-m", "lasim.cli", *command, "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "donor_distortoin" in lines[0] and "donor_distortion" in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()
