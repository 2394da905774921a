"""Process 5: vertical learning through linking members (seed 002)."""

from __future__ import annotations

import numpy as np
from numba import njit

from . import _TINY, csr_arrays, met_links
from .learning import _add_capped_into


def vertical_targets(pool: np.ndarray, vertical, platform_met: np.ndarray) -> np.ndarray:
    """Knowledge linking members bring into each platform from the levels above and below.

    ``vertical`` is the symmetric sparse platform x platform matrix whose entries
    count the linking members sitting on both platforms; only platforms that met
    have fresh evidence (up) or policy signals (down) to pass on.
    """
    return vertical_targets_kernel(pool, *csr_arrays(vertical), platform_met)


@njit(cache=True)
def vertical_targets_kernel(pool: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
                            platform_met: np.ndarray) -> np.ndarray:
    """:func:`vertical_targets` with the links as CSR arrays (compiled)."""
    out = np.empty(indptr.shape[0] - 1)
    for i in range(out.shape[0]):
        weight, acc = met_links(indptr, indices, data, pool, platform_met, i)
        out[i] = acc / max(weight, _TINY)
    return out


@njit(cache=True)
def vertical_learning(
    knowledge: np.ndarray, capacity: np.ndarray, target: np.ndarray, attended: np.ndarray,
    edge_agent: np.ndarray, edge_platform: np.ndarray, rate: float,
) -> np.ndarray:
    """Knowledge after attendees hear what linking members carried across levels."""
    out = knowledge.copy()
    vertical_learning_into(out, capacity, target, attended, edge_agent, edge_platform, rate, np.zeros(out.shape[0]))
    return out


@njit(cache=True)
def vertical_learning_into(
    knowledge: np.ndarray, capacity: np.ndarray, target: np.ndarray, attended: np.ndarray,
    edge_agent: np.ndarray, edge_platform: np.ndarray, rate: float, gain: np.ndarray,
) -> None:
    """:func:`vertical_learning` updating ``knowledge`` in place (``gain``: as in
    :func:`~model.mechanisms.learning.horizontal_learning_into`)."""
    for s in range(edge_agent.shape[0]):
        if attended[s]:
            a = edge_agent[s]
            gain[a] += rate * capacity[a] * max(target[edge_platform[s]] - knowledge[a], 0.0)
    _add_capped_into(knowledge, gain, attended, edge_agent)
