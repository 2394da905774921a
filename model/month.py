"""One month of the model, compiled: processes 1 to 11 of docs/ODD.md and the month's record.

:func:`month` is one numba function that calls each process's kernel (named
functions in ``model.mechanisms``, one module per ODD process, each tested
alone) in the order of docs/ODD.md, section 3. At the default's 260
organisations a month made about 150 numpy calls whose fixed cost, not their
arithmetic, was the time; compiled, the month is one call from Python.

The Mesa model (:class:`model.alliance.AllianceModel`) owns every state array;
:func:`month` updates them in place and fills the model's per-month buffers
(which platforms met, who attended, ...), from which the model builds the
month's events and their causes in Python, only when one fires. Random numbers
are drawn by the model (one block of uniforms and one normal per platform a
month) and handed in: nothing here draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .kinds import KINDS, LEVELS, Stage
from .mechanisms import (
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
from .outcomes import SERIES_FIELDS

_ADOPTED, _INSTITUTIONALISED = int(Stage.ADOPTED), int(Stage.INSTITUTIONALISED)

#: The order in which :func:`record` computes the month's series; ``record_index``
#: maps it onto :data:`model.outcomes.SERIES_FIELDS` (handed in, so a change of that
#: order cannot meet a stale compiled cache).
RECORD_ORDER: tuple[str, ...] = (
    *(f"adoption_{lv}" for lv in LEVELS), "adoption_outside", "adoption_all", "adoption_members",
    *(f"adoption_{k}" for k in KINDS),
    "communities_reached", "institutionalised_share", "mean_knowledge", "member_knowledge", "mean_trust",
    "alliance_size", "local_member_share", "centralisation", "attendance", "marginalised_attendance_share",
    "private_attendance_share", "decision_maker_attendance_share", "meetings", "case_studies", "funding",
    "donor_funded", "in_funding_gap", "mean_fit", "ownership", "policy", "districts_institutionalised",
    "government_reach", "cost", "total_cost", "functioning_platforms",
)

#: The month's block of uniforms: which process reads which slice, in this order, and its
#: length (``"seat"``: one per seat, ``"org"``: one per organisation, ``"platform"``: one per platform).
DRAW_LAYOUT: tuple[tuple[str, str], ...] = (
    ("meet", "platform"), ("attend", "seat"), ("case", "platform"), ("adopt", "org"), ("replace", "org"),
    ("decision_maker", "org"), ("seat", "seat"), ("fade", "org"),
)


def draw_ends(n: int, n_platforms: int, n_seats: int) -> np.ndarray:
    """Where each slice of :data:`DRAW_LAYOUT` ends in the month's block of uniforms."""
    size = {"org": n, "platform": n_platforms, "seat": n_seats}
    return np.cumsum([size[kind] for _, kind in DRAW_LAYOUT]).astype(np.int64)


#: Slots of the ``info`` buffer: what the month tells the model besides its arrays.
INFO = ("pressure", "policy_makers_practising", "new_districts", "programme_reach", "scale_extent",
        "functioning_share", "cost", "newly_idle", "revived")
_PRESSURE, _PM_PRACTISING, _NEW_DISTRICTS, _REACH, _SCALE, _FUNCTIONING, _COST, _NEWLY_IDLE, _REVIVED = range(9)

#: Mechanism switches in the configuration record (model.mechanisms.MECHANISMS).
_SWITCHES = ("funding", "meetings", "horizontal_learning", "trust", "action_research", "vertical_learning",
             "adoption", "peer_support", "national_institutionalisation", "district_institutionalisation",
             "government_programmes", "turnover", "membership", "lead_allocation", "fade", "ownership",
             "donor_distortion")


def record_index() -> np.ndarray:
    """Position in :data:`~model.outcomes.SERIES_FIELDS` of each name of :data:`RECORD_ORDER`."""
    fields = list(SERIES_FIELDS)
    return np.array([fields.index(k) for k in RECORD_ORDER], dtype=np.int64)


def config_record(params: Any, on: dict[str, bool], **derived: float) -> np.ndarray:
    """The run's parameters, mechanism switches and ``derived`` constants as one numpy record.

    A record's fields are read by name in compiled code, and its dtype is part of the
    compiled function's type: a new parameter compiles a new version, never a stale one.
    """
    values: dict[str, Any] = {k: v for k, v in vars(params).items() if isinstance(v, int | float)}
    values.update((f"on_{name}", bool(on[name])) for name in _SWITCHES)
    values.update((k, float(v)) for k, v in derived.items())
    key = tuple((k, type(v)) for k, v in values.items())
    dtype = _DTYPES.get(key)
    if dtype is None:
        kinds = {bool: np.bool_, int: np.int64, float: np.float64}
        dtype = _DTYPES[key] = np.dtype([(k, kinds[t]) for k, t in key])
    return np.array([tuple(values.values())], dtype=dtype)


#: One record dtype per set of fields and types (making a dtype costs more than the record).
_DTYPES: dict[tuple, np.dtype] = {}


@njit(cache=True)
def month(t, cfg, donor_on, donor_now, policy_month, hazard, total_cost, state, world, const, block, ends, z, out, row,
          index):
    """One month, processes 1 to 11 (docs/ODD.md, section 3), then its record.

    Parameters
    ----------
    t
        The month (0-based step).
    cfg
        :func:`config_record` of the run (parameters, switches, derived constants).
    donor_on, donor_now, policy_month, hazard, total_cost
        Process 1's donor flow and donor share this month, the month national policy
        changed (-1: not yet), process 10's Weibull hazard this month and the spending
        before this month.
    state
        The model's state arrays, updated in place (see ``AllianceModel._state``), the last
        the spending so far by payer (:data:`model.mechanisms.funding.PAYERS`).
    world, const
        Fixed arrays of the world and of the model (``AllianceModel._world_arrays``, ``_const``).
    block, ends, z
        This month's uniforms, one block whose slices end at ``ends`` (meetings,
        attendance, case studies, adoption, turnover, the new representative's role,
        seats, fade: :data:`DRAW_LAYOUT`), and one normal per platform (case studies).
    out
        Per-month buffers the model reads for events: met, attended seats, idle,
        funds, case studies, government share, members' mean trust per platform,
        district pressure, adopting and all local governments per district, ``info``.
    row, index
        The month's series row (filled at ``index[i]`` for :data:`RECORD_ORDER` ``[i]``).

    Returns
    -------
    bool
        Whether national policy changed this month.
    """
    c = cfg[0]
    (knowledge, trust, support, stage, abandoned, tenure, decision_maker, seat_active, is_member, fit,
     ownership, last_meeting, last_case_study, district_policy, backed, was_idle, cost_by_payer, away) = state
    # ``ownership`` is replaced, not updated: the month's causes of events read the month's start
    (ea, ep, edge_linking, capacity, influence, engagement, kind, district, threshold, reach, in_pilot,
     platform_facilitation, platform_district, platform_level, district_pilot, district_communities,
     h_indptr, h_indices, h_data, v_indptr, v_indices, v_data) = world
    (engagement_seat, influence_seat, facilitation_seat, champion_seat, gov_seat, hard_seat, marginalised_seat,
     private_seat, policy_maker, institutional_kind, local_gov, outside, local, dm_base, level_group,
     level_count, kind_count, scale_pop, fit_index, platform_level_index, has_home, home, programme_order,
     join_allocating, leave_allocating, join_not_allocating, leave_not_allocating) = const
    u_meet, u_attend, u_case, u_adopt = block[:ends[0]], block[ends[0]:ends[1]], block[ends[1]:ends[2]], block[
        ends[2]:ends[3]]
    u_replace, u_dm, u_seat, u_fade = block[ends[3]:ends[4]], block[ends[4]:ends[5]], block[ends[5]:ends[6]], block[
        ends[6]:ends[7]]
    met, att, idle, funds, cases, gov_share, home_trust, dp, dist_adopted, dist_gov, info = out
    n, n_p, n_d = knowledge.shape[0], platform_level.shape[0], district_policy.shape[0]
    doc = c.documentation

    # 1 funding
    for j in range(n_p):
        gov_share[j] = c.government_budget * c.government_involvement * backed[platform_level_index[j]]
    funds[:] = funding.platform_funds_kernel(donor_on, donor_now, c.cost_sharing, c.member_funding, ownership,
                                             gov_share)
    if not c.on_funding:
        funds[:] = 1.0

    # 2 meetings
    met[:] = meetings.platform_meets(t, last_meeting, c.meeting_interval, funds, u_meet, c.meeting_funds,
                                     c.funds_response_width)
    if not c.on_meetings:
        met[:] = False
    gov_factor = c.government_involvement * (1.0 if t >= c.government_join_month else 0.0)
    att[:] = meetings.attend_seats(seat_active, met, ea, ep, engagement_seat, trust, gov_seat, gov_factor,
                                   hard_seat, facilitation_seat, c.inclusion_barrier, c.trust_attendance, u_attend)
    for j in range(n_p):
        if met[j]:
            last_meeting[j] = t

    # the learning kernels use only the seats whose organisation attended (about a fifth)
    ia = att.nonzero()[0]
    aa, pa = ea[ia], ep[ia]
    came = np.ones(ia.shape[0], dtype=np.bool_)
    anyone = ia.shape[0] > 0

    # 3 horizontal learning and trust
    champions = any_per_row(pa, champion_seat[ia], n_p)
    fac = np.minimum(1.0, platform_facilitation + c.champion_boost * champions)
    pool = learning.platform_pool(knowledge, influence_seat[ia], aa, pa, n_p)
    if anyone:
        if c.on_horizontal_learning:
            target = learning.mix_linked_kernel(pool, h_indptr, h_indices, h_data, met, c.exchange_rate)
            learning.horizontal_learning_into(knowledge, trust, capacity, target, came, aa, pa, fac, c.learning_rate)
        if c.on_trust:
            div = learning.diversity(kind, came, aa, pa, n_p, kind_count.shape[0])
            learning.update_trust_into(trust, came, aa, pa, fac, div, c.conflict, c.trust_rate, c.trust_base)
    for j in range(n_p):
        idle[j] = (t - last_meeting[j]) > 2 * c.meeting_interval
    if c.on_trust:
        on_idle = np.zeros(n, dtype=np.bool_)
        for s in range(ea.shape[0]):
            if seat_active[s] and idle[ep[s]]:
                on_idle[ea[s]] = True
        for i in range(n):
            if on_idle[i]:
                trust[i] = trust[i] * (1.0 - c.trust_decay)

    # 4 action research
    cases[:] = action_research.run_case_studies(met, funds, fac, c.action_research_intensity, u_case,
                                                c.case_study_funds, c.funds_response_width)
    results = action_research.case_study_results(cases, c.innovation_complexity, z)
    if not c.on_action_research:
        cases[:] = False
    if cases.any():  # without a case study neither knowledge nor fit can change
        if anyone:
            action_research.action_research_learning_into(knowledge, capacity, came, aa, pa, results, cases, doc,
                                                          c.action_research_gain)
        fit[:] = action_research.update_fit_kernel(fit, platform_district, results, cases, c.fit_gain,
                                                   c.innovation_complexity, h_indptr, h_indices, h_data,
                                                   c.exchange_rate)
    boost = np.where(backed[:n_d], 5.0, 1.0)
    fit[:] = action_research.transfer_fit_kernel(fit, district_pilot, doc, c.fit_transfer, boost)
    for j in range(n_p):
        if cases[j]:
            last_case_study[j] = t

    # 5 vertical learning
    if anyone and c.on_vertical_learning:
        vt = vertical.vertical_targets_kernel(pool, v_indptr, v_indices, v_data, met)
        vertical.vertical_learning_into(knowledge, capacity, vt, came, aa, pa, c.vertical_rate)

    # 6 adoption, peer support and outreach
    adopted = stage >= _ADOPTED
    if c.on_peer_support:
        adoption.peer_support_into(support, adopted, influence, came, aa, pa, n_p, c.support_memory)
    # only adopters with resources behind them promote the practice: members of a
    # platform that still meets, or organisations whose practice policy has embedded
    promoting = np.zeros(n, dtype=np.bool_)
    n_pilot = 0
    pilot_adopters = 0
    for i in range(n):
        active_member = is_member[i] and has_home[i] and not idle[home[i]]
        promoting[i] = adopted[i] and (active_member or stage[i] == _INSTITUTIONALISED)
        if in_pilot[i]:
            n_pilot += 1
            if adopted[i]:
                pilot_adopters += 1
    exposure = adoption.district_exposure(promoting, influence, district, n_d)
    pilot_adoption = pilot_adopters / max(n_pilot, 1)
    extra = np.empty(n)
    backed_org = np.empty(n, dtype=np.bool_)
    for i in range(n):
        backed_org[i] = backed[fit_index[i]]
        spill = c.outside_spillover * pilot_adoption if outside[i] else 0.0
        extra[i] = spill + c.policy_dissemination * backed_org[i]
    adoption.outreach_into(knowledge, support, capacity, is_member, district, exposure, c.spillover, extra)
    # national organisations judge the fit by the pilots' average
    fit_ext = np.empty(n_d + 1)
    fit_ext[:n_d] = fit
    pilot_fit = 0.0
    n_pilot_d = 0
    for d in range(n_d):
        if district_pilot[d]:
            pilot_fit += fit[d]
            n_pilot_d += 1
    fit_ext[n_d] = pilot_fit / n_pilot_d if n_pilot_d else np.nan
    # readiness (adoption.readiness) one organisation at a time: an abandoned scheme raises
    # the threshold, policy backing lowers it
    ready = np.empty(n, dtype=np.bool_)
    institutional = np.empty(n, dtype=np.bool_)
    for i in range(n):
        b = backed_org[i]
        thr = threshold[i] * (1.0 + c.abandonment_penalty * (1.0 if abandoned[i] else 0.0))
        scale = c.threshold_scale * (1.0 - c.policy_effect * (1.0 if b else 0.0))
        ready[i] = adoption.is_ready(knowledge[i], fit_ext[fit_index[i]], c.relative_advantage, thr, scale)
        institutional[i] = b and institutional_kind[i]
    if c.on_adoption:
        adoption.adopt_into(stage, ready, knowledge, support, c.external_influence, c.imitation, institutional,
                            u_adopt)

    # 7 institutionalisation
    adopted = stage >= _ADOPTED
    pressure = institutions.policy_pressure(adopted, influence, policy_maker)
    info[_PRESSURE] = pressure
    policy_now = backed[n_d]
    policy_changed = False
    if not policy_now and c.on_national_institutionalisation and pressure >= c.policy_threshold:
        policy_changed = True
        policy_now = True
        policy_month = t
        k = 0
        for i in range(n):
            if adopted[i] and policy_maker[i]:
                k += 1
        info[_PM_PRACTISING] = k
    info[_NEW_DISTRICTS] = 0
    if c.on_district_institutionalisation and not district_policy.all():
        dp[:] = institutions.district_pressure(adopted, influence, local_gov, district, n_d)
        now = institutions.districts_institutionalise(dp * c.government_involvement, c.district_policy_threshold,
                                                      district_policy)
        fresh = now & ~district_policy
        n_fresh = fresh.sum()
        if n_fresh:
            info[_NEW_DISTRICTS] = n_fresh
            dist_adopted[:] = 0
            dist_gov[:] = 0
            for i in range(n):
                if local_gov[i] and district[i] >= 0 and fresh[district[i]]:
                    dist_gov[district[i]] += 1
                    if adopted[i]:
                        dist_adopted[district[i]] += 1
        district_policy[:] = now
    reached = np.zeros(n_d, dtype=np.bool_)
    k_reach = 0
    if policy_now and c.on_government_programmes:
        k_reach = institutions.programme_reach(t - policy_month, c.programme_districts_per_year, n_d)
        for r in range(k_reach):
            reached[programme_order[r]] = True
    info[_REACH] = k_reach
    for d in range(n_d):
        backed[d] = district_policy[d] or reached[d]
    backed[n_d] = policy_now

    # 8 turnover
    home_trust[:] = mean_member_trust(trust, seat_active, ea, ep, n_p)
    if c.on_turnover:
        change = turnover.replaced(is_member, c.turnover_rate, u_replace)
        reputation = np.zeros(n)
        for i in range(n):
            if has_home[i]:
                reputation[i] = home_trust[home[i]]
        turnover.turnover_into(knowledge, trust, tenure, decision_maker, change, doc, reputation, dm_base, u_dm)

    # 9 membership; the lead organisation allocates the money while the donor pays
    if c.on_membership:
        attractiveness = 0.5 * pool + 0.5 * home_trust
        allocating = donor_on and c.on_lead_allocation and c.lead_allocation > 0.0
        if allocating:
            join, leave = join_allocating, leave_allocating
        else:
            join, leave = join_not_allocating, leave_not_allocating
        membership.update_seats_into(seat_active, edge_linking, ea, ep, met, attractiveness, engagement, trust, idle,
                                     c.cost_sharing, c.recruitment_rate, c.dropout_rate, u_seat, join, leave, away,
                                     allocating)
        is_member[:] = False
        for s in range(ea.shape[0]):
            if seat_active[s]:
                is_member[ea[s]] = True

    # 10 fade after funding ends
    if hazard > 0 and c.on_fade:
        protection = np.empty(n)
        for i in range(n):
            owned = ownership[home[i]] if is_member[i] and has_home[i] and not idle[home[i]] else 0.0
            # a changed policy backs every adopter a little; a platform its members own
            # and still run is what keeps a practice alive (003)
            protection[i] = c.support_protection * max(c.policy_protection * (1.0 if backed[fit_index[i]] else 0.0),
                                                       owned)
        fade.fade_into(stage, knowledge, abandoned, hazard, protection, u_fade)

    # 11 donor distortion of ownership (a new array: the month's causes read the old one)
    new_ownership = donor.update_ownership(
        ownership, met if c.on_ownership else np.zeros(n_p, dtype=np.bool_), donor_now, c.cost_sharing,
        c.donor_distortion if c.on_donor_distortion else 0.0, c.ownership_rate,
    )

    cost = funding.monthly_cost(met, platform_level, cases, c.meeting_cost, c.case_study_cost)
    info[_COST] = cost
    # who paid it, shared as the money came in at the month's start (before process 11)
    members_paid = np.empty(n_p)
    government_paid = np.empty(n_p)
    for j in range(n_p):
        members_paid[j] = c.cost_sharing if donor_on else max(c.cost_sharing, c.member_funding) * ownership[j]
        government_paid[j] = gov_share[j] * ownership[j]
    paid = funding.cost_by_payer_kernel(met, platform_level, cases, c.meeting_cost, c.case_study_cost, donor_now,
                                        members_paid, government_paid)
    for k in range(paid.shape[0]):
        cost_by_payer[k] += paid[k]
    record(t, c, donor_on, cost, total_cost + cost, row, index, knowledge, trust, stage, seat_active, is_member,
           fit, new_ownership, last_case_study, district_policy, backed, decision_maker, ea, ep, kind, district, reach,
           district_communities, local, marginalised_seat, private_seat, level_group, level_count, kind_count,
           scale_pop, met, att, idle, funds, cases, home_trust, info)
    newly_idle = 0
    revived = 0
    for j in range(n_p):
        if idle[j] and not was_idle[j] and last_meeting[j] >= 0:
            newly_idle += 1
        if not idle[j] and was_idle[j]:
            revived += 1
    info[_NEWLY_IDLE] = newly_idle
    info[_REVIVED] = revived
    return policy_changed, new_ownership


@njit(cache=True)
def mean_member_trust(trust: np.ndarray, seat_active: np.ndarray, edge_agent: np.ndarray,
                       edge_platform: np.ndarray, n_platforms: int) -> np.ndarray:
    """Mean trust of each platform's current members (0 for an empty platform)."""
    total = np.zeros(n_platforms)
    count = np.zeros(n_platforms)
    for s in range(edge_agent.shape[0]):
        if seat_active[s]:
            total[edge_platform[s]] += trust[edge_agent[s]]
            count[edge_platform[s]] += 1.0
    return total / np.maximum(count, 1.0)


@njit(cache=True)
def record(t, c, donor_on, cost, total_cost, row, index, knowledge, trust, stage, seat_active, is_member, fit,
           ownership, last_case_study, district_policy, backed, decision_maker, ea, ep, kind, district, reach,
           district_communities, local, marginalised_seat, private_seat, level_group, level_count, kind_count,
           scale_pop, met, att, idle, funds, cases, home_trust, info):
    """The month's series (:data:`RECORD_ORDER`) into ``row``; members' trust per platform into ``home_trust``."""
    n, n_p, n_d = knowledge.shape[0], met.shape[0], district_policy.shape[0]
    by_level = np.zeros(4)
    by_kind = np.zeros(kind_count.shape[0])
    n_adopted = 0
    n_members = 0
    adopted_members = 0
    institutionalised = 0
    sum_k = 0.0
    member_k = 0.0
    member_trust = 0.0
    scale_n = 0
    scale_adopted = 0
    local_members = 0
    # communities reached (adoption.communities_reached) and the local share
    # (membership.local_share) counted in the same pass
    served = np.zeros(n_d)
    for i in range(n):
        a = stage[i] >= _ADOPTED
        if a:
            n_adopted += 1
            by_level[level_group[i]] += 1.0
            by_kind[kind[i]] += 1.0
            if district[i] >= 0:
                served[district[i]] += reach[i]
        if stage[i] == _INSTITUTIONALISED:
            institutionalised += 1
        sum_k += knowledge[i]
        if is_member[i]:
            n_members += 1
            member_k += knowledge[i]
            member_trust += trust[i]
            if local[i]:
                local_members += 1
            if a:
                adopted_members += 1
        if scale_pop[i]:
            scale_n += 1
            if a:
                scale_adopted += 1
    vals = np.full(len(RECORD_ORDER), np.nan)
    for g in range(4):
        vals[g] = by_level[g] / level_count[g]  # an empty group has count NaN: its share is NaN
    vals[4] = n_adopted / n
    vals[5] = adopted_members / n_members if n_members else 0.0
    for k in range(kind_count.shape[0]):
        vals[6 + k] = by_kind[k] / kind_count[k]
    nk = 6 + kind_count.shape[0]
    vals[nk] = np.minimum(served, district_communities).sum()
    vals[nk + 1] = institutionalised / n
    vals[nk + 2] = sum_k / n
    vals[nk + 3] = member_k / n_members if n_members else 0.0
    vals[nk + 4] = member_trust / n_members if n_members else 0.0
    vals[nk + 5] = n_members
    vals[nk + 6] = local_members / n_members if n_members else np.nan
    vals[nk + 7] = membership.centralisation(seat_active, ea, ep, n, n_p)
    n_att = 0
    marg = 0
    priv = 0
    dm = 0
    for s in range(att.shape[0]):
        if att[s]:
            n_att += 1
            if marginalised_seat[s]:
                marg += 1
            if private_seat[s]:
                priv += 1
            if decision_maker[ea[s]]:
                dm += 1
    vals[nk + 8] = n_att
    vals[nk + 9] = marg / n_att if n_att else np.nan
    vals[nk + 10] = priv / n_att if n_att else np.nan
    vals[nk + 11] = dm / n_att if n_att else np.nan
    vals[nk + 12] = met.sum()
    vals[nk + 13] = cases.sum()
    vals[nk + 14] = funds.sum() / n_p
    vals[nk + 15] = 1.0 if donor_on else 0.0
    vals[nk + 16] = 1.0 if c.funding_gap_start <= t < c.funding_gap_start + c.funding_gap_months else 0.0
    vals[nk + 17] = fit.sum() / fit.shape[0]
    vals[nk + 18] = ownership.sum() / n_p
    vals[nk + 19] = 1.0 if backed[n_d] else 0.0
    vals[nk + 20] = district_policy.sum() / n_d
    vals[nk + 21] = backed[:n_d].sum() / n_d
    vals[nk + 22] = cost
    vals[nk + 23] = total_cost
    # a platform functions when it meets regularly, runs action research and is trusted,
    # measured again at the month's end: turnover and membership have moved it
    home_trust[:] = mean_member_trust(trust, seat_active, ea, ep, n_p)
    functioning = 0
    for j in range(n_p):
        if not idle[j] and t - last_case_study[j] <= 12 and home_trust[j] >= c.functioning_trust:
            functioning += 1
    vals[nk + 24] = functioning / n_p
    info[_FUNCTIONING] = functioning / n_p
    info[_SCALE] = scale_adopted / scale_n if scale_n else 0.0
    for k in range(vals.shape[0]):
        row[index[k]] = vals[k]
