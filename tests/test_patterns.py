"""Patterns P1-P10 of MODEL.md hold over replications of the shipped scenarios.

Pattern-oriented modelling: each test runs a fixed set of seeds (so the test is
deterministic) and compares shares or means between scenarios. Bounds state the
pattern (e.g. "clearly above", "at least twice"), not today's exact numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import AllianceModel, run_scenario
from model.runner import replication_seeds

pytestmark = pytest.mark.slow

SEEDS = replication_seeds(2026, 40)


def summaries(name: str, **parameters) -> pd.DataFrame:
    return pd.DataFrame([run_scenario(name, s, series=False, **parameters).summary for s in SEEDS])


def series(name: str, n: int = 20, **parameters) -> pd.DataFrame:
    runs = [run_scenario(name, s, **parameters).series.assign(replication=i) for i, s in enumerate(SEEDS[:n])]
    return pd.concat(runs)


@pytest.fixture(scope="module")
def default() -> pd.DataFrame:
    return summaries("default")


def test_p1_a_functioning_alliance_takes_12_to_36_months(default):
    months = default["functioning_month"].dropna()
    assert len(months) >= 0.9 * len(default)
    assert 12 <= months.median() <= 36
    assert ((months >= 12) & (months <= 36)).mean() >= 0.8


def test_p2_platforms_start_with_12_to_24_organisations_and_grow():
    model = AllianceModel("default", rng=SEEDS[0])
    model.step()
    assert all(12 <= p.size <= 24 for p in model.platforms)
    s = series("default")
    size = s.groupby("month")["alliance_size"].mean()
    assert size[48] > 1.05 * size[1]


def test_p3_without_government_innovations_rarely_scale(default):
    no_gov = summaries("no_government")
    assert no_gov["scaled"].mean() <= 0.1
    assert default["scaled"].mean() >= 2 * no_gov["scaled"].mean() + 0.2


def test_p4_without_a_skilled_facilitator_alliances_stall(default):
    weak = summaries("weak_facilitation")
    assert weak["functioning"].mean() <= default["functioning"].mean() - 0.5
    assert weak["final_adoption"].mean() <= 0.5 * default["final_adoption"].mean()
    assert weak["scaled"].mean() <= 0.1


def test_p5_a_funding_gap_during_set_up_often_kills_the_alliance(default):
    gap = summaries("funding_gap")
    within_36 = lambda df: (df["functioning_month"] <= 36).mean()  # noqa: E731
    assert within_36(gap) <= within_36(default) - 0.5
    assert gap["scaled"].mean() < default["scaled"].mean()


def test_p6_pilots_fade_after_funding_ends_unless_institutionalised():
    runs = summaries("default", government_involvement=1.0)
    inst, not_inst = runs[runs["institutionalised"]], runs[~runs["institutionalised"]]
    assert len(inst) >= 5 and len(not_inst) >= 5
    assert inst["sustained"].mean() >= not_inst["sustained"].mean() + 0.3
    ratio = lambda df: (df["final_adoption"] / df["peak_adoption"]).mean()  # noqa: E731
    assert ratio(inst) > ratio(not_inst)


def test_p7_turnover_loses_knowledge_unless_documented():
    def knowledge(**kw):
        return series("default", n=15, **kw).query("37 <= month <= 60")["member_knowledge"].mean()

    undocumented = knowledge(turnover_rate=0.06, documentation=0.0)
    documented = knowledge(turnover_rate=0.06, documentation=1.0)
    no_turnover = knowledge(turnover_rate=0.0, documentation=0.0)
    assert undocumented < 0.6 * documented
    assert undocumented < 0.6 * no_turnover


def test_p8_heavy_donor_money_without_cost_sharing_lowers_persistence():
    heavy = summaries("default", donor_share=1.0, cost_sharing=0.0)
    shared = summaries("default", donor_share=0.5, cost_sharing=0.5)
    assert heavy["persistence"].mean() <= shared["persistence"].mean() - 0.2
    assert heavy["sustained"].mean() < shared["sustained"].mean()


def test_p9_marginalised_groups_and_private_sector_participate_less_without_proactive_facilitation():
    poor = series("default", n=15, facilitation_quality=0.3)
    good = series("default", n=15, facilitation_quality=0.95)
    assert poor["marginalised_attendance_share"].mean() < 0.8 * good["marginalised_attendance_share"].mean()
    assert poor["private_attendance_share"].mean() < 0.8 * good["private_attendance_share"].mean()
    # with no inclusion barrier, facilitation no longer decides who comes
    flat_poor = series("default", n=15, facilitation_quality=0.3, inclusion_barrier=0.0)
    flat_good = series("default", n=15, facilitation_quality=0.95, inclusion_barrier=0.0)
    gap_with = good["marginalised_attendance_share"].mean() - poor["marginalised_attendance_share"].mean()
    gap_without = flat_good["marginalised_attendance_share"].mean() - flat_poor["marginalised_attendance_share"].mean()
    assert abs(gap_without) < 0.5 * gap_with


def test_p10_participation_grows_and_moves_to_decision_makers():
    s = series("default").groupby("month")
    dm = s["decision_maker_attendance_share"].mean()
    attendance = s["attendance"].mean()
    assert dm.loc[37:60].mean() > dm.loc[1:12].mean() + 0.05
    assert attendance.loc[37:60].mean() > 1.1 * attendance.loc[1:12].mean()


def test_p12_late_government_holds_back_uptake(default):
    late = summaries("default", government_join_month=36)
    assert late["institutionalised"].mean() < default["institutionalised"].mean()
    assert np.nanmean(late["scaled"]) < default["scaled"].mean()
