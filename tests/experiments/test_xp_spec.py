"""The experiment spec: parsing, plans, seeds, exports, and bad specs refused cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments.spec import SPECS_DIR, ExperimentSpec, load_spec
from lasim.cli import main
from model.errors import LasimInputError
from model.runner import replication_seeds

REPO = Path(__file__).resolve().parents[2]

BASE = """
name = "t"
scenario = "default"
replications = 2
seed = 11
outcomes = ["scaled", "sustained", "peak_adoption"]
[fixed]
horizon_months = 24
"""
FACTORIAL = BASE + """
[factors.facilitation_quality]
levels = [0.2, 0.5, 0.8]
[factors.funding_gap_months]
levels = [0, 12]
"""
SOBOL = BASE + """
[sampler]
method = "sobol"
n = 8
[factors.facilitation_quality]
range = [0.1, 0.9]
[factors.funding_gap_months]
range = [0, 24]
[factors.documentation]
"""


def spec_from(text: str, tmp_path: Path, name: str = "spec.toml") -> ExperimentSpec:
    path = tmp_path / name
    path.write_text(text)
    return load_spec(path)


def test_factorial_plan_ids_replications_and_common_seeds(tmp_path):
    spec = spec_from(FACTORIAL, tmp_path)
    raw, plan = spec.plan()
    assert raw is None
    assert spec.n_runs == len(plan) == 3 * 2 * 2
    assert list(plan["run_id"]) == list(range(12))
    assert (plan["run_id"] == plan["sample_id"] * 2 + plan["replication"]).all()
    # common random numbers: replication r has the same seed at every point, and it is
    # the seed `lasim run --seed 11` gives replication r
    expected = replication_seeds(11, 2)
    for r in (0, 1):
        assert set(plan.loc[plan["replication"] == r, "seed"]) == {expected[r]}
    assert plan["funding_gap_months"].dtype == np.int64
    assert sorted(set(plan["facilitation_quality"])) == [0.2, 0.5, 0.8]


def test_independent_seeds_are_spawned_per_run_and_stable(tmp_path):
    spec = spec_from(FACTORIAL.replace("seed = 11", "seed = 11\ncommon_random_numbers = false"),
                     tmp_path)
    _, plan = spec.plan()
    assert list(plan["seed"]) == replication_seeds(11, 12)
    assert plan["seed"].nunique() == 12


def test_sobol_plan_shape_integer_rounding_and_default_range(tmp_path):
    spec = spec_from(SOBOL, tmp_path)
    raw, plan = spec.plan()
    d = 3
    assert raw.shape == (8 * (2 * d + 2), d)
    assert spec.n_samples == raw.shape[0]
    assert len(plan) == 2 * raw.shape[0]
    assert plan["funding_gap_months"].dtype == np.int64
    assert plan["documentation"].between(0, 1).all()   # default range = allowed range
    # the design is reproducible from the spec alone
    raw2, plan2 = spec_from(SOBOL, tmp_path, "again.toml").plan()
    np.testing.assert_array_equal(raw, raw2)


def test_exports_salib_problem_and_ema_parameters(tmp_path):
    spec = spec_from(SOBOL, tmp_path)
    ps = spec.salib_problem(outputs=["scaled"])
    assert ps["names"] == ["facilitation_quality", "funding_gap_months", "documentation"]
    assert ps["bounds"][0] == [0.1, 0.9]
    params = spec.ema_parameters()
    assert [p.name for p in params] == ps["names"]
    gap = params[1]
    assert type(gap).__name__ == "IntegerParameter"
    assert type(gap.lower_bound) is int and type(gap.upper_bound) is int


def test_fingerprint_ignores_name_and_description_not_factors(tmp_path):
    a = spec_from(FACTORIAL, tmp_path)
    b = spec_from(FACTORIAL.replace('name = "t"', 'name = "other"\ndescription = "x"'),
                  tmp_path, "b.toml")
    c = spec_from(FACTORIAL.replace("0.8]", "0.9]"), tmp_path, "c.toml")
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_shipped_specs_load():
    names = {p.stem for p in SPECS_DIR.glob("*.toml")}
    assert {"headline", "sobol", "morris"} <= names
    for name in names:
        spec = load_spec(name)
        assert spec.n_runs > 0
    sobol = load_spec("sobol")
    assert sobol.sampler.method == "sobol" and len(sobol.factors) >= 8
    assert load_spec("morris").sampler.method == "morris"
    head = load_spec("headline")
    assert set(head.factor_names) == {"facilitation_quality", "funding_gap_months",
                                      "government_involvement"}
    assert head.replications > 1 and head.heatmap is not None


BAD = {
    "unknown parameter": (FACTORIAL.replace("[factors.funding_gap_months]",
                                            "[factors.fundng_gap]"), "fundng_gap"),
    "empty range": (SOBOL.replace("range = [0.1, 0.9]", "range = [0.5, 0.5]"), "empty range"),
    "reversed range": (SOBOL.replace("range = [0, 24]", "range = [24, 0]"), "empty range"),
    "empty levels": (FACTORIAL.replace("levels = [0, 12]", "levels = []"), "at least 1 item"),
    "N not a power of two": (SOBOL.replace("n = 8", "n = 100"), "power of two"),
    "levels with sobol": (SOBOL.replace("range = [0, 24]", "levels = [0, 12]"),
                          "draws from a range"),
    "range with factorial": (FACTORIAL.replace("levels = [0, 12]", "range = [0, 12]"),
                             "needs levels"),
    "morris with one factor": (BASE + '[sampler]\nmethod = "morris"\nn = 4\n'
                               "[factors.documentation]\n", "at least 2 factors"),
    "level out of range": (FACTORIAL.replace("0.8]", "1.8]"), "allowed range"),
    "fractional integer level": (FACTORIAL.replace("levels = [0, 12]", "levels = [0, 1.5]"),
                                 "whole number"),
    "unknown sampler": (SOBOL.replace('method = "sobol"', 'method = "halton"'),
                        "sampler.method = 'halton': Input should be 'factorial', 'lhs', 'sobol' or 'morris'"),
    "unknown key": (FACTORIAL + "replicatons = 3\n", "unknown field 'factors.funding_gap_months.replicatons'; "
                    "allowed here: levels, range"),
    "unknown outcome": (FACTORIAL.replace('"peak_adoption"', '"peak"'), "unknown outcome"),
    "bad fixed value": (FACTORIAL.replace("horizon_months = 24", "horizon_months = 5"),
                        "horizon_months"),
    "malformed toml": (FACTORIAL + "[factors\n", "malformed TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_spec_raises_one_line_naming_the_field(case, tmp_path):
    text, needle = BAD[case]
    with pytest.raises(LasimInputError) as info:
        spec_from(text, tmp_path)
    msg = str(info.value)
    assert needle in msg
    assert "\n" not in msg
    assert "spec.toml" in msg


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "lasim.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


CLI_BAD = {
    "unknown parameter": BAD["unknown parameter"][0],
    "empty range": BAD["empty range"][0],
    "N not a power of two": BAD["N not a power of two"][0],
    "sampler does not fit": BAD["levels with sobol"][0],
    "malformed toml": BAD["malformed toml"][0],
}


@pytest.mark.parametrize("case", [*sorted(CLI_BAD), "missing file", "unreadable file"])
def test_cli_bad_spec_exit_2_one_line_and_out_dir_untouched(case, tmp_path, capsys):
    spec_path = tmp_path / "spec.toml"
    if case in CLI_BAD:
        spec_path.write_text(CLI_BAD[case])
    elif case == "unreadable file":
        spec_path.write_bytes(b"\xff\xfe\x00bad bytes")
    new_out = tmp_path / "never_created"
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    before = _snapshot(existing)
    for out in (new_out, existing):
        # The real entry point in a subprocess once; in-process (same code path,
        # seconds faster) for the other directory.
        if out is existing:
            proc = _cli("sweep", str(spec_path), "--out", str(out), "--processes", "1",
                        cwd=tmp_path)
            code, stderr = proc.returncode, proc.stderr
        else:
            code = main(["sweep", str(spec_path), "--out", str(out), "--processes", "1"])
            stderr = capsys.readouterr().err
        assert code == 2, stderr
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("lasim: error: "), stderr
        assert "Traceback" not in stderr
    assert not new_out.exists()
    assert _snapshot(existing) == before


def test_distributions_stay_in_range_and_misplaced_options_are_refused(tmp_path):
    text = BASE + """
[sampler]
method = "lhs"
n = 200
[factors.facilitation_quality]
range = [0.2, 0.9]
distribution = "triangular"
peak = 0.7
[factors.turnover_rate]
range = [0.0, 0.1]
distribution = "normal"
mean = 0.02
sd = 0.02
[factors.meeting_cost]
range = [0.5, 20.0]
distribution = "loguniform"
"""
    _, plan = spec_from(text, tmp_path).plan()
    assert plan["facilitation_quality"].between(0.2, 0.9).all()
    assert plan["turnover_rate"].between(0.0, 0.1).all()
    assert plan["turnover_rate"].median() < 0.04          # mass near the mean, not uniform
    assert plan["meeting_cost"].between(0.5, 20.0).all()
    assert plan["meeting_cost"].median() < 5              # log-uniform median ~ 3.2
    with pytest.raises(LasimInputError, match="peak.*not used by a uniform"):
        spec_from(text.replace('distribution = "triangular"\n', ""), tmp_path, "b.toml")


@pytest.mark.parametrize("data, words", [
    ({"replicatons": 3}, ["unknown field 'replicatons'", "did you mean 'replications'"]),
    ({"replications": True}, ["replications = True", "valid integer"]),
    ({"seed": -1}, ["seed = -1", "greater than or equal to 0"]),
    ({"factors": {"facilitation_quality": 3}}, ["factors.facilitation_quality = 3", "must be a table"]),
    ({"factors": {"facilitation_quality": {"levels": [0.2, float("inf")]}}},
     ["factors.facilitation_quality.levels.1 = inf", "finite number"]),
    ({"off": ["fadee"]}, ["off", "unknown mechanism 'fadee'", "did you mean 'fade'"]),
    ({"fixed": {"facilitation_quality": 0.3}}, ["fixed.facilitation_quality = 0.3", "either fixed or varied"]),
])
def test_typed_spec_errors_name_field_value_and_what_is_allowed(data, words):
    # the spec is a pydantic model; its errors go through model.validation's formatter like a scenario's
    body = {"factors": {"facilitation_quality": {"levels": [0.2, 0.5]}}, **data}
    with pytest.raises(LasimInputError) as info:
        ExperimentSpec.from_dict(body, "s.toml")
    msg = str(info.value)
    assert msg.startswith("s.toml: ") and "\n" not in msg
    for w in words:
        assert w in msg, msg
