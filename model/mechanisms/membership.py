"""Process 9: recruitment and drop-out (seeds 001, 002)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import shortest_path


def update_seats(
    seat_active: np.ndarray, seat_linking: np.ndarray, edge_agent: np.ndarray,
    edge_platform: np.ndarray, platform_met: np.ndarray, attractiveness: np.ndarray,
    engagement: np.ndarray, trust: np.ndarray, idle: np.ndarray, cost_sharing: float,
    recruitment_rate: float, dropout_rate: float, rng: np.random.Generator,
    join_factor: np.ndarray | float = 1.0, leave_factor: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Which seats are filled after recruitment and drop-out this month.

    Platforms that meet draw in interested non-members of their district, the
    more so the more they have to offer (002: platforms start small and grow as
    activities are promoted). Members whose costs outweigh what they get leave,
    and idle platforms (``idle``: no meeting for two intervals) lose members fast.
    Linking seats are kept: they are the alliance's vertical spine.
    ``join_factor`` and ``leave_factor`` (one number, or one per seat) multiply
    the joining and leaving chances: :func:`allocation_factors`.
    """
    a, p = edge_agent, edge_platform
    u = rng.random(seat_active.shape[0])
    # evaluate each rule only on the seats it can apply to (the same numbers, fewer of them)
    out = seat_active.copy()
    j = (~seat_active & platform_met[p]).nonzero()[0]
    join = np.broadcast_to(np.asarray(join_factor, dtype=float), seat_active.shape)
    leave = np.broadcast_to(np.asarray(leave_factor, dtype=float), seat_active.shape)
    out[j] = u[j] < recruitment_rate * attractiveness[p[j]] * engagement[a[j]] * join[j]
    # nobody can leave whose draw is above the largest possible leaving chance; dropping
    # them first (by the same arithmetic, so rounding cannot differ) skips most seats
    most = dropout_rate * ((0.5 + cost_sharing) * max(1.0, 1.0 - float(trust.min(initial=0.0))) * 3.0)
    most *= max(1.0, float(leave.max(initial=1.0)))
    i = (seat_active & ~seat_linking & (u < most)).nonzero()[0]
    burden = (0.5 + cost_sharing) * (1.0 - trust[a[i]]) * np.where(idle[p[i]], 3.0, 1.0)
    out[i] = ~(u[i] < dropout_rate * burden * leave[i])
    return out


def lead_organisation(seat_active: np.ndarray, edge_agent: np.ndarray, edge_platform: np.ndarray,
                      n_agents: int, n_platforms: int) -> int:
    """The member with the most co-membership ties counted over its seats (-1 with no ties).

    The organisation the alliance runs through: it sits on the most, and the largest,
    platforms. Ties go to the lowest index, so the choice is reproducible.
    """
    seats = seat_active.nonzero()[0]
    return _lead_of(edge_platform[seats], edge_agent[seats], n_agents, n_platforms)


def _lead_of(sp: np.ndarray, sa: np.ndarray, n_agents: int, n_platforms: int) -> int:
    # the active seats' platforms and organisations: centralisation has them already
    k = np.bincount(sp, minlength=n_platforms).astype(float)
    degree = np.bincount(sa, weights=k[sp] - 1.0, minlength=n_agents)
    lead = int(degree.argmax()) if degree.size else -1
    return lead if lead >= 0 and degree[lead] > 0.0 else -1


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
    child = np.flatnonzero(platform_parent >= 0)
    tree = csr_array((np.ones(child.size), (child, platform_parent[child])), shape=(n_p, n_p))
    on_lead = np.unique(edge_platform[seat_active & (edge_agent == lead)])
    hops = shortest_path(tree, directed=False, unweighted=True, indices=on_lead).min(axis=0)
    hops[~np.isfinite(hops)] = hops[np.isfinite(hops)].max(initial=0.0)  # platforms off the tree
    top = hops.max(initial=0.0)
    return hops / top if top > 0 else dist


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
    """
    if not allocating:
        return np.zeros_like(away)
    return away | (before & ~after & (leave_factor > join_factor))


def local_share(is_member: np.ndarray, local: np.ndarray) -> float:
    """Share of the alliance's members that are local-level organisations (NaN with no members).

    Sartas et al. (2018) saw local-level actors leave innovation platforms in their
    first years; this is the share their pattern is about.
    """
    n = np.count_nonzero(is_member)
    return np.count_nonzero(is_member & local) / n if n else np.nan


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
    seats = seat_active.nonzero()[0]
    sp, sa = edge_platform[seats], edge_agent[seats]
    # boolean marks instead of np.unique: no sort of every seat, every month
    member = np.zeros(n_agents, dtype=bool)
    member[sa] = True
    n_members = np.count_nonzero(member)
    if n_members < 2:
        return 0.0
    lead = _lead_of(sp, sa, n_agents, n_platforms)
    if lead < 0:  # nobody shares a platform: no ties, no centre
        return 0.0
    on_leads = np.zeros(n_platforms, dtype=bool)
    on_leads[sp[sa == lead]] = True
    tied = np.zeros(n_agents, dtype=bool)
    tied[sa[on_leads[sp]]] = True
    return float(np.count_nonzero(tied) - 1) / float(n_members - 1)
