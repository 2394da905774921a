"""Process 5: vertical learning through linking members (seed 002)."""

from __future__ import annotations

import numpy as np

from . import attending, ratio


def vertical_targets(pool: np.ndarray, vertical, platform_met: np.ndarray) -> np.ndarray:
    """Knowledge linking members bring into each platform from the levels above and below.

    ``vertical`` is the symmetric sparse platform x platform matrix whose entries
    count the linking members sitting on both platforms; only platforms that met
    have fresh evidence (up) or policy signals (down) to pass on.
    """
    carried = pool * platform_met
    weight = vertical @ platform_met.astype(float)
    return ratio(vertical @ carried, weight)


def vertical_learning(
    knowledge: np.ndarray, capacity: np.ndarray, target: np.ndarray, attended: np.ndarray,
    edge_agent: np.ndarray, edge_platform: np.ndarray, rate: float,
) -> np.ndarray:
    """Knowledge after attendees hear what linking members carried across levels."""
    a, p = attending(attended, edge_agent, edge_platform)
    gap = np.maximum(target[p] - knowledge[a], 0.0)
    return np.minimum(1.0, knowledge + np.bincount(a, rate * capacity[a] * gap, knowledge.shape[0]))
