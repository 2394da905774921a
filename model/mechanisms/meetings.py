"""Process 2: which platforms meet and who attends (seeds 001, 002, 004)."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..draws import uniform
from . import paid


@njit(cache=True)
def platform_meets(
    month: int, last_meeting: np.ndarray, interval: int, funds: np.ndarray,
    u: np.ndarray, midpoint: float = 0.25, width: float = 0.05,
) -> np.ndarray:
    """Platforms that meet this month.

    A platform meets when a meeting is due and it can pay for one: a partly funded
    platform meets with probability equal to its funds, damped well below
    ``midpoint`` (too little money to pay the facilitator at all; see
    :func:`~model.mechanisms.paid_response`). ``u``: one uniform draw per platform.
    """
    met = np.zeros(funds.shape[0], dtype=np.bool_)
    for j in range(funds.shape[0]):
        met[j] = month - last_meeting[j] >= interval and u[j] < funds[j] * paid(funds[j], midpoint, width)
    return met


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
    probability: np.ndarray, seat_active: np.ndarray, seat_platform_met: np.ndarray, u: np.ndarray,
) -> np.ndarray:
    """Per seat: whether its organisation attended this month (``u``: one uniform draw per seat)."""
    return seat_active & seat_platform_met & (u < probability)


@njit(cache=True)
def seat_attends(engagement: float, trust: float, government: bool, government_factor: float, hard_to_reach: bool,
                 facilitation: float, inclusion_barrier: float, trust_weight: float, u: float) -> bool:
    """Whether one active seat of a platform that met is attended: :func:`attendance_probability`
    against its draw ``u``."""
    g = government_factor if government else 1.0
    barrier = inclusion_barrier * (1.0 - facilitation) if hard_to_reach else 0.0
    return u < engagement * (1.0 - trust_weight * (1.0 - trust)) * g * (1.0 - barrier)


@njit(cache=True)
def attend_seats(
    seat_active: np.ndarray, met: np.ndarray, edge_agent: np.ndarray, edge_platform: np.ndarray,
    engagement: np.ndarray, trust: np.ndarray, government: np.ndarray, government_factor: float,
    hard_to_reach: np.ndarray, facilitation: np.ndarray, inclusion_barrier: float, trust_weight: float,
    u: np.ndarray,
) -> np.ndarray:
    """:func:`attend` at :func:`attendance_probability`, in one pass over the seats.

    Per seat: ``engagement``, ``government``, ``hard_to_reach`` and ``facilitation``
    (the seat's platform's); ``trust`` per organisation; ``government_factor`` is what
    a government seat's chance is multiplied by this month.
    """
    out = np.zeros(seat_active.shape[0], dtype=np.bool_)
    for s in range(seat_active.shape[0]):
        if seat_active[s] and met[edge_platform[s]]:
            out[s] = seat_attends(engagement[s], trust[edge_agent[s]], government[s], government_factor,
                                  hard_to_reach[s], facilitation[s], inclusion_barrier, trust_weight, u[s])
    return out


@njit(cache=True)
def attend_seats_drawn(
    out: np.ndarray, seat_active: np.ndarray, met: np.ndarray, edge_agent: np.ndarray, edge_platform: np.ndarray,
    engagement: np.ndarray, trust: np.ndarray, government: np.ndarray, government_factor: float,
    hard_to_reach: np.ndarray, facilitation: np.ndarray, inclusion_barrier: float, trust_weight: float,
    seed: np.uint64, influence: np.ndarray, champion: np.ndarray, agent_came: np.ndarray, platform_came: np.ndarray,
    influence_came: np.ndarray, champion_came: np.ndarray,
) -> int:
    """:func:`attend_seats` into ``out``, seat ``s``'s draw ``model.draws.uniform(seed, s)`` computed
    only for the seats of platforms that met (the others draw nothing); and, in the same pass, the
    attended seats' organisation, platform, influence and champion flag (seat arrays ``influence``
    and ``champion``) in the first rows of the four ``*_came`` arrays (as long as ``out``), in
    order: the learning kernels use only those seats. Returns their number."""
    k = 0
    for s in range(seat_active.shape[0]):
        attended = False
        # whether a platform met holds for all its seats (a predictable branch); whether a seat
        # is filled is a coin toss, so its seats' chances are computed and the empty ones dropped
        if met[edge_platform[s]]:
            attended = seat_active[s] & seat_attends(engagement[s], trust[edge_agent[s]], government[s],
                                                     government_factor, hard_to_reach[s], facilitation[s],
                                                     inclusion_barrier, trust_weight, uniform(seed, s))
        out[s] = attended
        # every seat's row written and kept only if it was attended: no branch on the coin toss
        agent_came[k] = edge_agent[s]
        platform_came[k] = edge_platform[s]
        influence_came[k] = influence[s]
        champion_came[k] = champion[s]
        k += attended
    return k
