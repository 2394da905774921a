"""Process 7: institutionalisation through national policy, district plans and budgets, and
government programmes that carry it district by district (seed 004)."""

from __future__ import annotations

import numpy as np


def policy_pressure(
    adopted: np.ndarray, influence: np.ndarray, policy_maker: np.ndarray
) -> float:
    """Influence-weighted share of adopters among national government and regulators.

    Zero when no policy maker takes part: without government involvement the
    policy cannot change (004: "scaling up requires involving (local) government").
    """
    w = influence * policy_maker
    total = w.sum()
    return float((w * adopted).sum() / total) if total > 0 else 0.0


def policy_changes(pressure: float, threshold: float, already: bool) -> bool:
    """Whether national policy changes this month (it changes once and stays)."""
    return already or pressure >= threshold


def threshold_multiplier(backed: np.ndarray | bool, effect: float) -> np.ndarray | float:
    """Factor on adoption thresholds: where government backs the practice (policy reached
    the district, or the district institutionalised it) thresholds fall by ``effect``."""
    return 1.0 - effect * np.asarray(backed, dtype=float)


def district_pressure(
    adopted: np.ndarray, influence: np.ndarray, local_government: np.ndarray, district: np.ndarray,
    n_districts: int,
) -> np.ndarray:
    """Per district: influence-weighted share of adopters among its local-government organisations.

    NaN for a district without local government: nobody there can put the
    practice in the district's plans and budget.
    """
    i = np.asarray(local_government & (district >= 0)).nonzero()[0]
    w = influence[i]
    total = np.bincount(district[i], w, n_districts)
    done = np.bincount(district[i][adopted[i]], w[adopted[i]], n_districts)
    return np.where(total > 0, done / np.maximum(total, 1e-300), np.nan)


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


def programme_reach(months_since_policy: int, districts_per_year: float, n_districts: int) -> int:
    """How many districts (in :func:`programme_order`) the national programme has reached.

    A programme works within a budget: it starts in one district the month policy
    changes and adds ``districts_per_year`` a year, not everyone at once.
    """
    if months_since_policy < 0:
        return 0
    return min(n_districts, 1 + int(districts_per_year * months_since_policy / 12.0))
