"""Each monthly process of MODEL.md tested alone, on small hand-made arrays.

The mechanisms are pure functions of arrays (model/mechanisms/*.py), so every
test builds the few organisations, seats and platforms it needs by hand and
checks one behaviour: what the process does, its bounds, its monotonicity and
what it must leave untouched. Statistical checks use fixed seeds and enough
draws that the bound holds with a wide margin (the binomial standard error is
stated next to each tolerance).
"""

from __future__ import annotations

import numpy as np
import pytest

from model.alliance import AllianceModel
from model.kinds import Stage
from model.mechanisms import (
    action_research,
    adoption,
    donor,
    fade,
    funding,
    institutions,
    learning,
    meetings,
    membership,
    turnover,
    vertical,
)
from model.scenario import Parameters, load_scenario

DEFAULTS = Parameters()
N_DRAWS = 200_000  # binomial standard error <= 0.0012: tolerances of 0.01 are > 8 sigma


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def uniforms(n: int, seed: int = 0) -> np.ndarray:
    """The month's uniform draws a kernel is handed (the model draws them in one block)."""
    return rng(seed).random(n)


def seats(*pairs: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Seat arrays (edge_agent, edge_platform) from (agent, platform) pairs."""
    a, p = zip(*pairs, strict=True)
    return np.array(a, dtype=np.int64), np.array(p, dtype=np.int64)


def in_unit(x: np.ndarray) -> bool:
    return bool(np.all(x >= 0.0) and np.all(x <= 1.0))


# ============================================================== 1 funding


class TestFunding:
    @pytest.mark.parametrize(
        ("month", "expected"),
        [(0, True), (5, True), (6, False), (17, False), (18, True), (59, True), (60, False), (100, False)],
    )
    def test_donor_money_flows_inside_the_project_and_outside_the_gap(self, month, expected):
        # project of 60 months with a 12-month gap starting at month 6: [6, 18) is dry
        assert funding.donor_active(month, 60, 6, 12) is expected

    def test_no_gap_means_money_for_the_whole_project(self):
        assert all(funding.donor_active(t, 24, 6, 0) for t in range(24))
        assert not funding.donor_active(24, 24, 6, 0)

    def test_while_the_donor_pays_members_pay_their_agreed_share_and_government_by_ownership(self):
        own = np.array([0.0, 0.5, 1.0])
        got = funding.platform_funds(True, 0.3, 0.2, 0.9, own, 0.2)
        np.testing.assert_allclose(got, [0.5, 0.6, 0.7])

    def test_once_the_donor_is_gone_owners_pay_the_larger_of_cost_sharing_and_member_funding(self):
        own = np.array([0.0, 0.5, 1.0])
        np.testing.assert_allclose(funding.platform_funds(False, 0.0, 0.2, 0.5, own, 0.0), [0.0, 0.25, 0.5])
        np.testing.assert_allclose(funding.platform_funds(False, 0.0, 0.8, 0.5, own, 0.0), [0.0, 0.4, 0.8])
        # government per platform (districts that institutionalised), scaled by ownership
        np.testing.assert_allclose(funding.platform_funds(False, 0.0, 0.0, 0.5, own, np.array([0.4, 0.4, 0.0])),
                                   [0.0, 0.45, 0.5])

    def test_funds_are_capped_at_the_full_running_cost_and_grow_with_ownership(self):
        own = np.linspace(0.0, 1.0, 11)
        for donor_on in (True, False):
            got = funding.platform_funds(donor_on, 0.7 * donor_on, 0.6, 0.5, own, 0.4)
            assert in_unit(got)
            assert got.max() == 1.0
            assert np.all(np.diff(got) >= 0)

    def test_without_donor_ownership_or_cost_sharing_there_is_no_money(self):
        got = funding.platform_funds(False, 0.0, 0.3, 0.5, np.array([0.0, 0.0]), 0.4)
        np.testing.assert_array_equal(got, [0.0, 0.0])
        got = funding.platform_funds(True, 0.0, 0.0, 0.5, np.array([0.0, 1.0]), 0.0)
        np.testing.assert_array_equal(got, [0.0, 0.0])

    def test_monthly_cost_weighs_levels_and_counts_case_studies(self):
        meets = np.array([True, True, True, False])
        level = np.array([0, 1, 2, 2])  # national x2, intermediate x1, local x0.5
        cases = np.array([False, True, True, True])
        assert funding.monthly_cost(meets, level, cases, 1.0, 2.0) == pytest.approx(2 + 1 + 0.5 + 3 * 2.0)
        assert funding.monthly_cost(~meets & False, level, cases & False, 1.0, 2.0) == 0.0

    def test_cost_by_payer_shares_each_platform_bill_as_its_money_came_in(self):
        meets = np.array([True, True, True, False])
        level = np.array([0, 1, 2, 2])
        cases = np.array([False, True, False, True])
        members = np.array([0.2, 0.2, 0.6, 0.0])
        gov = np.array([0.0, 0.2, 0.0, 0.0])
        got = funding.cost_by_payer(meets, level, cases, 1.0, 2.0, 0.6, members, gov)
        # platform 0: 2 k shared 0.6:0.2; platform 1: 3 k shared 0.6:0.2:0.2; platform 2: 0.5 k at
        # 0.6:0.6; platform 3's case study (2 k) falls to the donor, the only one paying there
        expected = [2 * 0.75 + 3 * 0.6 + 0.25 + 2.0, 2 * 0.25 + 3 * 0.2 + 0.25, 3 * 0.2]
        np.testing.assert_allclose(got, expected)
        # after the donor: nobody pays platform 3, so its case study is the members' own
        after = funding.cost_by_payer(meets, level, cases, 1.0, 2.0, 0.0, members, gov)
        np.testing.assert_allclose(after, [0.0, 2 + 3 * 0.5 + 0.5 + 2.0, 3 * 0.5])
        assert got.sum() == pytest.approx(funding.monthly_cost(meets, level, cases, 1.0, 2.0))


# ============================================================== money responses


def test_paid_response_is_a_logistic_around_its_midpoint_and_a_floor_at_width_zero():
    from model.mechanisms import paid_response

    funds = np.array([0.0, 0.25, 0.5, 1.0])
    got = paid_response(funds, 0.5, 0.1)
    assert got[2] == pytest.approx(0.5)
    assert np.all(np.diff(got) > 0) and in_unit(got)
    assert got[0] < 0.01 and got[3] > 0.99
    np.testing.assert_array_equal(paid_response(funds, 0.5, 0.0), [0.0, 0.0, 1.0, 1.0])


# ============================================================== 2 meetings and attendance


class TestMeetings:
    def test_a_platform_meets_only_when_due_and_paid(self):
        last = np.array([0, 0, 8, 8])
        funds = np.array([1.0, 0.0, 1.0, 0.24])
        # width 0 is the hard floor: due and paid meets; unpaid never; not due (10-8 < 3) never
        met = meetings.platform_meets(10, last, 2, funds, uniforms(4), 0.25, 0.0)
        np.testing.assert_array_equal(met, [True, False, True, False])
        assert not meetings.platform_meets(10, last, 3, funds, uniforms(4))[2]
        assert not meetings.platform_meets(10, last, 3, funds, uniforms(4))[1]  # no money, no meeting

    def test_a_partly_funded_platform_meets_with_probability_equal_to_its_funds(self):
        funds = np.full(N_DRAWS, 0.6)
        met = meetings.platform_meets(10, np.zeros(N_DRAWS, dtype=np.int64), 1, funds, uniforms(N_DRAWS, 1))
        # well above the midpoint (0.25) the logistic is 0.9991
        assert met.mean() == pytest.approx(0.6, abs=0.01)

    def test_the_chance_to_meet_rises_smoothly_through_the_funding_midpoint(self):
        levels = np.linspace(0.0, 1.0, 41)
        funds = np.repeat(levels, 20_000)
        last = np.zeros(funds.shape[0], dtype=np.int64)
        met = meetings.platform_meets(10, last, 1, funds, uniforms(funds.shape[0], 2), 0.25, 0.05)
        share = met.reshape(41, -1).mean(axis=1)
        assert np.all(np.diff(share) > -0.01)  # never falls with money (se of a step < 0.005)
        # no jump: neighbouring levels 0.025 apart differ by less than a fifth
        assert np.max(np.diff(share)) < 0.2
        i = int(np.argmin(np.abs(levels - 0.25)))
        assert share[i] == pytest.approx(0.25 * 0.5, abs=0.01)

    def test_attendance_is_a_probability_and_barriers_hit_only_the_hard_to_reach(self):
        eng = np.full(4, 0.8)
        trust = np.ones(4)
        gov = np.ones(4)
        hard = np.array([False, True, False, True])
        fac = np.array([0.2, 0.2, 1.0, 1.0])
        p = meetings.attendance_probability(eng, trust, gov, hard, fac, 0.6)
        assert in_unit(p)
        assert p[0] == pytest.approx(0.8)
        assert p[1] == pytest.approx(0.8 * (1 - 0.6 * 0.8))  # poor facilitation keeps them away
        # proactive (perfect) facilitation removes the barrier entirely (seed 002)
        assert p[3] == pytest.approx(p[2])

    def test_attendance_grows_with_facilitation_trust_and_engagement(self):
        grid = np.linspace(0.0, 1.0, 11)
        one = np.ones(11)
        hard = np.ones(11, dtype=bool)
        by_fac = meetings.attendance_probability(0.7 * one, 0.5 * one, one, hard, grid, 0.6)
        by_trust = meetings.attendance_probability(0.7 * one, grid, one, hard, 0.5 * one, 0.6)
        by_eng = meetings.attendance_probability(grid, 0.5 * one, one, hard, 0.5 * one, 0.6)
        for series in (by_fac, by_trust, by_eng):
            assert np.all(np.diff(series) > 0)
            assert in_unit(series)

    def test_absent_government_does_not_attend(self):
        p = meetings.attendance_probability(
            np.array([0.9]), np.array([1.0]), np.array([0.0]), np.array([False]), np.array([1.0]), 0.6
        )
        assert p[0] == 0.0

    def test_only_active_seats_of_platforms_that_met_attend_at_their_probability(self):
        n = N_DRAWS
        prob = np.full(n, 0.3)
        active = np.arange(n) % 2 == 0
        met = np.arange(n) % 4 < 2
        att = meetings.attend(prob, active, met, uniforms(n, 2))
        assert not att[~active].any()
        assert not att[~met].any()
        assert att[active & met].mean() == pytest.approx(0.3, abs=0.01)  # se 0.002


# ============================================================== 3 horizontal learning and trust


class TestHorizontalLearning:
    # agents 0,1,2 on platform 0; agent 3 on platform 1; agent 1 also sits on platform 1
    ea, ep = seats((0, 0), (1, 0), (2, 0), (3, 1), (1, 1))

    def test_pool_is_the_weighted_mean_of_attendees_and_zero_where_nobody_came(self):
        k = np.array([0.2, 0.4, 0.9, 0.7])
        w = np.array([1.0, 3.0, 0.0, 0.0, 0.0])  # agent 2 did not attend; platform 1 had nobody
        pool = learning.platform_pool(k, w, self.ea, self.ep, 3)
        np.testing.assert_allclose(pool, [(0.2 + 3 * 0.4) / 4, 0.0, 0.0])

    def test_mix_linked_raises_a_pool_towards_linked_platforms_that_met_and_never_lowers_it(self):
        pool = np.array([0.2, 0.8, 0.5, 0.9])
        links = np.array([[0, 1, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]], dtype=float)
        met = np.array([True, True, True, False])
        got = learning.mix_linked(pool, links, met, 0.5)
        # platform 0 sees the mean of 1 and 2 (3 did not meet): 0.65, closes half the gap
        assert got[0] == pytest.approx(0.2 + 0.5 * (0.65 - 0.2))
        assert np.all(got >= pool)  # never lowered
        assert got[1] == pool[1] and got[2] == pool[2]  # their only neighbour knows less
        assert got[3] == pytest.approx(pool[3])  # neighbour 0 (0.2) knows less
        assert np.all(got <= np.maximum(pool, 0.65) + 1e-12)

    def test_mix_linked_does_nothing_without_links_or_rate(self):
        pool = np.array([0.1, 0.9])
        links = np.array([[0, 1], [1, 0]], dtype=float)
        met = np.array([True, True])
        np.testing.assert_array_equal(learning.mix_linked(pool, links, met, 0.0), pool)
        np.testing.assert_array_equal(learning.mix_linked(pool, np.zeros((2, 2)), met, 0.9), pool)
        # a linked platform that did not meet has nothing to share
        np.testing.assert_array_equal(learning.mix_linked(pool, links, np.array([True, False]), 0.9), pool)

    def test_attendees_close_a_share_of_the_gap_and_nobody_unlearns(self):
        k = np.array([0.2, 0.4, 0.9, 0.1])
        target = np.array([0.6, 0.5])
        att = np.array([True, True, True, False, False])
        trust = np.array([1.0, 0.0, 1.0, 1.0])
        cap = np.array([1.0, 0.5, 1.0, 1.0])
        fac = np.array([0.5, 1.0])
        got = learning.horizontal_learning(k, trust, cap, target, att, self.ea, self.ep, fac, 0.4)
        assert got[0] == pytest.approx(0.2 + 0.4 * 0.5 * 1.0 * 1.0 * 0.4)
        assert got[1] == pytest.approx(0.4 + 0.4 * 0.5 * 0.3 * 0.5 * 0.2)
        assert got[2] == 0.9  # knows more than the pool: keeps it
        assert got[3] == 0.1  # did not attend
        assert np.all(got >= k) and in_unit(got)

    def test_learning_grows_with_facilitation_trust_and_capacity(self):
        ea, ep = seats((0, 0))
        k, tgt, att = np.array([0.1]), np.array([0.9]), np.array([True])

        def gain(trust: float, cap: float, fac: float) -> float:
            return learning.horizontal_learning(
                k, np.array([trust]), np.array([cap]), tgt, att, ea, ep, np.array([fac]), 0.4
            )[0] - 0.1

        grid = np.linspace(0.0, 1.0, 6)
        for values in ([gain(0.5, 0.5, f) for f in grid], [gain(t, 0.5, 0.5) for t in grid],
                       [gain(0.5, c, 0.5) for c in grid]):
            assert np.all(np.diff(values) >= 0) and values[-1] > values[0]
        assert gain(1.0, 1.0, 1.0) <= 0.8 + 1e-12  # never past the pool

    def test_a_member_on_two_platforms_learns_from_both_but_stays_below_one(self):
        k = np.array([0.0, 0.0, 0.0, 0.0])
        target = np.array([1.0, 1.0])
        att = np.ones(5, dtype=bool)
        got = learning.horizontal_learning(k, np.ones(4), np.ones(4), target, att, self.ea, self.ep,
                                           np.ones(2), 0.9)
        assert got[1] == 1.0  # two seats: 0.9 + 0.9 gains, capped
        assert got[0] == pytest.approx(0.9)

    def test_diversity_is_zero_for_one_kind_and_one_minus_one_over_k_for_k_equal_kinds(self):
        ea, ep = seats((0, 0), (1, 0), (2, 1), (3, 1), (4, 1), (5, 1))
        kind = np.array([3, 3, 0, 1, 2, 3])
        att = np.ones(6, dtype=bool)
        d = learning.diversity(kind, att, ea, ep, 2, 10)
        np.testing.assert_allclose(d, [0.0, 0.75])
        att[2:4] = False  # two kinds remain on platform 1
        assert learning.diversity(kind, att, ea, ep, 2, 10)[1] == pytest.approx(0.5)

    def test_good_facilitation_builds_trust_and_poor_facilitation_of_diversity_erodes_it(self):
        ea, ep = seats((0, 0), (1, 1), (2, 2))
        trust = np.full(3, 0.5)
        att = np.ones(3, dtype=bool)
        fac = np.array([1.0, 0.2, 0.2])
        div = np.array([0.8, 0.8, 0.0])
        got = learning.update_trust(trust, att, ea, ep, fac, div, 0.6, 0.5)
        assert got[0] > 0.5  # skilled facilitator mediates (001)
        assert got[1] < got[2]  # the same poor facilitator does worse on a diverse platform
        assert got[1] < 0.5
        # without conflict diversity does not matter
        calm = learning.update_trust(trust, att, ea, ep, fac, div, 0.0, 0.5)
        assert calm[1] == pytest.approx(calm[2])

    def test_trust_base_lifts_what_any_facilitation_can_build(self):
        ea, ep = seats((0, 0), (1, 1))
        trust = np.full(2, 0.3)
        att = np.ones(2, dtype=bool)
        fac, div = np.array([0.3, 0.3]), np.array([0.5, 0.5])
        low = learning.update_trust(trust, att, ea, ep, fac, div, 0.6, 1.0, 0.0)
        high = learning.update_trust(trust, att, ea, ep, fac, div, 0.6, 1.0, 0.4)
        # with rate 1 trust jumps to the target: base + facilitation - conflict x diversity x (1 - facilitation)
        np.testing.assert_allclose(low, 0.3 - 0.6 * 0.5 * 0.7)
        np.testing.assert_allclose(high, 0.4 + 0.3 - 0.6 * 0.5 * 0.7)

    def test_trust_stays_in_bounds_and_absent_members_keep_theirs(self):
        ea, ep = seats((0, 0), (1, 0), (2, 1))
        trust = np.array([0.99, 0.01, 0.4])
        att = np.array([True, True, False])
        for fac in (0.0, 1.0):
            got = learning.update_trust(trust, att, ea, ep, np.full(2, fac), np.array([1.0, 1.0]), 1.0, 1.0)
            assert in_unit(got)
            assert got[2] == 0.4


# ============================================================== 4 action research


class TestActionResearch:
    def test_only_funded_platforms_that_met_run_case_studies(self):
        n = N_DRAWS
        met = np.arange(n) % 2 == 0
        funds = np.where(np.arange(n) % 4 < 2, 1.0, 0.3)
        fac = np.full(n, 0.5)
        cases = action_research.run_case_studies(met, funds, fac, 0.6, uniforms(n, 3))
        assert not cases[~met].any()
        # 0.3 is four widths below the midpoint 0.5: the logistic is 0.018
        assert cases[met & (funds < 0.5)].mean() < 0.3 * 0.05
        # the facilitator weaves research in: rate = intensity x facilitation (x 0.99995 at full funds)
        assert cases[met & (funds == 1.0)].mean() == pytest.approx(0.3, abs=0.01)  # se 0.002
        half = action_research.run_case_studies(met, np.full(n, 0.5), fac, 0.6, uniforms(n, 4))
        assert half[met].mean() == pytest.approx(0.15, abs=0.01)
        assert not action_research.run_case_studies(met, funds, fac, 0.0, uniforms(n, 3)).any()

    def test_results_are_zero_without_a_case_study_and_complex_innovations_fail_more(self):
        cases = np.ones(N_DRAWS, dtype=bool)
        cases[::10] = False
        simple = action_research.case_study_results(cases, 0.0, rng(4).standard_normal(cases.shape[0]))
        hard = action_research.case_study_results(cases, 1.0, rng(4).standard_normal(cases.shape[0]))
        assert np.all(simple[~cases] == 0) and np.all(hard[~cases] == 0)
        assert simple[cases].mean() == pytest.approx(0.5, abs=0.01)  # se 0.001
        assert hard[cases].mean() == pytest.approx(-0.1, abs=0.01)
        assert (hard[cases] < 0).mean() > (simple[cases] < 0).mean() + 0.3

    # platform 0 succeeded, platform 1 failed, platform 2 ran no case study
    ea, ep = seats((0, 0), (1, 1), (2, 2), (3, 0))
    results = np.array([0.4, -0.3, 0.0])
    cases = np.array([True, True, False])

    def _learn(self, documentation: float, attended=None) -> np.ndarray:
        att = np.array([True, True, True, False]) if attended is None else attended
        return action_research.action_research_learning(
            np.full(4, 0.2), np.full(4, 0.5), att, self.ea, self.ep, self.results, self.cases,
            documentation, 0.3,
        )

    def test_successes_teach_participants_and_absentees_learn_nothing(self):
        got = self._learn(0.0)
        assert got[0] == pytest.approx(0.2 + 0.3 * 0.5 * 0.8)
        assert got[2] == 0.2  # no case study on its platform
        assert got[3] == 0.2  # did not attend

    def test_failures_teach_only_when_documented(self):
        undocumented, half, full = self._learn(0.0), self._learn(0.5), self._learn(1.0)
        assert undocumented[1] == 0.2
        assert half[1] - 0.2 == pytest.approx(0.5 * (full[1] - 0.2))
        assert full[1] == pytest.approx(full[0])  # documented failure teaches like a success
        assert undocumented[0] == half[0] == full[0]  # documentation does not change what successes teach

    def test_learning_is_bounded(self):
        got = action_research.action_research_learning(
            np.array([0.95, 1.0]), np.ones(2), np.ones(2, dtype=bool), np.array([0, 0]),
            np.array([0, 0]), np.array([1.0]), np.array([True]), 1.0, 1.0,
        )
        assert in_unit(got) and got[0] == 1.0

    def test_fit_improves_only_where_case_studies_ran_successes_more_than_failures(self):
        fit = np.array([0.3, 0.3, 0.3, 0.3])
        plat_district = np.array([0, 1, 2, -1])  # the last is the national platform
        results = np.array([0.5, -0.5, 0.0, 0.5])
        cases = np.array([True, True, False, True])
        got = action_research.update_fit(fit, plat_district, results, cases, 0.1, 0.0)
        assert got[0] == pytest.approx(0.3 + 0.1 * 0.7)
        assert got[1] == pytest.approx(0.3 + 0.03 * 0.7)  # failures narrow down what works, by less
        assert got[2] == 0.3 and got[3] == 0.3  # no case study; national platform has no district

    def test_exchange_visits_carry_a_share_of_linked_platforms_trials_to_their_district(self):
        fit = np.full(4, 0.3)
        plat_district = np.array([0, 1, 2, -1])
        results = np.array([0.5, 0.0, 0.0, 0.5])
        cases = np.array([True, False, False, True])
        links = np.array([[0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]], dtype=float)
        got = action_research.update_fit(fit, plat_district, results, cases, 0.1, 0.0, links, 0.5)
        assert got[0] == pytest.approx(0.3 + 0.1 * 0.7)  # its own trial; the national platform adds no district fit
        assert got[1] == pytest.approx(0.3 + 0.5 * 0.1 * 0.7)  # saw district 0's trial
        assert got[2] == 0.3  # not linked
        np.testing.assert_array_equal(
            action_research.update_fit(fit, plat_district, results, cases, 0.1, 0.0, links, 0.0),
            action_research.update_fit(fit, plat_district, results, cases, 0.1, 0.0))

    def test_fit_gain_falls_with_complexity_and_fit_stays_below_one(self):
        fit = np.array([0.5])
        pd_ = np.array([0])
        gains = [action_research.update_fit(fit, pd_, np.array([1.0]), np.array([True]), 0.2, c)[0] - 0.5
                 for c in (0.0, 0.5, 1.0)]
        assert gains[0] > gains[1] > gains[2] > 0
        many = action_research.update_fit(np.array([0.99]), np.zeros(50, dtype=np.int64), np.ones(50),
                                          np.ones(50, dtype=bool), 1.0, 0.0)
        assert many[0] <= 1.0

    def test_fit_transfers_to_outside_districts_towards_the_pilots_mean_only(self):
        fit = np.array([0.6, 0.8, 0.2, 0.9])
        pilot = np.array([True, True, False, False])
        got = action_research.transfer_fit(fit, pilot, 0.5, 0.1, 1.0)
        np.testing.assert_allclose(got[:2], fit[:2])  # pilots are untouched
        assert got[2] == pytest.approx(0.2 + 0.1 * 0.5 * (0.7 - 0.2))
        assert got[3] == 0.9  # already above the pilots' mean: not pulled down
        boosted = action_research.transfer_fit(fit, pilot, 0.5, 0.1, 5.0)
        assert boosted[2] - 0.2 == pytest.approx(5 * (got[2] - 0.2))
        np.testing.assert_array_equal(action_research.transfer_fit(fit, pilot, 0.0, 0.1, 5.0), fit)

    def test_fit_transfer_needs_both_pilots_and_outsiders(self):
        fit = np.array([0.1, 0.9])
        for pilot in (np.array([True, True]), np.array([False, False])):
            np.testing.assert_array_equal(action_research.transfer_fit(fit, pilot, 1.0, 1.0, 1.0), fit)


# ============================================================== 5 vertical learning


class TestVerticalLearning:
    # national 0; districts 1 and 2 under it (2 and 1 linking members); community 3 under district 1
    vert = np.array([[0, 2, 1, 0], [2, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]], dtype=float)

    def test_targets_average_linked_platforms_that_met_weighted_by_linking_members(self):
        pool = np.array([0.9, 0.3, 0.6, 0.1])
        met = np.array([True, True, True, False])
        vt = vertical.vertical_targets(pool, self.vert, met)
        assert vt[0] == pytest.approx((2 * 0.3 + 1 * 0.6) / 3)
        assert vt[1] == pytest.approx(0.9)  # community 3 did not meet: only the national signal
        assert vt[2] == pytest.approx(0.9)
        assert vt[3] == pytest.approx(0.3)
        assert vertical.vertical_targets(pool, self.vert, np.zeros(4, dtype=bool)).sum() == 0.0

    def test_symmetric_links_carry_evidence_up_and_signals_down(self):
        pool = np.array([0.0, 1.0, 0.0, 0.0])
        vt = vertical.vertical_targets(pool, self.vert, np.ones(4, dtype=bool))
        assert vt[0] > 0 and vt[3] > 0  # up to national and down to the community

    def test_attendees_move_towards_the_carried_knowledge_and_never_lose_any(self):
        ea, ep = seats((0, 0), (1, 0), (2, 1))
        k = np.array([0.1, 0.8, 0.1])
        target = np.array([0.5, 0.9])
        att = np.array([True, True, False])
        cap = np.array([1.0, 1.0, 1.0])
        got = vertical.vertical_learning(k, cap, target, att, ea, ep, 0.3)
        assert got[0] == pytest.approx(0.1 + 0.3 * 0.4)
        assert got[1] == 0.8  # already knows more
        assert got[2] == 0.1  # absent
        assert in_unit(got) and np.all(got >= k)
        assert np.all(vertical.vertical_learning(k, cap, target, att, ea, ep, 0.0) == k)


# ============================================================== 6 adoption


class TestAdoption:
    def test_peer_support_is_the_share_adopted_on_one_mixed_platform_with_full_attendance(self):
        # the Bass limit: support equals the adopter share for everybody
        n = 10
        ea, ep = seats(*[(i, 0) for i in range(n)])
        adopted = np.arange(n) < 3
        got = adoption.peer_support(np.zeros(n), adopted, np.ones(n), np.ones(n, dtype=bool), ea, ep, 1, 0.8)
        np.testing.assert_allclose(got, 0.3)

    def test_peer_support_is_influence_weighted_averaged_over_seats_and_remembered_when_absent(self):
        # agents 0,1 on platform 0; agents 1,2 on platform 1; agent 3 on platform 1 but absent
        ea, ep = seats((0, 0), (1, 0), (1, 1), (2, 1), (3, 1))
        adopted = np.array([True, False, False, False])
        infl = np.array([3.0, 1.0, 1.0, 1.0])
        att = np.array([True, True, True, True, False])
        prev = np.array([0.0, 0.0, 0.0, 0.5])
        got = adoption.peer_support(prev, adopted, infl, att, ea, ep, 2, 0.8)
        assert got[0] == pytest.approx(0.75)
        assert got[1] == pytest.approx((0.75 + 0.0) / 2)
        assert got[2] == 0.0
        assert got[3] == pytest.approx(0.4)  # met nobody: fading memory
        assert in_unit(got)

    def test_district_exposure_is_the_influence_weighted_adopter_share_and_ignores_national(self):
        adopted = np.array([True, False, True, True, False])
        infl = np.array([1.0, 3.0, 2.0, 5.0, 1.0])
        district = np.array([0, 0, 1, -1, 2])
        got = adoption.district_exposure(adopted, infl, district, 4)
        np.testing.assert_allclose(got, [0.25, 1.0, 0.0, 0.0])

    def test_outreach_reaches_non_members_of_exposed_districts_only(self):
        k = np.full(5, 0.2)
        s = np.array([0.0, 0.0, 0.9, 0.0, 0.0])
        cap = np.ones(5)
        member = np.array([True, False, False, False, False])
        district = np.array([0, 0, 0, 1, -1])
        exposure = np.array([0.5, 0.0])
        extra = np.zeros(5)
        nk, ns = adoption.outreach(k, s, cap, member, district, exposure, 0.1, extra)
        assert nk[0] == 0.2 and ns[0] == 0.0  # members learn at meetings, not here
        assert nk[1] == pytest.approx(0.2 + 0.1 * 0.5 * 0.8)
        assert ns[1] == 0.5 and ns[2] == 0.9  # support rises to the exposure, never falls
        assert nk[3] == 0.2  # unexposed district
        assert nk[4] == 0.2 and ns[4] == 0.0  # national organisation: no district to be reached in
        nk2, _ = adoption.outreach(k, s, cap, member, district, exposure, 0.1, np.full(5, 0.05))
        assert nk2[3] == pytest.approx(0.2 + 0.05 * 0.8)  # spill-over / policy inflow reaches outsiders
        assert nk2[0] == 0.2

    def test_outreach_knowledge_grows_with_exposure_and_stays_bounded(self):
        n = 11
        exposure = np.linspace(0.0, 1.0, n)
        nk, ns = adoption.outreach(np.full(n, 0.5), np.zeros(n), np.ones(n), np.zeros(n, dtype=bool),
                                   np.arange(n), exposure, 0.5, np.full(n, 0.1))
        assert np.all(np.diff(nk) > 0) and in_unit(nk) and in_unit(ns)

    def test_readiness_grows_with_knowledge_fit_and_advantage_and_scale_zero_makes_all_ready(self):
        k = np.linspace(0.0, 1.0, 101)
        thr = np.full(101, 0.3)
        base = adoption.readiness(k, np.full(101, 0.5), 0.6, thr, 1.0)
        better_fit = adoption.readiness(k, np.full(101, 1.0), 0.6, thr, 1.0)
        more_adv = adoption.readiness(k, np.full(101, 0.5), 1.0, thr, 1.0)
        assert np.all(np.diff(base.astype(int)) >= 0)  # once ready, more knowledge stays ready
        assert better_fit.sum() > base.sum() and more_adv.sum() > base.sum()
        assert np.all(better_fit >= base) and np.all(more_adv >= base)
        # value = k * 0.75 * 0.8 = 0.6 k; ready once 0.6 k >= 0.3
        assert k[base.argmax()] == pytest.approx(0.5)
        assert adoption.readiness(np.zeros(3), np.zeros(3), 0.0, np.ones(3), 0.0).all()

    def test_stage_transitions(self):
        U, A, T, D, INST = (Stage.UNAWARE, Stage.AWARE, Stage.TRIALLING, Stage.ADOPTED, Stage.INSTITUTIONALISED)
        stage = np.array([U, U, U, U, A, A, T, D, D, INST, INST], dtype=np.int8)
        k = np.array([0.0, 0.1, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.0])
        support = np.array([0.0, 0.0, 0.2, 0.0, 0, 0, 0, 0, 0, 0, 0])
        ready = np.array([False, False, False, True, True, False, False, False, True, False, False])
        inst = np.array([False] * 8 + [True, False, False])
        # hazard 0: nobody adopts, so only the deterministic transitions show; an unaware
        # organisation that is already ready passes through "aware" to "trialling" in one month
        before = stage.copy()
        got = adoption.adopt(stage, ready, k, support, 0.0, 0.0, inst, uniforms(stage.shape[0]))
        np.testing.assert_array_equal(got, [U, A, A, T, T, A, A, D, INST, INST, INST])
        assert got.dtype == stage.dtype
        np.testing.assert_array_equal(stage, before)  # a pure function: the input is not modified

    def test_the_stage_steps_taken_apart_give_next_stage(self):
        """The compiled month calls next_stage's three steps itself, to draw the Bass number only
        for the organisations that trial; taken apart they must give next_stage's stage."""
        import itertools

        for st, ready, k, sup, inst, u in itertools.product(
            range(5), (False, True), (0.0, 0.1), (0.0, 0.2), (False, True), (0.01, 0.5, 0.99)
        ):
            mid = adoption.trial_stage(st, ready, k, sup)
            assert mid in (st, Stage.AWARE, Stage.TRIALLING)
            after = mid
            if mid == Stage.TRIALLING and adoption.bass_adopts(u, 0.05, 1.0, sup):
                after = Stage.ADOPTED
            after = adoption.institutional_stage(after, inst)
            assert after == adoption.next_stage(st, ready, k, sup, 0.05, 1.0, inst, u)
        # the Bass step alone: adopts below the hazard 1 - exp(-(p + q s)), not above it
        hazard = 1.0 - np.exp(-(0.05 + 1.0 * 0.2))
        assert adoption.bass_adopts(hazard - 1e-9, 0.05, 1.0, 0.2)
        assert not adoption.bass_adopts(hazard, 0.05, 1.0, 0.2)
        assert adoption.institutional_stage(Stage.ADOPTED, True) == Stage.INSTITUTIONALISED
        assert adoption.institutional_stage(Stage.TRIALLING, True) == Stage.TRIALLING

    def test_adopted_stay_adopted_and_institutionalised_stay_institutionalised_when_not_ready(self):
        stage = np.array([Stage.ADOPTED, Stage.INSTITUTIONALISED], dtype=np.int8)
        got = adoption.adopt(stage, np.zeros(2, bool), np.zeros(2), np.zeros(2), 1.0, 3.0, np.zeros(2, bool),
                             uniforms(2))
        np.testing.assert_array_equal(got, stage)

    @pytest.mark.parametrize(("p", "q", "s"), [(0.01, 0.3, 0.0), (0.01, 0.3, 0.5), (0.05, 1.0, 1.0)])
    def test_trialling_ready_organisations_adopt_with_the_bass_hazard(self, p, q, s):
        n = N_DRAWS
        stage = np.full(n, Stage.TRIALLING, dtype=np.int8)
        got = adoption.adopt(stage, np.ones(n, bool), np.full(n, 0.5), np.full(n, s), p, q,
                             np.zeros(n, bool), uniforms(n, 5))
        expected = 1.0 - np.exp(-(p + q * s))
        assert (got == Stage.ADOPTED).mean() == pytest.approx(expected, abs=0.01)  # se <= 0.0012
        assert set(np.unique(got)) <= {Stage.TRIALLING, Stage.ADOPTED}

    def test_adoption_hazard_grows_with_support(self):
        n = N_DRAWS
        stage = np.full(n, Stage.TRIALLING, dtype=np.int8)
        shares = [(adoption.adopt(stage, np.ones(n, bool), np.ones(n), np.full(n, s), 0.01, 0.3,
                                  np.zeros(n, bool), uniforms(n, 6)) == Stage.ADOPTED).mean() for s in (0.0, 0.5, 1.0)]
        assert shares[0] < shares[1] < shares[2]

    def test_communities_reached_sum_adopters_reach_capped_per_district(self):
        adopted = np.array([True, True, False, True, True])
        reach = np.array([3, 4, 10, 50, 9])
        district = np.array([0, 0, 0, 1, -1])  # the national adopter reaches no district
        got = adoption.communities_reached(adopted, reach, district, np.array([40, 20, 5]))
        np.testing.assert_array_equal(got, [7, 20, 0])


# ============================================================== 7 institutions


class TestInstitutions:
    def test_no_policy_pressure_without_policy_makers(self):
        adopted = np.ones(5, bool)
        assert institutions.policy_pressure(adopted, np.ones(5), np.zeros(5, bool)) == 0.0
        # policy makers with no influence count as absent
        assert institutions.policy_pressure(adopted, np.zeros(5), np.ones(5, bool)) == 0.0

    def test_pressure_is_the_influence_weighted_adopter_share_among_policy_makers(self):
        adopted = np.array([True, False, True, True])
        infl = np.array([0.9, 0.3, 0.6, 1.0])
        pm = np.array([True, True, False, False])  # only the first two make policy
        assert institutions.policy_pressure(adopted, infl, pm) == pytest.approx(0.75)
        assert institutions.policy_pressure(np.ones(4, bool), infl, pm) == pytest.approx(1.0)

    def test_policy_changes_at_the_threshold_and_stays_changed(self):
        assert not institutions.policy_changes(0.49, 0.5, False)
        assert institutions.policy_changes(0.5, 0.5, False)
        assert institutions.policy_changes(0.0, 0.5, True)

    def test_a_changed_policy_lowers_every_threshold_by_its_effect(self):
        assert institutions.threshold_multiplier(False, 0.5) == 1.0
        assert institutions.threshold_multiplier(True, 0.5) == 0.5
        assert institutions.threshold_multiplier(True, 0.0) == 1.0
        np.testing.assert_allclose(institutions.threshold_multiplier(np.array([True, False]), 0.4), [0.6, 1.0])

    def test_district_pressure_counts_each_districts_local_government_alone(self):
        adopted = np.array([True, False, True, True, True])
        infl = np.array([0.6, 0.2, 0.5, 1.0, 1.0])
        local = np.array([True, True, True, False, True])
        district = np.array([0, 0, 1, 1, -1])  # the national organisation and a service provider do not count
        got = institutions.district_pressure(adopted, infl, local, district, 3)
        np.testing.assert_allclose(got[:2], [0.75, 1.0])
        assert np.isnan(got[2])  # no local government: nobody to institutionalise

    def test_a_district_institutionalises_at_its_threshold_and_stays(self):
        already = np.array([True, False, False, False])
        got = institutions.districts_institutionalise(np.array([0.0, 0.49, 0.5, np.nan]), 0.5, already)
        np.testing.assert_array_equal(got, [True, False, True, False])

    def test_a_programme_reaches_pilots_first_then_one_district_after_another(self):
        pilot = np.array([False, True, False, True, False])
        order = institutions.programme_order(pilot, rng(5))
        assert set(order[:2]) == {1, 3} and sorted(order) == [0, 1, 2, 3, 4]
        reach = [institutions.programme_reach(m, 2.0, 5) for m in (-1, 0, 5, 6, 12, 18, 24, 600)]
        assert reach == [0, 1, 1, 2, 3, 4, 5, 5]
        assert institutions.programme_reach(0, 100.0, 5) == 1
        assert institutions.programme_reach(1, 100.0, 5) == 5  # a large budget is the old "everyone at once"


# ============================================================== 8 turnover


class TestTurnover:
    def test_only_members_change_representatives_at_the_rate(self):
        member = np.arange(N_DRAWS) % 2 == 0
        change = turnover.replaced(member, 0.1, uniforms(N_DRAWS, 7))
        assert not change[~member].any()
        assert change[member].mean() == pytest.approx(0.1, abs=0.01)

    def _turn(self, documentation: float, change: np.ndarray, reputation: float = 0.0, seed: int = 0,
              dm_base: float = 0.3) -> tuple[np.ndarray, ...]:
        n = change.shape[0]
        return turnover.turnover(
            np.full(n, 0.8), np.full(n, 0.6), np.full(n, 5), np.zeros(n, bool), change, documentation,
            np.full(n, reputation), np.full(n, dm_base), uniforms(n, seed),
        )

    def test_a_new_representative_keeps_only_what_was_documented(self):
        change = np.array([True, False])
        for doc in (0.0, 0.5, 1.0):
            k, t, ten, dm = self._turn(doc, change)
            assert k[0] == pytest.approx(0.8 * doc)
            assert k[1] == 0.8 and t[1] == 0.6 and ten[1] == 6 and not dm[1]
            assert t[0] == pytest.approx(0.3) and ten[0] == 0

    def test_nothing_is_lost_when_nobody_changes(self):
        k, t, ten, dm = self._turn(0.0, np.zeros(3, bool))
        np.testing.assert_array_equal(k, 0.8)
        np.testing.assert_array_equal(t, 0.6)
        np.testing.assert_array_equal(ten, 6)

    def test_decision_makers_are_resampled_more_often_when_the_alliance_has_a_good_name(self):
        change = np.ones(N_DRAWS, bool)
        for rep in (0.0, 0.5, 1.0):
            _, _, _, dm = self._turn(0.5, change, reputation=rep, seed=8)
            assert dm.mean() == pytest.approx(0.3 + 0.7 * rep, abs=0.01)

    def test_unchanged_organisations_keep_their_decision_maker(self):
        n = 1000
        dm_before = np.arange(n) % 3 == 0
        k, t, ten, dm = turnover.turnover(np.ones(n), np.ones(n), np.zeros(n, int), dm_before,
                                          np.zeros(n, bool), 0.5, np.ones(n), np.zeros(n), uniforms(n, 9))
        np.testing.assert_array_equal(dm, dm_before)


# ============================================================== 9 membership


class TestMembership:
    n = N_DRAWS

    def _update(self, active, linking, met, idle, recruitment=0.5, dropout=0.1, trust=0.0, seed=10):
        n = active.shape[0]
        ea = np.arange(n)
        ep = np.arange(n) % 2  # seats alternate between platform 0 and 1
        return membership.update_seats(
            active, linking, ea, ep, met, np.array([1.0, 1.0]), np.ones(n), np.full(n, trust), idle,
            0.5, recruitment, dropout, uniforms(n, seed), np.ones(n), np.ones(n),
        )

    def test_recruitment_happens_only_at_platforms_that_met(self):
        active = np.zeros(self.n, bool)
        got = self._update(active, np.zeros(self.n, bool), np.array([True, False]), np.zeros(2, bool))
        ep = np.arange(self.n) % 2
        assert not got[ep == 1].any()
        assert got[ep == 0].mean() == pytest.approx(0.5, abs=0.01)  # rate x attractiveness x engagement
        assert not self._update(active, np.zeros(self.n, bool), np.array([True, True]), np.zeros(2, bool),
                                recruitment=0.0).any()

    def test_linking_seats_never_drop(self):
        active = np.ones(self.n, bool)
        linking = np.arange(self.n) % 3 == 0
        got = self._update(active, linking, np.zeros(2, bool), np.ones(2, bool), dropout=1.0)
        assert got[linking].all()
        assert not got[~linking].any()  # dropout 1 x burden 1.5 x idle 3: every other member leaves

    def test_idle_platforms_lose_members_three_times_faster(self):
        active = np.ones(self.n, bool)
        got = self._update(active, np.zeros(self.n, bool), np.zeros(2, bool), np.array([False, True]),
                           dropout=0.1, trust=0.5)
        ep = np.arange(self.n) % 2
        # burden = (0.5 + cost_sharing 0.5) x (1 - trust 0.5) = 0.5; x3 when idle
        assert 1 - got[ep == 0].mean() == pytest.approx(0.05, abs=0.01)
        assert 1 - got[ep == 1].mean() == pytest.approx(0.15, abs=0.01)

    def test_members_who_trust_fully_stay_and_no_dropout_means_nobody_leaves(self):
        active = np.ones(self.n, bool)
        idle = np.ones(2, bool)
        assert self._update(active, np.zeros(self.n, bool), np.zeros(2, bool), idle, dropout=1.0, trust=1.0).all()
        assert self._update(active, np.zeros(self.n, bool), np.zeros(2, bool), idle, dropout=0.0).all()


# ============================================================== 10 fade


class TestFade:
    def _survival(self, months: int) -> float:
        s = 1.0
        for t in range(months):
            s *= 1.0 - fade.weibull_hazard(t, DEFAULTS.fade_scale_months, DEFAULTS.fade_shape)
        return s

    def test_default_hazard_reproduces_p11(self):
        # Banks and Furey 2016: about 15% of schemes fail within a year, 25% by year four
        assert 1 - self._survival(12) == pytest.approx(0.15, abs=0.01)
        assert 1 - self._survival(48) == pytest.approx(0.25, abs=0.01)

    def test_hazard_is_zero_before_funding_ends_and_falls_with_time_for_shape_below_one(self):
        assert fade.weibull_hazard(-1, 988.0, 0.41) == 0.0
        h = [fade.weibull_hazard(t, 988.0, 0.41) for t in range(60)]
        assert all(0 < x < 1 for x in h)
        assert np.all(np.diff(h) < 0)  # early failures dominate (P11)
        rising = [fade.weibull_hazard(t, 50.0, 2.0) for t in range(1, 30)]
        assert np.all(np.diff(rising) > 0)

    def test_simulated_fade_matches_p11(self):
        n = 100_000
        stage = np.full(n, Stage.ADOPTED, dtype=np.int8)
        k = np.full(n, 0.8)
        ab = np.zeros(n, bool)
        g = rng(11)
        failed = {}
        for t in range(48):
            h = fade.weibull_hazard(t, DEFAULTS.fade_scale_months, DEFAULTS.fade_shape)
            stage, k, ab = fade.fade(stage, k, ab, h, np.zeros(n), g.random(n))
            failed[t + 1] = ab.mean()
        assert failed[12] == pytest.approx(0.15, abs=0.01)  # se 0.0011
        assert failed[48] == pytest.approx(0.25, abs=0.01)  # se 0.0014

    def test_institutionalised_never_fade_and_non_adopters_are_untouched(self):
        stage = np.array([Stage.INSTITUTIONALISED, Stage.UNAWARE, Stage.AWARE, Stage.TRIALLING] * 1000,
                         dtype=np.int8)
        k = np.full(stage.shape[0], 0.7)
        n = stage.shape[0]
        s2, k2, ab = fade.fade(stage, k, np.zeros(n, bool), 1.0, np.zeros(n), uniforms(n))
        np.testing.assert_array_equal(s2, stage)
        np.testing.assert_array_equal(k2, k)
        assert not ab.any()

    def test_protection_cuts_the_hazard_in_proportion(self):
        n = N_DRAWS
        stage = np.full(n, Stage.ADOPTED, dtype=np.int8)
        rates = []
        for prot in (0.0, 0.5, 1.0):
            s2, _, _ = fade.fade(stage, np.ones(n), np.zeros(n, bool), 0.4, np.full(n, prot), uniforms(n, 12))
            rates.append((s2 == Stage.AWARE).mean())
        assert rates[0] == pytest.approx(0.4, abs=0.01)
        assert rates[1] == pytest.approx(0.2, abs=0.01)
        assert rates[2] == 0.0

    def test_abandoners_go_back_to_aware_with_half_their_know_how_and_stay_flagged(self):
        stage = np.array([Stage.ADOPTED, Stage.AWARE], dtype=np.int8)
        prior = np.array([False, True])  # an earlier abandonment is never forgotten
        s2, k2, ab = fade.fade(stage, np.array([0.8, 0.6]), prior, 1.0, np.zeros(2), uniforms(2))
        np.testing.assert_array_equal(s2, [Stage.AWARE, Stage.AWARE])
        np.testing.assert_allclose(k2, [0.4, 0.6])
        np.testing.assert_array_equal(ab, [True, True])
        assert s2.dtype == stage.dtype


# ============================================================== 11 donor distortion


class TestDonor:
    def test_donor_money_without_cost_sharing_erodes_ownership(self):
        own = np.array([0.8])
        got = donor.update_ownership(own, np.array([False]), 1.0, 0.0, 0.05)
        assert got[0] == pytest.approx(0.8 * 0.95)
        met = donor.update_ownership(own, np.array([True]), 1.0, 0.0, 0.05, 0.1)
        assert met[0] == pytest.approx(0.8 + 0.1 * 0.2 - 0.05 * 0.8)

    def test_meetings_build_ownership_whatever_members_pay(self):
        own = np.array([0.2, 0.2])
        for sharing in (0.0, 0.5):
            got = donor.update_ownership(own, np.array([True, False]), 0.0, sharing, 0.05, 0.1)
            assert got[0] == pytest.approx(0.2 + 0.1 * 0.8)
            assert got[1] == 0.2  # no meeting, no donor money: nothing changes

    def test_more_donor_money_erodes_more_and_cost_sharing_shields_from_it(self):
        own = np.array([0.5])
        met = np.array([True])
        by_donor = [donor.update_ownership(own, met, d, 0.2, 0.05)[0] for d in np.linspace(0, 1, 5)]
        by_sharing = [donor.update_ownership(own, met, 0.7, c, 0.05)[0] for c in np.linspace(0, 1, 5)]
        assert np.all(np.diff(by_donor) < 0)
        assert np.all(np.diff(by_sharing) > 0)
        # without distortion the donor's money leaves ownership as it is
        no_distortion = [donor.update_ownership(own, met, d, 0.2, 0.0)[0] for d in np.linspace(0, 1, 5)]
        assert len(set(no_distortion)) == 1

    def test_ownership_stays_in_bounds_over_many_months(self):
        own = np.array([0.0, 0.5, 1.0])
        for met, d, c, dist in ((True, 0.0, 1.0, 0.0), (False, 1.0, 0.0, 0.5), (True, 1.0, 0.0, 0.5)):
            o = own.copy()
            for _ in range(200):
                o = donor.update_ownership(o, np.full(3, met), d, c, dist)
                assert in_unit(o)


# ============================================================== the model's shortcut


def test_seat_kernels_give_the_same_bits_for_all_seats_or_only_the_attending_ones():
    """The model hands the learning kernels only the seats whose organisation attended;
    that must be exactly what the kernels compute from all seats and the attendance flags."""
    g = rng(13)
    n, n_p, n_seats = 300, 12, 900
    ea = g.integers(0, n, n_seats)
    ep = g.integers(0, n_p, n_seats)
    att = g.random(n_seats) < 0.2
    ia = np.flatnonzero(att)
    came = np.ones(ia.size, dtype=bool)
    k, trust, cap = g.random(n), g.random(n), g.random(n)
    infl, kind = g.random(n), g.integers(0, 10, n)
    target, fac = g.random(n_p), g.random(n_p)
    adopted = g.random(n) < 0.3
    support = g.random(n)
    results, cases = g.normal(0, 0.5, n_p), g.random(n_p) < 0.5

    def both(fn, *args_before, tail=()):
        full = fn(*args_before, att, ea, ep, *tail)
        part = fn(*args_before, came, ea[ia], ep[ia], *tail)
        np.testing.assert_array_equal(full, part)  # bit for bit, not approximately

    both(learning.horizontal_learning, k, trust, cap, target, tail=(fac, 0.4))
    both(learning.diversity, kind, tail=(n_p, 10))
    div = learning.diversity(kind, att, ea, ep, n_p, 10)
    both(learning.update_trust, trust, tail=(fac, div, 0.6, 0.12))
    both(action_research.action_research_learning, k, cap, tail=(results, cases, 0.5, 0.3))
    both(vertical.vertical_learning, k, cap, target, tail=(0.3,))
    both(adoption.peer_support, support, adopted, infl, tail=(n_p, 0.8))
    pool_full = learning.platform_pool(k, att * infl[ea], ea, ep, n_p)
    np.testing.assert_array_equal(pool_full, learning.platform_pool(k, infl[ea[ia]], ea[ia], ep[ia], n_p))


# ----------------------------------------------------- membership measures (Sartas et al. 2018)


def _seats(*platform_members):
    """Seat arrays for platforms given as lists of member rows."""
    agent = np.array([a for members in platform_members for a in members], dtype=np.int64)
    platform = np.array([p for p, members in enumerate(platform_members) for _ in members], dtype=np.int64)
    return np.ones(agent.size, dtype=bool), agent, platform


def test_centralisation_is_the_lead_organisations_share_of_the_other_members():
    # a lead sitting on two platforms meets everyone: a star's centre, 1
    active, agent, platform = _seats([0, 1, 2], [0, 3, 4])
    assert membership.centralisation(active, agent, platform, 5, 2) == 1.0
    # a third platform the lead does not sit on: it meets 4 of the 6 others
    active, agent, platform = _seats([0, 1, 2], [0, 3, 4], [5, 6])
    assert membership.centralisation(active, agent, platform, 7, 3) == pytest.approx(4 / 6)
    # members the lead does not meet leave: it centralises (Sartas et al. 2018)
    active[agent == 6] = False
    assert membership.centralisation(active, agent, platform, 7, 3) == pytest.approx(4 / 5)
    # and members it meets leave: it decentralises
    active[agent == 1] = False
    assert membership.centralisation(active, agent, platform, 7, 3) == pytest.approx(3 / 4)


def test_centralisation_edge_cases_no_members_one_member_no_ties():
    active, agent, platform = _seats([0, 1], [2])
    off = np.zeros_like(active)
    assert membership.centralisation(off, agent, platform, 3, 2) == 0.0
    assert membership.centralisation(agent == 2, agent, platform, 3, 2) == 0.0
    # members alone on their platforms share no tie: no centre
    active, agent, platform = _seats([0], [1], [2])
    assert membership.centralisation(active, agent, platform, 3, 3) == 0.0


def test_local_member_share_counts_members_only_and_is_nan_without_members():
    local = np.array([True, True, False, False])
    assert membership.local_share(np.array([True, False, True, True]), local) == pytest.approx(1 / 3)
    assert np.isnan(membership.local_share(np.zeros(4, dtype=bool), local))


def test_membership_series_stay_fixed_when_nobody_joins_or_leaves():
    # with recruitment and drop-out knocked out the membership never changes,
    # so neither may the two measures of it
    for seed in (1, 2, 3):
        scenario = load_scenario("default").knock_out(["membership"])
        s = AllianceModel(scenario, rng=seed).run(24).series()
        assert s["local_member_share"].nunique() == 1 and s["centralisation"].nunique() == 1
        assert 0.0 < s["local_member_share"].iloc[0] < 1.0 and 0.0 < s["centralisation"].iloc[0] <= 1.0


# ------------------------------------------------- 9 the lead organisation's allocation


def test_lead_organisation_is_the_best_connected_member_and_none_without_ties():
    active, agent, platform = _seats([0, 1, 2], [0, 3, 4], [5, 6])
    assert membership.lead_organisation(active, agent, platform, 7, 3) == 0
    # ties broken towards the lowest index: reproducible
    active, agent, platform = _seats([0, 1], [2, 3])
    assert membership.lead_organisation(active, agent, platform, 4, 2) == 0
    active, agent, platform = _seats([0], [1])
    assert membership.lead_organisation(active, agent, platform, 2, 2) == -1
    assert membership.lead_organisation(np.zeros(0, bool), agent[:0], platform[:0], 0, 0) == -1


def test_lead_distance_counts_steps_of_the_platform_tree_from_the_leads_platforms():
    # national 0 -> districts 1, 2 -> communities 3 (under 1) and 4 (under 2)
    parent = np.array([-1, 0, 0, 1, 2])
    active, agent, platform = _seats([0, 1], [0, 2], [3], [4], [5])
    d = membership.lead_distance(0, active, agent, platform, parent)
    # the lead sits on 0 and 1: district 2 is one step away, community 4 two, community 3 one
    assert d.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert membership.lead_distance(-1, active, agent, platform, parent).tolist() == [0.0] * 5
    # a lead on every platform is nowhere far from itself
    everywhere = _seats([0], [0], [0], [0], [0])
    assert not membership.lead_distance(0, *everywhere, parent).any()


def test_allocation_factors_only_while_the_donor_pays_and_grow_with_strength():
    d = np.array([0.0, 0.5, 1.0])
    join, leave = membership.allocation_factors(d, 1.0, True)
    assert join.tolist() == [2.0, 1.5, 1.0] and leave.tolist() == [1.0, 1.5, 2.0]
    for args in ((d, 1.0, False), (d, 0.0, True)):
        join, leave = membership.allocation_factors(*args)
        assert (join == 1.0).all() and (leave == 1.0).all()
    strong = membership.allocation_factors(d, 3.0, True)
    assert (strong[0] >= join).all() and (strong[1] >= leave).all()


class TestAllocationInSeats:
    n = N_DRAWS

    def _factored(self, join, leave, active, met, dropout=0.1, trust=0.5):
        n = active.shape[0]
        ea, ep = np.arange(n), np.arange(n) % 2
        return membership.update_seats(
            active, np.zeros(n, bool), ea, ep, met, np.array([1.0, 1.0]), np.ones(n), np.full(n, trust),
            np.zeros(2, bool), 0.5, 0.25, dropout, uniforms(n, 11), np.broadcast_to(join, n) * 1.0,
            np.broadcast_to(leave, n) * 1.0)

    def test_factors_multiply_joining_and_leaving_seat_by_seat(self):
        ep = np.arange(self.n) % 2
        near_far = np.where(ep == 0, 2.0, 1.0), np.where(ep == 0, 1.0, 2.0)
        joined = self._factored(*near_far, np.zeros(self.n, bool), np.array([True, True]))
        assert joined[ep == 0].mean() == pytest.approx(0.5, abs=0.01)  # 0.25 x 2
        assert joined[ep == 1].mean() == pytest.approx(0.25, abs=0.01)
        stayed = self._factored(*near_far, np.ones(self.n, bool), np.zeros(2, bool))
        # burden (0.5 + 0.5) x (1 - 0.5) = 0.5 -> leaving 0.05, doubled far from the lead
        assert 1 - stayed[ep == 0].mean() == pytest.approx(0.05, abs=0.01)
        assert 1 - stayed[ep == 1].mean() == pytest.approx(0.10, abs=0.01)

    def test_factors_of_one_change_no_seat(self):
        active = rng(3).random(self.n) < 0.5
        met = np.array([True, False])
        n = self.n
        plain = membership.update_seats(
            active, np.zeros(n, bool), np.arange(n), np.arange(n) % 2, met, np.array([1.0, 1.0]), np.ones(n),
            np.full(n, 0.5), np.zeros(2, bool), 0.5, 0.25, 0.1, uniforms(n, 11), np.ones(n), np.ones(n))
        assert (self._factored(1.0, 1.0, active, met) == plain).all()


def test_seats_left_for_lack_of_money_stay_empty_only_while_the_lead_allocates():
    before = np.array([True, True, True, False, True])
    after = np.array([False, False, True, False, True])
    # distance from the lead 1, 0, 1, 1, 0.75 and 0.5 (lead_allocation 1)
    before = np.append(before, True)
    after = np.append(after, False)
    join = np.array([1.0, 2.0, 1.0, 1.0, 1.25, 1.5])
    leave = np.array([2.0, 1.0, 2.0, 2.0, 1.75, 1.5])
    away = np.array([False, False, False, False, True, False])
    got = membership.stayed_away(away, before, after, join, leave, True)
    # seat 0 left far from the lead; seat 4 stays away from earlier; seat 1 left where the
    # lead sits and seat 5 halfway, where the money draws members in as much as it pushes out
    assert got.tolist() == [True, False, False, False, True, False]
    assert not membership.stayed_away(got, before, after, join, leave, False).any()  # the donor has gone


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_members_who_left_far_from_the_lead_return_only_after_the_donor_has_gone(seed):
    scenario = load_scenario("default").with_parameters(dropout_rate=0.05)
    model = AllianceModel(scenario, rng=seed)
    model.run(36)  # the donor pays (project_months 60)
    away = model._away.copy()
    assert away.any() and not model.seat_active[away].any()  # left, and not refilled
    assert not (away & model.world.edge_linking).any()  # linking seats are never left
    model.run(36)  # months 37..72: the donor leaves at month 60
    assert not model._away.any() and model.seat_active[away].any()  # refilled once it has gone
    knocked = AllianceModel(scenario.knock_out(["lead_allocation"]), rng=seed)
    knocked.run(36)
    assert not knocked._away.any()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_lead_joins_the_platforms_it_funds_only_while_it_allocates(seed):
    scenario = load_scenario("default")
    for off, expect in ((False, True), (True, False)):
        s = scenario.knock_out(["lead_allocation"]) if off else scenario
        model = AllianceModel(s, rng=seed)
        w = model.world
        offered = (w.edge_agent == w.lead) & ~w.edge_active
        assert offered.any()  # the lead does not sit everywhere at launch
        model.run(36)
        assert model.seat_active[offered].any() == expect
    # no money to allocate, nothing taken: the seats stay empty with the donor gone from month 0
    model = AllianceModel(scenario.with_parameters(project_months=0), rng=seed)
    model.run(36)
    offered = (model.world.edge_agent == model.world.lead) & ~model.world.edge_active
    assert not model.seat_active[offered].any()
