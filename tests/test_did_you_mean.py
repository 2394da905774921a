"""A misspelt name of any kind gets one line, the closest allowed name, and exit code 2."""

from __future__ import annotations

import pytest

from lasim.cli import main
from model.errors import did_you_mean


def _one_line_hint(argv: list[str], capsys, suggestion: str) -> str:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors end here, as from the shell
        code = exc.code
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert f"(did you mean {suggestion!r}?)" in lines[0], lines[0]
    return lines[0]


def test_helper_prefers_a_prefix_then_the_closest_spelling():
    assert did_you_mean("facilitation", ["funding_gap_months", "facilitation_quality"]) == \
        " (did you mean 'facilitation_quality'?)"
    assert did_you_mean("scald", ["scaled", "sustained"]) == " (did you mean 'scaled'?)"
    assert did_you_mean("zzzz", ["scaled", "sustained"]) == ""


def test_subcommand(capsys):
    _one_line_hint(["rn"], capsys, "run")


def test_scenario(capsys, tmp_path):
    line = _one_line_hint(["run", "defualt", "--out", str(tmp_path / "o")], capsys, "default")
    assert "shipped scenarios:" in line
    assert not (tmp_path / "o").exists()


def test_scenario_base(capsys, tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('base = "funding_gp"\n')
    _one_line_hint(["show", str(f)], capsys, "funding_gap")


def test_parameter(capsys, tmp_path):
    _one_line_hint(["run", "--set", "facilitation_qualty=0.3", "--out", str(tmp_path / "o")], capsys,
                   "facilitation_quality")


def test_spec(capsys, tmp_path):
    line = _one_line_hint(["sweep", "headlin", "--out", str(tmp_path / "o")], capsys, "headline")
    assert "shipped specs:" in line


def test_spec_outcome_and_factor(capsys, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('name = "s"\nscenario = "default"\noutcomes = ["scald"]\n'
                    '[factors.facilitation_quality]\nlevels = [0.2, 0.8]\n')
    _one_line_hint(["sweep", str(spec), "--out", str(tmp_path / "o")], capsys, "scaled")
    spec.write_text('name = "s"\nscenario = "default"\n[factors.goverment_involvement]\nlevels = [0.2, 0.8]\n')
    _one_line_hint(["sweep", str(spec), "--out", str(tmp_path / "o")], capsys, "government_involvement")


def test_discover_outcome(capsys, tmp_path, monkeypatch):
    pytest.importorskip("ema_workbench")
    from experiments.executors import SerialExecutor
    from experiments.spec import load_spec
    from experiments.sweep import run_sweep

    spec = tmp_path / "s.toml"
    spec.write_text('name = "s"\nscenario = "default"\nreplications = 2\nseed = 1\n'
                    '[factors.facilitation_quality]\nlevels = [0.2, 0.8]\n')
    monkeypatch.syspath_prepend(str(__import__("pathlib").Path(__file__).parent / "experiments"))
    run_sweep(load_spec(spec), tmp_path / "o", executor=SerialExecutor(), progress=False,
              run_function="xp_fakes:toy_run")
    _one_line_hint(["discover", str(tmp_path / "o"), "--outcome", "scald"], capsys, "scaled")


def test_design(capsys, tmp_path):
    line = _one_line_hint(["compare", "district_hub", "linked_layers", "--out", str(tmp_path / "o")], capsys,
                          "district_hubs")
    assert "shipped designs:" in line


def test_stakeholder_kind(capsys, tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('base = "default"\n[traits.local_goverment]\nreach = 3\n')
    _one_line_hint(["show", str(f)], capsys, "local_government")


def test_mechanism(capsys, tmp_path):
    _one_line_hint(["knockout", "-m", "fad", "--out", str(tmp_path / "o")], capsys, "fade")


def test_targets(capsys, tmp_path):
    pytest.importorskip("pyabc")
    _one_line_hint(["calibrate", "bass_serie", "--out", str(tmp_path / "o")], capsys, "bass_series")
