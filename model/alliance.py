"""The learning-alliance model: one step is one month of processes 1 to 11 (docs/ODD.md)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
import pandas as pd

from .agents import Platform, Stakeholder
from .causes import (
    Functioning,
    Money,
    Survival,
    district_cause,
    functioning_cause,
    funding_changes_cause,
    not_functioning_cause,
    pct,
    platform_revives_cause,
    platform_stops_cause,
    policy_cause,
    programme_cause,
    scaled_cause,
    sustain_cause,
)
from .errors import LasimInputError
from .kinds import GOVERNMENT_KINDS, KIND_INDEX, KINDS, LEVEL_INDEX, LEVELS, POLICY_KINDS, Stage
from .mechanisms import (
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
from .outcomes import SERIES_FIELDS, summarise
from .recording import MonthlyCollector
from .scenario import Scenario, load_scenario
from .structure import build_world


@dataclass(frozen=True)
class Event:
    """Something a trainer can point at: ``month 14: funding gap starts``.

    ``cause`` says why, in plain words, from the model's state that month
    (:mod:`model.causes`); empty where the event needs no explanation.
    """

    month: int
    kind: str
    text: str
    cause: str = ""

    def __str__(self) -> str:
        return f"month {self.month}: {self.text}"


# plain ints: numpy compares an array with them about twice as fast as with IntEnum members
_ADOPTED, _INSTITUTIONALISED = int(Stage.ADOPTED), int(Stage.INSTITUTIONALISED)
# series names built once, not every month
_LEVEL_KEYS = tuple(f"adoption_{name}" for name in LEVELS)
_KIND_KEYS = tuple(f"adoption_{name}" for name in KINDS)


def _any_per_row(rows: np.ndarray, flags: np.ndarray, n: int) -> np.ndarray:
    """Per row (organisation or platform): whether any of its seats is flagged.

    Same as ``np.bincount(rows, flags, n) > 0``, without bincount's slow
    conversion of boolean weights.
    """
    out = np.zeros(n, dtype=bool)
    out[rows[flags]] = True
    return out


#: How a trainer names the levels in the event feed.
_LEVEL_WORDS = ("national", "district", "community")


def _seed_as_rng(seed: Any, rng: Any) -> Any:
    if rng is not None and seed is not None:
        raise LasimInputError("seed and rng: pass one of them (rng is Mesa's name; seed= is its deprecated alias)")
    warnings.warn("The use of the `seed` keyword argument is deprecated, use `rng` instead. No functional changes.",
                  FutureWarning, stacklevel=3)
    return seed


def _kind_mask(kind: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    return np.isin(kind, [KIND_INDEX[k] for k in names])


class AllianceModel(mesa.Model):
    """A learning alliance taking an innovation from pilot to scale.

    Parameters
    ----------
    scenario
        A :class:`~model.scenario.Scenario`, the name of a shipped scenario or a
        TOML path; ``None`` runs the default scenario.
    rng
        Seed of the model's random generator; every draw (traits, structure,
        every month) comes from it. ``seed=`` is accepted as Mesa accepts it:
        the same run as ``rng=``, with Mesa's warning that ``rng`` is the name to use.
    agent_reporters
        Record every stakeholder's stage, knowledge, trust and membership each
        month for ``datacollector.get_agent_vars_dataframe()`` (off by default:
        see docs/decisions.md).
    **parameters
        Overrides of scenario parameters, e.g. ``facilitation_quality=0.3``.
    """

    def __init__(self, scenario: Scenario | str | None = None, *, rng: int | None = None,
                 agent_reporters: bool = False, **parameters: Any) -> None:
        if "seed" in parameters:
            rng = _seed_as_rng(parameters.pop("seed"), rng)
        if scenario is None:
            scenario = "default"
        if isinstance(scenario, str):
            scenario = load_scenario(scenario)
        scenario = scenario.with_parameters(**parameters)
        # Mesa only reuses an int seed as given; anything else it re-draws, which
        # would make "same seed, same run" depend on Mesa's internals.
        super().__init__(rng=None if rng is None else int(rng))
        self.config = scenario  # mesa.Model.scenario is Mesa's own experimental Scenario
        self.params = p = scenario.parameters
        # which mechanisms run (model.mechanisms.MECHANISMS); read as attributes every month
        self.on = on = dict(scenario.mechanisms)
        self._documentation = p.documentation if on["documentation"] else 0.0
        self._champion_boost = p.champion_boost if on["champions"] else 0.0
        self._exchange_rate = p.exchange_rate if on["exchange_visits"] else 0.0
        self._spillover = p.spillover if on["spillover"] else 0.0
        self._outside_spillover = p.outside_spillover if on["spillover"] else 0.0
        self.world = w = build_world(scenario, self.rng)
        n, n_p = w.n, w.n_platforms

        self.stakeholders = [Stakeholder(self, i) for i in range(n)]
        self.platforms = [Platform(self, j) for j in range(n_p)]

        # state arrays (see docs/ODD.md, "State variables")
        base = np.where(w.kind == KIND_INDEX["research"], 0.3, 0.02)
        champion_head_start = 0.25 * w.champion if on["champions"] else 0.0
        self.knowledge = np.clip(base + champion_head_start + 0.08 * self.rng.random(n), 0, 1)
        self.seat_active = w.edge_active.copy()
        self.is_member = self._members()
        self.trust = np.full(n, p.initial_trust)
        self.support = np.zeros(n)
        self.stage = np.full(n, Stage.UNAWARE, dtype=np.int8)
        self.abandoned = np.zeros(n, dtype=bool)
        self.tenure = self.rng.integers(0, 24, n)
        self.decision_maker = w.decision_maker.copy()
        self.fit = np.full(len(w.district_names), 0.5 * (1.0 - p.innovation_complexity))
        self.ownership = np.full(n_p, p.initial_ownership)
        self.last_meeting = np.full(n_p, -p.meeting_interval, dtype=np.int64)
        self.last_case_study = np.full(n_p, -10_000, dtype=np.int64)
        self.policy = False
        n_d = len(w.district_names)
        # districts whose local government put the practice in its plans and budget, and
        # districts a national programme has reached; the last entry is the national level
        self.district_policy = np.zeros(n_d, dtype=bool)
        self.backed = np.zeros(n_d + 1, dtype=bool)
        self._programme_order = institutions.programme_order(w.district_pilot, self.rng)
        self._reached = 0
        self.month = 0
        self.total_cost = 0.0
        # cumulative spending by payer (donor, members, government), k USD; summary only
        self.cost_by_payer = np.zeros(len(funding.PAYERS))
        self.events: list[Event] = []

        # fixed masks and per-seat constants used every month
        self._gov = _kind_mask(w.kind, GOVERNMENT_KINDS)
        self._policy_maker = _kind_mask(w.kind, POLICY_KINDS) & (w.level == 0)
        self._institutional_kind = self._gov | (w.kind == KIND_INDEX["service_provider"])
        self._local_gov = w.kind == KIND_INDEX["local_government"]
        self._hard_to_reach_seat = (w.marginalised | (w.kind == KIND_INDEX["private_sector"]))[w.edge_agent]
        self._outside = ~w.in_pilot
        self._national = w.district < 0
        self._local = w.level == LEVEL_INDEX["local"]
        # the lead organisation allocates the project's money (Sartas et al. 2018): how far
        # each platform is from it is fixed by the alliance as launched, and the seats it
        # was offered on the platforms it funds are taken only while it allocates
        self._lead_distance = membership.lead_distance(
            w.lead, w.edge_active, w.edge_agent, w.edge_platform, w.platform_parent)[w.edge_platform]
        lead_offer = (w.edge_agent == w.lead) & ~w.edge_active
        # per-seat (join, leave) factors while the lead allocates and while it does not:
        # fixed for the run, so looked up each month rather than rebuilt
        self._allocation = {allocating: self._allocation_factors(lead_offer, allocating)
                            for allocating in (False, True)}
        # seats left for lack of the lead's money, not refilled while it allocates (7.9)
        self._away = np.zeros(w.edge_agent.shape[0], dtype=bool)
        self._dm_base = np.array([scenario.trait_table()[k].decision_maker for k in KINDS])[w.kind]
        # group 0..2: the alliance districts' levels; 3: districts outside the alliance
        self._level_group = np.where(w.in_pilot, w.level, 3).astype(np.int64)
        # empty groups divide by NaN, so their shares come out NaN without a warning
        self._level_count = np.bincount(self._level_group, minlength=4).astype(float)
        self._kind_count = np.bincount(w.kind, minlength=len(KINDS)).astype(float)
        self._level_count[self._level_count == 0] = np.nan
        self._kind_count[self._kind_count == 0] = np.nan
        self._private_seat = (w.kind == KIND_INDEX["private_sector"])[w.edge_agent]
        self._scale_pop = self._outside if self._outside.any() else ~self.is_member
        self._was_idle = np.zeros(n_p, dtype=bool)
        self._n_pilot = max(int(w.in_pilot.sum()), 1)
        self._n_pilot_districts = int(w.district_pilot.sum())
        self._fit_index = np.where(w.district >= 0, w.district, len(w.district_names))
        self._platform_level_index = np.where(w.platform_district >= 0, w.platform_district, len(w.district_names))
        # per-seat copies of fixed traits: gathering them anew every month was a
        # large share of a step at 10,000 organisations
        ea, ep = w.edge_agent, w.edge_platform
        self._engagement_seat = w.engagement[ea]
        self._influence_seat = w.influence[ea]
        self._facilitation_seat = w.platform_facilitation[ep]
        self._champion_seat = w.champion[ea]
        self._marginalised_seat = w.marginalised[ea]
        self._gov_seat = self._gov[ea]
        self._has_home = w.home_platform >= 0
        self._home = np.maximum(w.home_platform, 0)
        # the sparse link matrices are the structure; a small alliance multiplies
        # faster with dense copies (scipy's per-call overhead dominates at 11 platforms)
        dense = n_p <= 400
        self._horizontal = w.horizontal.toarray() if dense else w.horizontal
        self._vertical = w.vertical.toarray() if dense else w.vertical
        self._functioning_month: int | None = None
        self._scale_month: int | None = None
        self._policy_month: int | None = None
        self._donor_was_active = True
        # the cohort practising when donor funding ends, and the share of it still practising
        # sustain_horizon_months later (docs/ODD.md, "Outputs")
        self._cohort: np.ndarray | None = (self.stage >= _ADOPTED) if p.project_months == 0 else None
        self._survival = math.nan
        # for the causes of events (model.causes): filled as the run goes, read only when an event fires
        self._pressure = 0.0
        self._funds_at_stop = np.zeros(n_p)
        self._gov_at_stop = np.zeros(n_p)
        self._paid: tuple = (True, np.zeros(n_p), self.ownership, np.ones(n_p))
        self._not_functioning: str | None = None
        self._scaled_cause = ""
        self._survival_detail: Survival | None = None
        self.metrics: dict[str, float] = {}

        # Mesa's DataCollector with every series as a named reporter; it keeps the month's
        # row (metric_row) and names the columns when they are read (model.recording)
        self.metric_row = np.full(len(SERIES_FIELDS), np.nan)
        self.datacollector = MonthlyCollector(agents=agent_reporters)
        self.running = True

    # ------------------------------------------------------------------ helpers

    def _allocation_factors(self, lead_offer: np.ndarray, allocating: bool) -> tuple[np.ndarray, np.ndarray]:
        """Per-seat joining and leaving factors of the lead organisation's allocation (process 9)."""
        strength = self.params.lead_allocation if allocating else 0.0
        join, leave = membership.allocation_factors(self._lead_distance, strength, allocating)
        # the lead joins the platforms it funds only while it allocates money to them
        return np.where(lead_offer & (not allocating), 0.0, join), leave

    def _members(self) -> np.ndarray:
        w = self.world
        return _any_per_row(w.edge_agent, self.seat_active, w.n)

    def _platform_trust(self) -> np.ndarray:
        """Mean trust of each platform's current members (0 for an empty platform)."""
        w = self.world
        ep = w.edge_platform
        total = np.bincount(ep, self.seat_active * self.trust[w.edge_agent], w.n_platforms)
        return total / np.maximum(np.bincount(ep[self.seat_active], minlength=w.n_platforms), 1)

    def _event(self, kind: str, text: str, cause: str = "") -> None:
        # months counted from 1, as in the series and the summary: an event of step t
        # (0-based) happens in month t + 1, and the last month of a run is its horizon
        self.events.append(Event(self.month + 1, kind, text, cause))

    # ------------------------------------------------------------------ the month

    def step(self) -> None:
        """One month: processes 1 to 11 of docs/ODD.md, then record the month."""
        w, p, rng, t, on = self.world, self.params, self.rng, self.month, self.on
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
        # what paid for this month, kept (by reference: no copies) for the causes of events
        self._paid = (donor_on, gov_share, self.ownership, funds)

        # 2 meetings
        met = meetings.platform_meets(
            t, self.last_meeting, p.meeting_interval, funds, rng, p.meeting_funds, p.funds_response_width
        )
        if not on["meetings"]:
            met = np.zeros(n_p, dtype=bool)
        # attendance chances only for filled seats of platforms that meet (the others cannot attend)
        seated = self.seat_active & met[ep]
        s_ = seated.nonzero()[0]  # np.flatnonzero costs more than the work here
        gov_factor = np.where(self._gov_seat[s_], p.government_involvement * (t >= p.government_join_month), 1.0)
        prob = np.zeros(ea.shape[0])
        prob[s_] = meetings.attendance_probability(
            self._engagement_seat[s_], self.trust[ea[s_]], gov_factor, self._hard_to_reach_seat[s_],
            self._facilitation_seat[s_], p.inclusion_barrier, p.trust_attendance,
        )
        att = meetings.attend(prob, self.seat_active, met[ep], rng)
        self.last_meeting[met] = t

        # the learning kernels only use seats whose organisation attended (a fifth of them):
        # hand them those seats alone, once, instead of every kernel filtering all seats
        ia = att.nonzero()[0]
        aa, pa = ea[ia], ep[ia]
        came = np.ones(ia.shape[0], dtype=bool)

        # 3 horizontal learning and trust
        champions = _any_per_row(pa, self._champion_seat[ia], n_p)
        fac = np.minimum(1.0, w.platform_facilitation + self._champion_boost * champions)
        pool = learning.platform_pool(self.knowledge, self._influence_seat[ia], aa, pa, n_p)
        # in a month nobody attends (half the months of a default run) the learning kernels
        # would return knowledge and trust unchanged: skip them
        anyone = ia.shape[0] > 0
        if anyone:
            if on["horizontal_learning"]:
                target = learning.mix_linked(pool, self._horizontal, met, self._exchange_rate)
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
            on_idle = _any_per_row(ea, self.seat_active & idle[ep], w.n)
            self.trust = np.where(on_idle, self.trust * (1.0 - p.trust_decay), self.trust)

        # 4 action research
        cases = action_research.run_case_studies(
            met, funds, fac, p.action_research_intensity, rng, p.case_study_funds, p.funds_response_width
        )
        results = action_research.case_study_results(cases, p.innovation_complexity, rng)
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
                self._horizontal, self._exchange_rate,
            )
        self.fit = action_research.transfer_fit(
            self.fit, w.district_pilot, doc, p.fit_transfer, np.where(self.backed[:-1], 5.0, 1.0)
        )
        self.last_case_study[cases] = t

        # 5 vertical learning
        if anyone and on["vertical_learning"]:
            vt = vertical.vertical_targets(pool, self._vertical, met)
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
                backed_org & self._institutional_kind, rng,
            )

        # 7 institutionalisation
        adopted = self.stage >= _ADOPTED
        pressure = institutions.policy_pressure(adopted, w.influence, self._policy_maker)
        self._pressure = pressure
        if (not self.policy and on["national_institutionalisation"]
                and institutions.policy_changes(pressure, p.policy_threshold, False)):
            self.policy = True
            self._policy_month = t
            self._event("policy", "national regulation changed: a government programme starts, district by district",
                        policy_cause(pressure, p.policy_threshold, *self._policy_makers_practising(adopted)))
        if on["district_institutionalisation"] and not self.district_policy.all():
            dp = institutions.district_pressure(
                adopted, w.influence, self._local_gov, w.district, self.district_policy.shape[0]
            )
            # a government that stays away (involvement 0) budgets for nothing, whatever its staff adopt
            now = institutions.districts_institutionalise(
                dp * p.government_involvement, p.district_policy_threshold, self.district_policy
            )
            for d in (now & ~self.district_policy).nonzero()[0].tolist():
                gov_here = self._local_gov & (w.district == d)
                self._event("district", f"district {w.district_names[d]} puts the practice in its own plans and budget",
                            district_cause(float(dp[d]), p.government_involvement, p.district_policy_threshold,
                                            int(np.count_nonzero(gov_here & adopted)), int(np.count_nonzero(gov_here))))
            self.district_policy = now
        reached = np.zeros_like(self.district_policy)
        if self.policy and on["government_programmes"]:
            k = institutions.programme_reach(t - self._policy_month, p.programme_districts_per_year, reached.shape[0])
            reached[self._programme_order[:k]] = True
            for d in self._programme_order[self._reached:k].tolist():
                self._event("programme", f"the government programme reaches district {w.district_names[d]}",
                            programme_cause(self._policy_month + 1, p.programme_districts_per_year, k,
                                            reached.shape[0]))
            self._reached = k
        self.backed[:-1] = self.district_policy | reached
        self.backed[-1] = self.policy

        # 8 turnover
        home_trust = self._platform_trust()
        if on["turnover"]:
            change = turnover.replaced(self.is_member, p.turnover_rate, rng)
            reputation = np.where(self._has_home, home_trust[self._home], 0.0)
            self.knowledge, self.trust, self.tenure, self.decision_maker = turnover.turnover(
                self.knowledge, self.trust, self.tenure, self.decision_maker, change, doc,
                reputation, self._dm_base, rng,
            )

        # 9 membership
        if on["membership"]:
            attractiveness = 0.5 * pool + 0.5 * home_trust
            allocating = donor_on and on["lead_allocation"] and p.lead_allocation > 0.0
            join, leave = self._allocation[allocating]
            seats = membership.update_seats(
                self.seat_active, w.edge_linking, ea, ep, met, attractiveness, w.engagement, self.trust,
                idle, p.cost_sharing, p.recruitment_rate, p.dropout_rate, rng,
                np.where(self._away, 0.0, join) if self._away.any() else join, leave,
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
                self.stage, self.knowledge, self.abandoned, hazard, protection, rng
            )

        # 11 donor distortion of ownership
        self.ownership = donor.update_ownership(
            self.ownership, met if on["ownership"] else np.zeros(n_p, dtype=bool), donor_now, p.cost_sharing,
            p.donor_distortion if on["donor_distortion"] else 0.0, p.ownership_rate,
        )

        self._follow_cohort(t)
        cost = funding.monthly_cost(met, w.platform_level, cases, p.meeting_cost, p.case_study_cost)
        self.total_cost += cost
        self._pay(met, cases, donor_on, donor_now, gov_share)
        self._record(t, met, att, idle, funds, donor_on, cases, cost)
        self.month += 1
        self.datacollector.collect(self)
        if self.month >= p.horizon_months:
            self.running = False

    # ------------------------------------------------------------------ outputs

    def _follow_cohort(self, t: int) -> None:
        p = self.params
        if t == p.project_months - 1:
            self._cohort = self.stage >= _ADOPTED
        if t == p.project_months - 1 + p.sustain_horizon_months and self._cohort is not None:
            n = np.count_nonzero(self._cohort)
            self._survival = np.count_nonzero(self._cohort & (self.stage >= _ADOPTED)) / n if n else math.nan

    def _record(self, t: int, met, att, idle, funds, donor_on: bool, cases, cost: float) -> None:
        w, p = self.world, self.params
        adopted = self.stage >= _ADOPTED
        ea = w.edge_agent
        m = self.metrics
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
        functioning = ~idle & (t - self.last_case_study <= 12) & (home_trust >= p.functioning_trust)
        share_functioning = count(functioning) / w.n_platforms
        m["functioning_platforms"] = share_functioning
        self.metric_row = np.fromiter((m[k] for k in SERIES_FIELDS), float, len(SERIES_FIELDS))
        if self._functioning_month is None and share_functioning >= p.functioning_share:
            self._functioning_month = t
            self._event("functioning", "the alliance is functioning: regular meetings, action research, trust",
                        functioning_cause(self._criteria(idle, home_trust, funds),
                                           trust_threshold=p.functioning_trust, share_needed=p.functioning_share))
        if self._scale_month is None and self._scale_pop.any() and (
            count(adopted & self._scale_pop) / count(self._scale_pop) >= p.scale_share
        ):
            self._scale_month = t
            self._scaled_cause = self._scale_cause(adopted)
            self._event("scaled", f"innovation has scaled: {p.scale_share:.0%} adoption beyond the pilots",
                        self._scaled_cause)
        project_end = p.project_months - 1 if 0 < p.project_months < p.horizon_months else p.horizon_months - 1
        if t == project_end and self._functioning_month is None:
            self._not_functioning = self._not_functioning_cause(idle, home_trust, funds)
            when = "by the end of the project" if t < p.horizon_months - 1 else f"in {p.horizon_months} months"
            self._event("functioning", f"the alliance is not functioning {when}", self._not_functioning)
        if t == p.project_months - 1 + p.sustain_horizon_months and self._cohort is not None:
            self._survival_detail = self._survival_breakdown(t, idle)

        # plain-words events for the trainer's feed
        if donor_on != self._donor_was_active:
            if not donor_on and t == p.project_months:
                self._event("funding", "project funding ends; only cost sharing and government money remain",
                            self._funding_cause("ends"))
            elif not donor_on:
                self._event("funding", "funding gap starts: no donor money", self._funding_cause("gap"))
            else:
                self._event("funding", "donor funding resumes after the gap", self._funding_cause("resumes"))
            self._donor_was_active = donor_on
        newly_idle = idle & ~self._was_idle & (self.last_meeting >= 0)
        for j in newly_idle.nonzero()[0].tolist():
            lvl = _LEVEL_WORDS[w.platform_level[j]]
            self._funds_at_stop[j] = funds[j]
            self._gov_at_stop[j] = self._paid[1][j] * self._paid[2][j]
            self._event("platform", f"{lvl} platform {w.platform_names[j]} stops meeting", self._stop_cause(j))
        revived = ~idle & self._was_idle
        for j in revived.nonzero()[0].tolist():
            lvl = _LEVEL_WORDS[w.platform_level[j]]
            self._event("platform", f"{lvl} platform {w.platform_names[j]} meets again",
                        self._revive_cause(j))
        self._was_idle = idle
        if t == p.horizon_months - 1:
            self._verdict(t, adopted)

    def _pay(self, met: np.ndarray, cases: np.ndarray, donor_on: bool, donor_now: float,
             gov_share: np.ndarray) -> None:
        """Add this month's spending to the payers' totals, split as the money came in (process 1)."""
        p, w = self.params, self.world
        ownership = self._paid[2]  # the month's start: what funds were computed from, before process 11
        members = p.cost_sharing if donor_on else max(p.cost_sharing, p.member_funding) * ownership
        self.cost_by_payer += funding.cost_by_payer(
            met, w.platform_level, cases, p.meeting_cost, p.case_study_cost,
            donor_now, members, gov_share * ownership)

    # ------------------------------------------------------------------ causes of events
    # Called only when an event fires: the numbers are the model's own, read that month.

    def _policy_makers_practising(self, adopted: np.ndarray) -> tuple[int, int]:
        return int(np.count_nonzero(adopted & self._policy_maker)), int(np.count_nonzero(self._policy_maker))

    def _money(self, j: int) -> Money:
        """What paid platform ``j``'s costs this month."""
        p, t = self.params, self.month
        donor_on, gov_share, ownership, funds = self._paid
        gap_end = p.funding_gap_start + p.funding_gap_months
        return Money(
            donor_on=donor_on, in_gap=p.funding_gap_months > 0 and p.funding_gap_start <= t < gap_end,
            gap_first=p.funding_gap_start + 1, gap_last=gap_end, donor_share=p.donor_share,
            cost_sharing=p.cost_sharing, member_funding=p.member_funding, ownership=float(ownership[j]),
            government=float(gov_share[j]), government_budget=p.government_budget,
            government_involvement=p.government_involvement, funds=float(funds[j]),
            meeting_funds=p.meeting_funds, width=p.funds_response_width,
        )

    def _stop_cause(self, j: int) -> str:
        if not self.on["funding"]:
            return "money is switched off (every platform fully paid): it missed its due meetings by chance"
        return platform_stops_cause(self._money(j))

    def _revive_cause(self, j: int) -> str:
        if not self.on["funding"]:
            return "money is switched off (every platform fully paid)"
        return platform_revives_cause(self._money(j), float(self._funds_at_stop[j]), float(self._gov_at_stop[j]))

    def _funding_cause(self, change: str) -> str:
        p = self.params
        donor_on, gov_share, ownership, funds = self._paid
        members = (np.full_like(funds, p.cost_sharing) if donor_on
                   else max(p.cost_sharing, p.member_funding) * ownership)
        return funding_changes_cause(
            change, months=p.project_months, gap_months=p.funding_gap_months, donor_share=p.donor_share,
            funds=funds, members=members, government=gov_share * ownership, meeting_funds=p.meeting_funds,
            width=p.funds_response_width,
        )

    def _criteria(self, idle: np.ndarray, home_trust: np.ndarray, funds: np.ndarray) -> Functioning:
        w, p, t = self.world, self.params, self.month
        div = learning.diversity(w.kind, self.seat_active, w.edge_agent, w.edge_platform, w.n_platforms, len(KINDS))
        return Functioning(
            regular=~idle, case_study=(t - self.last_case_study) <= 12, trusted=home_trust >= p.functioning_trust,
            trust=home_trust, funds=funds, facilitation=w.platform_facilitation, diversity=div, idle=idle,
        )

    def _not_functioning_cause(self, idle: np.ndarray, home_trust: np.ndarray, funds: np.ndarray) -> str:
        p = self.params
        return not_functioning_cause(
            self._criteria(idle, home_trust, funds), trust_threshold=p.functioning_trust, trust_base=p.trust_base,
            conflict=p.conflict, initial_trust=p.initial_trust, intensity=p.action_research_intensity,
            case_study_funds=p.case_study_funds, meeting_funds=p.meeting_funds, width=p.funds_response_width,
            switched_off=tuple(k for k in ("trust", "action_research") if not self.on[k]),
        )

    def _scale_extent(self, adopted: np.ndarray) -> float:
        pop = self._scale_pop
        return np.count_nonzero(adopted & pop) / max(np.count_nonzero(pop), 1)

    def _scale_cause(self, adopted: np.ndarray) -> str:
        p, w = self.params, self.world
        beyond = adopted & self._scale_pop
        backed = np.count_nonzero(beyond & self.backed[self._fit_index]) / max(np.count_nonzero(beyond), 1)
        return scaled_cause(
            self._scale_extent(adopted), p.scale_share, backed, bool(self._outside.any()),
            np.count_nonzero(adopted & w.in_pilot) / self._n_pilot, self._spillover, self._outside_spillover,
            int(np.count_nonzero(self.backed[:-1])), int(self.district_policy.shape[0]),
        )

    def _survival_breakdown(self, t: int, idle: np.ndarray) -> Survival:
        """Who of the cohort kept the practice, and what backed them (the fade rule's two protections)."""
        cohort = self._cohort
        kept = cohort & (self.stage >= _ADOPTED)
        lost = cohort & ~kept
        backed = self.backed[self._fit_index]
        on_platform = self.is_member & self._has_home & ~idle[self._home]
        count = np.count_nonzero
        return Survival(
            cohort=int(count(cohort)), kept=int(count(kept)),
            lost_unprotected=int(count(lost & ~backed & ~on_platform)), kept_backed=int(count(kept & backed)),
            kept_on_platform=int(count(kept & on_platform)), month=t + 1,
        )

    def _verdict(self, t: int, adopted: np.ndarray) -> None:
        """The run's result and its main cause: the first link of the chain (functioning -> scale
        -> sustained) that failed, or what carried a run that succeeded."""
        p = self.params
        cohort = self._cohort
        cohort_share = math.nan if cohort is None else np.count_nonzero(cohort) / self.world.n
        sustained = bool(cohort_share >= p.sustain_min_share and self._survival >= p.sustain_ratio)
        extent = self._scale_extent(adopted)
        parts = [f"the alliance functioned from month {self._functioning_month + 1}"
                 if self._functioning_month is not None else "the alliance never functioned"]
        beyond = "beyond the pilots" if self._outside.any() else "outside the alliance"
        parts.append(f"the innovation scaled in month {self._scale_month + 1} ({pct(extent)} adopted {beyond} "
                     f"at the end)" if self._scale_month is not None else
                     f"the innovation did not scale ({pct(extent)} {beyond}, {pct(p.scale_share)} needed)")
        surv = "" if math.isnan(self._survival) else f", survival {self._survival:.2f}"
        parts.append(("the practice was sustained" if sustained else "the practice was not sustained") + surv)
        held = sustain_cause(self._survival_detail, self._survival, p.sustain_ratio, cohort_share,
                                       p.sustain_min_share, p.project_months, p.horizon_months,
                                       f"after funding ends adopters give up at a Weibull hazard (scale "
                                       f"{p.fade_scale_months:g} months, shape {p.fade_shape:.2g}) cut by support "
                                       f"protection {p.support_protection:.2g} x (policy protection "
                                       f"{p.policy_protection:.2g} where government backs, or the ownership of "
                                       f"a platform that meets)")
        if self._functioning_month is None:
            main = self._not_functioning or ""
        elif self._scale_month is None:
            k, n = self._policy_makers_practising(adopted)
            if not self.policy and not self.on["national_institutionalisation"]:
                main = "national institutionalisation is switched off: national policy cannot change"
            elif not self.policy and n == 0:
                main = "no national government or regulator sits in this alliance: national policy cannot change"
            elif not self.policy:
                main = (f"national policy never changed: policy pressure {self._pressure:.2f} stayed below the "
                        f"threshold {p.policy_threshold:.2g} ({k} of {n} national government and regulator "
                        f"organisations practise; government involvement {p.government_involvement:.2g}); "
                        f"{np.count_nonzero(self.district_policy)} of "
                        f"{self.district_policy.shape[0]} districts put it in their own plans")
            else:
                main = (f"national policy changed in month {self._policy_month + 1}, but government backs only "
                        f"{np.count_nonzero(self.backed[:-1])} of {self.district_policy.shape[0]} districts by the "
                        f"end and adoption beyond the pilots reached {pct(extent)}")
        elif not sustained:
            main = held
        else:
            main = f"{self._scaled_cause}; {held}"
        self._event("verdict", f"result after {p.horizon_months} months: " + "; ".join(parts), main)

    def run(self, months: int | None = None) -> AllianceModel:
        """Run ``months`` months, or to the scenario's horizon."""
        end = self.params.horizon_months if months is None else self.month + months
        while self.month < end:
            self.step()
        return self

    def series(self) -> pd.DataFrame:
        """The monthly series recorded so far (one row per month, months 1..)."""
        return self.datacollector.series_frame()

    def summary(self) -> dict[str, Any]:
        """Run outcomes (see :data:`model.outcomes.SUMMARY_FIELDS`)."""
        practising = self.stage >= _ADOPTED
        cohort = self._cohort
        scale_pop = self._scale_pop
        return summarise(
            self.series(), self.params, functioning_month=self._functioning_month,
            institutionalised_month=self._policy_month, scale_month=self._scale_month,
            cohort_share=math.nan if cohort is None else np.count_nonzero(cohort) / self.world.n,
            survival=self._survival,
            uptake_after_funding=(math.nan if cohort is None
                                  else np.count_nonzero(practising & ~cohort) / self.world.n),
            scale_extent=(np.count_nonzero(practising & scale_pop) / np.count_nonzero(scale_pop)
                          if scale_pop.any() else math.nan),
            pilot_adoption=np.count_nonzero(practising & self.world.in_pilot) / self._n_pilot,
        ) | {f"cost_{payer}": float(v) for payer, v in zip(funding.PAYERS, self.cost_by_payer, strict=True)}
