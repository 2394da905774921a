"""Reproducible, resumable, stopping calibration: sampler, stopping rules, digests, replications."""

from __future__ import annotations

import json

import numpy as np
import pytest
from calib_fakes import FakeSimulator, write_fake_targets

import calibration.abc as abc_mod
from calibration.abc import calibrate, generation_table, load_history
from calibration.evaluate import MIN_YES_NO_REPLICATIONS, TargetModel, arm_replications, is_yes_no
from calibration.stopping import stop_reason
from calibration.targets import load_targets
from model.errors import LasimInputError


def _targets(tmp_path):
    sim = FakeSimulator()
    return load_targets(write_fake_targets(tmp_path / "t"), sim), sim


def _particles(history, t):
    df, w = history.get_distribution(m=0, t=t)
    return np.c_[df.sort_index().to_numpy(), np.asarray(w)[np.argsort(df.index)]]


def test_yes_no_targets_run_at_least_ten_replications_per_arm(tmp_path):
    targets, sim = _targets(tmp_path)
    assert targets.replications == 2
    by_name = {t.name: t for t in targets.targets}
    assert is_yes_no(by_name["P3"], sim) and not is_yes_no(by_name["P1"], sim)
    reps = arm_replications(targets, sim)
    assert reps[(("government_involvement", 0.0),)] == MIN_YES_NO_REPLICATIONS
    # the base arm is read by P3 (yes/no) as well as by P1 and the series
    assert reps[()] == MIN_YES_NO_REPLICATIONS
    runs = TargetModel(targets, sim, 1).run_arms({"external_influence": 0.01, "imitation": 0.1})
    assert {len(v) for v in runs.values()} == {MIN_YES_NO_REPLICATIONS}
    # a share over 10 runs moves in steps of 0.1, not 1/3
    stats = TargetModel(targets, sim, 1).statistics({"external_influence": 0.01, "imitation": 0.1})
    assert stats["P3:a"] * MIN_YES_NO_REPLICATIONS == pytest.approx(round(stats["P3:a"] * 10))


def test_replications_of_an_arm_share_their_first_seeds(tmp_path):
    targets, sim = _targets(tmp_path)
    model = TargetModel(targets, sim, 1)
    runs = model.run_arms({"external_influence": 0.01, "imitation": 0.1})
    # common random numbers: replication j of both P3 arms uses the same seed, so the
    # adoption series (which ignores government) are identical run by run
    a = [s["final_adoption"] for s, _ in runs[()]]
    b = [s["final_adoption"] for s, _ in runs[(("government_involvement", 0.0),)]]
    assert a == b


def test_stop_reason_rules():
    row = lambda eps, rate: {"epsilon": eps, "acceptance_rate": rate}  # noqa: E731
    rules = dict(min_epsilon=0.0, min_eps_drop=0.05, min_acceptance=0.02)
    assert stop_reason([], **rules) is None
    assert stop_reason([row(1.0, 0.5)], **rules) is None
    assert "reached 0" in stop_reason([row(1.0, 0.5), row(0.0, 0.4)], **rules)
    assert "fell by 2.0%" in stop_reason([row(1.0, 0.5), row(0.98, 0.4)], **rules)
    assert stop_reason([row(1.0, 0.5), row(0.5, 0.4)], **rules) is None
    assert "acceptance rate 1.00%" in stop_reason([row(1.0, 0.5), row(0.5, 0.01)], **rules)
    assert "--min-epsilon" in stop_reason([row(0.1, 0.5)], **{**rules, "min_epsilon": 0.2})
    # an epsilon rule waits for an even enough weighting; running out of acceptance does not
    weighted = lambda eps, rate, ess: {**row(eps, rate), "accepted": 60, "ess": ess}  # noqa: E731
    strict = {**rules, "min_ess": 0.5}
    assert stop_reason([weighted(1.0, 0.5, 60), weighted(0.0, 0.4, 10)], **strict) is None
    assert "reached 0" in stop_reason([weighted(1.0, 0.5, 60), weighted(0.0, 0.4, 30)], **strict)
    assert stop_reason([weighted(1.0, 0.5, 60), weighted(0.99, 0.4, 29)], **strict) is None
    assert "acceptance rate" in stop_reason([weighted(1.0, 0.5, 60), weighted(0.5, 0.01, 5)], **strict)
    assert "reached 0" in stop_reason([weighted(1.0, 0.5, 60), weighted(0.0, 0.4, 10)], **rules)


def test_generations_stop_on_a_rule_and_a_rerun_says_so(tmp_path):
    targets, sim = _targets(tmp_path)
    seen = []
    # a huge --min-eps-drop stops after the second generation
    h = calibrate(targets, tmp_path / "c", simulator=sim, population=12, generations=6, seed=3,
                  workers=1, min_eps_drop=0.99, progress=seen.append)
    assert h.n_populations == 2
    assert "converged" in seen[-1]["stopped"]
    seen.clear()
    h = calibrate(targets, tmp_path / "c", simulator=sim, population=12, generations=6, seed=3,
                  workers=1, min_eps_drop=0.99, progress=seen.append)
    assert seen[0] == {"resuming": 2}
    assert "converged" in seen[1]["stopped"] and h.n_populations == 2


def test_particle_progress_counts_every_slot(tmp_path):
    targets, sim = _targets(tmp_path)
    ticks = []
    calibrate(targets, tmp_path / "c", simulator=sim, population=8, generations=2, seed=3,
              workers=2, particle_progress=ticks.append)
    by_t = {}
    for tick in ticks:
        by_t.setdefault(tick["t"], []).append(tick)
    assert set(by_t) == {-1, 0, 1}  # the prior sample for epsilon, then two generations
    for t, seq in by_t.items():
        assert [x["filled"] for x in seq] == list(range(1, 9)), t
        assert all(x["evaluated"] >= x["filled"] for x in seq)
    rows = generation_table(load_history(tmp_path / "c"))
    assert by_t[1][-1]["evaluated"] == rows[1]["simulations"]


def test_workers_and_a_loaded_machine_do_not_change_the_posterior(tmp_path):
    """Slow workers finish in another order; the posterior must not notice."""
    folder = tmp_path / "t"
    write_fake_targets(folder)
    out = {}
    for name, sim, workers in (("one", FakeSimulator(), 1), ("two", FakeSimulator(), 2),
                               ("slow", FakeSimulator(delay=0.002), 3)):
        targets = load_targets(folder / "fake.toml", sim)
        out[name] = calibrate(targets, tmp_path / name, simulator=sim, population=10,
                              generations=2, seed=7, workers=workers)
    for name in ("two", "slow"):
        np.testing.assert_array_equal(_particles(out["one"], 1), _particles(out[name], 1))
        assert [r["epsilon"] for r in generation_table(out["one"])] == \
            [r["epsilon"] for r in generation_table(out[name])]


def test_a_database_made_by_other_code_is_not_resumed(tmp_path, monkeypatch):
    targets, sim = _targets(tmp_path)
    calibrate(targets, tmp_path / "c", simulator=sim, population=6, generations=1, seed=3, workers=1)
    meta = json.loads((tmp_path / "c" / "calibration.json").read_text())
    assert meta["config"]["code"]["sources_sha256"] and meta["config"]["code"]["numpy"]
    real = abc_mod.code_digest()
    monkeypatch.setattr(abc_mod, "code_digest", lambda: {**real, "numpy": "0.0"})
    with pytest.raises(LasimInputError, match=r"other code or library versions \(numpy changed\)"):
        calibrate(targets, tmp_path / "c", simulator=sim, population=6, generations=2, seed=3,
                  workers=1)


def test_calibration_workers_are_never_forked_from_this_process():
    sampler = abc_mod.SeededSampler(seed=1, n_procs=2)
    try:
        sampler._executor = abc_mod.make_executor(processes=2)
        assert sampler._executor._ctx.get_start_method() in ("spawn", "forkserver")
    finally:
        sampler.close()
