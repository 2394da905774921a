"""The closed-form Bass curve and the monthly form lasim reduces to."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.bass import (
    bass_adopters,
    bass_peak_time,
    bass_share,
    discretisation_error,
    monthly_bass_share,
)
from model.errors import LasimInputError


def test_closed_form_solves_the_bass_equation():
    p, q = 0.01, 0.2
    t = np.linspace(0, 80, 4001)
    F = bass_share(t, p, q)
    dF = np.gradient(F, t)
    np.testing.assert_allclose(dF, (p + q * F) * (1 - F), atol=1e-4)
    assert F[0] == 0.0
    assert F[-1] == pytest.approx(1.0, abs=1e-4)


def test_pure_innovation_is_exponential_and_known_values():
    t = np.arange(0, 50)
    np.testing.assert_allclose(bass_share(t, 0.05, 0.0), 1 - np.exp(-0.05 * t))
    # F(1/(p+q)) for p = q: (1 - e^-1) / (1 + e^-1)
    assert bass_share(5.0, 0.1, 0.1) == pytest.approx((1 - np.exp(-1)) / (1 + np.exp(-1)))
    assert bass_adopters(5.0, 0.1, 0.1, 200) == pytest.approx(200 * bass_share(5.0, 0.1, 0.1))


def test_peak_time_is_where_the_adoption_rate_peaks():
    p, q = 0.01, 0.3
    t = np.linspace(0, 60, 60001)
    rate = np.gradient(bass_share(t, p, q), t)
    assert t[np.argmax(rate)] == pytest.approx(bass_peak_time(p, q), abs=1e-2)
    assert bass_peak_time(0.2, 0.1) == 0.0


def test_monthly_form_converges_to_closed_form_as_rates_shrink():
    # halving the rates (the step relative to the time scale) halves the bias
    e1 = discretisation_error(400, 0.01, 0.08)
    e2 = discretisation_error(800, 0.005, 0.04)
    assert e2 < 0.6 * e1
    F = monthly_bass_share(120, 0.01, 0.05)
    assert np.all(np.diff(F) > 0) and 0 < F[-1] < 1
    assert F[1] == pytest.approx(1 - np.exp(-0.01))


def test_bad_bass_parameters():
    with pytest.raises(LasimInputError, match="p must be > 0"):
        bass_share(1.0, 0.0, 0.1)
    with pytest.raises(LasimInputError, match="q must be >= 0"):
        bass_share(1.0, 0.1, -0.1)
