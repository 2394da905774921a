"""Process 6: adoption, peer support and outreach (seeds 002, 004; Bass 1969 in the limit)."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..kinds import Stage
from . import _TINY

# plain ints: numpy compares an array with them about twice as fast as with IntEnum members
_UNAWARE, _AWARE, _TRIALLING, _ADOPTED, _INSTITUTIONALISED = (int(s) for s in Stage)


@njit(cache=True)
def peer_support(
    support: np.ndarray, adopted: np.ndarray, influence: np.ndarray, attended: np.ndarray,
    edge_agent: np.ndarray, edge_platform: np.ndarray, n_platforms: int, memory: float,
) -> np.ndarray:
    """Each organisation's exposure to adopters: the influence-weighted share of
    adopters among the attendees of the meetings it attended this month.

    Organisations that met nobody this month keep a fading memory of it. On one
    fully mixed platform with full attendance this is the share adopted, the
    imitation term of the Bass model.
    """
    out = support.copy()
    peer_support_into(out, adopted, influence, attended, edge_agent, edge_platform, n_platforms, memory)
    return out


@njit(cache=True)
def peer_support_into(
    support: np.ndarray, adopted: np.ndarray, influence: np.ndarray, attended: np.ndarray,
    edge_agent: np.ndarray, edge_platform: np.ndarray, n_platforms: int, memory: float,
) -> None:
    """:func:`peer_support` updating ``support`` in place."""
    heard, seats = np.zeros(support.shape[0]), np.zeros(support.shape[0])
    peer_heard_into(heard, seats, adopted, influence, attended, edge_agent, edge_platform, n_platforms)
    for i in range(support.shape[0]):
        support[i] = support_after(0.0, 0.0, support[i], memory)
    heard_support_into(support, heard, seats, attended, edge_agent, memory, np.zeros(support.shape[0], np.bool_))


@njit(cache=True)
def peer_heard_into(
    heard: np.ndarray, seats: np.ndarray, adopted: np.ndarray, influence: np.ndarray, attended: np.ndarray,
    edge_agent: np.ndarray, edge_platform: np.ndarray, n_platforms: int,
) -> None:
    """What each organisation heard at this month's meetings, added into ``heard`` and ``seats``.

    Per organisation: the sum over its attended seats of the influence-weighted share
    of adopters among that meeting's attendees, and the number of those seats (the
    two halves of :func:`peer_support`'s average; :func:`support_after` ends it).
    ``heard`` and ``seats`` come in all zero.
    """
    num = np.zeros(n_platforms)
    den = np.zeros(n_platforms)
    for s in range(edge_agent.shape[0]):
        if attended[s]:
            a, p = edge_agent[s], edge_platform[s]
            den[p] += influence[a]
            if adopted[a]:
                num[p] += influence[a]
    for j in range(n_platforms):  # num becomes the share, in place
        num[j] = num[j] / max(den[j], _TINY)
    for s in range(edge_agent.shape[0]):
        if attended[s]:
            a = edge_agent[s]
            heard[a] += num[edge_platform[s]]
            seats[a] += 1.0


@njit(cache=True)
def heard_support_into(support: np.ndarray, heard: np.ndarray, seats: np.ndarray, attended: np.ndarray,
                       edge_agent: np.ndarray, memory: float, heard_now: np.ndarray) -> None:
    """:func:`support_after` of the organisations that attended a meeting (``seats`` > 0), over
    the attended seats, handing ``heard`` and ``seats`` back all zero and marking them in
    ``heard_now``.

    Every other organisation's support is left as it is (the caller fades it): a large
    alliance's month passes over the attendees' seats instead of every organisation's
    ``heard`` and ``seats``.
    """
    for s in range(edge_agent.shape[0]):
        if attended[s]:
            a = edge_agent[s]
            if seats[a] > 0.0:  # an organisation's first attended seat; its others find it done
                support[a] = support_after(heard[a], seats[a], support[a], memory)
                heard[a] = 0.0
                seats[a] = 0.0
                heard_now[a] = True


@njit(cache=True)
def support_after(heard: float, seats: float, support: float, memory: float) -> float:
    """One organisation's support after the month: what it heard on average, or a fading memory."""
    return heard / seats if seats > 0 else support * memory


@njit(cache=True)
def district_exposure(
    adopted: np.ndarray, influence: np.ndarray, district: np.ndarray, n_districts: int
) -> np.ndarray:
    """Influence-weighted share of ``adopted`` (those promoting it) among each district's organisations."""
    num = np.zeros(n_districts)
    for i in range(district.shape[0]):
        d = district[i]
        if d >= 0 and adopted[i]:  # national organisations (district -1) belong to no district
            num[d] += influence[i]
    return num / np.maximum(district_weight(influence, district, n_districts), _TINY)


@njit(cache=True)
def district_weight(influence: np.ndarray, district: np.ndarray, n_districts: int) -> np.ndarray:
    """Each district's organisations' total influence: :func:`district_exposure`'s denominator,
    summed in the same order (influence is a fixed trait, so the compiled month takes it once)."""
    den = np.zeros(n_districts)
    for i in range(district.shape[0]):
        if district[i] >= 0:
            den[district[i]] += influence[i]
    return den


@njit(cache=True)
def outreach(
    knowledge: np.ndarray, support: np.ndarray, capacity: np.ndarray, is_member: np.ndarray,
    district: np.ndarray, exposure: np.ndarray, spillover: float, extra: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Knowledge and support of non-members after adopters' outreach in their district.

    ``exposure`` is the per-district adopter share (see :func:`district_exposure`),
    ``extra`` a per-organisation knowledge inflow from elsewhere (spill-over
    from the pilots and, after a policy change, government programmes).
    """
    new_k, new_s = knowledge.copy(), support.copy()
    outreach_into(new_k, new_s, capacity, is_member, district, exposure, spillover, extra)
    return new_k, new_s


@njit(cache=True)
def outreach_into(
    knowledge: np.ndarray, support: np.ndarray, capacity: np.ndarray, is_member: np.ndarray,
    district: np.ndarray, exposure: np.ndarray, spillover: float, extra: np.ndarray,
) -> None:
    """:func:`outreach` updating ``knowledge`` and ``support`` in place (each row reads only itself)."""
    for i in range(knowledge.shape[0]):
        if not is_member[i] and district[i] >= 0:
            knowledge[i], support[i] = reached(knowledge[i], support[i], capacity[i], exposure[district[i]],
                                               spillover, extra[i])


@njit(cache=True)
def reached(knowledge: float, support: float, capacity: float, exposure: float, spillover: float,
            extra: float) -> tuple[float, float]:
    """:func:`outreach` of one non-member in a district: its knowledge and support after it."""
    gain = (spillover * exposure + extra) * capacity * (1.0 - knowledge)
    return min(1.0, knowledge + gain), max(support, exposure)


@njit(cache=True)
def readiness(
    knowledge: np.ndarray, fit: np.ndarray, relative_advantage: float, threshold: np.ndarray,
    threshold_scale: float,
) -> np.ndarray:
    """Organisations for which the innovation clears their adoption threshold.

    What an organisation sees in the innovation grows with what it knows about
    making it work, the innovation's local fit and its relative advantage.
    """
    value = knowledge * (0.5 + 0.5 * fit) * (0.5 + 0.5 * relative_advantage)
    return value >= threshold * threshold_scale


@njit(cache=True)
def is_ready(knowledge: float, fit: float, relative_advantage: float, threshold: float,
             threshold_scale: float) -> bool:
    """:func:`readiness` of one organisation, by the same arithmetic.

    The compiled month calls it inside a pass over the organisations it already
    makes, instead of building four arrays for :func:`readiness`.
    """
    return knowledge * (0.5 + 0.5 * fit) * (0.5 + 0.5 * relative_advantage) >= threshold * threshold_scale


@njit(cache=True)
def adopt(
    stage: np.ndarray, ready: np.ndarray, knowledge: np.ndarray, support: np.ndarray,
    external: float, imitation: float, institutional: np.ndarray, u: np.ndarray,
) -> np.ndarray:
    """Adoption stages after one month.

    Unaware organisations that learn something (or are ready) become aware; aware ones that
    are ready start trialling; trialling ones adopt with the Bass hazard
    ``1 - exp(-(p + q * support))``; ready adopters where policy backs the
    practice (``institutional``) become institutionalised. ``u``: one uniform draw
    per organisation.
    """
    s = stage.copy()
    adopt_into(s, ready, knowledge, support, external, imitation, institutional, u)
    return s


@njit(cache=True)
def adopt_into(
    stage: np.ndarray, ready: np.ndarray, knowledge: np.ndarray, support: np.ndarray,
    external: float, imitation: float, institutional: np.ndarray, u: np.ndarray,
) -> None:
    """:func:`adopt` updating ``stage`` in place."""
    for i in range(stage.shape[0]):
        stage[i] = next_stage(stage[i], ready[i], knowledge[i], support[i], external, imitation, institutional[i],
                              u[i])


@njit(cache=True)
def next_stage(stage: int, ready: bool, knowledge: float, support: float, external: float, imitation: float,
               institutional: bool, u: float) -> int:
    """:func:`adopt` of one organisation: its stage after the month."""
    st = trial_stage(stage, ready, knowledge, support)
    if st == _TRIALLING and bass_adopts(u, external, imitation, support):
        st = _ADOPTED
    return institutional_stage(st, institutional)


@njit(cache=True)
def trial_stage(stage: int, ready: bool, knowledge: float, support: float) -> int:
    """:func:`next_stage` up to the Bass draw: unaware organisations that learn something (or are
    ready) become aware; aware ones that are ready start trialling, trialling ones that are not
    go back to aware."""
    st = stage
    if st == _UNAWARE and (knowledge > 0.05 or support > 0 or ready):
        st = _AWARE
    if st == _AWARE and ready:
        st = _TRIALLING
    elif st == _TRIALLING and not ready:
        st = _AWARE
    return st


@njit(cache=True)
def bass_adopts(u: float, external: float, imitation: float, support: float) -> bool:
    """Whether a trialling organisation with draw ``u`` adopts: the Bass hazard ``1 - exp(-(p + q * support))``."""
    return u < 1.0 - np.exp(-(external + imitation * support))


@njit(cache=True)
def institutional_stage(stage: int, institutional: bool) -> int:
    """:func:`next_stage`'s last step: an adopter where policy backs the practice is institutionalised."""
    return _INSTITUTIONALISED if stage == _ADOPTED and institutional else stage


@njit(cache=True)
def communities_reached(
    adopted: np.ndarray, reach: np.ndarray, district: np.ndarray, communities: np.ndarray
) -> np.ndarray:
    """Communities reached per district: adopters' reach, capped by the district's communities."""
    served = np.zeros(communities.shape[0])
    for i in range(district.shape[0]):
        if adopted[i] and district[i] >= 0:  # national organisations serve no district's communities
            served[district[i]] += reach[i]
    return np.minimum(served, communities)
