"""`lasim run` end to end: files, provenance, determinism, ensembles."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from lasim.cli import main


def test_run_writes_everything_with_provenance(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "default", "--seed", "3", "--replications", "3", "--out", str(out),
                 "--set", "horizon_months=36"]) == 0
    printed = capsys.readouterr().out
    assert "scaled" in printed and "95% interval" in printed
    for name in ("timeseries.parquet", "summary.csv", "outcomes.csv", "run.json", "scenario.toml",
                 "adoption.png", "alliance.png"):
        assert (out / name).stat().st_size > 0
    meta = json.loads((out / "run.json").read_text())
    assert meta["root_seed"] == 3 and len(meta["seeds"]) == 3
    assert meta["overrides"] == {"horizon_months": 36}
    assert meta["git_commit"] and meta["lasim_version"]
    series = pd.read_parquet(out / "timeseries.parquet")
    assert len(series) == 3 * 36
    assert b"lasim" in pq.read_schema(out / "timeseries.parquet").metadata
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["seed"]) == meta["seeds"]
    assert (summary["git_commit"] == meta["git_commit"]).all()


def test_same_command_gives_the_same_numbers(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert main(["run", "city", "--seed", "9", "--replications", "2", "--out", str(out), "--no-plots",
                     "--set", "horizon_months=48"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(a / "timeseries.parquet"), pd.read_parquet(b / "timeseries.parquet"))


def test_an_ensemble_gives_every_member_its_own_seeds(tmp_path):
    ens = tmp_path / "posterior_ensemble.toml"
    ens.write_text(
        'format = "lasim-ensemble"\nversion = 1\nscenario = "default"\nparameters = ["learning_rate"]\n'
        "[[members]]\nid = 0\nlearning_rate = 0.2\n[[members]]\nid = 1\nlearning_rate = 0.6\n"
    )
    out = tmp_path / "e"
    assert main(["run", str(ens), "--replications", "2", "--out", str(out), "--no-plots",
                 "--set", "horizon_months=24"]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["member"]) == [0, 0, 1, 1]
    # --replications 2 means 2 runs per member, 4 runs with 4 different seeds
    from model.runner import replication_seeds

    assert list(summary["seed"]) == replication_seeds(1, 4)
    assert len(set(summary["seed"])) == 4
    assert json.loads((out / "run.json").read_text())["ensemble_members"] == [0, 1]


def test_a_bad_ensemble_member_is_one_line(tmp_path, capsys):
    ens = tmp_path / "bad.toml"
    ens.write_text('format = "lasim-ensemble"\nversion = 1\nparameters = ["learning_rate"]\n'
                   "[[members]]\nid = 0\nlearning_rate = 7.0\n")
    assert main(["run", str(ens), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "learning_rate" in err and "7.0" in err
    assert not (tmp_path / "x").exists()


def test_run_writes_the_event_feed_with_causes(tmp_path):
    out = tmp_path / "f"
    assert main(["run", "funding_gap", "--seed", "4", "--replications", "2", "--out", str(out), "--no-plots"]) == 0
    events = pd.read_csv(out / "events.csv", keep_default_na=False)
    meta = json.loads((out / "run.json").read_text())
    assert list(events.columns[:6]) == ["replication", "seed", "month", "kind", "text", "cause"]
    assert (events["git_commit"] == meta["git_commit"]).all() and (events["scenario"] == "funding_gap").all()
    from model.runner import run_scenario

    for r, seed in enumerate(meta["seeds"]):
        mine = events[events["replication"] == r]
        assert (mine["seed"] == seed).all()
        # the file holds exactly the model's events of that run, causes included
        expected = [(e.month, e.kind, e.text, e.cause) for e in run_scenario("funding_gap", seed, series=False).events]
        assert list(mine[["month", "kind", "text", "cause"]].itertuples(index=False, name=None)) == expected
        assert mine["kind"].iloc[-1] == "verdict" and mine["cause"].iloc[-1]
        gap = mine[mine["text"].str.startswith("funding gap starts")]
        assert len(gap) == 1 and "stops for 24 months" in gap["cause"].iloc[0]


@pytest.mark.parametrize("members, words", [
    ('[[members]]\nid = "abc"\nlearning_rate = 0.3\n', ["members[0].id = 'abc'", "must be a whole number"]),
    ("members = [1, 2]\n", ["members[0] = 1", "must be a [[members]] table"]),
])
def test_an_ensemble_with_a_bad_id_or_member_is_one_line(tmp_path, capsys, members, words):
    ens = tmp_path / "bad.toml"
    ens.write_text('format = "lasim-ensemble"\nversion = 1\nparameters = ["learning_rate"]\n' + members)
    assert main(["run", str(ens), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err and "bad.toml" in err, err
    for w in words:
        assert w in err, err
    assert not (tmp_path / "x").exists()
