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
    k, t, ten, dm = knowledge.copy(), trust.copy(), tenure.copy(), decision_maker.copy()
    turnover_into(k, t, ten, dm, change, documentation, reputation, decision_maker_base, u)
    return k, t, ten, dm


@njit(cache=True)
def turnover_into(
    knowledge: np.ndarray, trust: np.ndarray, tenure: np.ndarray, decision_maker: np.ndarray,
    change: np.ndarray, documentation: float, reputation: np.ndarray,
    decision_maker_base: np.ndarray, u: np.ndarray,
) -> None:
    """:func:`turnover` updating its four arrays in place (each row reads only itself)."""
    for i in range(change.shape[0]):
        if change[i]:
            knowledge[i], trust[i], decision_maker[i] = new_representative(
                knowledge[i], trust[i], documentation, reputation[i], decision_maker_base[i], u[i])
            tenure[i] = 0
        else:
            tenure[i] += 1


@njit(cache=True)
def new_representative(knowledge: float, trust: float, documentation: float, reputation: float,
                       decision_maker_base: float, u: float) -> tuple[float, float, bool]:
    """:func:`turnover` of one organisation whose representative changes: its knowledge, trust and
    whether the newcomer is a decision maker."""
    return knowledge * documentation, 0.5 * trust, u < decision_maker_base + (1.0 - decision_maker_base) * reputation
