"""Process 2: which platforms meet and who attends (seeds 001, 002, 004)."""

from __future__ import annotations

import numpy as np

from . import paid_response


def platform_meets(
    month: int, last_meeting: np.ndarray, interval: int, funds: np.ndarray,
    rng: np.random.Generator, midpoint: float = 0.25, width: float = 0.05,
) -> np.ndarray:
    """Platforms that meet this month.

    A platform meets when a meeting is due and it can pay for one: a partly funded
    platform meets with probability equal to its funds, damped well below
    ``midpoint`` (too little money to pay the facilitator at all; see
    :func:`~model.mechanisms.paid_response`).
    """
    due = (month - last_meeting) >= interval
    return due & (rng.random(funds.shape[0]) < funds * paid_response(funds, midpoint, width))


def attendance_probability(
    engagement: np.ndarray, trust: np.ndarray, government_factor: np.ndarray,
    hard_to_reach: np.ndarray, facilitation: np.ndarray, inclusion_barrier: float,
    trust_weight: float = 0.4,
) -> np.ndarray:
    """Chance that each seat's organisation attends a meeting of its platform.

    Arrays are per seat. Marginalised and private-sector members stay away
    unless facilitation is proactive (002); members who trust the alliance come more.
    """
    barrier = np.where(hard_to_reach, inclusion_barrier * (1.0 - facilitation), 0.0)
    return engagement * (1.0 - trust_weight * (1.0 - trust)) * government_factor * (1.0 - barrier)


def attend(
    probability: np.ndarray, seat_active: np.ndarray, seat_platform_met: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Per seat: whether its organisation attended this month."""
    return seat_active & seat_platform_met & (rng.random(probability.shape[0]) < probability)
