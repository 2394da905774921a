"""Process 4: action research (seeds 001, 003: plan, act, observe, reflect)."""

from __future__ import annotations

import numpy as np
from numba import njit

from . import paid_response


def run_case_studies(
    met: np.ndarray, funds: np.ndarray, facilitation: np.ndarray, intensity: float,
    u: np.ndarray, midpoint: float = 0.5, width: float = 0.05,
) -> np.ndarray:
    """Platforms that run a joint case study this month.

    Only platforms that met can, only as often as their facilitator can weave
    joint research into the platform's work (001: methodological guidance is a
    facilitation function), and less the less they can pay for it (a logistic
    around ``midpoint``, :func:`~model.mechanisms.paid_response`). ``u``: one
    uniform draw per platform.
    """
    chance = intensity * facilitation * paid_response(funds, midpoint, width)
    return met & (u < chance)


def case_study_results(case_studies: np.ndarray, complexity: float, z: np.ndarray) -> np.ndarray:
    """Outcome of each case study (+ success, - failure); complex innovations fail more.

    Normal with mean ``0.5 - 0.6 x complexity`` and sd 0.5; ``z``: one standard normal draw per platform.
    """
    return np.where(case_studies, (0.5 - 0.6 * complexity) + 0.5 * z, 0.0)


@njit(cache=True)
def action_research_learning(
    knowledge: np.ndarray, capacity: np.ndarray, attended: np.ndarray, edge_agent: np.ndarray,
    edge_platform: np.ndarray, results: np.ndarray, case_studies: np.ndarray,
    documentation: float, gain: float,
) -> np.ndarray:
    """Knowledge of case-study participants after reflecting on the results.

    Successes teach; failures teach only when documented (003: "failure is not
    the enemy ... if we create space to talk about it"; "documentation equals
    sustainability").
    """
    lesson = np.where(results >= 0, 1.0, documentation) * case_studies
    g = np.zeros(knowledge.shape[0])
    for s in range(edge_agent.shape[0]):
        if attended[s]:
            a = edge_agent[s]
            g[a] += gain * lesson[edge_platform[s]] * capacity[a] * (1.0 - knowledge[a])
    return np.minimum(1.0, knowledge + g)


def update_fit(
    fit: np.ndarray, platform_district: np.ndarray, results: np.ndarray, case_studies: np.ndarray,
    fit_gain: float, complexity: float, links=None, exchange_rate: float = 0.0,
) -> np.ndarray:
    """The innovation's local fit per district after this month's case studies.

    Each case study adapts the innovation to its district; failures still
    narrow down what works, but by less. Platforms linked by exchange visits
    (``links``, platform x platform) see each other's trials in the field (004:
    joint field visits) and adapt by ``exchange_rate`` of what they saw.
    """
    local = platform_district >= 0
    effect = np.where(results >= 0, 1.0, 0.3) * (case_studies & local) * fit_gain * (1.0 - 0.5 * complexity)
    if links is not None and exchange_rate > 0:
        effect = effect + exchange_rate * (links @ effect) * local
    per_district = np.bincount(platform_district[local], effect[local], fit.shape[0])
    return np.minimum(1.0, fit + per_district * (1.0 - fit))


def transfer_fit(
    fit: np.ndarray, pilot: np.ndarray, documentation: float, rate: float, boost: float
) -> np.ndarray:
    """Fit in districts outside the alliance, raised by documented lessons from the pilots.

    ``boost`` multiplies the rate (government programmes after a policy change
    carry the lessons much further than reports alone).
    """
    if pilot.all() or not pilot.any():
        return fit
    best = fit[pilot].sum() / np.count_nonzero(pilot)  # the mean, without np.mean's overhead
    gap = np.where(pilot, 0.0, np.maximum(best - fit, 0.0))
    return fit + rate * documentation * boost * gap
