"""The model as a whole: every scenario runs, runs are reproducible, invariants hold."""

from __future__ import annotations

import gc
import math
import weakref

import numpy as np
import pandas as pd
import pytest

from model import AllianceModel, list_scenarios, load_scenario, run_scenario
from model.alliance import STATE_BLOCKS
from model.kinds import Stage
from model.outcomes import SERIES_FIELDS, SUMMARY_FIELDS
from model.runner import replication_seeds

SCENARIOS = [name for name, _ in list_scenarios()]


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_shipped_scenario_runs_and_frees_its_model(name):
    model = AllianceModel(name, rng=3, horizon_months=24)
    model.run()
    series = model.series()
    assert list(series.columns) == list(SERIES_FIELDS)
    assert len(series) == 24
    assert set(model.summary()) == set(SUMMARY_FIELDS)
    # the model must not be kept alive by its agents or collectors (Mesa's example test)
    ref = weakref.ref(model)
    model.remove_all_agents()
    del model, series
    gc.collect()
    assert ref() is None


def test_no_arguments_runs_the_default_scenario():
    model = AllianceModel(rng=1)
    assert model.config.name == "default"
    assert 200 <= model.world.n <= 300  # "about 250 organisations in all"
    model.run()
    assert model.month == 120


def test_same_seed_gives_identical_series_and_different_seeds_differ(default_scenario):
    a = run_scenario(default_scenario, 11)
    b = run_scenario(default_scenario, 11)
    c = run_scenario(default_scenario, 12)
    pd.testing.assert_frame_equal(a.series, b.series)
    assert a.summary == pytest.approx(b.summary, nan_ok=True)
    assert [str(e) for e in a.events] == [str(e) for e in b.events]
    assert not a.series.equals(c.series)


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize("seed", [3, 4, 5])
def test_a_model_pickled_mid_run_goes_on_as_the_original(seed, how):
    import copy as copying
    import pickle

    # the model keeps the compiled month it calls, which does not pickle, platform events
    # as arrays until read, and state arrays that are rows of the blocks the month updates:
    # a copy must run on to the same series and events
    model = AllianceModel("funding_gap", rng=seed).run(40)
    copy = pickle.loads(pickle.dumps(model)) if how == "pickle" else copying.deepcopy(model)
    for block, rows in STATE_BLOCKS:
        for k, row in enumerate(rows):
            assert np.shares_memory(getattr(copy, row), getattr(copy, block)[k]), row
            assert not np.shares_memory(getattr(copy, row), getattr(model, block)), row
    model.run()
    copy.run()
    pd.testing.assert_frame_equal(model.series(), copy.series())
    assert [(e.month, e.text, e.cause) for e in model.events] == [(e.month, e.text, e.cause) for e in copy.events]
    assert any(e.kind == "platform" for e in model.events)  # the batches kept as arrays were compared too


def test_replication_seeds_do_not_depend_on_how_many_are_asked_for():
    assert replication_seeds(5, 3) == replication_seeds(5, 10)[:3]
    assert len(set(replication_seeds(5, 100))) == 100


def test_state_stays_in_bounds_every_month(default_scenario):
    model = AllianceModel(default_scenario, rng=4)
    for _ in range(120):
        model.step()
        for arr in (model.knowledge, model.trust, model.support, model.ownership, model.fit):
            assert np.all((arr >= 0) & (arr <= 1))
        assert np.all((model.stage >= Stage.UNAWARE) & (model.stage <= Stage.INSTITUTIONALISED))
    series = model.series()
    shares = [c for c in series.columns if c.startswith("adoption_")]
    values = series[shares].to_numpy()
    assert np.all((values[np.isfinite(values)] >= 0) & (values[np.isfinite(values)] <= 1))
    assert (series["total_cost"].diff().dropna() >= 0).all()


def test_institutionalised_organisations_never_lose_the_practice(default_scenario):
    model = AllianceModel(default_scenario, rng=2, government_involvement=1.0)
    seen = np.zeros(model.world.n, dtype=bool)
    for _ in range(120):
        model.step()
        assert np.all(model.stage[seen] == Stage.INSTITUTIONALISED)
        seen |= model.stage == Stage.INSTITUTIONALISED


def test_policy_never_changes_without_government(default_scenario):
    for seed in replication_seeds(9, 10):
        model = AllianceModel(default_scenario, rng=seed, government_involvement=0.0)
        model.run()
        assert not model.policy
        assert (model.stage != Stage.INSTITUTIONALISED).all()


def test_agents_are_views_of_the_arrays():
    model = AllianceModel(rng=5, horizon_months=30)
    model.run()
    agent = model.stakeholders[7]
    assert agent.knowledge == model.knowledge[7]
    assert agent.stage == Stage(model.stage[7])
    assert agent.kind in {"national_government", "regulator", "donor", "research", "ngo", "media",
                          "private_sector", "service_provider"}  # row 7 sits on the national platform
    assert agent.level == "national"
    assert model.platforms[0].name == "National"
    assert agent.row in model.platforms[0].member_rows or not agent.member
    assert len(model.agents) == model.world.n


def test_events_tell_what_happened_in_plain_words():
    model = AllianceModel("funding_gap", rng=1)
    model.run()
    texts = [e.text for e in model.events]
    assert any("funding gap starts" in t for t in texts)
    assert any("project funding ends" in t for t in texts)
    assert all(1 <= e.month <= 120 for e in model.events)


def test_scenario_file_with_base_changes_only_what_it_says(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('base = "default"\nname = "mine"\n[parameters]\nfacilitation_quality = 0.4\n')
    mine = load_scenario(path)
    default = load_scenario("default")
    assert mine.parameters.facilitation_quality == 0.4
    assert mine.parameters.model_dump(exclude={"facilitation_quality"}) == default.parameters.model_dump(
        exclude={"facilitation_quality"})
    assert mine.structure == default.structure


def test_show_round_trips_every_scenario(tmp_path):
    from model.scenario import scenario_to_toml

    for name in SCENARIOS:
        s = load_scenario(name)
        path = tmp_path / f"{name}.toml"
        path.write_text(scenario_to_toml(s))
        assert load_scenario(path) == s


def test_a_negative_root_seed_is_a_user_error_not_a_crash():
    from model.errors import LasimInputError

    with pytest.raises(LasimInputError, match="seed = -1"):
        replication_seeds(-1, 3)


# --------------------------------------------------------------------------- knock-outs


def test_every_mechanism_is_on_unless_a_scenario_switches_it_off(tmp_path):
    from model.mechanisms import MECHANISMS
    from model.scenario import scenario_to_toml

    default = load_scenario("default")
    assert default.mechanisms == dict.fromkeys(MECHANISMS, True)
    path = tmp_path / "mine.toml"
    path.write_text('base = "default"\n[mechanisms]\ndonor_distortion = false\n')
    mine = load_scenario(path)
    assert mine.switched_off() == ["donor_distortion"]
    assert mine.parameters == default.parameters
    again = tmp_path / "again.toml"
    again.write_text(scenario_to_toml(mine))
    assert "donor_distortion = false" in again.read_text()
    assert load_scenario(again) == mine


@pytest.mark.parametrize(("text", "expected"), [
    ("donor_distorsion = false", "mechanisms.donor_distorsion = false: unknown mechanism 'donor_distorsion' "
                                 "(did you mean 'donor_distortion'?); allowed: funding,"),
    ("fade = 0", "mechanisms.fade = 0: must be true or false"),
])
def test_a_wrong_mechanism_switch_is_one_line_naming_it(tmp_path, text, expected):
    from model.errors import ScenarioError

    path = tmp_path / "bad.toml"
    path.write_text(f'base = "default"\n[mechanisms]\n{text}\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "\n" not in str(err.value)
    assert expected in str(err.value)


def test_knock_out_is_a_validated_copy():
    from model.errors import ScenarioError

    default = load_scenario("default")
    off = default.knock_out(["fade", "spillover"])
    assert off.switched_off() == ["spillover", "fade"]
    assert default.switched_off() == []
    assert off.knock_out([]) is off
    with pytest.raises(ScenarioError, match=r"--off fad: unknown mechanism 'fad' \(did you mean 'fade'\?\)"):
        default.knock_out(["fad"])


def test_with_every_mechanism_on_a_run_is_the_full_model(default_scenario):
    from model.mechanisms import MECHANISMS

    on = default_scenario.model_copy(update={"mechanisms": dict.fromkeys(MECHANISMS, True)})
    a = AllianceModel(default_scenario, rng=3).run(24).series()
    b = AllianceModel(on, rng=3).run(24).series()
    pd.testing.assert_frame_equal(a, b)


def test_switching_off_meetings_or_adoption_stops_what_they_drive(default_scenario):
    no_meetings = AllianceModel(default_scenario.knock_out(["meetings"]), rng=4).run(36).series()
    assert no_meetings["meetings"].sum() == 0 and no_meetings["attendance"].sum() == 0
    out = AllianceModel(default_scenario.knock_out(["meetings"]), rng=4).run().summary()
    # a few organisations adopt on their own (external influence); that is nothing to sustain
    assert out["practising_at_funding_end"] < default_scenario.parameters.sustain_min_share
    assert out["sustained"] is False and out["functioning"] is False
    no_adoption = AllianceModel(default_scenario.knock_out(["adoption"]), rng=4).run(36).series()
    assert no_adoption["adoption_all"].max() == 0


def test_without_fade_no_adopter_abandons_after_funding(default_scenario):
    m = AllianceModel(default_scenario.knock_out(["fade"]), rng=5).run()
    assert not m.abandoned.any()
    full = AllianceModel(default_scenario, rng=5).run()
    assert full.abandoned.any()


# --------------------------------------------------------------------------- outcomes


def test_a_horizon_too_short_to_measure_sustained_is_one_line(default_scenario):
    from model.errors import ScenarioError

    with pytest.raises(ScenarioError) as err:
        default_scenario.with_parameters(horizon_months=100)
    msg = str(err.value)
    assert "\n" not in msg and "horizon_months = 100" in msg and "need horizon_months >= 120" in msg
    # donor money for the whole run leaves nothing to measure: allowed, never sustained
    whole = AllianceModel(default_scenario.with_parameters(horizon_months=36, project_months=36), rng=1).run()
    out = whole.summary()
    assert math.isnan(out["survival"]) and out["sustained"] is False


@pytest.mark.parametrize("seed", [11, 12, 13])
@pytest.mark.parametrize("project", [30, 60])
def test_survival_follows_the_cohort_practising_when_funding_ends(default_scenario, seed, project):
    # project 30: a late peak, most uptake comes after funding and must not count as survival
    horizon = project + default_scenario.parameters.sustain_horizon_months
    m = AllianceModel(default_scenario.with_parameters(project_months=project, horizon_months=horizon), rng=seed)
    m.run(project)
    cohort = m.stage >= Stage.ADOPTED
    m.run()
    now = m.stage >= Stage.ADOPTED
    out = m.summary()
    assert out["practising_at_funding_end"] == pytest.approx(cohort.mean())
    assert out["survival"] == pytest.approx((cohort & now).sum() / cohort.sum())
    assert out["uptake_after_funding"] == pytest.approx((now & ~cohort).mean())
    # final adoption splits exactly into the surviving cohort and the new uptake
    assert out["final_adoption"] == pytest.approx(
        out["practising_at_funding_end"] * out["survival"] + out["uptake_after_funding"])
    p = default_scenario.parameters
    assert out["sustained"] == (out["survival"] >= p.sustain_ratio
                                and out["practising_at_funding_end"] >= p.sustain_min_share)


def test_nobody_practising_when_funding_ends_is_not_sustained(default_scenario):
    out = AllianceModel(default_scenario.knock_out(["adoption"]), rng=2).run().summary()
    assert out["practising_at_funding_end"] == 0
    assert math.isnan(out["survival"]) and out["sustained"] is False
    assert out["scale_extent"] == 0 and out["scaled"] is False


def test_without_meetings_after_the_project_the_cohort_fades(default_scenario):
    # no platform can meet once the donor leaves (members pay nothing, government nothing):
    # nothing protects the adopters, so the cohort loses about what the P11 fade curve says
    s = default_scenario.with_parameters(cost_sharing=0.0, member_funding=0.0, government_budget=0.0)
    outs = [AllianceModel(s, rng=seed).run().summary() for seed in (21, 22, 23, 24)]
    for out in outs:
        assert out["practising_at_funding_end"] > 0
        assert out["survival"] < 0.9 and out["sustained"] is False


def test_scale_extent_is_the_share_adopted_beyond_the_pilots_at_the_end(default_scenario):
    m = AllianceModel(default_scenario, rng=8).run()
    out = m.summary()
    assert out["scale_extent"] == pytest.approx(m.series()["adoption_outside"].iloc[-1])
    assert out["scaled"] == (m.series()["adoption_outside"].max() >= default_scenario.parameters.scale_share)


def test_a_district_can_institutionalise_without_national_policy():
    s = load_scenario("default").knock_out(["national_institutionalisation"])
    runs = [AllianceModel(s, rng=seed).run() for seed in (31, 32, 33)]
    assert not any(m.policy for m in runs)
    assert any(m.district_policy.any() for m in runs)
    for m in runs:
        # government backs exactly the districts that institutionalised, and funds only their platforms
        np.testing.assert_array_equal(m.backed[:-1], m.district_policy)
        assert m.series()["government_reach"].iloc[-1] == pytest.approx(m.district_policy.mean())


def test_the_national_programme_reaches_districts_within_its_budget(default_scenario):
    s = default_scenario.with_parameters(programme_districts_per_year=1.0).knock_out(["district_institutionalisation"])
    for seed in (41, 42, 43, 44):
        m = AllianceModel(s, rng=seed).run()
        if not m.policy:
            continue
        reach = m.series()["government_reach"]
        n_d = len(m.world.district_names)
        start = m.summary()["institutionalised_month"]
        after = reach.loc[start:].to_numpy()
        # one district when policy changes, one more a year, never all at once
        assert after[0] == pytest.approx(1 / n_d)
        months = np.arange(after.shape[0])
        np.testing.assert_allclose(after, np.minimum(1 + months // 12, n_d) / n_d)


@pytest.mark.parametrize("name, seed", [("default", 1), ("funding_gap", 2), ("no_government", 3)])
def test_cost_by_payer_adds_up_to_total_cost(name, seed):
    s = run_scenario(name, seed, series=False).summary
    parts = [s["cost_donor"], s["cost_members"], s["cost_government"]]
    assert min(parts) >= 0 and s["cost_donor"] > 0 and s["cost_members"] > 0
    assert sum(parts) == pytest.approx(s["total_cost"], rel=1e-9)
    if name == "no_government":
        assert s["cost_government"] == 0.0


def test_run_pauses_the_cycle_collector_and_restores_it():
    import gc

    from model.alliance import AllianceModel

    assert gc.isenabled()
    AllianceModel(rng=1).run(3)
    assert gc.isenabled()
    gc.disable()
    try:
        AllianceModel(rng=1).run(3)
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()

    class Boom(AllianceModel):
        def step(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        Boom(rng=1).run(2)
    assert gc.isenabled()
