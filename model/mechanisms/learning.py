"""Process 3: horizontal learning and trust at meetings (seeds 001, 002)."""

from __future__ import annotations

import numpy as np
from numba import njit

from . import _TINY, csr_arrays, met_links


@njit(cache=True)
def platform_pool(
    knowledge: np.ndarray, weight: np.ndarray, edge_agent: np.ndarray,
    edge_platform: np.ndarray, n_platforms: int,
) -> np.ndarray:
    """Weighted mean knowledge of each platform's attendees (0 where nobody attended)."""
    num = np.zeros(n_platforms)
    den = np.zeros(n_platforms)
    for s in range(edge_agent.shape[0]):
        p = edge_platform[s]
        num[p] += weight[s] * knowledge[edge_agent[s]]
        den[p] += weight[s]
    for j in range(n_platforms):  # in place: a default-sized month is mostly such small allocations
        num[j] = num[j] / max(den[j], _TINY)
    return num


def mix_linked(pool: np.ndarray, links, met: np.ndarray, rate: float) -> np.ndarray:
    """Raise each platform's pool towards the mean of the linked platforms that met.

    ``links`` is a sparse platform x platform matrix (exchange visits, the
    electronic platform); only platforms that met this month have something to share.
    """
    return mix_linked_kernel(pool, *csr_arrays(links), met, rate)


@njit(cache=True)
def mix_linked_kernel(pool: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
                      met: np.ndarray, rate: float) -> np.ndarray:
    """:func:`mix_linked` with the links as CSR arrays (compiled)."""
    if rate == 0 or data.sum() == 0:
        return pool
    out = np.empty(pool.shape[0])
    for i in range(pool.shape[0]):
        count, acc = met_links(indptr, indices, data, pool, met, i)
        neighbour = acc / max(count, _TINY)
        out[i] = pool[i] + rate * max(neighbour - pool[i], 0.0)
    return out


@njit(cache=True)
def horizontal_learning(
    knowledge: np.ndarray, trust: np.ndarray, capacity: np.ndarray, target: np.ndarray,
    attended: np.ndarray, edge_agent: np.ndarray, edge_platform: np.ndarray,
    facilitation: np.ndarray, rate: float,
) -> np.ndarray:
    """Knowledge after attendees learn from their platform's pool.

    Each attendee closes a share of the gap to its platform's pool that grows
    with facilitation, its trust in the alliance and its absorptive capacity.
    Meetings do not unlearn: an attendee who knows more than the pool keeps it.
    """
    out = knowledge.copy()
    horizontal_learning_into(out, trust, capacity, target, attended, edge_agent, edge_platform, facilitation, rate,
                             np.zeros(out.shape[0]))
    return out


@njit(cache=True)
def horizontal_learning_into(
    knowledge: np.ndarray, trust: np.ndarray, capacity: np.ndarray, target: np.ndarray,
    attended: np.ndarray, edge_agent: np.ndarray, edge_platform: np.ndarray,
    facilitation: np.ndarray, rate: float, gain: np.ndarray,
) -> None:
    """:func:`horizontal_learning` updating ``knowledge`` in place.

    ``gain`` is an all-zero work array, one per organisation, handed back all zero: the
    compiled month keeps one, since zeroing a fresh one costs more than the attendees' work.
    """
    for s in range(edge_agent.shape[0]):
        if attended[s]:
            a, p = edge_agent[s], edge_platform[s]
            gap = max(target[p] - knowledge[a], 0.0)
            gain[a] += rate * facilitation[p] * (0.3 + 0.7 * trust[a]) * capacity[a] * gap
    _add_capped_into(knowledge, gain, attended, edge_agent)


@njit(cache=True)
def _add_capped_into(knowledge: np.ndarray, gain: np.ndarray, attended: np.ndarray, edge_agent: np.ndarray) -> None:
    """``knowledge = min(1, knowledge + gain)`` for attendees, in place: one pass over the attending seats.

    ``gain`` is zero but for attendees, and is used up (zeroed) as it is added, so an
    organisation with several attended seats gains once.
    """
    for s in range(edge_agent.shape[0]):
        if attended[s]:
            a = edge_agent[s]
            knowledge[a] = min(1.0, knowledge[a] + gain[a])
            gain[a] = 0.0


@njit(cache=True)
def diversity(kind: np.ndarray, attended: np.ndarray, edge_agent: np.ndarray,
              edge_platform: np.ndarray, n_platforms: int, n_kinds: int) -> np.ndarray:
    """Simpson diversity (1 - sum of squared shares) of kinds among each platform's attendees."""
    counts = np.zeros((n_platforms, n_kinds))
    total = np.zeros(n_platforms)
    for s in range(edge_agent.shape[0]):
        if attended[s]:
            counts[edge_platform[s], kind[edge_agent[s]]] += 1.0
            total[edge_platform[s]] += 1.0
    out = np.ones(n_platforms)
    for j in range(n_platforms):
        d = max(total[j], _TINY)
        for k in range(n_kinds):
            out[j] -= (counts[j, k] / d) ** 2
    return out


@njit(cache=True)
def update_trust(
    trust: np.ndarray, attended: np.ndarray, edge_agent: np.ndarray, edge_platform: np.ndarray,
    facilitation: np.ndarray, platform_diversity: np.ndarray, conflict: float, rate: float,
    base: float = 0.2,
) -> np.ndarray:
    """Trust after a month of meetings.

    Each attendee's trust moves towards what its platform's facilitation
    allows (``base`` plus its skill): skilled facilitation mediates divergent
    interests (001), poor facilitation of a diverse platform lets conflicts erode trust.
    """
    out = trust.copy()  # trust of organisations that attended nothing stays as it is
    update_trust_into(out, attended, edge_agent, edge_platform, facilitation, platform_diversity, conflict, rate, base,
                      np.zeros(out.shape[0]), np.zeros(out.shape[0]))
    return out


@njit(cache=True)
def update_trust_into(
    trust: np.ndarray, attended: np.ndarray, edge_agent: np.ndarray, edge_platform: np.ndarray,
    facilitation: np.ndarray, platform_diversity: np.ndarray, conflict: float, rate: float,
    base: float, pull: np.ndarray, seats: np.ndarray,
) -> None:
    """:func:`update_trust` updating ``trust`` in place (``pull``, ``seats``: all-zero work arrays, handed
    back all zero, as :func:`horizontal_learning_into`'s ``gain``)."""
    target = np.empty(facilitation.shape[0])
    for j in range(facilitation.shape[0]):
        strain = conflict * platform_diversity[j] * (1.0 - facilitation[j])
        target[j] = min(max(base + facilitation[j] - strain, 0.0), 1.0)
    for s in range(edge_agent.shape[0]):
        if attended[s]:
            a = edge_agent[s]
            pull[a] += target[edge_platform[s]] - trust[a]
            seats[a] += 1.0
    for s in range(edge_agent.shape[0]):
        if attended[s]:
            a = edge_agent[s]
            if seats[a] > 0.0:  # the first of its seats: the move uses the month's start
                trust[a] = min(max(trust[a] + rate * (pull[a] / max(seats[a], _TINY)), 0.0), 1.0)
                seats[a] = 0.0
                pull[a] = 0.0
