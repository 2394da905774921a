"""Process 8: turnover of representatives (seeds 002, 003, 004)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def replaced(is_member: np.ndarray, rate: float, u: np.ndarray) -> np.ndarray:
    """Member organisations whose representative changes this month (``u``: one uniform draw each)."""
    return is_member & (u < rate)


@njit(cache=True)
def turnover(
    knowledge: np.ndarray, trust: np.ndarray, tenure: np.ndarray, decision_maker: np.ndarray,
    change: np.ndarray, documentation: float, reputation: np.ndarray,
    decision_maker_base: np.ndarray, u: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Knowledge, trust, tenure and decision-maker status after representatives change.

    The new representative keeps only what was documented (003: "documentation
    equals sustainability"), starts with half the trust, and is a decision maker
    more often when the alliance has a good name (004: participation moves from
    operational staff to decision makers). ``u``: one uniform draw per organisation.
    """
    k, t, ten, dm = knowledge.copy(), trust.copy(), tenure + 1, decision_maker.copy()
    for i in range(change.shape[0]):
        if change[i]:
            k[i] = knowledge[i] * documentation
            t[i] = 0.5 * trust[i]
            ten[i] = 0
            dm[i] = u[i] < decision_maker_base[i] + (1.0 - decision_maker_base[i]) * reputation[i]
    return k, t, ten, dm
