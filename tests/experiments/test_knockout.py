"""Knock-out experiments: paired statistics, common random numbers, ``lasim knockout``."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from experiments.knockout import FULL, knockout_designs, paired_effects, plot_knockout, run_knockout
from lasim.cli import main
from model.errors import LasimInputError, ScenarioError
from model.mechanisms import MECHANISMS
from model.runner import replication_seeds


def _table(full: list[float], ko: list[float], outcome: str = "x") -> pd.DataFrame:
    seeds = list(range(100, 100 + len(full)))
    return pd.DataFrame({"design": [FULL] * len(full) + ["m"] * len(ko), "seed": seeds + seeds,
                         outcome: full + ko})


def test_effect_is_the_mean_paired_difference_with_a_t_interval():
    full, ko = [1.0, 2.0, 3.0, 4.0, 5.0], [1.5, 2.0, 4.0, 4.0, 6.5]
    row = paired_effects(_table(full, ko), ["x"]).iloc[0]
    d = np.array(ko) - np.array(full)
    half = 2.776445105 * d.std(ddof=1) / math.sqrt(5)  # t(0.975, 4)
    assert row["effect"] == pytest.approx(d.mean())
    assert row["low"] == pytest.approx(d.mean() - half, rel=1e-6)
    assert row["high"] == pytest.approx(d.mean() + half, rel=1e-6)
    assert row["n"] == 5 and row["changed"] == 3


def test_pairs_are_matched_by_seed_not_by_row_order():
    t = _table([0.0, 1.0, 0.0], [0.0, 1.0, 0.0])
    t = pd.concat([t[t["design"] == FULL], t[t["design"] == "m"].iloc[::-1]])
    row = paired_effects(t, ["x"]).iloc[0]
    assert row["effect"] == 0 and row["changed"] == 0 and not row["clear"]


def test_share_intervals_stay_within_minus_one_and_one():
    row = paired_effects(_table([1.0, 1.0, 1.0], [0.0, 0.0, 1.0]), ["x"]).iloc[0]
    assert -1.0 <= row["low"] <= row["effect"] <= row["high"] <= 1.0


def test_undefined_outcomes_drop_the_pair():
    row = paired_effects(_table([1.0, math.nan, 3.0], [2.0, 5.0, math.nan]), ["x"]).iloc[0]
    assert row["n"] == 1 and row["effect"] == 1.0 and math.isnan(row["low"])


def test_designs_cover_every_running_mechanism_and_refuse_bad_names(default_scenario):
    designs = knockout_designs(default_scenario)
    assert list(designs) == [FULL, *MECHANISMS]
    assert designs["fade"].switched_off() == ["fade"]
    assert default_scenario.switched_off() == []
    without = knockout_designs(default_scenario.knock_out(["fade"]))
    assert "fade" not in without and set(without["turnover"].switched_off()) == {"fade", "turnover"}
    with pytest.raises(ScenarioError, match="fadee"):
        knockout_designs(default_scenario, ["fadee"])
    with pytest.raises(LasimInputError, match="already off"):
        knockout_designs(default_scenario.knock_out(["fade"]), ["fade"])


def test_common_random_numbers_and_a_mechanism_that_stops_everything(default_scenario):
    result = run_knockout(default_scenario, 3, root_seed=5, mechanisms=["adoption", "meetings"], processes=1)
    assert result.seeds == replication_seeds(5, 3)
    for _, g in result.runs.groupby("design"):
        assert list(g["seed"]) == result.seeds
    eff = result.effects.set_index(["mechanism", "outcome"])
    # nobody adopts without adoption: the effect on peak adoption is minus the full model's
    assert eff.loc[("adoption", "peak_adoption"), "knocked_out"] == 0
    assert eff.loc[("adoption", "peak_adoption"), "effect"] == pytest.approx(
        -eff.loc[("adoption", "peak_adoption"), "full"])
    assert eff.loc[("meetings", "functioning"), "knocked_out"] == 0
    fig = plot_knockout(result.effects, "default")
    assert len([ax for ax in fig.axes if ax.get_visible()]) == result.effects["outcome"].nunique()


def test_processes_give_the_same_table_as_serial(default_scenario):
    a = run_knockout(default_scenario, 2, 1, mechanisms=["fade"], processes=1)
    b = run_knockout(default_scenario, 2, 1, mechanisms=["fade"], processes=2)
    pd.testing.assert_frame_equal(a.effects, b.effects)
    pd.testing.assert_frame_equal(a.runs, b.runs)


def test_command_writes_table_plot_and_provenance_and_keeps_existing_output(tmp_path, capsys):
    out = tmp_path / "ko"
    rc = main(["knockout", "default", "-n", "2", "--seed", "3", "-m", "fade", "--off", "donor_distortion",
               "--out", str(out), "--processes", "1", "-q"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "fade" in printed and "full model mean" in printed
    assert sorted(p.name for p in out.iterdir()) == ["knockout.csv", "knockout.png", "run.json", "runs.csv",
                                                     "scenario.toml"]
    meta = json.loads((out / "run.json").read_text())
    assert meta["seeds"] == replication_seeds(3, 2) and meta["off"] == ["donor_distortion"]
    table = pd.read_csv(out / "knockout.csv")
    assert set(table["mechanism"]) == {"fade"}
    before = (out / "knockout.csv").read_bytes()
    assert main(["knockout", "default", "-n", "2", "-m", "turnover", "--out", str(out), "-q"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "knockout.csv").read_bytes() == before


@pytest.mark.parametrize("argv, field", [
    (["-m", "nosuch"], "nosuch"),
    (["--off", "nosuch"], "nosuch"),
    (["--set", "facilitation_quality=7"], "facilitation_quality"),
    (["--processes", "0"], "--processes"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, argv, field):
    out = tmp_path / "ko"
    assert main(["knockout", "default", "-n", "2", "--out", str(out), "-q", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and field in err
    assert not out.exists()


def test_knockout_never_writes_outside_out_and_swaps_results_in_whole(tmp_path, monkeypatch):
    design = tmp_path / "evil.toml"
    design.write_text('base = "default"\nname = "../../escaped"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["knockout", str(design), "-n", "2", "-m", "turnover", "--processes", "1", "-q"]) == 0
    made = [p for p in tmp_path.rglob("knockout.csv")]
    assert len(made) == 1 and made[0].parent.parent == tmp_path / "runs"
    # an overwrite leaves only the new results and no hidden leftovers
    out = made[0].parent
    (out / "stale.txt").write_text("old")
    assert main(["knockout", str(design), "-n", "2", "-m", "turnover", "--processes", "1", "-q",
                 "--overwrite"]) == 0
    assert not (out / "stale.txt").exists() and (out / "knockout.csv").exists()
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [out.name]


def test_compare_and_knockout_share_one_paired_difference():
    # the same pairs give the same interval in both reports (t quantile, clipped for shares)
    from experiments.compare import differences
    from experiments.statistics import paired_difference

    full, ko = [1.0, 1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0]
    row = paired_effects(_table(full, ko), ["x"]).iloc[0]
    runs = pd.DataFrame({"design": ["A"] * 5 + ["B"] * 5, "replication": list(range(5)) * 2,
                         "scaled": [bool(v) for v in full + ko], "sustained": [False] * 10, "functioning": [True] * 10,
                         "total_cost": [1.0] * 10})
    d = differences(runs).iloc[0]
    mean, low, high, n = paired_difference(full, ko)
    assert (d["d_scaled"], d["d_scaled_lo"], d["d_scaled_hi"]) == pytest.approx((mean, low, high))
    assert (row["effect"], row["low"], row["high"]) == pytest.approx((mean, low, high))
    d_ = np.array(ko) - np.array(full)
    assert n == 5 and high == pytest.approx(d_.mean() + 2.776445105 * d_.std(ddof=1) / math.sqrt(5))  # t(0.975, 4)
    assert low == -1.0  # mean - half = -1.08 lies outside what a difference of shares can be
