"""Process 11: donor distortion of ownership (seed 004: "(donor) environment can be distorting")."""

from __future__ import annotations

import numpy as np


def update_ownership(
    ownership: np.ndarray, met: np.ndarray, donor_share: float, cost_sharing: float,
    distortion: float, rate: float = 0.1,
) -> np.ndarray:
    """Members' ownership of each platform (0..1) after one month.

    Ownership grows at meetings where members pay part of the cost, and erodes
    where donor money covers what members could have paid: heavy donor money
    without cost sharing leaves an alliance that nobody owns once it stops.
    """
    build = rate * cost_sharing * met
    erode = distortion * donor_share * (1.0 - cost_sharing)
    return np.minimum(np.maximum(ownership + build * (1.0 - ownership) - erode * ownership, 0.0), 1.0)
