"""The Bass diffusion model: the closed form and the monthly form lasim reduces to.

The Bass model (Bass 1969) gives the cumulative adopted share ``F(t)`` of a
population in which each non-adopter adopts at the hazard ``p + q F(t)``:
``p`` is external influence (innovation), ``q`` imitation. With ``F(0) = 0``::

    F(t) = (1 - exp(-(p + q) t)) / (1 + (q / p) exp(-(p + q) t))

lasim steps in whole months. In its ``bass`` scenario every stakeholder is ready,
meets every other one each month, and a non-adopter adopts in month ``t`` with
probability ``1 - exp(-(p + q F_t))`` where ``F_t`` is the share adopted when
the month starts. Its mean-field (infinitely many agents) curve is therefore
the recursion in :func:`monthly_bass_share`, an explicit one-month step of the
Bass equation: it lags the closed form a little because the imitation pressure
is frozen for the month. :func:`discretisation_error` measures that lag, so the
validation check separates it from the sampling noise of a finite population.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from model.errors import LasimInputError


def _check(p: float, q: float) -> None:
    if not (np.isfinite(p) and p > 0):
        raise LasimInputError(f"Bass: external influence p must be > 0, got {p!r}")
    if not (np.isfinite(q) and q >= 0):
        raise LasimInputError(f"Bass: imitation q must be >= 0, got {q!r}")


def bass_share(t: npt.ArrayLike, p: float, q: float) -> np.ndarray:
    """Closed-form cumulative adopted share of the continuous Bass model.

    Parameters
    ----------
    t : array_like
        Times in the unit of ``p`` and ``q`` (months in lasim); ``t >= 0``.
    p : float
        External influence (coefficient of innovation), > 0.
    q : float
        Imitation (coefficient of imitation), >= 0.

    Returns
    -------
    numpy.ndarray
        ``F(t)`` in [0, 1], same shape as ``t``.
    """
    _check(p, q)
    t = np.asarray(t, dtype=float)
    decay = np.exp(-(p + q) * t)
    return (1.0 - decay) / (1.0 + (q / p) * decay)


def bass_adopters(t: npt.ArrayLike, p: float, q: float, m: float) -> np.ndarray:
    """Cumulative adopters ``m F(t)`` of a market of size ``m``."""
    return m * bass_share(t, p, q)


def bass_peak_time(p: float, q: float) -> float:
    """Time of the peak adoption rate, ``ln(q / p) / (p + q)`` (0 when ``q <= p``)."""
    _check(p, q)
    return float(np.log(q / p) / (p + q)) if q > p else 0.0


def monthly_bass_share(months: int, p: float, q: float) -> np.ndarray:
    """Mean-field adopted share of lasim's monthly hazard model, months ``0..months``.

    ``F[t+1] = F[t] + (1 - F[t]) (1 - exp(-(p + q F[t])))``, ``F[0] = 0``: the
    expected share when every non-adopter faces the hazard ``p + q F[t]`` for one
    whole month with ``F`` frozen at its value at the start of the month.
    """
    _check(p, q)
    F = np.zeros(int(months) + 1)
    for t in range(int(months)):
        F[t + 1] = F[t] + (1.0 - F[t]) * (1.0 - np.exp(-(p + q * F[t])))
    return F


def discretisation_error(months: int, p: float, q: float) -> float:
    """Max over months of ``|monthly_bass_share - bass_share|``: the bias of the one-month step.

    This is what remains between the model and the closed form with infinitely
    many agents; choose ``p`` and ``q`` so it sits well below the validation
    tolerance (it grows roughly linearly in ``q``).
    """
    t = np.arange(int(months) + 1)
    return float(np.max(np.abs(monthly_bass_share(months, p, q) - bass_share(t, p, q))))


def rates_per_month(p: float, q: float, months_per_period: float = 12.0) -> tuple[float, float]:
    """Bass ``p`` and ``q`` per period (a year by default) as rates per month.

    The Bass equation ``dF/dt = (p + q F)(1 - F)`` keeps its form when time is
    rescaled, so a period of ``k`` months has the per-month rates ``p / k`` and
    ``q / k`` (exact for the continuous model; lasim's monthly step follows it
    up to :func:`discretisation_error`).
    """
    _check(p, q)
    if not (np.isfinite(months_per_period) and months_per_period > 0):
        raise LasimInputError(
            f"Bass: months_per_period must be > 0, got {months_per_period!r}"
        )
    return p / months_per_period, q / months_per_period


def period_series_to_months(
    periods: npt.ArrayLike, months_per_period: int = 12, start_period: float = 0
) -> np.ndarray:
    """Month numbers of observations made at the end of each period (``(period - start) * k``).

    A yearly series observed at the end of years 1, 2, ... of the programme
    (``start_period = 0``) is compared with lasim's months 12, 24, ...
    """
    t = (np.asarray(periods, dtype=float) - start_period) * months_per_period
    if np.any(t < 0) or not np.allclose(t, np.round(t)):
        raise LasimInputError(
            "Bass: periods must lie at or after start_period and give whole months"
        )
    return np.round(t).astype(int)
