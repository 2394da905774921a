"""The traps a user meets fitting a yearly adoption series with the bass scenario."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.bass import (
    bass_share,
    monthly_bass_share,
    period_series_to_months,
    rates_per_month,
)
from calibration.targets import load_targets
from model.errors import LasimInputError
from model.runner import run_scenario
from model.scenario import load_scenario, parameter_specs


@pytest.mark.parametrize("root", [1, 2, 3])
def test_bass_adopts_over_its_whole_horizon(root):
    # slow diffusion: the mean field is 0.20 at month 60 and 0.76 at month 120
    p, q = 0.001, 0.04
    base = load_scenario("bass")
    platform = base.structure.platforms[0].model_copy(update={"members": {"community_group": 400}})
    scen = base.model_copy(
        update={"structure": base.structure.model_copy(update={"platforms": [platform]})}
    ).with_parameters(external_influence=p, imitation=q, horizon_months=120)
    curves = [
        run_scenario(scen, s).series["adoption_all"].to_numpy()
        for s in np.random.SeedSequence(root).generate_state(4)
    ]
    mean = np.mean(curves, axis=0)
    want = monthly_bass_share(120, p, q)
    # 4 x 400 agents: sampling sd of a share is at most 0.0125; a frozen project
    # would hold month 120 at the month-60 value (0.20)
    assert abs(mean[119] - want[120]) < 0.08
    assert mean[119] - mean[59] > 0.4


def test_bass_project_spans_the_longest_horizon():
    spec = parameter_specs()["horizon_months"]
    assert load_scenario("bass").parameters.project_months >= spec.high


def test_yearly_rates_become_monthly_by_rescaling_time():
    p_m, q_m = rates_per_month(0.03, 0.38)
    assert (p_m, q_m) == pytest.approx((0.0025, 0.38 / 12))
    years = np.arange(0, 11)
    np.testing.assert_allclose(bass_share(years, 0.03, 0.38), bass_share(12 * years, p_m, q_m))
    np.testing.assert_array_equal(period_series_to_months([1, 2, 5]), [12, 24, 60])
    np.testing.assert_array_equal(
        period_series_to_months([2011, 2012], start_period=2010), [12, 24]
    )
    with pytest.raises(LasimInputError, match="months_per_period"):
        rates_per_month(0.03, 0.38, 0)
    with pytest.raises(LasimInputError, match="whole months"):
        period_series_to_months([0.5], months_per_period=1)


@pytest.mark.parametrize("p_year,q_year", [(0.001, 0.1), (0.0007, 0.3), (0.03, 0.38), (0.05, 1.5)])
def test_shipped_bass_priors_cover_monthly_rates_of_yearly_estimates(p_year, q_year):
    # Sultan, Farley and Lehmann (1990): p about 0.0007-0.03 (up to 0.05), q 0.1-1.5 per year
    priors = load_targets("bass_series").priors
    p_m, q_m = rates_per_month(p_year, q_year)
    lo, hi = priors["external_influence"]
    assert lo <= p_m <= hi
    lo, hi = priors["imitation"]
    assert lo <= q_m <= hi
