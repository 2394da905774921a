"""The compiled month (model/month.py) equals the processes composed by numpy calls, month by month."""

from __future__ import annotations

import numpy as np
import pytest
from month_reference import STATE, NumpyMonth

from model.alliance import AllianceModel
from model.draws import month_block
from model.mechanisms import MECHANISMS
from model.month import RECORD_ORDER, config_record, record_index
from model.outcomes import SERIES_FIELDS

SEEDS = (11, 12, 13)
ARRAYS = [k for k in STATE if k not in ("policy", "_policy_month", "_reached", "total_cost", "month")]


def test_the_record_fills_every_series_once():
    assert sorted(RECORD_ORDER) == sorted(SERIES_FIELDS)
    assert sorted(record_index().tolist()) == list(range(len(SERIES_FIELDS)))


def test_the_configuration_record_carries_parameters_and_switches():
    model = AllianceModel(rng=0, learning_rate=0.123, horizon_months=37)
    rec = config_record(model.params, {**model.on, "fade": False}, documentation=0.5)[0]
    assert rec["learning_rate"] == 0.123 and rec["horizon_months"] == 37
    assert not rec["on_fade"] and rec["on_turnover"] and rec["documentation"] == 0.5


def _compare(model: AllianceModel, months: int) -> None:
    for _ in range(months):
        ref = NumpyMonth(model)
        w = model.world  # every draw the compiled month may make, computed by numpy
        row = ref.step_month(month_block(int(model._draw_key), model.month, w.n, w.n_platforms, w.edge_agent.shape[0]))
        model.step()
        got = np.concatenate([np.asarray(getattr(model, k), dtype=float) for k in ARRAYS] + [model.metric_row])
        want = np.concatenate([np.asarray(getattr(ref, k), dtype=float) for k in ARRAYS] + [row])
        if not np.allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True):  # one check a month; details if not
            for k in ARRAYS:
                np.testing.assert_allclose(getattr(model, k), getattr(ref, k), rtol=1e-9, atol=1e-12,
                                           err_msg=f"{k} in month {model.month}")
            np.testing.assert_allclose(model.metric_row, row, rtol=1e-9, atol=1e-12, err_msg=f"month {model.month}")


@pytest.mark.parametrize("scenario, seed", [("default", s) for s in SEEDS] + [("funding_gap", 14), ("city", 15)])
def test_compiled_month_equals_the_numpy_month(scenario, seed):
    # a low policy threshold: national policy and its programme happen within the run
    _compare(AllianceModel(scenario, rng=seed, policy_threshold=0.3), 120)


@pytest.mark.parametrize("off", list(MECHANISMS))
def test_compiled_month_equals_the_numpy_month_with_each_mechanism_off(off):
    from model.scenario import load_scenario

    # 72 months: past the end of donor funding (month 60), when fade starts
    _compare(AllianceModel(load_scenario("default").knock_out([off]), rng=SEEDS[0], policy_threshold=0.3), 72)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_work_arrays_come_back_all_zero(seed):
    # the attendees' kernels add into the month's two work arrays: a value left behind
    # would leak into the next month's learning
    model = AllianceModel(rng=seed, policy_threshold=0.3)
    for _ in range(24):
        model.step()
        assert not model._work[0].any() and not model._work[1].any()


@pytest.mark.parametrize("scenario, seed", [("default", 21), ("funding_gap", 22), ("city", 23)])
def test_the_tally_kept_as_stages_change_equals_a_recount_every_month(scenario, seed):
    # the record reads adopters' counts from a tally the month updates where a stage changes
    # (adoption, institutionalisation, abandonment); a missed change would drift silently
    from model.kinds import KINDS
    from model.month import tally_of

    model = AllianceModel(scenario, rng=seed, policy_threshold=0.3)
    w = model.world
    changed = 0
    for _ in range(120):
        before = model.stage.copy()
        model.step()
        changed += np.count_nonzero(model.stage != before)
        recount = tally_of(model.stage, model._level_group, w.kind, w.district, w.reach, model._scale_pop,
                           len(KINDS), len(w.district_names))
        np.testing.assert_array_equal(model._tally, recount, err_msg=f"month {model.month}")
    assert changed > 0 and np.count_nonzero(model.abandoned) > 0  # adoption and abandonment both happened


def test_unsigned_index_blocks_hold_the_indices_and_refuse_a_negative():
    """The ``u`` blocks of FIXED are unsigned (numba checks a signed index for -1 at every
    read); a -1 in one of their rows would wrap to 2**32 - 1, so building them refuses it."""
    from model.month import FIXED

    m = AllianceModel("default", rng=3)
    for (block, _rows), arr in zip(FIXED, m._fixed, strict=True):
        if block.endswith("_u"):
            assert arr.dtype == np.uint32
    u_rows = {r for block, rows in FIXED if block.endswith("_u") for r in rows}
    assert {"edge_agent", "edge_platform", "home", "fit_index"} <= u_rows
    seat_u = m._fixed[[b for b, _ in FIXED].index("seat_u")]
    assert np.array_equal(seat_u[0], m.world.edge_agent)
    m._home[0] = -1
    with pytest.raises(RuntimeError, match="org_u: a negative index"):
        m._compile_inputs()


def test_fade_protection_cannot_be_negative_so_its_draw_may_be_tested_against_the_hazard_first():
    """The compiled month skips working out fade's protection when the draw is at or above the
    hazard (docs/decisions.md): exact only while protection cannot be negative, that is while
    both weights are validated to be 0 or more."""
    from model.scenario import Parameters

    for name in ("support_protection", "policy_protection"):
        low = Parameters.model_fields[name].json_schema_extra["low"]
        assert low >= 0.0, f"{name} may be negative: model.month's fade pass must test the full condition"
        with pytest.raises(ValueError):
            Parameters(**{name: -0.1})


@pytest.mark.parametrize("scenario", ["default", "city", "funding_gap"])
def test_the_own_seats_are_each_organisations_seat_on_its_home_platform(scenario):
    # the month sums members' trust over these seats in its pass over the organisations
    # (seat i is organisation i's): the prefix must hold exactly that, and stop where it fails
    m = AllianceModel(scenario, rng=1)
    w, k = m.world, m._own_seats()
    assert 0 < k <= min(w.edge_agent.shape[0], w.n)
    np.testing.assert_array_equal(w.edge_agent[:k], np.arange(k))
    np.testing.assert_array_equal(w.edge_platform[:k], w.home_platform[:k])
    if k < w.edge_agent.shape[0]:
        assert w.edge_agent[k] != k or w.edge_platform[k] != w.home_platform[k]
    assert m._config[0]["own_seats"] == k
