"""AllianceModel with Mesa's own tools: DataCollector frames, batch_run, SolaraViz, seed=."""

from __future__ import annotations

import math
import warnings

import mesa
import numpy as np
import pandas as pd
import pytest

from model.alliance import AllianceModel
from model.errors import LasimInputError
from model.outcomes import SERIES_FIELDS, SUMMARY_FIELDS
from model.recording import AGENT_REPORTERS, summary_only_fields
from model.runner import run_scenario


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


@pytest.mark.parametrize("seed", [3, 11])
def test_model_vars_dataframe_has_every_series_by_name(seed):
    m = AllianceModel(rng=seed).run()
    df = m.datacollector.get_model_vars_dataframe()
    assert list(df.columns) == [*SERIES_FIELDS, *summary_only_fields()]
    assert list(df.index) == list(range(1, m.params.horizon_months + 1))
    series = m.series()
    np.testing.assert_array_equal(df[list(SERIES_FIELDS)].to_numpy(), series.to_numpy())
    # the run outcomes are known in the last month only
    summary = m.summary()
    for name in summary_only_fields():
        assert _same(df[name].iloc[-1], summary[name]), name
        assert df[name].iloc[:-1].isna().all(), name
    # Mesa's raw store agrees with its frame
    assert m.datacollector.model_vars["adoption_all"] == series["adoption_all"].tolist()


def test_unfinished_run_has_series_but_no_outcomes():
    m = AllianceModel(rng=2).run(7)
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == 7
    assert df["scaled"].isna().all()
    assert df["adoption_all"].notna().all()


def test_batch_run_returns_named_outcomes():
    params = {"facilitation_quality": [0.2, 0.8]}
    rows = mesa.batch_run(AllianceModel, parameters=params, rng=[1, 2], display_progress=False)
    df = pd.DataFrame(rows)
    assert len(df) == 4
    assert set(SERIES_FIELDS) | set(SUMMARY_FIELDS) <= set(df.columns)
    for _, row in df.iterrows():
        expected = run_scenario(None, int(row["rng"]), series=False,
                                facilitation_quality=row["facilitation_quality"]).summary
        for name in SUMMARY_FIELDS:
            assert _same(row[name], expected[name]), (name, row[name], expected[name])
    # facilitation matters in this model: the summary columns carry real outcomes
    assert df.groupby("facilitation_quality")["final_adoption"].mean().diff().iloc[-1] > 0


def test_seed_is_accepted_as_mesa_accepts_it():
    with pytest.warns(FutureWarning, match="rng"):
        a = AllianceModel(seed=5).run(12)
    b = AllianceModel(rng=5).run(12)
    pd.testing.assert_frame_equal(a.series(), b.series())
    c = AllianceModel(rng=6).run(12)
    assert not a.series().equals(c.series())
    with pytest.raises(LasimInputError, match="seed and rng"):
        AllianceModel(seed=5, rng=5)


def test_agent_reporters_are_mesa_agent_frames():
    m = AllianceModel(rng=4, agent_reporters=True).run(6)
    df = m.datacollector.get_agent_vars_dataframe()
    assert list(df.columns) == list(AGENT_REPORTERS)
    assert df.index.names == ["Step", "AgentID"]
    assert len(df) == 6 * m.world.n
    last = df.xs(6, level="Step")
    for agent in m.stakeholders[:20]:
        row = last.loc[agent.unique_id]
        assert row["stage"] == agent.stage_name
        assert row["knowledge"] == agent.knowledge
        assert row["trust"] == agent.trust
        assert row["member"] == agent.member
    # Mesa's raw records agree with the frame
    record = m.datacollector._agent_records[6.0][0]
    first = last.iloc[0]
    assert record[2:] == (first["stage"], first["knowledge"], first["trust"], first["member"])


def test_agent_reporters_are_off_by_default_and_say_how_to_turn_on():
    m = AllianceModel(rng=4).run(2)
    with pytest.raises(UserWarning, match="agent_reporters=True"):
        m.datacollector.get_agent_vars_dataframe()


def test_batch_run_with_agent_reporters_gives_a_row_per_stakeholder():
    rows = mesa.batch_run(AllianceModel, parameters={"agent_reporters": True}, rng=[1],
                          max_steps=3, display_progress=False)
    df = pd.DataFrame(rows)
    n = AllianceModel(rng=1).world.n
    assert len(df) == n
    assert {"AgentID", *AGENT_REPORTERS, "adoption_all"} <= set(df.columns)


def test_solara_viz_plots_a_lasim_series():
    solara = pytest.importorskip("solara")
    ipywidgets = pytest.importorskip("ipywidgets")
    from mesa.visualization import SolaraViz, make_plot_component

    m = AllianceModel(rng=1).run(5)
    component = make_plot_component("adoption_all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # handle_error=False: an error while rendering (the KeyError of an unnamed series) raises here
        solara.render(SolaraViz(m, components=[component], name="lasim"), handle_error=False)
        _, rc = solara.render(component[0](m), handle_error=False)
    images = rc.find(ipywidgets.Image).widgets
    assert images and len(images[0].value) > 1000


def _clock(m: AllianceModel) -> tuple:
    beat = m._default_schedule
    return m.time, m.steps, m.month, beat.next_scheduled_time, beat.execution_count, len(m._event_list)


@pytest.mark.parametrize("seed", [2, 9, 31])
def test_run_leaves_mesa_time_and_results_as_run_for_does(seed):
    # run() steps directly when only the step is on Mesa's calendar: the clock, the step's
    # next event and every result must be what Mesa's own run_for gives
    fast, mesa_loop = AllianceModel(rng=seed), AllianceModel(rng=seed)
    fast.run(17)
    mesa_loop.run_for(17)
    assert _clock(fast) == _clock(mesa_loop) == (17.0, 17, 17, 18.0, 17, 1)
    # either continues with Mesa's own step and loop, and then run() to the horizon
    for m in (fast, mesa_loop):
        m.step()
        m.run_for(2)
        m.run()
    assert _clock(fast) == _clock(mesa_loop)
    pd.testing.assert_frame_equal(fast.series(), mesa_loop.series())
    assert fast.summary() == pytest.approx(mesa_loop.summary(), nan_ok=True)
    assert [str(e) for e in fast.events] == [str(e) for e in mesa_loop.events]


def test_run_keeps_events_a_user_puts_on_mesas_calendar():
    m = AllianceModel(rng=4)
    seen: list[tuple[float, int]] = []

    def look() -> None:
        seen.append((m.time, m.month))

    m.schedule_event(look, at=5)
    m.run(12)
    # Mesa's loop ran it at time 5, after that time's step (the step's priority is higher)
    assert seen == [(5.0, 5)]
    assert _clock(m)[:4] == (12.0, 12, 12, 13.0)
    # with the calendar empty again, the rest of the run matches an undisturbed one
    m.run()
    plain = AllianceModel(rng=4).run()
    pd.testing.assert_frame_equal(m.series(), plain.series())
