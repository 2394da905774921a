"""The month's counter-based draws (model/draws.py): the same numbers compiled and in numpy, uniform,
independent between streams, months and rows, and the same whichever mechanisms run."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from model import draws
from model.alliance import AllianceModel
from model.scenario import load_scenario

KEYS = (np.uint64(1), np.uint64(2**63 + 12345), np.uint64(0xDEADBEEFCAFEF00D))


@pytest.mark.parametrize("key", KEYS)
def test_compiled_and_numpy_draws_are_the_same_numbers(key):
    for month in (0, 1, 119, 5000):
        for which in range(len(draws.STREAMS)):
            seed = draws.stream(key, month, which)
            assert np.uint64(seed) == draws.stream_np(int(key), month, which)
            np.testing.assert_array_equal(draws.uniforms(np.uint64(seed), 3000), draws.uniforms_np(seed, 3000))
            assert draws.uniform(np.uint64(seed), 2999) == draws.uniforms_np(seed, 3000)[-1]
    a, b = draws.stream(key, 7, draws.CASE_RESULT), draws.stream(key, 7, draws.CASE_RESULT_ANGLE)
    # log and cos may differ in their last bit between numba and numpy
    np.testing.assert_allclose(draws.normals(np.uint64(a), np.uint64(b), 2000), draws.normals_np(a, b, 2000),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("key", KEYS)
def test_uniforms_are_uniform_and_normals_normal(key):
    u = draws.uniforms(np.uint64(draws.stream(key, 3, draws.ADOPT)), 200_000)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    z = draws.normals(np.uint64(draws.stream(key, 3, draws.CASE_RESULT)),
                      np.uint64(draws.stream(key, 3, draws.CASE_RESULT_ANGLE)), 50_000)
    assert stats.kstest(z, "norm").pvalue > 1e-3


@pytest.mark.parametrize("key", KEYS)
def test_streams_months_and_rows_are_uncorrelated(key):
    n = 100_000
    base = draws.uniforms(np.uint64(draws.stream(key, 10, draws.SEAT)), n)
    others = {
        "next stream": draws.uniforms(np.uint64(draws.stream(key, 10, draws.FADE)), n),
        "next month": draws.uniforms(np.uint64(draws.stream(key, 11, draws.SEAT)), n),
        "next key": draws.uniforms(np.uint64(draws.stream(key + np.uint64(1), 10, draws.SEAT)), n),
        "next row": np.roll(base, 1),
    }
    for name, other in others.items():
        r = np.corrcoef(base, other)[0, 1]
        assert abs(r) < 4 / np.sqrt(n), (name, r)  # four standard errors of a correlation of 0


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_a_knock_out_shares_the_full_models_draws(seed):
    # the key comes from the seeded generator after construction, which no switch changes
    full = AllianceModel(rng=seed)
    off = AllianceModel(load_scenario("default").knock_out(["turnover", "fade"]), rng=seed)
    assert full._draw_key == off._draw_key
    assert AllianceModel(rng=seed + 1)._draw_key != full._draw_key
