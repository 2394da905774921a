"""Held-out patterns, the k-fold over patterns, and defaults derived from a calibration."""

from __future__ import annotations

import pandas as pd
import pytest
from calib_fakes import FakeSimulator, write_fake_targets

from calibration.defaults import apply_defaults, derive_defaults
from calibration.defaults import main as defaults_main
from calibration.outofsample import (
    PatternScore,
    computable_targets,
    heldout_scores,
    kfold_scores,
    kfold_splits,
)
from calibration.simulator import ModelSimulator
from calibration.targets import load_targets
from calibration.validation import PATTERN_SHARE, _pattern_check

HELDOUT = """
scenario = "fake"
replications = 2
[[targets]]
name = "H1"
description = "scaled more often with government"
outcome = "scaled"
set = {government_involvement = 1.0}
versus = {government_involvement = 0.0}
difference = 0.3
[[targets]]
name = "H2"
description = "needs a series the model lacks"
outcome = "centralisation"
month = 36
versus_month = 6
difference = 0.05
[[targets]]
name = "H3"
description = "needs a parameter the model lacks"
outcome = "final_adoption"
set = {sustain_horizon_months = 12}
low = 0.0
high = 1.0
"""


def test_heldout_patterns_report_shares_intervals_and_what_is_missing(tmp_path):
    sim = FakeSimulator()
    (tmp_path / "held.toml").write_text(HELDOUT, encoding="utf-8")
    targets, missing, _ = computable_targets(tmp_path / "held.toml", sim, tmp_path / "work")
    assert [t.name for t in targets.targets] == ["H1"]
    assert missing == {"H2": "the model has no series 'centralisation'",
                       "H3": "the model has no parameter 'sustain_horizon_months'"}
    draws = pd.DataFrame({"external_influence": [0.01] * 6, "imitation": [0.1] * 6})
    scores, pred = heldout_scores(tmp_path / "held.toml", sim, draws, seed=4, workers=1,
                                  workdir=tmp_path / "work")
    assert [s.name for s in scores] == ["H1", "H2", "H3"]
    h1 = scores[0]
    assert h1.draws == 6 and 0 <= h1.held <= 6
    lo, hi = h1.interval
    assert lo <= h1.share <= hi and hi - lo > 0.1  # 6 draws: a wide interval
    assert not scores[1].computable and "centralisation" in scores[1].row()
    check = _pattern_check(4, "held-out", scores, "", {})
    assert not check.passed  # a pattern that cannot be computed fails the check
    assert check.details["not_computable"]["H2"].endswith("'centralisation'")


def test_pattern_check_verdict_follows_the_threshold():
    ok = [PatternScore("A", "", 40, 32), PatternScore("B", "", 40, 40)]
    assert PATTERN_SHARE <= 32 / 40
    assert _pattern_check(4, "x", ok, "", {}).passed
    bad = [PatternScore("A", "", 40, 31), PatternScore("B", "", 40, 40)]
    assert not _pattern_check(4, "x", bad, "", {}).passed


def test_shipped_heldout_file_names_the_outputs_it_needs(tmp_path):
    sim = ModelSimulator("default")
    targets, missing, descriptions = computable_targets("heldout_patterns", sim, tmp_path)
    assert set(descriptions) == {"P11", "P11b", "P12", "P12b", "P13", "P13b", "C1", "C1b"}
    # every held-out pattern can be computed on the model, Sartas et al.'s two series included
    assert missing == {}
    assert {t.name for t in targets.targets} == set(descriptions)
    assert {"local_member_share", "centralisation"} <= set(sim.series_fields())


def test_kfold_holds_out_every_pattern_exactly_once(tmp_path):
    targets = load_targets("seed_patterns")
    splits = kfold_splits(targets, 4)
    held = [t.name for _, h in splits for t in h.targets]
    assert sorted(held) == sorted(t.name for t in targets.targets)
    for fit, h in splits:
        assert not {t.name for t in fit.targets} & {t.name for t in h.targets}
    with pytest.raises(ValueError):
        kfold_splits(targets, 1)


def test_kfold_scores_on_the_fake_model(tmp_path):
    sim = FakeSimulator()
    targets = load_targets(write_fake_targets(tmp_path / "t"), sim)
    scores = kfold_scores(targets, sim, tmp_path / "k", k=3, population=6, generations=1, draws=4,
                          seed=2, workers=1, say=lambda s: None)
    assert [s.name for s in scores] == ["P3", "P1"]  # the series target has no yes/no verdict
    assert all(s.draws == 4 for s in scores)
    assert (tmp_path / "k" / "fold0" / "calibration.db").is_file()


def test_defaults_come_from_the_posterior_summary(tmp_path, capsys):
    cal = tmp_path / "cal"
    cal.mkdir()
    pd.DataFrame({"parameter": ["learning_rate", "imitation"], "median": [0.21, 0.17],
                  "mean": [0.2, 0.18]}).to_csv(cal / "posterior_summary.csv", index=False)
    assert derive_defaults(cal) == {"learning_rate": 0.21, "imitation": 0.17}
    assert derive_defaults(cal, "mean") == {"learning_rate": 0.2, "imitation": 0.18}
    text = "name = 'x'\n[parameters]\n# rate\nlearning_rate = 0.3\nhorizon_months = 60\n\n[structure]\n"
    new = apply_defaults(text, {"learning_rate": 0.21, "imitation": 0.17}, "test")
    assert "learning_rate = 0.21\n" in new and "imitation = 0.17\n" in new
    assert "# rate\n" in new and "horizon_months = 60\n" in new and new.endswith("[structure]\n")
    assert new.count("# calibrated: test") == 2
    # idempotent: applying again changes nothing
    assert apply_defaults(new, {"learning_rate": 0.21, "imitation": 0.17}, "test") == new
    scen = tmp_path / "s.toml"
    scen.write_text(text, encoding="utf-8")
    assert defaults_main([str(cal), "--scenario", str(scen), "--write"]) == 0
    assert "learning_rate = 0.21" in scen.read_text()
    assert defaults_main([str(tmp_path / "nothing")]) == 2
    assert "posterior_summary.csv" in capsys.readouterr().err


def test_validation_section_is_generated_from_validation_json(tmp_path):
    import json

    from calibration.validation_docs import END, START, main, render_section, update_doc

    result = {
        "seed": 7, "workers": 2, "elapsed_s": 754.0, "quick": False, "passed": False,
        "provenance": {"lasim_version": "0.1.0", "git_commit": "abc123", "python": "3.12.1",
                       "created": "2026-11-23T22:00:00+00:00"},
        "code": {"sources_sha256": "deadbeef", "numpy": "2.5.5"},
        "checks": [
            {"number": 1, "name": "Bass limit", "measured": "max |error| 0.006", "criterion": "< 0.02",
             "passed": True, "details": {}},
            {"number": 4, "name": "held-out", "measured": "lowest: P12 holds in 70%",
             "criterion": ">= 80% of draws each", "passed": False,
             "details": {"shares": {"P12": 0.7, "C1": None}, "intervals95": {"P12": [0.55, 0.82]},
                         "not_computable": {"C1": "the model has no series 'local_member_share'"}}},
        ],
    }
    text = render_section(result)
    assert "**overall FAIL** in 12 min 34 s" in text and "commit abc123" in text
    assert "| 4 held-out | lowest: P12 holds in 70% | >= 80% of draws each | FAIL |" in text
    assert "P12 70% [55%, 82%]" in text and "C1: not computable" in text
    doc = f"# x\n\nbefore\n{START}\nold\n{END}\nafter\n"
    assert update_doc(doc, text) == f"# x\n\nbefore\n{text}\nafter\n"
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "validation.json").write_text(json.dumps(result))
    (tmp_path / "doc.md").write_text(doc)
    assert main([str(tmp_path / "v"), "--doc", str(tmp_path / "doc.md")]) == 0
    assert "abc123" in (tmp_path / "doc.md").read_text()
    assert main([str(tmp_path / "nothing"), "--doc", str(tmp_path / "doc.md")]) == 2


def test_validation_section_shows_recovery_value_by_value_and_what_failing_draws_share(tmp_path):
    import pandas as pd

    from calibration.validation_docs import render_section

    case = {"case": 0, "external_influence_true": 0.008, "external_influence_low": 0.00804,
            "external_influence_high": 0.0169, "external_influence_inside": False,
            "imitation_true": 0.09, "imitation_low": 0.058, "imitation_high": 0.0975, "imitation_inside": True}
    result = {
        "seed": 7, "workers": 2, "elapsed_s": 60.0, "passed": False, "provenance": {}, "code": {},
        "checks": [
            {"number": 2, "name": "recovery", "measured": "1/2", "criterion": "every", "passed": False,
             "details": {"coverage": 0.5, "cases": [case]}},
            {"number": 4, "name": "held-out", "measured": "lowest: P13 holds in 50%", "criterion": ">= 80%",
             "passed": False, "details": {"shares": {"P13": 0.5, "P11": 1.0}, "intervals95": {}}},
        ],
    }
    pd.DataFrame({"imitation": [0.1, 0.2, 0.3, 0.4], "P11": [1, 1, 1, 1], "P11:holds": [True] * 4,
                  "P13:a": [0.9] * 4, "P13:holds": [True, True, False, False]}).to_csv(
        tmp_path / "check4_heldout.csv", index=False)
    text = render_section(result, tmp_path)
    # 0.00804 printed at 4 decimals was 0.0080, and the true 0.008 looked inside
    assert "case 0 p = 0.008 **outside** [0.00804, 0.0169]" in text
    assert "case 0 q = 0.09 inside [0.058, 0.0975]" in text
    assert "all 2 would hold together with chance 90%^2 = 81%" in text
    assert "P13 fails in 2 draws (imitation 0.35 vs 0.15)" in text
    assert "P11 fails" not in text  # it holds in every draw
    assert "fails in" not in render_section(result)  # no folder, no per-draw lines
