"""Process 7: institutionalisation through national policy, district plans and budgets, and
government programmes that carry it district by district (seed 004)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def policy_pressure(
    adopted: np.ndarray, influence: np.ndarray, policy_maker: np.ndarray
) -> float:
    """Influence-weighted share of adopters among national government and regulators.

    Zero when no policy maker takes part: without government involvement the
    policy cannot change (004: "scaling up requires involving (local) government").
    """
    total = 0.0
    done = 0.0
    for i in range(influence.shape[0]):
        if policy_maker[i]:
            total += influence[i]
            if adopted[i]:
                done += influence[i]
    return done / total if total > 0 else 0.0


def policy_changes(pressure: float, threshold: float, already: bool) -> bool:
    """Whether national policy changes this month (it changes once and stays)."""
    return already or pressure >= threshold


def threshold_multiplier(backed: np.ndarray | bool, effect: float) -> np.ndarray | float:
    """Factor on adoption thresholds: where government backs the practice (policy reached
    the district, or the district institutionalised it) thresholds fall by ``effect``."""
    return 1.0 - effect * np.asarray(backed, dtype=float)


@njit(cache=True)
def district_pressure(
    adopted: np.ndarray, influence: np.ndarray, local_government: np.ndarray, district: np.ndarray,
    n_districts: int,
) -> np.ndarray:
    """Per district: influence-weighted share of adopters among its local-government organisations.

    NaN for a district without local government: nobody there can put the
    practice in the district's plans and budget.
    """
    total = np.zeros(n_districts)
    done = np.zeros(n_districts)
    for i in range(district.shape[0]):
        d = district[i]
        if local_government[i] and d >= 0:
            total[d] += influence[i]
            if adopted[i]:
                done[d] += influence[i]
    out = np.full(n_districts, np.nan)
    for d in range(n_districts):
        if total[d] > 0:
            out[d] = done[d] / total[d]
    return out


@njit(cache=True)
def districts_institutionalise(pressure: np.ndarray, threshold: float, already: np.ndarray) -> np.ndarray:
    """Districts whose local government has the practice in its plans and budget (once in, it stays).

    A district institutionalises when enough of its local government has adopted
    (004: "scaling up requires involving (local) government").
    """
    return already | (pressure >= threshold)  # NaN (no local government) compares False


def programme_order(pilot: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The order in which a national programme reaches districts: pilot districts first
    (they asked for the policy), then the others in a random order."""
    pilots = pilot.nonzero()[0]
    others = (~pilot).nonzero()[0]
    return np.concatenate([pilots, rng.permutation(others)]).astype(np.int64)


@njit(cache=True)
def programme_reach(months_since_policy: int, districts_per_year: float, n_districts: int) -> int:
    """How many districts (in :func:`programme_order`) the national programme has reached.

    A programme works within a budget: it starts in one district the month policy
    changes and adds ``districts_per_year`` a year, not everyone at once.
    """
    if months_since_policy < 0:
        return 0
    return min(n_districts, 1 + int(districts_per_year * months_since_policy / 12.0))
