"""lasim optimise with small budgets: reproducible, resumable, a non-dominated front, loadable designs."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

pytest.importorskip("optuna")

from experiments.optimise import (  # noqa: E402
    DEFAULT_SPACE,
    OptimiseSettings,
    SearchVariable,
    confirm,
    design_cost,
    finished_trials,
    non_dominated,
    parse_target,
    parse_vary,
    search,
    search_front,
)
from experiments.optimise_report import write_outputs  # noqa: E402
from lasim.cli import main  # noqa: E402
from model.errors import LasimInputError  # noqa: E402
from model.scenario import load_scenario  # noqa: E402
from model.structure_variables import structure_values  # noqa: E402

SHORT = {"horizon_months": 24, "project_months": 12, "sustain_horizon_months": 12}
SPACE = (
    SearchVariable("community_platforms", 0, 4, 1, True),
    SearchVariable("exchange_links", 0, 3, 1, True),
    SearchVariable("meeting_interval", 1, 6, 1, True),
    SearchVariable("facilitation_quality", 0.4, 1.0, 0.1),
)


def settings(seed=0, **kw):
    return OptimiseSettings(conditions=SHORT, space=SPACE, objectives=("functioning",), replications=2,
                            seed=seed, population=4, **kw)


@pytest.mark.parametrize("seed", [0, 7])
def test_same_seed_same_trials(tmp_path, seed):
    a = search(settings(seed), tmp_path / "a", 6).trials
    b = search(settings(seed), tmp_path / "b", 6).trials
    assert len(a) == 6 and (a["state"] == "COMPLETE").all()
    pd.testing.assert_frame_equal(a, b)
    c = search(settings(seed + 1), tmp_path / "c", 6).trials
    assert not a.drop(columns="trial").equals(c.drop(columns="trial"))


def test_a_rerun_resumes_without_redoing_trials(tmp_path):
    s = settings(3)
    runs = itertools.count()
    first = search(s, tmp_path, 4, on_result=lambda r: next(runs)).trials
    assert next(runs) == 4 * 2
    runs = itertools.count()
    again = search(s, tmp_path, 7, on_result=lambda r: next(runs))
    assert next(runs) == 3 * 2  # only the three new trials ran
    assert again.resumed_from == 4 and again.completed == 7
    pd.testing.assert_frame_equal(again.trials.head(4), first)


@pytest.mark.parametrize("seed", [3, 11])
def test_a_resumed_search_draws_the_designs_of_one_run_straight_through(tmp_path, seed):
    designs = [v.name for v in SPACE]
    straight = search(settings(seed), tmp_path / "a", 10).trials
    search(settings(seed), tmp_path / "b", 3)  # stopped after 3 trials (one population, not a generation's end)
    search(settings(seed), tmp_path / "b", 6)
    resumed = search(settings(seed), tmp_path / "b", 10).trials
    pd.testing.assert_frame_equal(resumed[designs], straight[designs])
    # and a trial killed halfway is redrawn as the same design
    runs = itertools.count()

    def stop_in_trial_six(_run):
        if next(runs) == 5 * 2 + 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        search(settings(seed), tmp_path / "c", 10, on_result=stop_in_trial_six)
    killed = search(settings(seed), tmp_path / "c", 10).trials
    done = killed[killed["state"] == "COMPLETE"].reset_index(drop=True)
    pd.testing.assert_frame_equal(done[designs], straight[designs])


def test_an_interrupted_trial_is_failed_and_replaced(tmp_path):
    s = settings(5)
    runs = itertools.count()

    def stop_in_trial_three(_run):
        if next(runs) == 2 * 2 + 1:  # the second run of the third trial
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        search(s, tmp_path, 6, on_result=stop_in_trial_three)
    assert finished_trials(s, tmp_path) == 2
    state = search(s, tmp_path, 6)
    states = state.trials["state"].tolist()
    assert states.count("COMPLETE") == 6 and states.count("FAIL") == 1 and states[2] == "FAIL"


def test_front_is_non_dominated_and_confirmed_on_fresh_seeds(tmp_path):
    s = settings(1)
    trials = search(s, tmp_path, 10).trials
    front = search_front(trials, s, 5)
    done = trials[trials["state"] == "COMPLETE"]
    for r in front.itertuples():
        dominated = (done["cost"] <= r.cost) & (done["p_functioning"] >= r.p_functioning) & (
            (done["cost"] < r.cost) | (done["p_functioning"] > r.p_functioning))
        assert not dominated.any()
    confirmed = confirm(s, front, 3)
    assert len(confirmed) == len(front) and (confirmed["n"] == 3).all()
    assert ((confirmed["p_functioning_low"] <= confirmed["p_functioning"])
            & (confirmed["p_functioning"] <= confirmed["p_functioning_high"])).all()
    assert "non_dominated" in confirmed


def test_non_dominated_mask():
    mask = non_dominated([1, 2, 3, 2], [[0.1], [0.5], [0.4], [0.5]])
    assert mask.tolist() == [True, True, False, True]


def test_written_designs_load_and_carry_the_design(tmp_path):
    s = settings(2, target=parse_target("functioning>=0.5"))
    trials = search(s, tmp_path, 6).trials
    confirmed = confirm(s, search_front(trials, s, 3), 2)
    write_outputs(tmp_path, s, trials, confirmed, "answer", "lasim optimise ...")
    files = sorted((tmp_path / "designs").glob("*.toml"))
    assert len(files) == len(confirmed) > 0
    for path, r in zip(sorted(files, key=lambda p: int(p.stem.split("_")[1])),
                       confirmed.sort_values("trial").to_dict("records"), strict=True):
        scenario = load_scenario(path)
        assert structure_values(scenario.structure)["community_platforms"] == r["community_platforms"]
        design = {v.name: r[v.name] for v in SPACE}
        assert scenario.structure == s.base_scenario().with_parameters(**design).structure
        assert scenario.parameters.meeting_interval == r["meeting_interval"]
        assert scenario.parameters.horizon_months == 24
    assert (tmp_path / "front.png").stat().st_size > 0
    assert {"trials.csv", "front.csv", "optimise.md", "study.db"} <= {p.name for p in tmp_path.iterdir()}


def test_cost_model_prices_facilitation_above_the_base():
    params = load_scenario("default").parameters
    summary = {"total_cost": 500.0, "case_study_months": 50.0}  # 100 k USD of case studies, 400 of meetings
    assert design_cost(summary, params, 0.7) == 500.0
    better = params.model_copy(update={"facilitation_quality": 0.9})
    assert design_cost(summary, better, 0.7) == pytest.approx(500.0 + 0.2 * 400.0)


def test_default_space_is_valid_on_default():
    OptimiseSettings(space=DEFAULT_SPACE).check()


@pytest.mark.parametrize(("args", "expected"), [
    (["--target", "scaled>0.8"], "--target 'scaled>0.8': expected OUTCOME>=SHARE"),
    (["--target", "growth>=0.8"], "unknown outcome 'growth'"),
    (["--vary", "wizardry=0:3"], "unknown parameter or structure variable 'wizardry'"),
    (["--vary", "community_platforms=0:300"], "need 0 <= LOW < HIGH <= 100"),
    (["--vary", "pilot_districts=1:9"], "pilot_districts = 9: must be from 1 to 5"),
    (["--objectives", "scaled,bliss"], "--objectives 'scaled,bliss'"),
    (["--set", "meeting_interval=2", "--vary", "meeting_interval=1:3"], "is also searched"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, args, expected):
    out = tmp_path / "out"
    rc = main(["optimise", "--trials", "2", "-n", "2", "--out", str(out), "-q", *args])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and expected in err, err
    assert not out.exists()


def test_cli_resume_says_so_and_refuses_other_settings(tmp_path, capsys):
    out = tmp_path / "out"
    common = ["optimise", *[f"--set={k}={v}" for k, v in SHORT.items()], "-n", "2", "--population", "4",
              "--confirm", "2", "--front-size", "2", "--processes", "1", "--out", str(out), "-q",
              "--vary", "community_platforms=0:3", "--vary", "meeting_interval=1:4"]
    assert main([*common, "--trials", "3"]) == 0
    assert main([*common, "--trials", "5"]) == 0
    err = capsys.readouterr().err
    assert "resuming the search" in err and "from trial 4" in err
    assert len(pd.read_csv(out / "trials.csv")) == 5
    rc = main([*common, "--trials", "6", "--seed", "9"])
    err = capsys.readouterr().err
    assert rc == 2 and "holds a search with other settings (seed)" in err
    # a search made by another version of the model is not resumed: its trials are another model's
    import experiments.optimise as optimise

    real = optimise.model_digest
    try:
        optimise.model_digest = lambda: "0" * 16
        rc = main([*common, "--trials", "6"])
    finally:
        optimise.model_digest = real
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "made by another version of the model" in err
    assert len(pd.read_csv(out / "trials.csv")) == 5  # nothing written over


def test_the_model_digest_follows_the_model_sources_only(tmp_path, monkeypatch):
    from model import digest

    first = digest.model_digest()
    assert len(first) == 16 and first == digest.model_digest()
    copy = tmp_path / "model"
    import shutil

    shutil.copytree(digest._ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(digest, "_ROOT", copy)
    digest.model_digest.cache_clear()
    assert digest.model_digest() == first  # the same sources elsewhere
    (copy / "scenarios" / "default.toml").write_text((copy / "scenarios" / "default.toml").read_text() + "\n")
    digest.model_digest.cache_clear()
    assert digest.model_digest() != first
    digest.model_digest.cache_clear()


def test_parse_vary_defaults_to_whole_steps_for_integers():
    (v,) = parse_vary(["linking_members=0:4"])
    assert v.integer and v.step == 1
    with pytest.raises(LasimInputError, match="whole numbers"):
        parse_vary(["linking_members=0:4.5"])


def test_with_a_target_the_cheapest_near_designs_are_confirmed():
    s = OptimiseSettings(space=SPACE[:1], target=parse_target("scaled>=0.8"), replications=2)
    trials = pd.DataFrame({
        "trial": range(6), "state": ["COMPLETE"] * 5 + ["FAIL"],
        "community_platforms": [0, 1, 2, 3, 4, 5],
        "cost": [100.0, 200.0, 300.0, 400.0, 150.0, 50.0],
        "p_scaled": [0.5, 0.75, 1.0, 0.9, 0.95, 1.0]})
    # dominated designs stay in: trial 3 (dearer than 4 and less likely) may pass where 4 fails
    assert search_front(trials, s, 3)["trial"].tolist() == [4, 1, 2]
    assert search_front(trials, s, 10)["trial"].tolist() == [4, 1, 2, 3]
    far = trials.assign(p_scaled=[0.1, 0.2, 0.3, 0.3, 0.0, 0.0])
    assert search_front(far, s, 3)["trial"].tolist() == [2]  # the most likely, the cheaper of two


def test_overwrite_replaces_only_an_earlier_search(tmp_path, capsys):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "thesis.txt").write_text("keep me")
    rc = main(["optimise", "--trials", "2", "-n", "2", "--out", str(other), "--overwrite", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "did not write" in err and (other / "thesis.txt").read_text() == "keep me"


def test_lasim_compare_accepts_a_written_design(tmp_path):
    s = settings(4)
    trials = search(s, tmp_path / "opt", 3).trials
    confirmed = confirm(s, search_front(trials, s, 1), 2)
    write_outputs(tmp_path / "opt", s, trials, confirmed, "answer", "lasim optimise ...")
    (design,) = sorted((tmp_path / "opt" / "designs").glob("*.toml"))
    twin = tmp_path / "twin.toml"
    twin.write_text(f'base = "{design}"\nname = "twin"\n[parameters]\nmeeting_interval = 3\n')
    assert main(["compare", str(design), str(twin), "-n", "2", "--processes", "1", "--out",
                 str(tmp_path / "cmp"), "-q"]) == 0
    runs = pd.read_csv(tmp_path / "cmp" / "runs.csv")
    assert len(runs) == 4
