"""Process 9: recruitment and drop-out (seeds 001, 002)."""

from __future__ import annotations

import numpy as np


def update_seats(
    seat_active: np.ndarray, seat_linking: np.ndarray, edge_agent: np.ndarray,
    edge_platform: np.ndarray, platform_met: np.ndarray, attractiveness: np.ndarray,
    engagement: np.ndarray, trust: np.ndarray, idle: np.ndarray, cost_sharing: float,
    recruitment_rate: float, dropout_rate: float, rng: np.random.Generator,
) -> np.ndarray:
    """Which seats are filled after recruitment and drop-out this month.

    Platforms that meet draw in interested non-members of their district, the
    more so the more they have to offer (002: platforms start small and grow as
    activities are promoted). Members whose costs outweigh what they get leave,
    and idle platforms (``idle``: no meeting for two intervals) lose members fast.
    Linking seats are kept: they are the alliance's vertical spine.
    """
    a, p = edge_agent, edge_platform
    u = rng.random(seat_active.shape[0])
    # evaluate each rule only on the seats it can apply to (the same numbers, fewer of them)
    out = seat_active.copy()
    j = (~seat_active & platform_met[p]).nonzero()[0]
    out[j] = u[j] < recruitment_rate * attractiveness[p[j]] * engagement[a[j]]
    # nobody can leave whose draw is above the largest possible leaving chance; dropping
    # them first (by the same arithmetic, so rounding cannot differ) skips most seats
    most = dropout_rate * ((0.5 + cost_sharing) * max(1.0, 1.0 - float(trust.min(initial=0.0))) * 3.0)
    i = (seat_active & ~seat_linking & (u < most)).nonzero()[0]
    burden = (0.5 + cost_sharing) * (1.0 - trust[a[i]]) * np.where(idle[p[i]], 3.0, 1.0)
    out[i] = ~(u[i] < dropout_rate * burden)
    return out
