"""The month as numpy expressions: the model's step before issue 10 compiled it (model/month.py).

A reference for tests/test_month.py only: the same processes (model.mechanisms), composed
by numpy calls on copies of a model's state, so the compiled composition can be checked
against it month by month. Events are left out (the model builds them from the same numbers).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from model.alliance import AllianceModel
from model.kinds import KINDS, LEVELS, Stage
from model.mechanisms import (
    action_research,
    adoption,
    any_per_row,
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
from model.outcomes import SERIES_FIELDS

_ADOPTED, _INSTITUTIONALISED = int(Stage.ADOPTED), int(Stage.INSTITUTIONALISED)
_LEVEL_KEYS = tuple(f"adoption_{name}" for name in LEVELS)
_KIND_KEYS = tuple(f"adoption_{name}" for name in KINDS)
STATE = ("knowledge", "trust", "support", "stage", "abandoned", "tenure", "decision_maker", "seat_active",
         "is_member", "fit", "ownership", "last_meeting", "last_case_study", "district_policy", "backed", "policy",
         "_policy_month", "_reached", "total_cost", "month", "cost_by_payer", "_away")


class NumpyMonth:
    """Copies of a model's state, advanced one month at a time by numpy expressions."""

    def __init__(self, model: AllianceModel) -> None:
        self._model = model
        for k in STATE:
            v = getattr(model, k)
            setattr(self, k, v.copy() if isinstance(v, np.ndarray) else v)
        self._level_count = model._level_count

    def __getattr__(self, name: str):  # fixed inputs: the model's own
        return getattr(self._model, name)

    def _members(self) -> np.ndarray:
        return any_per_row(self.world.edge_agent, self.seat_active, self.world.n)

    def _platform_trust(self) -> np.ndarray:
        w = self.world
        return AllianceModel._platform_trust(SimpleNamespace(world=w, trust=self.trust, seat_active=self.seat_active))

    def step_month(self, u: dict[str, np.ndarray]) -> np.ndarray:
        """Processes 1 to 11 and the record, as numpy expressions (the model before issue 10's compiled month)."""
        w, p, t, on = self.world, self.params, self.month, self.on
        ea, ep, n_p = w.edge_agent, w.edge_platform, w.n_platforms
        doc = self._documentation

        # 1 funding
        donor_on = funding.donor_active(t, p.project_months, p.funding_gap_start, p.funding_gap_months)
        donor_now = p.donor_share if donor_on else 0.0
        gov_share = p.government_budget * p.government_involvement * self.backed[self._platform_level_index]
        funds = funding.platform_funds(
            donor_on, donor_now, p.cost_sharing, p.member_funding, self.ownership, gov_share
        )
        if not on["funding"]:
            funds = np.ones(n_p)

        # 2 meetings
        met = meetings.platform_meets(
            t, self.last_meeting, p.meeting_interval, funds, u["meet"], p.meeting_funds, p.funds_response_width
        )
        if not on["meetings"]:
            met = np.zeros(n_p, dtype=bool)
        att = meetings.attend_seats(
            self.seat_active, met, ea, ep, self._engagement_seat, self.trust, self._gov_seat,
            p.government_involvement * (t >= p.government_join_month), self._hard_to_reach_seat,
            self._facilitation_seat, p.inclusion_barrier, p.trust_attendance, u["attend"],
        )
        self.last_meeting[met] = t

        # the learning kernels only use seats whose organisation attended (a fifth of them):
        # hand them those seats alone, once, instead of every kernel filtering all seats
        ia = att.nonzero()[0]
        aa, pa = ea[ia], ep[ia]
        came = np.ones(ia.shape[0], dtype=bool)

        # 3 horizontal learning and trust
        champions = any_per_row(pa, self._champion_seat[ia], n_p)
        fac = np.minimum(1.0, w.platform_facilitation + self._champion_boost * champions)
        pool = learning.platform_pool(self.knowledge, self._influence_seat[ia], aa, pa, n_p)
        # in a month nobody attends (half the months of a default run) the learning kernels
        # would return knowledge and trust unchanged: skip them
        anyone = ia.shape[0] > 0
        if anyone:
            if on["horizontal_learning"]:
                target = learning.mix_linked(pool, w.horizontal, met, self._exchange_rate)
                self.knowledge = learning.horizontal_learning(
                    self.knowledge, self.trust, w.capacity, target, came, aa, pa, fac, p.learning_rate
                )
            if on["trust"]:
                div = learning.diversity(w.kind, came, aa, pa, n_p, len(KINDS))
                self.trust = learning.update_trust(
                    self.trust, came, aa, pa, fac, div, p.conflict, p.trust_rate, p.trust_base
                )
        idle = (t - self.last_meeting) > 2 * p.meeting_interval
        if on["trust"]:
            on_idle = any_per_row(ea, self.seat_active & idle[ep], w.n)
            self.trust = np.where(on_idle, self.trust * (1.0 - p.trust_decay), self.trust)

        # 4 action research
        cases = action_research.run_case_studies(
            met, funds, fac, p.action_research_intensity, u["case"], p.case_study_funds, p.funds_response_width
        )
        results = action_research.case_study_results(cases, p.innovation_complexity, u["z"])
        if not on["action_research"]:
            cases = np.zeros(n_p, dtype=bool)
        if cases.any():  # without a case study neither knowledge nor fit can change
            if anyone:
                self.knowledge = action_research.action_research_learning(
                    self.knowledge, w.capacity, came, aa, pa, results, cases, doc,
                    p.action_research_gain,
                )
            self.fit = action_research.update_fit(
                self.fit, w.platform_district, results, cases, p.fit_gain, p.innovation_complexity,
                w.horizontal, self._exchange_rate,
            )
        self.fit = action_research.transfer_fit(
            self.fit, w.district_pilot, doc, p.fit_transfer, np.where(self.backed[:-1], 5.0, 1.0)
        )
        self.last_case_study[cases] = t

        # 5 vertical learning
        if anyone and on["vertical_learning"]:
            vt = vertical.vertical_targets(pool, w.vertical, met)
            self.knowledge = vertical.vertical_learning(
                self.knowledge, w.capacity, vt, came, aa, pa, p.vertical_rate
            )

        # 6 adoption, peer support and outreach
        adopted = self.stage >= _ADOPTED
        if on["peer_support"]:
            self.support = adoption.peer_support(
                self.support, adopted, w.influence, came, aa, pa, n_p, p.support_memory
            )
        # only adopters with resources behind them promote the practice: members of a
        # platform that still meets, or organisations whose practice policy has embedded
        home = self._home
        active_member = self.is_member & self._has_home & ~idle[home]
        promoting = adopted & (active_member | (self.stage == _INSTITUTIONALISED))
        exposure = adoption.district_exposure(promoting, w.influence, w.district, len(w.district_names))
        pilot_adoption = np.count_nonzero(adopted & w.in_pilot) / self._n_pilot
        extra = np.where(self._outside, self._outside_spillover * pilot_adoption, 0.0)
        backed_org = self.backed[self._fit_index]
        extra = extra + p.policy_dissemination * backed_org
        self.knowledge, self.support = adoption.outreach(
            self.knowledge, self.support, w.capacity, self.is_member, w.district, exposure,
            self._spillover, extra,
        )
        # national organisations judge the fit by the pilots' average
        fit_ext = np.empty(self.fit.shape[0] + 1)  # np.append and .mean() cost more than the sums here
        fit_ext[:-1] = self.fit
        fit_ext[-1] = self.fit[w.district_pilot].sum() / self._n_pilot_districts
        fit_here = fit_ext[self._fit_index]
        mult = institutions.threshold_multiplier(backed_org, p.policy_effect)
        threshold = w.threshold * (1.0 + p.abandonment_penalty * self.abandoned)
        ready = adoption.readiness(
            self.knowledge, fit_here, p.relative_advantage, threshold, p.threshold_scale * mult
        )
        if on["adoption"]:
            self.stage = adoption.adopt(
                self.stage, ready, self.knowledge, self.support, p.external_influence, p.imitation,
                backed_org & self._institutional_kind, u["adopt"],
            )

        # 7 institutionalisation
        adopted = self.stage >= _ADOPTED
        pressure = institutions.policy_pressure(adopted, w.influence, self._policy_maker)
        if (not self.policy and on["national_institutionalisation"]
                and institutions.policy_changes(pressure, p.policy_threshold, False)):
            self.policy = True
            self._policy_month = t
        if on["district_institutionalisation"] and not self.district_policy.all():
            dp = institutions.district_pressure(
                adopted, w.influence, self._local_gov, w.district, self.district_policy.shape[0]
            )
            # a government that stays away (involvement 0) budgets for nothing, whatever its staff adopt
            now = institutions.districts_institutionalise(
                dp * p.government_involvement, p.district_policy_threshold, self.district_policy
            )
            self.district_policy = now
        reached = np.zeros_like(self.district_policy)
        if self.policy and on["government_programmes"]:
            k = institutions.programme_reach(t - self._policy_month, p.programme_districts_per_year, reached.shape[0])
            reached[self._programme_order[:k]] = True
        self.backed[:-1] = self.district_policy | reached
        self.backed[-1] = self.policy

        # 8 turnover
        home_trust = self._platform_trust()
        if on["turnover"]:
            change = turnover.replaced(self.is_member, p.turnover_rate, u["replace"])
            reputation = np.where(self._has_home, home_trust[self._home], 0.0)
            self.knowledge, self.trust, self.tenure, self.decision_maker = turnover.turnover(
                self.knowledge, self.trust, self.tenure, self.decision_maker, change, doc,
                reputation, self._dm_base, u["decision_maker"],
            )

        # 9 membership
        if on["membership"]:
            attractiveness = 0.5 * pool + 0.5 * home_trust
            allocating = donor_on and on["lead_allocation"] and p.lead_allocation > 0.0
            join, leave = self._allocation(allocating)
            seats = membership.update_seats(
                self.seat_active, w.edge_linking, ea, ep, met, attractiveness, w.engagement, self.trust,
                idle, p.cost_sharing, p.recruitment_rate, p.dropout_rate, u["seat"], join, leave, self._away,
            )
            self._away = membership.stayed_away(self._away, self.seat_active, seats, join, leave, allocating)
            self.seat_active = seats
            self.is_member = self._members()

        # 10 fade after funding ends
        hazard = fade.weibull_hazard(t - p.project_months, p.fade_scale_months, p.fade_shape)
        if hazard > 0 and on["fade"]:
            home = self._home
            owned = np.where(self.is_member & self._has_home & ~idle[home], self.ownership[home], 0.0)
            # a changed policy backs every adopter a little; a platform its members own
            # and still run is what keeps a practice alive (003: ideas fade once funding dries up)
            protection = p.support_protection * np.maximum(p.policy_protection * self.backed[self._fit_index], owned)
            self.stage, self.knowledge, self.abandoned = fade.fade(
                self.stage, self.knowledge, self.abandoned, hazard, protection, u["fade"]
            )

        # 11 donor distortion of ownership
        ownership = self.ownership  # the month's start: what funds were computed from
        self.ownership = donor.update_ownership(
            self.ownership, met if on["ownership"] else np.zeros(n_p, dtype=bool), donor_now, p.cost_sharing,
            p.donor_distortion if on["donor_distortion"] else 0.0, p.ownership_rate,
        )

        cost = funding.monthly_cost(met, w.platform_level, cases, p.meeting_cost, p.case_study_cost)
        self.total_cost += cost
        members = p.cost_sharing if donor_on else max(p.cost_sharing, p.member_funding) * ownership
        self.cost_by_payer = self.cost_by_payer + funding.cost_by_payer(
            met, w.platform_level, cases, p.meeting_cost, p.case_study_cost, donor_now, members, gov_share * ownership)
        return self.record(t, met, att, idle, funds, donor_on, cases, cost)

    def record(self, t, met, att, idle, funds, donor_on, cases, cost):
        w, p = self.world, self.params
        adopted = self.stage >= _ADOPTED
        ea = w.edge_agent
        m = {}
        # one bincount per grouping instead of a mean per group: this runs every month
        # counting the adopters' groups (integers) is cheaper than summing boolean weights, and exact
        who = adopted.nonzero()[0]  # one pass over the organisations for all the group counts
        by_level = np.bincount(self._level_group[who], minlength=4) / self._level_count
        by_kind = np.bincount(w.kind[who], minlength=len(KINDS)) / self._kind_count
        m.update(zip(_LEVEL_KEYS, by_level[:3].tolist(), strict=True))
        m["adoption_outside"] = by_level[3]
        count = np.count_nonzero  # .sum() of a boolean array is several times slower
        total = np.add.reduce  # what .sum() calls, without its Python wrapper
        n_members = count(self.is_member)
        m["adoption_all"] = who.shape[0] / w.n
        m["adoption_members"] = count(adopted & self.is_member) / n_members if n_members else 0.0
        m.update(zip(_KIND_KEYS, by_kind.tolist(), strict=True))
        reached = adoption.communities_reached(adopted, w.reach, w.district, w.district_communities)
        m["communities_reached"] = float(total(reached))
        m["institutionalised_share"] = count(self.stage == _INSTITUTIONALISED) / w.n
        m["mean_knowledge"] = total(self.knowledge) / w.n
        m["member_knowledge"] = total(self.knowledge * self.is_member) / n_members if n_members else 0.0
        m["mean_trust"] = total(self.trust * self.is_member) / n_members if n_members else 0.0
        m["alliance_size"] = n_members
        m["local_member_share"] = membership.local_share(self.is_member, self._local)
        m["centralisation"] = membership.centralisation(self.seat_active, ea, w.edge_platform, w.n, w.n_platforms)
        n_att = count(att)
        m["attendance"] = n_att
        m["marginalised_attendance_share"] = count(att & self._marginalised_seat) / n_att if n_att else math.nan
        m["private_attendance_share"] = count(att & self._private_seat) / n_att if n_att else math.nan
        m["decision_maker_attendance_share"] = count(att & self.decision_maker[ea]) / n_att if n_att else math.nan
        m["meetings"] = count(met)
        m["case_studies"] = count(cases)
        m["funding"] = total(funds) / w.n_platforms
        m["donor_funded"] = float(donor_on)
        m["in_funding_gap"] = float(p.funding_gap_start <= t < p.funding_gap_start + p.funding_gap_months)
        m["mean_fit"] = total(self.fit) / self.fit.shape[0]
        m["ownership"] = total(self.ownership) / w.n_platforms
        m["policy"] = float(self.policy)
        m["districts_institutionalised"] = count(self.district_policy) / self.district_policy.shape[0]
        m["government_reach"] = count(self.backed[:-1]) / self.district_policy.shape[0]
        m["cost"] = cost
        m["total_cost"] = self.total_cost

        # a platform functions when it meets regularly, runs action research and is trusted
        # measured again at the month's end: turnover and membership have moved it
        home_trust = self._platform_trust()
        home_trust = self._platform_trust()
        functioning = ~idle & (t - self.last_case_study <= 12) & (home_trust >= p.functioning_trust)
        m["functioning_platforms"] = count(functioning) / w.n_platforms
        return np.array([m[k] for k in SERIES_FIELDS], dtype=float)
