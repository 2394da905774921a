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
