"""Patterns P1-P13 of MODEL.md as mechanism tests.

Pattern-oriented modelling with knock-outs: each test shows the pattern with the
full model and shows it weaken when the mechanism that should produce it is
switched off (``Scenario.knock_out``; for P9, which has no named switch, the
inclusion barrier set to 0). Every test runs on three fixed seed roots chosen
before looking at any result (1, 2, 3), with the same replication seeds in every
condition of a root (common random numbers), so contrasts are paired by seed.

Statistics: a contrast "A is greater than B" is a one-sided paired t-test at
1% over the seeds of a root (Welch's test for subgroups that are not paired);
bounds on a level (e.g. "median 12 to 36 months") state the pattern from the
sources, not today's numbers.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from model import AllianceModel, load_scenario
from model.runner import replication_seeds, run_scenario

pytestmark = pytest.mark.slow

ROOTS = (1, 2, 3)
N = 40  # summary runs per condition and root
N_SERIES = 20  # runs per condition and root where the monthly series is needed
ALPHA = 0.01


def _key(params: dict) -> tuple:
    return tuple(sorted(params.items()))


@functools.cache
def _runs(root: int, scenario: str, off: tuple[str, ...], params: tuple, series: bool) -> tuple:
    sc = load_scenario(scenario).knock_out(off).with_parameters("test", **dict(params))
    seeds = replication_seeds(root, N_SERIES if series else N)
    return tuple(run_scenario(sc, s, series=series) for s in seeds)


def summaries(root: int, scenario: str = "default", off: tuple[str, ...] = (), **params) -> pd.DataFrame:
    """One row per replication seed of ``root`` (same seeds in every condition)."""
    return pd.DataFrame([r.summary for r in _runs(root, scenario, tuple(off), _key(params), False)])


def series(root: int, scenario: str = "default", off: tuple[str, ...] = (), **params) -> list[pd.DataFrame]:
    """Monthly series of the first ``N_SERIES`` replication seeds of ``root``."""
    return [r.series for r in _runs(root, scenario, tuple(off), _key(params), True)]


def assert_greater(a, b, what: str, alpha: float = ALPHA, paired: bool = True) -> None:
    """One-sided test that ``a`` exceeds ``b`` on average (paired by seed unless ``paired`` is false)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if paired:
        ok = np.isfinite(a) & np.isfinite(b)
        d = a[ok] - b[ok]
        if d.size >= 2 and d.std(ddof=1) == 0:
            p = 0.0 if d.mean() > 0 else 1.0
        else:
            p = float(stats.ttest_1samp(d, 0.0, alternative="greater").pvalue)
        detail = f"mean difference {d.mean():+.3f} over {d.size} paired seeds"
    else:
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        p = float(stats.ttest_ind(a, b, equal_var=False, alternative="greater").pvalue)
        detail = f"{a.mean():.3f} (n={a.size}) vs {b.mean():.3f} (n={b.size})"
    assert p < alpha, f"{what}: not clearly greater: {detail}, one-sided p = {p:.3g}"


def within_36(df: pd.DataFrame) -> np.ndarray:
    return (df["functioning_month"] <= 36).to_numpy(float)


# ---------------------------------------------------------------------------- P1


@pytest.mark.parametrize("root", ROOTS)
def test_p1_a_functioning_alliance_takes_12_to_36_months_because_trust_takes_time(root):
    full = summaries(root)
    months = full["functioning_month"].dropna()
    assert full["functioning"].mean() >= 0.8
    assert 12 <= months.median() <= 36
    assert ((months >= 12) & (months <= 36)).mean() >= 0.75
    # without trust building an alliance never becomes one that functions
    no_trust = summaries(root, off=("trust",))
    assert_greater(full["functioning"], no_trust["functioning"], "P(functioning), full vs trust off")


# ---------------------------------------------------------------------------- P2


@pytest.mark.parametrize("root", ROOTS)
def test_p2_platforms_start_with_12_to_24_organisations_and_grow_by_recruitment(root):
    # "start with": the alliance as launched, before its first month's recruitment
    # (docs/decisions.md: the lead organisation joins the platforms it funds from month 1)
    launch, month1 = [], []
    for seed in replication_seeds(root, 10):
        model = AllianceModel("default", rng=seed)
        launch += [p.size for p in model.platforms]
        model.step()
        month1 += [p.size for p in model.platforms]
    launch, month1 = np.array(launch), np.array(month1)
    assert 12 <= np.median(launch) <= 24
    assert ((launch >= 12) & (launch <= 24)).mean() >= 0.8
    assert 12 <= np.median(month1) <= 24

    def growth(runs):
        return np.array([s.loc[48, "alliance_size"] / s.loc[1, "alliance_size"] for s in runs])

    full, fixed = growth(series(root)), growth(series(root, off=("membership",)))
    assert_greater(full, np.ones_like(full) * 1.05, "size at month 48 / month 1 vs 1.05")
    assert_greater(full, fixed, "growth, full vs membership off")


# ---------------------------------------------------------------------------- P3


@pytest.mark.parametrize("root", ROOTS)
def test_p3_without_government_innovations_rarely_scale(root):
    full, no_gov = summaries(root), summaries(root, "no_government")
    assert no_gov["scaled"].mean() <= 0.1
    assert_greater(full["scaled"], no_gov["scaled"], "P(scaled), default vs no government")
    # government helps scale through institutionalisation: without it, the default rarely scales too
    off = ("national_institutionalisation", "district_institutionalisation", "government_programmes")
    knocked = summaries(root, off=off)
    assert knocked["scaled"].mean() <= 0.1
    assert_greater(full["scaled"], knocked["scaled"], "P(scaled), full vs institutionalisation off")


# ---------------------------------------------------------------------------- P4


@pytest.mark.parametrize("root", ROOTS)
def test_p4_without_a_skilled_facilitator_alliances_stall(root):
    full, weak = summaries(root), summaries(root, "weak_facilitation")
    assert weak["functioning"].mean() <= full["functioning"].mean() - 0.5
    assert_greater(full["final_adoption"], weak["final_adoption"], "final adoption, default vs weak facilitation")
    assert weak["scaled"].mean() <= 0.1
    # facilitation works through trust: without trust building it no longer decides whether alliances function
    full_off, weak_off = summaries(root, off=("trust",)), summaries(root, "weak_facilitation", off=("trust",))
    assert_greater(full["functioning"].to_numpy(float) - weak["functioning"].to_numpy(float),
                   full_off["functioning"].to_numpy(float) - weak_off["functioning"].to_numpy(float),
                   "facilitation's effect on P(functioning), trust on vs off")


# ---------------------------------------------------------------------------- P5


@pytest.mark.parametrize("root", ROOTS)
def test_p5_a_funding_gap_during_set_up_often_kills_the_alliance(root):
    full, gap = summaries(root), summaries(root, "funding_gap")
    assert within_36(gap).mean() <= within_36(full).mean() - 0.3
    assert_greater(within_36(full), within_36(gap), "functioning within 36 months, default vs gap")
    # it is the money: when funding does not limit platforms, the gap no longer matters
    full_off, gap_off = summaries(root, off=("funding",)), summaries(root, "funding_gap", off=("funding",))
    assert_greater(within_36(full) - within_36(gap), within_36(full_off) - within_36(gap_off),
                   "gap's effect on functioning within 36 months, funding on vs off")


# ---------------------------------------------------------------------------- P6

INSTITUTIONS = ("national_institutionalisation", "district_institutionalisation")


@pytest.mark.parametrize("root", ROOTS)
def test_p6_pilots_fade_after_funding_ends_unless_institutionalised(root):
    # institutionalisation is graded (national policy, district plans): compare the model
    # with both switched off, on the same seeds, rather than runs that happened to institutionalise
    full = summaries(root, government_involvement=1.0)
    bare = summaries(root, off=INSTITUTIONS, government_involvement=1.0)
    assert_greater(full["survival"], bare["survival"], "survival, institutionalisation on vs off")
    # without institutions, it is fade that takes the practice away
    bare_no_fade = summaries(root, off=(*INSTITUTIONS, "fade"), government_involvement=1.0)
    assert_greater(bare_no_fade["survival"], bare["survival"], "survival without institutions, fade off vs on")


# ---------------------------------------------------------------------------- P7


def _knowledge(runs: list[pd.DataFrame]) -> np.ndarray:
    return np.array([s.loc[37:60, "member_knowledge"].mean() for s in runs])


@pytest.mark.parametrize("root", ROOTS)
def test_p7_turnover_loses_knowledge_unless_documented(root):
    undocumented = _knowledge(series(root, turnover_rate=0.06, documentation=0.0))
    documented = _knowledge(series(root, turnover_rate=0.06, documentation=1.0))
    assert_greater(documented, undocumented, "member knowledge, documented vs not")
    # the loss comes from turnover, and documentation is what prevents it
    no_turnover = _knowledge(series(root, off=("turnover",), turnover_rate=0.06, documentation=0.0))
    assert_greater(no_turnover, undocumented, "member knowledge, turnover off vs on")
    doc_off = _knowledge(series(root, off=("documentation",), turnover_rate=0.06, documentation=1.0))
    assert_greater(documented, doc_off, "member knowledge at documentation 1, documentation on vs off")


# ---------------------------------------------------------------------------- P8


@pytest.mark.parametrize("root", ROOTS)
def test_p8_heavy_donor_money_without_cost_sharing_lowers_persistence(root):
    # at fixed cost sharing, more donor money lowers later persistence ...
    heavy = summaries(root, donor_share=1.0, cost_sharing=0.5)
    light = summaries(root, donor_share=0.5, cost_sharing=0.5)
    assert_greater(light["persistence"], heavy["persistence"], "persistence, donor share 0.5 vs 1.0")
    # ... because donor money erodes ownership: switching distortion off closes the gap
    heavy_off = summaries(root, off=("donor_distortion",), donor_share=1.0, cost_sharing=0.5)
    light_off = summaries(root, off=("donor_distortion",), donor_share=0.5, cost_sharing=0.5)
    assert_greater(light["persistence"] - heavy["persistence"], light_off["persistence"] - heavy_off["persistence"],
                   "donor share's effect on persistence, distortion on vs off")


# ---------------------------------------------------------------------------- P9


def _attendance_share(runs: list[pd.DataFrame], column: str) -> np.ndarray:
    return np.array([s[column].mean() for s in runs])


@pytest.mark.parametrize("root", ROOTS)
def test_p9_marginalised_and_private_members_participate_less_without_proactive_facilitation(root):
    poor, good = series(root, facilitation_quality=0.3), series(root, facilitation_quality=0.95)
    flat_poor = series(root, facilitation_quality=0.3, inclusion_barrier=0.0)
    flat_good = series(root, facilitation_quality=0.95, inclusion_barrier=0.0)
    for column in ("marginalised_attendance_share", "private_attendance_share"):
        g, p = _attendance_share(good, column), _attendance_share(poor, column)
        assert_greater(g, p, f"{column}, facilitation 0.95 vs 0.3")
        # the inclusion barrier (there is no named switch) is why facilitation decides who comes
        gap_without = _attendance_share(flat_good, column) - _attendance_share(flat_poor, column)
        assert_greater(g - p, gap_without, f"facilitation's effect on {column}, barrier 0.6 vs 0")


# ---------------------------------------------------------------------------- P10


def _rise(runs: list[pd.DataFrame], column: str) -> np.ndarray:
    return np.array([s.loc[37:60, column].mean() - s.loc[1:12, column].mean() for s in runs])


@pytest.mark.parametrize("root", ROOTS)
def test_p10_participation_grows_and_moves_to_decision_makers(root):
    full = series(root)
    dm = _rise(full, "decision_maker_attendance_share")
    assert_greater(dm, np.full_like(dm, 0.05), "decision-maker share, months 37-60 minus 1-12, vs 0.05")
    attendance = np.array([s.loc[37:60, "attendance"].mean() / s.loc[1:12, "attendance"].mean() for s in full])
    assert_greater(attendance, np.full_like(attendance, 1.1), "attendance, months 37-60 / 1-12, vs 1.1")
    # decision makers come in as representatives change on platforms that earned a reputation
    assert_greater(dm, _rise(series(root, off=("turnover",)), "decision_maker_attendance_share"),
                   "rise of the decision-maker share, turnover on vs off")


# ---------------------------------------------------------------------------- P11

P11_SCENARIO = {"government_involvement": 0.0}


@pytest.mark.parametrize("root", ROOTS)
def test_p11_after_handover_practice_is_lost_at_a_steady_rate(root):
    # Banks and Furey 2016: about 15% stop within a year and 25% by year four
    fail_1 = 1 - summaries(root, sustain_horizon_months=12, **P11_SCENARIO)["survival"]
    fail_4 = 1 - summaries(root, sustain_horizon_months=48, **P11_SCENARIO)["survival"]
    assert 0.05 <= fail_1.mean() <= 0.30
    assert 0.12 <= fail_4.mean() <= 0.50
    assert_greater(fail_4, fail_1, "share lost by year four vs by year one")
    no_fade = 1 - summaries(root, off=("fade",), sustain_horizon_months=48, **P11_SCENARIO)["survival"]
    assert_greater(fail_4, no_fade, "share lost by year four, fade on vs off")


# ---------------------------------------------------------------------------- P12


@pytest.mark.parametrize("root", ROOTS)
def test_p12_late_government_holds_back_uptake(root):
    early, late = summaries(root), summaries(root, government_join_month=36)
    assert_greater(early["institutionalised"], late["institutionalised"], "P(policy changed), join 0 vs 36")
    assert_greater(early["scaled"], late["scaled"], "P(scaled), join 0 vs 36")
    # timing matters through institutionalisation: without it, when government joins matters less for scale
    off = ("national_institutionalisation", "district_institutionalisation", "government_programmes")
    early_off, late_off = summaries(root, off=off), summaries(root, off=off, government_join_month=36)
    assert_greater(early["scaled"].to_numpy(float) - late["scaled"].to_numpy(float),
                   early_off["scaled"].to_numpy(float) - late_off["scaled"].to_numpy(float),
                   "join month's effect on P(scaled), institutionalisation on vs off")


# ---------------------------------------------------------------------------- P13


@pytest.mark.parametrize("root", ROOTS)
def test_p13_pockets_of_success_local_impact_far_more_often_than_scale(root):
    full = summaries(root)
    local, scaled = full["local_impact"].to_numpy(float), full["scaled"].to_numpy(float)
    assert local.mean() >= 2 * scaled.mean() or local.mean() - scaled.mean() >= 0.3
    pockets = local * (1 - scaled)
    assert pockets.mean() >= 0.2, f"pockets (local impact without scale) in {pockets.mean():.0%} of runs"
    # the pockets hold where district governments put the practice in their own plans: without
    # that, less of it remains in the alliance's districts at the horizon
    knocked = summaries(root, off=("district_institutionalisation",))
    assert_greater(full["final_pilot_adoption"], knocked["final_pilot_adoption"],
                   "adoption in the alliance's districts at the horizon, district institutionalisation on vs off")


# ---------------------------------------------------------------------------- C1


@pytest.mark.parametrize("root", ROOTS)
def test_c1_young_platforms_lose_local_members_and_centralise_through_the_lead_organisation(root):
    # Sartas et al. (2018): local-level actors left, and the lead organisation, which
    # allocated the money, became far more central. The held-out check scores the
    # size of the effect (lasim validate, check 4); here the mechanism must cause it.
    def change(runs, column, first, last):
        return np.array([s.loc[last, column] - s.loc[first, column] for s in runs])

    full, off = series(root), series(root, off=("lead_allocation",))
    assert_greater(change(full, "centralisation", 6, 36), change(off, "centralisation", 6, 36),
                   "centralisation rise months 6-36, full vs lead_allocation off")
    assert_greater(change(full, "centralisation", 6, 36), np.zeros(len(full)),
                   "centralisation rise months 6-36 vs none")
    assert_greater(change(full, "local_member_share", 36, 6), change(off, "local_member_share", 36, 6),
                   "fall of the local-level share months 6-36, full vs lead_allocation off")
