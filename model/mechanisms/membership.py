"""Process 9: recruitment and drop-out (seeds 001, 002)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def update_seats(
    seat_active: np.ndarray, seat_linking: np.ndarray, edge_agent: np.ndarray,
    edge_platform: np.ndarray, platform_met: np.ndarray, attractiveness: np.ndarray,
    engagement: np.ndarray, trust: np.ndarray, idle: np.ndarray, cost_sharing: float,
    recruitment_rate: float, dropout_rate: float, u: np.ndarray,
) -> np.ndarray:
    """Which seats are filled after recruitment and drop-out this month.

    Platforms that meet draw in interested non-members of their district, the
    more so the more they have to offer (002: platforms start small and grow as
    activities are promoted). Members whose costs outweigh what they get leave,
    and idle platforms (``idle``: no meeting for two intervals) lose members fast.
    Linking seats are kept: they are the alliance's vertical spine. ``u``: one
    uniform draw per seat.
    """
    out = seat_active.copy()
    for s in range(seat_active.shape[0]):
        a, p = edge_agent[s], edge_platform[s]
        if not seat_active[s]:
            if platform_met[p]:
                out[s] = u[s] < recruitment_rate * attractiveness[p] * engagement[a]
        elif not seat_linking[s]:
            burden = (0.5 + cost_sharing) * (1.0 - trust[a]) * (3.0 if idle[p] else 1.0)
            out[s] = not (u[s] < dropout_rate * burden)
    return out

@njit(cache=True)
def local_share(is_member: np.ndarray, local: np.ndarray) -> float:
    """Share of the alliance's members that are local-level organisations (NaN with no members).

    Sartas et al. (2018) saw local-level actors leave innovation platforms in their
    first years; this is the share their pattern is about.
    """
    n = 0
    k = 0
    for i in range(is_member.shape[0]):
        if is_member[i]:
            n += 1
            if local[i]:
                k += 1
    return k / n if n else np.nan


@njit(cache=True)
def centralisation(seat_active: np.ndarray, edge_agent: np.ndarray, edge_platform: np.ndarray,
                   n_agents: int, n_platforms: int) -> float:
    """The lead organisation's degree centrality: the share of the other members it is tied to.

    Two members are tied when they hold active seats on the same platform. The
    lead organisation is the member with the most ties counted over its seats
    (the one the alliance runs through: it sits on the most, and the largest,
    platforms). Its centrality is the number of distinct members it shares a
    platform with over all other members (Freeman's normalised degree, 0..1;
    0 with fewer than two members). Members the lead does not meet leaving
    raises it: the centralisation around the lead organisation that Sartas et
    al. (2018) measured in young innovation platforms.
    """
    member = np.zeros(n_agents, dtype=np.bool_)
    k = np.zeros(n_platforms)
    for s in range(seat_active.shape[0]):
        if seat_active[s]:
            member[edge_agent[s]] = True
            k[edge_platform[s]] += 1.0
    n_members = 0
    for i in range(n_agents):
        if member[i]:
            n_members += 1
    if n_members < 2:
        return 0.0
    degree = np.zeros(n_agents)
    for s in range(seat_active.shape[0]):
        if seat_active[s]:
            degree[edge_agent[s]] += k[edge_platform[s]] - 1.0
    lead = np.argmax(degree)  # the first of equals, as numpy's argmax
    if degree[lead] == 0.0:  # nobody shares a platform: no ties, no centre
        return 0.0
    on_leads = np.zeros(n_platforms, dtype=np.bool_)
    for s in range(seat_active.shape[0]):
        if seat_active[s] and edge_agent[s] == lead:
            on_leads[edge_platform[s]] = True
    tied = np.zeros(n_agents, dtype=np.bool_)
    for s in range(seat_active.shape[0]):
        if seat_active[s] and on_leads[edge_platform[s]]:
            tied[edge_agent[s]] = True
    n_tied = 0
    for i in range(n_agents):
        if tied[i]:
            n_tied += 1
    return float(n_tied - 1) / float(n_members - 1)
