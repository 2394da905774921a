"""Process 11: donor distortion of ownership (seed 004: "(donor) environment can be distorting")."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def update_ownership(
    ownership: np.ndarray, met: np.ndarray, donor_share: float, cost_sharing: float,
    distortion: float, rate: float = 0.1,
) -> np.ndarray:
    """Members' ownership of each platform (0..1) after one month.

    Ownership grows at every meeting members take part in (``rate`` of what is
    left to own), and erodes where donor money covers what members could have
    paid (``donor_share x (1 - cost_sharing)``): heavy donor money without cost
    sharing leaves an alliance that nobody owns, and so nobody pays for, once it
    stops (004). Cost sharing matters only by shielding ownership from the donor:
    without distortion, how much the donor pays leaves ownership as it is.
    """
    out = np.empty(ownership.shape[0])
    update_ownership_into(out, ownership, met, donor_share, cost_sharing, distortion, rate)
    return out


@njit(cache=True)
def update_ownership_into(
    out: np.ndarray, ownership: np.ndarray, met: np.ndarray, donor_share: float, cost_sharing: float,
    distortion: float, rate: float = 0.1,
) -> None:
    """:func:`update_ownership` written into ``out`` (the compiled month keeps the month's start apart)."""
    erode = distortion * donor_share * (1.0 - cost_sharing)
    for j in range(ownership.shape[0]):
        build = rate * (1.0 if met[j] else 0.0)
        out[j] = min(max(ownership[j] + build * (1.0 - ownership[j]) - erode * ownership[j], 0.0), 1.0)
