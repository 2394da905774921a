"""Process 9: recruitment and drop-out (seeds 001, 002)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def update_seats(
    seat_active: np.ndarray, seat_linking: np.ndarray, edge_agent: np.ndarray,
    edge_platform: np.ndarray, platform_met: np.ndarray, attractiveness: np.ndarray,
    engagement: np.ndarray, trust: np.ndarray, idle: np.ndarray, cost_sharing: float,
    recruitment_rate: float, dropout_rate: float, u: np.ndarray, join_factor: np.ndarray,
    leave_factor: np.ndarray, away: np.ndarray | None = None,
) -> np.ndarray:
    """Which seats are filled after recruitment and drop-out this month.

    Platforms that meet draw in interested non-members of their district, the
    more so the more they have to offer (002: platforms start small and grow as
    activities are promoted). Members whose costs outweigh what they get leave,
    and idle platforms (``idle``: no meeting for two intervals) lose members fast.
    Linking seats are kept: they are the alliance's vertical spine. ``u``: one
    uniform draw per seat. ``join_factor`` and ``leave_factor`` (one per seat)
    multiply the joining and leaving chances: :func:`allocation_factors`. Seats in
    ``away`` are not refilled: :func:`stayed_away`.
    """
    out = seat_active.copy()
    barred = np.zeros(out.shape[0], dtype=np.bool_) if away is None else away.copy()
    update_seats_into(out, seat_linking, edge_agent, edge_platform, platform_met, attractiveness, engagement, trust,
                      idle, cost_sharing, recruitment_rate, dropout_rate, u, join_factor, leave_factor, barred, False)
    return out


@njit(cache=True)
def update_seats_into(
    seat_active: np.ndarray, seat_linking: np.ndarray, edge_agent: np.ndarray,
    edge_platform: np.ndarray, platform_met: np.ndarray, attractiveness: np.ndarray,
    engagement: np.ndarray, trust: np.ndarray, idle: np.ndarray, cost_sharing: float,
    recruitment_rate: float, dropout_rate: float, u: np.ndarray, join_factor: np.ndarray,
    leave_factor: np.ndarray, away: np.ndarray, allocating: bool,
) -> None:
    """:func:`update_seats` then :func:`stayed_away`, updating ``seat_active`` and ``away`` in place
    (each seat reads only itself)."""
    for s in range(seat_active.shape[0]):
        a, p = edge_agent[s], edge_platform[s]
        if not seat_active[s]:
            if platform_met[p] and not away[s]:
                seat_active[s] = u[s] < recruitment_rate * attractiveness[p] * engagement[a] * join_factor[s]
        elif not seat_linking[s]:
            burden = (0.5 + cost_sharing) * (1.0 - trust[a]) * (3.0 if idle[p] else 1.0)
            if u[s] < dropout_rate * burden * leave_factor[s]:
                seat_active[s] = False
                if leave_factor[s] > join_factor[s]:
                    away[s] = True
    if not allocating:
        away[:] = False


@njit(cache=True)
def _co_membership(seat_active: np.ndarray, edge_agent: np.ndarray, edge_platform: np.ndarray, n_agents: int,
                   n_platforms: int) -> tuple[np.ndarray, np.ndarray]:
    """Each organisation's co-membership ties counted over its active seats, and whether it holds one."""
    k = np.zeros(n_platforms)
    held = np.zeros(n_agents, dtype=np.bool_)
    for s in range(seat_active.shape[0]):
        if seat_active[s]:
            k[edge_platform[s]] += 1.0
            held[edge_agent[s]] = True
    degree = np.zeros(n_agents)
    co_membership_into(degree, seat_active, edge_agent, edge_platform, k)
    return degree, held


@njit(cache=True)
def co_membership_into(degree: np.ndarray, seat_active: np.ndarray, edge_agent: np.ndarray,
                       edge_platform: np.ndarray, seats_per_platform: np.ndarray) -> None:
    """Add each organisation's co-membership ties (the other active seats on its platforms) into
    ``degree``; ``seats_per_platform`` counts active seats. (Whether an organisation holds an
    active seat is whether it is a member: the model's ``is_member``.)"""
    for s in range(seat_active.shape[0]):
        # without a branch: whether a seat is active is a coin toss; an inactive seat adds
        # (its platform's count - 1) x 0, a zero that leaves the sum as it is
        active = 1.0 if seat_active[s] else 0.0
        degree[edge_agent[s]] += (seats_per_platform[edge_platform[s]] - 1.0) * active


@njit(cache=True)
def lead_organisation(seat_active: np.ndarray, edge_agent: np.ndarray, edge_platform: np.ndarray,
                      n_agents: int, n_platforms: int) -> int:
    """The member with the most co-membership ties counted over its seats (-1 with no ties).

    The organisation the alliance runs through: it sits on the most, and the largest,
    platforms. Ties go to the lowest index, so the choice is reproducible.
    """
    degree, _ = _co_membership(seat_active, edge_agent, edge_platform, n_agents, n_platforms)
    if n_agents == 0:
        return -1
    lead = np.argmax(degree)  # the first of equals, as numpy's argmax
    return lead if degree[lead] > 0.0 else -1


def lead_distance(lead: int, seat_active: np.ndarray, edge_agent: np.ndarray, edge_platform: np.ndarray,
                  platform_parent: np.ndarray) -> np.ndarray:
    """Each platform's distance from the lead organisation's platforms in the platform tree, 0..1.

    Steps along parent links (a district platform is one step from the national one,
    two from its sibling) from the nearest platform the lead sits on, over the
    largest such distance: 0 where the lead sits, 1 on the platforms furthest from
    it. All zeros with no lead or when the lead sits everywhere.
    """
    n_p = platform_parent.shape[0]
    dist = np.zeros(n_p)
    if lead < 0:
        return dist
    on_lead = np.unique(edge_platform[seat_active & (edge_agent == lead)])
    hops = tree_hops(platform_parent.astype(np.int64), on_lead.astype(np.int64)).astype(float)
    hops[hops < 0] = hops.max(initial=0.0)  # platforms off the tree
    top = hops.max(initial=0.0)
    return hops / top if top > 0 else dist


@njit(cache=True)
def tree_hops(parent: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Steps from the nearest of ``sources`` to each node of the forest given by ``parent`` (-1: a root).

    A breadth-first search along parent and child links (the tree is undirected here);
    -1 for nodes in no tree with a source. The scipy shortest-path call it replaces
    built a sparse matrix for each model: a fifth of a default model's construction.
    """
    n = parent.shape[0]
    first_child, children = seat_index(parent, n)  # each node's children, as seats of a row
    hops = np.full(n, -1, dtype=np.int64)
    queue = np.empty(n, dtype=np.int64)
    tail = 0
    for s in sources:
        if hops[s] < 0:
            hops[s] = 0
            queue[tail] = s
            tail += 1
    head = 0
    while head < tail:
        j = queue[head]
        head += 1
        up = parent[j]
        if up >= 0 and hops[up] < 0:
            hops[up] = hops[j] + 1
            queue[tail] = up
            tail += 1
        for k in range(first_child[j], first_child[j + 1]):
            c = children[k]
            if hops[c] < 0:
                hops[c] = hops[j] + 1
                queue[tail] = c
                tail += 1
    return hops


def allocation_factors(distance: np.ndarray, strength: float, donor_on: bool) -> tuple[np.ndarray, np.ndarray]:
    """How the lead organisation's control of project money moves joining and leaving.

    Sartas et al. (2018) found that young innovation platforms contracted and
    centralised: local-level actors left, while the lead organisation, which
    controlled how the platforms' money was allocated, became much more central;
    the money the platforms handed out explained who stayed. So while the donor
    pays, joining a platform is ``1 + strength x (1 - distance)`` times as likely
    (money and activities are where the lead is) and leaving ``1 + strength x
    distance`` times as likely (members far from the lead get little of it). Once
    the donor has gone there is nothing to allocate and both factors are 1.
    """
    if not donor_on or strength == 0.0:
        one = np.ones_like(distance, dtype=float)
        return one, one
    return 1.0 + strength * (1.0 - distance), 1.0 + strength * distance


def stayed_away(away: np.ndarray, before: np.ndarray, after: np.ndarray, join_factor: np.ndarray,
                leave_factor: np.ndarray, allocating: bool) -> np.ndarray:
    """Seats whose member left for lack of the lead's money and stays away while it lasts.

    Sartas et al. (2018) found that the money the platforms handed out explained
    who stayed, and that the platforms contracted in their first years: a member
    that left because the money went elsewhere has no reason to come back while
    it still does. So a seat left while the lead allocates, on a platform the
    allocation pushes members out of more than it draws them in (``leave_factor >
    join_factor``: further from the lead than half the tree), is not refilled until
    the donor has gone; then there is nothing left to allocate and every seat can be
    filled again. Seats nearer the lead get enough of the money to come back to.
    (The compiled month does this inside :func:`update_seats_into`.)
    """
    if not allocating:
        return np.zeros_like(away)
    return away | (before & ~after & (leave_factor > join_factor))


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
    degree, member = _co_membership(seat_active, edge_agent, edge_platform, n_agents, n_platforms)
    n_members = 0
    lead = -1
    best = 0.0
    for i in range(n_agents):
        if member[i]:
            n_members += 1
        if degree[i] > best:  # the first of equals, as lead_organisation
            best = degree[i]
            lead = i
    agent_indptr, agent_seats = seat_index(edge_agent, n_agents)
    platform_indptr, platform_seats = seat_index(edge_platform, n_platforms)
    return lead_centrality(seat_active, edge_agent, edge_platform, lead, n_members, n_agents, agent_indptr,
                           agent_seats, platform_indptr, platform_seats)


@njit(cache=True)
def lead_centrality(seat_active: np.ndarray, edge_agent: np.ndarray, edge_platform: np.ndarray, lead: int,
                    n_members: int, n_agents: int, agent_indptr: np.ndarray, agent_seats: np.ndarray,
                    platform_indptr: np.ndarray, platform_seats: np.ndarray) -> float:
    """:func:`centralisation` once the lead (-1: none) and the number of members are known.

    Reads only the lead's seats and the seats of the platforms it sits on, through the
    seat indices of :func:`seat_index` (by organisation and by platform): the compiled
    month finds the lead in a pass it makes anyway.
    """
    if n_members < 2 or lead < 0:  # fewer than two members, or nobody shares a platform: no centre
        return 0.0
    n_tied = 0
    tied = np.zeros(n_agents, dtype=np.bool_)
    for k in range(agent_indptr[lead], agent_indptr[lead + 1]):
        s = agent_seats[k]
        if not seat_active[s]:
            continue
        p = edge_platform[s]
        for m in range(platform_indptr[p], platform_indptr[p + 1]):
            # without branches: whether a seat is active is a coin toss the processor cannot
            # predict, and a wrong guess costs more than the store
            r = platform_seats[m]
            a = edge_agent[r]
            active = seat_active[r]
            n_tied += active & ~tied[a]
            tied[a] = tied[a] | active
    return float(n_tied - 1) / float(n_members - 1)


@njit(cache=True)
def seat_index(rows: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The seats of each row (organisation or platform), CSR-style: row ``r``'s seats are
    ``seats[indptr[r]:indptr[r + 1]]``, in increasing order (a stable counting sort).
    A negative row holds no seat (:func:`tree_hops` indexes children by parent, roots -1)."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for s in range(rows.shape[0]):
        if rows[s] >= 0:
            indptr[rows[s] + 1] += 1
    for r in range(n_rows):
        indptr[r + 1] += indptr[r]
    fill = indptr[:-1].copy()
    seats = np.empty(indptr[n_rows], dtype=np.int64)
    for s in range(rows.shape[0]):
        if rows[s] >= 0:
            seats[fill[rows[s]]] = s
            fill[rows[s]] += 1
    return indptr, seats
