"""Process 4: action research (seeds 001, 003: plan, act, observe, reflect)."""

from __future__ import annotations

import numpy as np
from numba import njit

from . import csr_arrays, csr_matvec, paid
from .learning import _add_capped_into


@njit(cache=True)
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
    out = np.zeros(met.shape[0], dtype=np.bool_)
    for j in range(met.shape[0]):
        out[j] = met[j] and u[j] < intensity * facilitation[j] * paid(funds[j], midpoint, width)
    return out


@njit(cache=True)
def case_study_results(case_studies: np.ndarray, complexity: float, z: np.ndarray) -> np.ndarray:
    """Outcome of each case study (+ success, - failure); complex innovations fail more.

    Normal with mean ``0.5 - 0.6 x complexity`` and sd 0.5; ``z``: one standard normal draw per platform.
    """
    out = np.zeros(case_studies.shape[0])
    for j in range(case_studies.shape[0]):
        if case_studies[j]:
            out[j] = (0.5 - 0.6 * complexity) + 0.5 * z[j]
    return out


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
    out = knowledge.copy()
    action_research_learning_into(out, capacity, attended, edge_agent, edge_platform, results, case_studies,
                                  documentation, gain, np.zeros(out.shape[0]))
    return out


@njit(cache=True)
def action_research_learning_into(
    knowledge: np.ndarray, capacity: np.ndarray, attended: np.ndarray, edge_agent: np.ndarray,
    edge_platform: np.ndarray, results: np.ndarray, case_studies: np.ndarray,
    documentation: float, gain: float, g: np.ndarray,
) -> None:
    """:func:`action_research_learning` updating ``knowledge`` in place (``g``: an all-zero work array, as
    :func:`~model.mechanisms.learning.horizontal_learning_into`'s ``gain``)."""
    lesson = np.empty(results.shape[0])
    for j in range(results.shape[0]):
        lesson[j] = (1.0 if results[j] >= 0 else documentation) * (1.0 if case_studies[j] else 0.0)
    for s in range(edge_agent.shape[0]):
        if attended[s]:
            a = edge_agent[s]
            g[a] += gain * lesson[edge_platform[s]] * capacity[a] * (1.0 - knowledge[a])
    _add_capped_into(knowledge, g, attended, edge_agent)


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
    if links is None:
        links = np.zeros((platform_district.shape[0], platform_district.shape[0]))
    return update_fit_kernel(fit, platform_district, results, case_studies, fit_gain, complexity,
                             *csr_arrays(links), exchange_rate)


@njit(cache=True)
def update_fit_kernel(
    fit: np.ndarray, platform_district: np.ndarray, results: np.ndarray, case_studies: np.ndarray,
    fit_gain: float, complexity: float, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
    exchange_rate: float,
) -> np.ndarray:
    """:func:`update_fit` with the exchange links as CSR arrays (compiled)."""
    n_p = platform_district.shape[0]
    effect = np.zeros(n_p)
    for j in range(n_p):
        if case_studies[j] and platform_district[j] >= 0:
            effect[j] = (1.0 if results[j] >= 0 else 0.3) * fit_gain * (1.0 - 0.5 * complexity)
    if exchange_rate > 0:
        seen = csr_matvec(indptr, indices, data, effect)
        for j in range(n_p):
            if platform_district[j] >= 0:
                effect[j] += exchange_rate * seen[j]
    per_district = np.zeros(fit.shape[0])
    for j in range(n_p):
        if platform_district[j] >= 0:
            per_district[platform_district[j]] += effect[j]
    for d in range(fit.shape[0]):
        per_district[d] = min(1.0, fit[d] + per_district[d] * (1.0 - fit[d]))
    return per_district


def transfer_fit(
    fit: np.ndarray, pilot: np.ndarray, documentation: float, rate: float, boost: float | np.ndarray
) -> np.ndarray:
    """Fit in districts outside the alliance, raised by documented lessons from the pilots.

    ``boost`` multiplies the rate (government programmes after a policy change
    carry the lessons much further than reports alone).
    """
    boosts = np.broadcast_to(np.asarray(boost, dtype=float), np.shape(fit))
    return transfer_fit_kernel(fit, pilot, float(documentation), float(rate), np.ascontiguousarray(boosts))


@njit(cache=True)
def transfer_fit_kernel(
    fit: np.ndarray, pilot: np.ndarray, documentation: float, rate: float, boost: np.ndarray
) -> np.ndarray:
    """:func:`transfer_fit` with one boost per district (compiled)."""
    n_pilot = 0
    best = 0.0
    for d in range(fit.shape[0]):
        if pilot[d]:
            n_pilot += 1
            best += fit[d]
    if n_pilot == 0 or n_pilot == fit.shape[0]:
        return fit
    best /= n_pilot
    out = fit.copy()
    for d in range(fit.shape[0]):
        if not pilot[d]:
            out[d] = fit[d] + rate * documentation * boost[d] * max(best - fit[d], 0.0)
    return out
