"""Process 8: turnover of representatives (seeds 002, 003, 004)."""

from __future__ import annotations

import numpy as np


def replaced(is_member: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Member organisations whose representative changes this month."""
    return is_member & (rng.random(is_member.shape[0]) < rate)


def turnover(
    knowledge: np.ndarray, trust: np.ndarray, tenure: np.ndarray, decision_maker: np.ndarray,
    change: np.ndarray, documentation: float, reputation: np.ndarray,
    decision_maker_base: np.ndarray, rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Knowledge, trust, tenure and decision-maker status after representatives change.

    The new representative keeps only what was documented (003: "documentation
    equals sustainability"), starts with half the trust, and is a decision maker
    more often when the alliance has a good name (004: participation moves from
    operational staff to decision makers).
    """
    k = np.where(change, knowledge * documentation, knowledge)
    t = np.where(change, 0.5 * trust, trust)
    ten = np.where(change, 0, tenure + 1)
    p_dm = decision_maker_base + (1.0 - decision_maker_base) * reputation
    dm = np.where(change, rng.random(change.shape[0]) < p_dm, decision_maker)
    return k, t, ten, dm
