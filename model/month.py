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
are counter-based (:mod:`model.draws`): each is computed from the run's key, the
month, its stream and its row where a process uses it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .draws import (
    ADOPT,
    ATTEND,
    CASE,
    CASE_RESULT,
    CASE_RESULT_ANGLE,
    DECISION_MAKER,
    FADE,
    MEET,
    REPLACE,
    SEAT,
    normal,
    stream,
    uniform,
    uniforms,
)
from .kinds import KINDS, LEVELS, Stage
from .mechanisms import (
    _TINY,
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

_AWARE, _TRIALLING, _ADOPTED, _INSTITUTIONALISED = (int(Stage.AWARE), int(Stage.TRIALLING), int(Stage.ADOPTED),
                                                int(Stage.INSTITUTIONALISED))

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

#: The fixed inputs of :func:`month`: each block's rows (one name each) or, for a name alone, one array.
#: A block's name ends in its type: ``i`` 32-bit integers, ``u`` unsigned ones (indices that are never
#: -1: numba checks a signed index for -1 at every read), ``s`` 8-bit integers, ``f`` floats,
#: ``b`` booleans.
#: The small arrays (per platform, per district, the index arrays) lie end to end in the two
#: ``ragged`` blocks (64-bit integers and floats), row ``k`` of each from ``ragged_at[k]`` to
#: ``ragged_at[k + 1]``, the integers' starts first: every array handed to a compiled function
#: costs about 41 ns a call to unbox, a tenth of a default month's fixed cost.
FIXED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("seat_u", ("edge_agent", "edge_platform", "agent_seats", "platform_seats")),
    ("seat_f", ("engagement_seat", "influence_seat", "facilitation_seat", "join_allocating", "leave_allocating",
                "join_not_allocating", "leave_not_allocating")),
    ("seat_b", ("edge_linking", "champion_seat", "gov_seat", "hard_seat", "marginalised_seat", "private_seat")),
    ("org_i", ("district", "reach")),
    ("org_u", ("fit_index", "home")),
    ("org_s", ("kind", "level_group")),
    ("org_f", ("capacity", "influence", "engagement", "threshold", "dm_base")),
    ("org_b", ("policy_maker", "institutional_kind", "local_gov", "outside", "local", "scale_pop",
               "has_home")),
    ("ragged_i", ("platform_district", "platform_level", "platform_level_index", "district_pilot",
                  "district_communities", "programme_order", "agent_indptr", "platform_indptr", "h_indptr",
                  "h_indices", "v_indptr", "v_indices", "record_index")),
    ("ragged_f", ("platform_facilitation", "district_influence", "level_count", "kind_count", "h_data", "v_data")),
    ("ragged_at", ()),
)
_RAGGED_I = len(FIXED[-3][1]) + 1  # where the float rows' starts begin in ragged_at


@njit(cache=True)
def ragged_row(block: np.ndarray, at: np.ndarray, k: int) -> np.ndarray:
    """Row ``k`` of a ragged block of :data:`FIXED`: ``block[at[k]:at[k + 1]]``."""
    return block[at[k]:at[k + 1]]


#: The per-month buffers of :func:`month`, as :data:`FIXED`: each block's rows or, for a name alone, one array.
OUT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("platform_b", ("met", "idle", "cases")), ("platform_f", ("funds", "gov_share", "home_trust", "ownership_before")),
    ("att", ()), ("fresh_f", ()), ("fresh_i", ("fresh", "fresh_adopted", "fresh_gov")),
    ("changed_i", ("changed", "how")), ("changed_f", ("changed_ownership", "changed_government", "changed_funds")),
    ("info", ()),
)

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
def month(t, cfg, donor_on, donor_now, policy_month, hazard, total_cost, state, fixed, work, key, out, row):
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
        The model's state arrays, updated in place (see ``AllianceModel._state``; some are
        rows of 2-D blocks, ``model.alliance.STATE_BLOCKS``), among them the spending so far
        by payer (:data:`model.mechanisms.funding.PAYERS`) and, last, the record's counts of
        adopters (:func:`tally_of`), updated where a stage changes (:func:`tally_changes`).
    fixed
        The fixed arrays of the world and of the model, rows of a few 2-D blocks
        (:data:`FIXED`, built by ``AllianceModel._compile_inputs``).
    work
        Two rows of floats, one value per organisation, all zero on entry and on return: the
        attendees' kernels add into them instead of zeroing new ones every month.
    key
        The run's key of random numbers: each draw is a function of it, the month, the
        stream (:data:`model.draws.STREAMS`) and the row, computed where it is used.
    out
        Per-month buffers the model reads for events (:data:`OUT` names them, a few rows of
        2-D blocks as :data:`FIXED`): which platforms met, were idle and ran a case study;
        their funds, government share, members' mean trust and ownership at the month's
        start (the state's ``ownership`` is updated in place); attended seats; the districts
        that put the practice in their plans this month (their pressure, adopting and all
        local governments), the first ``info["new_districts"]`` entries; the platforms that
        stopped meeting (1) or met again (2) this month (how, and their ownership, government
        share and funds), the first ``info["newly_idle"] + info["revived"]`` entries, in
        order; ``info``. The month also sets the state's ``was_idle`` to this month's ``idle``.
    row
        The month's series row (filled at ``record_index[i]``, a row of the fixed inputs, for
        :data:`RECORD_ORDER` ``[i]``).

    Returns
    -------
    bool
        Whether national policy changed this month.

    Notes
    -----
    The processes run in the order of docs/ODD.md, but what each does to one
    organisation alone is done in a few passes over the organisations, each calling
    the process's one-organisation kernel (``adoption.next_stage``, ...): at 10,000
    organisations and more a month is the cost of passing over its arrays, not of
    its arithmetic. Every organisation's numbers are computed as the processes in
    turn would compute them: no pass reads what a later process writes.
    """
    c = cfg[0]
    (org_floats, org_flags, stage, representative_since, seat_flags, fit, ownership, platform_months,
     district_policy, backed, was_idle, cost_by_payer, tally) = state
    knowledge, trust, support = org_floats[0], org_floats[1], org_floats[2]
    abandoned, decision_maker, is_member = org_flags[0], org_flags[1], org_flags[2]
    seat_active, away = seat_flags[0], seat_flags[1]
    last_meeting, last_case_study = platform_months[0], platform_months[1]
    # the fixed arrays come as a few blocks, one row each (:data:`FIXED` names the rows)
    seat_u, seat_f, seat_b, org_i, org_u, org_s, org_f, org_b, ragged_i, ragged_f, at = fixed
    ea, ep, agent_seats, platform_seats = seat_u[0], seat_u[1], seat_u[2], seat_u[3]
    (engagement_seat, influence_seat, facilitation_seat, join_allocating, leave_allocating, join_not_allocating,
     leave_not_allocating) = (seat_f[0], seat_f[1], seat_f[2], seat_f[3], seat_f[4], seat_f[5], seat_f[6])
    edge_linking, champion_seat, gov_seat, hard_seat, marginalised_seat, private_seat = (
        seat_b[0], seat_b[1], seat_b[2], seat_b[3], seat_b[4], seat_b[5])
    district, reach = org_i[0], org_i[1]
    fit_index, home = org_u[0], org_u[1]
    kind, level_group = org_s[0], org_s[1]
    capacity, influence, engagement, threshold, dm_base = org_f[0], org_f[1], org_f[2], org_f[3], org_f[4]
    policy_maker, institutional_kind, local_gov, outside, local, scale_pop, has_home = (
        org_b[0], org_b[1], org_b[2], org_b[3], org_b[4], org_b[5], org_b[6])
    platform_district, platform_level, platform_level_index, district_pilot = (
        ragged_row(ragged_i, at, 0), ragged_row(ragged_i, at, 1), ragged_row(ragged_i, at, 2),
        ragged_row(ragged_i, at, 3))
    district_communities, programme_order, agent_indptr, platform_indptr = (
        ragged_row(ragged_i, at, 4), ragged_row(ragged_i, at, 5), ragged_row(ragged_i, at, 6),
        ragged_row(ragged_i, at, 7))
    h_indptr, h_indices, v_indptr, v_indices, index = (
        ragged_row(ragged_i, at, 8), ragged_row(ragged_i, at, 9), ragged_row(ragged_i, at, 10),
        ragged_row(ragged_i, at, 11), ragged_row(ragged_i, at, 12))
    af = at[_RAGGED_I:]
    platform_facilitation, district_influence, level_count, kind_count, h_data, v_data = (
        ragged_row(ragged_f, af, 0), ragged_row(ragged_f, af, 1), ragged_row(ragged_f, af, 2),
        ragged_row(ragged_f, af, 3), ragged_row(ragged_f, af, 4), ragged_row(ragged_f, af, 5))
    w0, w1 = work[0], work[1]
    platform_b, platform_f, att, fresh_dp, fresh_i, changed_i, changed_f, info = out
    met, idle, cases = platform_b[0], platform_b[1], platform_b[2]
    funds, gov_share, home_trust, ownership_before = platform_f[0], platform_f[1], platform_f[2], platform_f[3]
    n, n_p, n_d = knowledge.shape[0], platform_level.shape[0], district_policy.shape[0]
    doc = c.documentation
    # the kernels that take one draw per platform (and membership, one per seat) get them
    # as arrays; attendance's draws are computed only on platforms that met, the case
    # studies' normals only where one runs, and the organisations' draws in the passes that
    # use them (some computed and left unused, to spare a branch: docs/ODD.md, stochasticity)
    n_seats = ea.shape[0]
    u_meet = uniforms(stream(key, t, MEET), n_p)
    u_case = uniforms(stream(key, t, CASE), n_p)
    s_adopt, s_replace = stream(key, t, ADOPT), stream(key, t, REPLACE)
    s_dm, s_fade = stream(key, t, DECISION_MAKER), stream(key, t, FADE)

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
    # who attended and, in the same pass, the attended seats the learning kernels use (about a fifth)
    aa = np.empty(n_seats, dtype=ea.dtype)
    pa = np.empty(n_seats, dtype=ep.dtype)
    influence_a = np.empty(n_seats)
    champion_a = np.empty(n_seats, dtype=np.bool_)
    k = meetings.attend_seats_drawn(att, seat_active, met, ea, ep, engagement_seat, trust, gov_seat, gov_factor,
                                    hard_seat, facilitation_seat, c.inclusion_barrier, c.trust_attendance,
                                    stream(key, t, ATTEND), influence_seat, champion_seat, aa, pa, influence_a,
                                    champion_a)
    for j in range(n_p):
        if met[j]:
            last_meeting[j] = t
    aa, pa, influence_a, champion_a = aa[:k], pa[:k], influence_a[:k], champion_a[:k]
    came = np.ones(k, dtype=np.bool_)
    anyone = k > 0

    # 3 horizontal learning and trust (trust on idle platforms erodes in the first pass below)
    champions = any_per_row(pa, champion_a, n_p)
    fac = np.empty(n_p)
    for j in range(n_p):
        fac[j] = min(1.0, platform_facilitation[j] + c.champion_boost * (1.0 if champions[j] else 0.0))
    pool = learning.platform_pool(knowledge, influence_a, aa, pa, n_p)
    if anyone:
        if c.on_horizontal_learning:
            target = learning.mix_linked_kernel(pool, h_indptr, h_indices, h_data, met, c.exchange_rate)
            learning.horizontal_learning_into(knowledge, trust, capacity, target, came, aa, pa, fac, c.learning_rate,
                                              w0)
        if c.on_trust:
            div = learning.diversity(kind, came, aa, pa, n_p, kind_count.shape[0])
            learning.update_trust_into(trust, came, aa, pa, fac, div, c.conflict, c.trust_rate, c.trust_base, w0,
                                       w1)
    for j in range(n_p):
        idle[j] = (t - last_meeting[j]) > 2 * c.meeting_interval

    # 4 action research
    cases[:] = action_research.run_case_studies(met, funds, fac, c.action_research_intensity, u_case,
                                                c.case_study_funds, c.funds_response_width)
    # a case study's normal (a logarithm and a cosine) only for the platforms that run one
    z = np.zeros(n_p)
    s_z, s_angle = stream(key, t, CASE_RESULT), stream(key, t, CASE_RESULT_ANGLE)
    for j in range(n_p):
        if cases[j]:
            z[j] = normal(s_z, s_angle, j)
    results = action_research.case_study_results(cases, c.innovation_complexity, z)
    if not c.on_action_research:
        cases[:] = False
    if cases.any():  # without a case study neither knowledge nor fit can change
        if anyone:
            action_research.action_research_learning_into(knowledge, capacity, came, aa, pa, results, cases, doc,
                                                          c.action_research_gain, w0)
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
        vertical.vertical_learning_into(knowledge, capacity, vt, came, aa, pa, c.vertical_rate, w0)

    # 6 adoption, peer support and outreach; first what the attendees heard (into w0, w1)
    if c.on_peer_support:
        adoption.peer_heard_into(w0, w1, stage >= _ADOPTED, influence, came, aa, pa, n_p)
    # the attendees' support is what they heard on average, over their seats; everyone else's
    # fades (adoption.support_after) in the second pass, which reads and writes it anyway
    heard_now = np.zeros(n, dtype=np.bool_)
    if c.on_peer_support:
        adoption.heard_support_into(support, w0, w1, came, aa, c.support_memory, heard_now)
    memory = c.support_memory if c.on_peer_support else 1.0  # 1.0: support as it was
    # first pass: process 3's erosion of trust on idle platforms, and who promotes the
    # practice: only adopters with resources behind them, members of a platform that still
    # meets or organisations whose practice policy has embedded (adoption.district_exposure;
    # its denominator, each district's influence, is fixed)
    # (this pass and the ones below choose by selection, not by branches, wherever the
    # condition is a coin toss from one organisation or seat to the next (member or not,
    # adopted or not, seat active or not): a mispredicted branch costs about 15 cycles, more
    # than the arithmetic of both outcomes; adding 0.0 to a sum leaves it bit for bit the same)
    decay = 1.0 - c.trust_decay
    on_idle = np.zeros(n, dtype=np.bool_)
    # while every platform meets (most months of a funded project) no seat is on an idle one
    if c.on_trust and idle.any():
        for s in range(n_seats):
            on_idle[ea[s]] = on_idle[ea[s]] | (seat_active[s] & idle[ep[s]])
    num = np.zeros(n_d)
    # members' mean trust per platform (mean_member_trust), for process 9 and a new
    # representative's reputation: the first seats are the organisations' own, seat i of
    # organisation i on its home platform (c.own_seats of them), so their part of each sum
    # rides on this pass, in the seats' order, after trust's erosion; the other seats follow it
    trust_sum = np.zeros(n_p)
    held = np.zeros(n_p)  # active seats per platform before turnover (seats_held below: after process 9)
    n_own = int(c.own_seats)
    for i in range(n):
        if on_idle[i]:  # a branch: the members of one platform are neighbours, so it is predictable
            trust[i] = trust[i] * decay
        if i < n_own:  # predictable: the first n_own organisations
            active = 1.0 if seat_active[i] else 0.0  # a coin toss: no branch (adding 0.0 changes nothing)
            trust_sum[home[i]] += trust[i] * active
            held[home[i]] += active
        d = district[i]
        if d >= 0:
            st = stage[i]
            active_member = is_member[i] & has_home[i] & (not idle[home[i]])
            promoter = (st >= _ADOPTED) & (active_member | (st == _INSTITUTIONALISED))
            num[d] += influence[i] * (1.0 if promoter else 0.0)
    exposure = num  # adoption.district_exposure's share, in place
    for d in range(n_d):
        exposure[d] = num[d] / max(district_influence[d], _TINY)
    # the pilot organisations (level groups 0 to 2) that practise: the tally's counts
    pilot_adoption = (tally[4] + tally[5] + tally[6]) / c.pilot_organisations
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
    # second pass: outreach, readiness (an abandoned scheme raises the threshold, policy
    # backing lowers it) and adoption, then the pressure of process 7 on the result
    # (institutions.policy_pressure and district_pressure, summed in the same order), then
    # process 8's turnover, which changes what no later step of this pass nor process 7 reads
    # (a pass over the organisations less); a new representative's reputation is its
    # platform members' mean trust, which nothing has changed since the first pass
    # (members_per_platform's loop and division written out here and after process 9: as calls
    # the month measured 0.3 to 0.5 ns slower at 10,000 and 100,000 organisations)
    for s in range(n_own, n_seats):
        active = 1.0 if seat_active[s] else 0.0
        trust_sum[ep[s]] += trust[ea[s]] * active
        held[ep[s]] += active
    for j in range(n_p):
        home_trust[j] = trust_sum[j] / max(held[j], 1.0)
    pm_total = 0.0
    pm_done = 0.0
    pm_practising = 0
    district_open = c.on_district_institutionalisation and not district_policy.all()
    d_total = np.zeros(n_d)
    d_done = np.zeros(n_d)
    # short names for the loop below
    outside_spillover, dissemination, spillover = c.outside_spillover, c.policy_dissemination, c.spillover
    on_adoption, penalty, threshold_scale, policy_effect = c.on_adoption, c.abandonment_penalty, c.threshold_scale, \
        c.policy_effect
    advantage, external, imitation = c.relative_advantage, c.external_influence, c.imitation
    on_turnover, turnover_rate = c.on_turnover, c.turnover_rate
    # the organisations whose stage changed (and from what), for the record's tally
    moved = np.empty(n, dtype=np.uint32)  # unsigned: an index (see FIXED)
    moved_from = np.empty(n, dtype=stage.dtype)
    n_moved = 0
    for i in range(n):
        b = backed[fit_index[i]]
        d = district[i]
        # computed for every organisation and kept for the non-members of a district: whether an organisation
        # is a member is a coin toss the processor cannot predict, and a wrong guess costs more
        # than the arithmetic
        k0 = knowledge[i]
        s0 = support[i] if heard_now[i] else adoption.support_after(0.0, 0.0, support[i], memory)
        spill = outside_spillover * pilot_adoption * (1.0 if outside[i] else 0.0)
        extra = spill + dissemination * (1.0 if b else 0.0)
        k1, s1 = adoption.reached(k0, s0, capacity[i], exposure[d] if d >= 0 else 0.0, spillover, extra)
        reached_now = not is_member[i] and d >= 0
        knowledge[i] = k1 if reached_now else k0
        support[i] = s1 if reached_now else s0
        if on_adoption:
            thr = threshold[i] * (1.0 + penalty * (1.0 if abandoned[i] else 0.0))
            scale = threshold_scale * (1.0 - policy_effect * (1.0 if b else 0.0))
            ready = adoption.is_ready(knowledge[i], fit_ext[fit_index[i]], advantage, thr, scale)
            # adoption.next_stage, with the Bass draw computed only for the few that trial (the
            # branch that spares them the exponential spares the others the draw)
            before = stage[i]
            st = adoption.trial_stage(before, ready, knowledge[i], support[i])
            if st == _TRIALLING and adoption.bass_adopts(uniform(s_adopt, i), external, imitation, support[i]):
                st = _ADOPTED
            stage[i] = adoption.institutional_stage(st, b and institutional_kind[i])
            # few organisations change stage in a month: noted here, counted after the pass
            moved[n_moved] = i
            moved_from[n_moved] = before
            n_moved += stage[i] != before
        a = stage[i] >= _ADOPTED
        if policy_maker[i]:
            pm_total += influence[i]
            if a:
                pm_done += influence[i]
                pm_practising += 1
        if district_open and local_gov[i] and d >= 0:
            d_total[d] += influence[i]
            if a:
                d_done[d] += influence[i]
        # 8 turnover (an organisation's tenure is kept as the month its representative came: only
        # a new one changes it)
        if on_turnover and is_member[i] & (uniform(s_replace, i) < turnover_rate):  # turnover.replaced
            reputation = home_trust[home[i]] if has_home[i] else 0.0
            knowledge[i], trust[i], decision_maker[i] = turnover.new_representative(
                knowledge[i], trust[i], doc, reputation, dm_base[i], uniform(s_dm, i))
            representative_since[i] = t + 1  # tenure 0 at the month's end, as turnover.turnover's

    tally_changes(tally, moved, moved_from, n_moved, stage, level_group, kind, district, reach, scale_pop,
                  kind_count.shape[0])

    # 7 institutionalisation
    pressure = pm_done / pm_total if pm_total > 0 else 0.0
    info[_PRESSURE] = pressure
    policy_now = backed[n_d]
    policy_changed = False
    if not policy_now and c.on_national_institutionalisation and pressure >= c.policy_threshold:
        policy_changed = True
        policy_now = True
        policy_month = t
        info[_PM_PRACTISING] = pm_practising
    info[_NEW_DISTRICTS] = 0
    if district_open:
        dp = np.empty(n_d)
        for d in range(n_d):
            dp[d] = d_done[d] / d_total[d] if d_total[d] > 0 else np.nan
        now = institutions.districts_institutionalise(dp * c.government_involvement, c.district_policy_threshold,
                                                      district_policy)
        fresh = now & ~district_policy
        n_fresh = fresh.sum()
        if n_fresh:
            info[_NEW_DISTRICTS] = n_fresh
            # for each district new to it, in order: the pressure and its adopting and all local
            # governments (the model's events, which read them as they are, without a numpy call)
            dist_adopted = np.zeros(n_d, dtype=np.int64)
            dist_gov = np.zeros(n_d, dtype=np.int64)
            for i in range(n):
                if local_gov[i] and district[i] >= 0 and fresh[district[i]]:
                    dist_gov[district[i]] += 1
                    if stage[i] >= _ADOPTED:
                        dist_adopted[district[i]] += 1
            r = 0
            for d in range(n_d):
                if fresh[d]:
                    fresh_i[0, r], fresh_i[1, r], fresh_i[2, r] = d, dist_adopted[d], dist_gov[d]
                    fresh_dp[r] = dp[d]
                    r += 1
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

    # 8 turnover: done for each organisation at the end of the second pass above; without it
    # tenures stand still (turnover.turnover counts them), so the months they count start later
    if not on_turnover:
        for i in range(n):
            representative_since[i] += 1

    # 9 membership; the lead organisation allocates the money while the donor pays
    if c.on_membership:
        attractiveness = np.empty(n_p)
        for j in range(n_p):
            attractiveness[j] = 0.5 * pool[j] + 0.5 * home_trust[j]
        allocating = donor_on and c.on_lead_allocation and c.lead_allocation > 0.0
        if allocating:
            join, leave = join_allocating, leave_allocating
        else:
            join, leave = join_not_allocating, leave_not_allocating
        u_seat = uniforms(stream(key, t, SEAT), n_seats)
        membership.update_seats_into(seat_active, edge_linking, ea, ep, met, attractiveness, engagement, trust, idle,
                                     c.cost_sharing, c.recruitment_rate, c.dropout_rate, u_seat, join, leave, away,
                                     allocating)
        # (process 8 left is_member as it was: nothing between reads it)
        is_member[:] = False
    # the members, and for the record members' trust and number per platform at the month's
    # end (turnover and membership have moved them; nothing after this changes trust or
    # seats), in one pass over the seats (members_per_platform's sums, in the same order)
    trust_total = np.zeros(n_p)
    seats_held = np.zeros(n_p)
    marking = c.on_membership
    for s in range(n_seats):
        a, j = ea[s], ep[s]
        if marking:  # the same every seat: a predictable branch
            is_member[a] = is_member[a] | seat_active[s]
        active = 1.0 if seat_active[s] else 0.0  # a coin toss: no branch (adding 0.0 changes nothing)
        trust_total[j] += trust[a] * active
        seats_held[j] += active

    # 10 fade after funding ends: a changed policy backs every adopter a little; a platform
    # its members own and still run is what keeps a practice alive (003)
    if hazard > 0 and c.on_fade:
        n_moved = 0
        for i in range(n):
            u = uniform(s_fade, i)
            # protection is never negative, so nobody with a draw at or above the hazard itself
            # abandons (fade.abandons): a rare branch, and the others skip working it out
            if u >= hazard:
                continue
            h = home[i]
            owned = ownership[h] if is_member[i] & has_home[i] & (not idle[h]) else 0.0
            protection = c.support_protection * max(c.policy_protection * (1.0 if backed[fit_index[i]] else 0.0),
                                                    owned)
            if (stage[i] == _ADOPTED) & fade.abandons(hazard, protection, u):
                stage[i] = _AWARE
                knowledge[i] = 0.5 * knowledge[i]
                abandoned[i] = True
                moved[n_moved] = i
                moved_from[n_moved] = _ADOPTED
                n_moved += 1
        tally_changes(tally, moved, moved_from, n_moved, stage, level_group, kind, district, reach, scale_pop,
                      kind_count.shape[0])

    # 11 donor distortion of ownership (the month's start kept apart: the cost below and the
    # month's causes of events read it)
    ownership_before[:] = ownership
    donor.update_ownership_into(
        ownership, ownership_before, met if c.on_ownership else np.zeros(n_p, dtype=np.bool_), donor_now,
        c.cost_sharing, c.donor_distortion if c.on_donor_distortion else 0.0, c.ownership_rate,
    )

    cost = funding.monthly_cost(met, platform_level, cases, c.meeting_cost, c.case_study_cost)
    info[_COST] = cost
    # who paid it, shared as the money came in at the month's start (before process 11)
    members_paid = np.empty(n_p)
    government_paid = np.empty(n_p)
    for j in range(n_p):
        members_paid[j] = (c.cost_sharing if donor_on
                           else max(c.cost_sharing, c.member_funding) * ownership_before[j])
        government_paid[j] = gov_share[j] * ownership_before[j]
    paid = funding.cost_by_payer_kernel(met, platform_level, cases, c.meeting_cost, c.case_study_cost, donor_now,
                                        members_paid, government_paid)
    for k in range(paid.shape[0]):
        cost_by_payer[k] += paid[k]
    record(t, c, donor_on, cost, total_cost + cost, row, index, knowledge, trust, stage, seat_active, is_member,
           fit, ownership, last_case_study, district_policy, backed, decision_maker, ea, ep, kind, district, reach,
           district_communities, local, marginalised_seat, private_seat, level_group, level_count, kind_count,
           scale_pop, met, att, idle, funds, cases, home_trust, info, agent_indptr, agent_seats, platform_indptr,
           platform_seats, w0, tally, trust_total, seats_held)
    # which platforms stopped meeting (1) or met again (2) this month, in order, with the money
    # each had, for the model's events (which read them as they are, without a numpy call)
    newly_idle = 0
    revived = 0
    for j in range(n_p):
        how = 0
        if idle[j] and not was_idle[j] and last_meeting[j] >= 0:
            newly_idle += 1
            how = 1
        if not idle[j] and was_idle[j]:
            revived += 1
            how = 2
        if how:
            r = newly_idle + revived - 1
            changed_i[0, r], changed_i[1, r] = j, how
            changed_f[0, r], changed_f[1, r], changed_f[2, r] = ownership_before[j], gov_share[j], funds[j]
        was_idle[j] = idle[j]
    info[_NEWLY_IDLE] = newly_idle
    info[_REVIVED] = revived
    return policy_changed


@njit(cache=True)
def mean_member_trust(trust: np.ndarray, seat_active: np.ndarray, edge_agent: np.ndarray,
                       edge_platform: np.ndarray, n_platforms: int) -> np.ndarray:
    """Mean trust of each platform's current members (0 for an empty platform)."""
    return members_per_platform(trust, seat_active, edge_agent, edge_platform, n_platforms)[0]


@njit(cache=True)
def members_per_platform(trust: np.ndarray, seat_active: np.ndarray, edge_agent: np.ndarray,
                         edge_platform: np.ndarray, n_platforms: int) -> tuple[np.ndarray, np.ndarray]:
    """Each platform's members' mean trust (0 for an empty platform) and number of active seats."""
    total = np.zeros(n_platforms)
    count = np.zeros(n_platforms)
    for s in range(edge_agent.shape[0]):
        active = 1.0 if seat_active[s] else 0.0  # a coin toss per seat: no branch (adding 0.0 changes nothing)
        total[edge_platform[s]] += trust[edge_agent[s]] * active
        count[edge_platform[s]] += active
    for j in range(n_platforms):
        total[j] = total[j] / max(count[j], 1.0)
    return total, count


@njit(cache=True)
def record(t, c, donor_on, cost, total_cost, row, index, knowledge, trust, stage, seat_active, is_member, fit,
           ownership, last_case_study, district_policy, backed, decision_maker, ea, ep, kind, district, reach,
           district_communities, local, marginalised_seat, private_seat, level_group, level_count, kind_count,
           scale_pop, met, att, idle, funds, cases, home_trust, info, agent_indptr, agent_seats, platform_indptr,
           platform_seats, degree_of, tally, trust_total, seats_held):
    """The month's series (:data:`RECORD_ORDER`) into ``row``; members' trust per platform into ``home_trust``
    (``trust_total`` and ``seats_held``: :func:`members_per_platform`'s sums at the month's end)."""
    n, n_p, n_d = knowledge.shape[0], met.shape[0], district_policy.shape[0]
    # members' mean trust per platform at the month's end, then who attended
    for j in range(n_p):
        home_trust[j] = trust_total[j] / max(seats_held[j], 1.0)
    n_att = 0
    marg = 0
    priv = 0
    dm = 0
    for s in range(ea.shape[0]):
        came = att[s]
        n_att += came
        marg += came & marginalised_seat[s]
        priv += came & private_seat[s]
        dm += came & decision_maker[ea[s]]
    # each member's co-membership ties (membership.centralisation), into a work array, which
    # the pass over the organisations reads and zeroes
    membership.co_membership_into(degree_of, seat_active, ea, ep, seats_held)
    n_members = 0
    adopted_members = 0
    sum_k = 0.0
    member_k = 0.0
    member_trust = 0.0
    local_members = 0
    # the local share (membership.local_share) and the lead organisation (membership.centralisation:
    # the first of the members with the most co-membership ties over their seats) counted in the
    # same pass; the adopters' counts are the tally kept as stages change (tally_changes)
    lead = -1
    best = 0.0
    # branch-free where the outcome is a coin toss (adopted, member): a mispredicted branch
    # costs more than adding a zero, and adding 0.0 to a sum leaves it bit for bit the same
    for i in range(n):
        st = stage[i]
        a = st >= _ADOPTED
        m = is_member[i]
        mf = 1.0 if m else 0.0
        sum_k += knowledge[i]
        n_members += m
        member_k += knowledge[i] * mf
        member_trust += trust[i] * mf
        local_members += m and local[i]
        adopted_members += m and a
        degree = degree_of[i]
        degree_of[i] = 0.0
        if degree > best:
            best = degree
            lead = i
    n_kinds = kind_count.shape[0]
    n_adopted, institutionalised, scale_adopted, scale_n = tally[0], tally[1], tally[2], tally[3]
    by_level, by_kind, served = tally[4:8], tally[8:8 + n_kinds], tally[8 + n_kinds:]
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
    # the members are the organisations holding an active seat (process 9 sets is_member so)
    vals[nk + 7] = membership.lead_centrality(seat_active, ea, ep, lead, n_members, n, agent_indptr, agent_seats,
                                              platform_indptr, platform_seats)
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
    # a platform functions when it meets regularly, runs action research and is trusted
    functioning = 0
    for j in range(n_p):
        if not idle[j] and t - last_case_study[j] <= 12 and home_trust[j] >= c.functioning_trust:
            functioning += 1
    vals[nk + 24] = functioning / n_p
    info[_FUNCTIONING] = functioning / n_p
    info[_SCALE] = scale_adopted / scale_n if scale_n else 0.0
    for k in range(vals.shape[0]):
        row[index[k]] = vals[k]


#: Slots of the tally (the state's last array), then one per level group, kind and district.
TALLY = ("adopted", "institutionalised", "scale_adopted", "scale_population")


@njit(cache=True)
def tally_of(stage, level_group, kind, district, reach, scale_pop, n_kinds, n_districts):
    """The record's counts of adopters, counted afresh: adopters, institutionalised, adopters
    and organisations of the scale population, adopters per level group (4) and per kind, and
    communities served per district (:func:`model.mechanisms.adoption.communities_reached`
    before its cap). The model keeps them up to date with :func:`tally_changes`."""
    n = stage.shape[0]
    tally = np.zeros(8 + n_kinds + n_districts)
    for i in range(n):
        tally[3] += scale_pop[i]
    tally_changes(tally, np.arange(n), np.full(n, _AWARE, dtype=np.int8), n, stage, level_group, kind, district,
                  reach, scale_pop, n_kinds)
    return tally


@njit(cache=True)
def tally_changes(tally, rows, before, count, stage, level_group, kind, district, reach, scale_pop, n_kinds):
    """Organisations ``rows[:count]`` moved from stage ``before[k]`` to ``stage[rows[k]]``: their
    part of :func:`tally_of`.

    The counts and the communities served are whole numbers held in floats, so adding and
    taking away in any order gives the numbers a recount would, bit for bit. One call for
    all of a pass's changes: called once per change from inside the pass, it cost about
    60 ns each (its ten arguments, most of them arrays, passed and counted every call).
    """
    for k in range(count):
        i, old, new = rows[k], before[k], stage[rows[k]]
        da = (1.0 if new >= _ADOPTED else 0.0) - (1.0 if old >= _ADOPTED else 0.0)
        if da != 0.0:
            tally[0] += da
            if scale_pop[i]:
                tally[2] += da
            tally[4 + level_group[i]] += da
            tally[8 + kind[i]] += da
            if district[i] >= 0:  # national organisations serve no district's communities
                tally[8 + n_kinds + district[i]] += da * reach[i]
        tally[1] += (1.0 if new == _INSTITUTIONALISED else 0.0) - (1.0 if old == _INSTITUTIONALISED else 0.0)
