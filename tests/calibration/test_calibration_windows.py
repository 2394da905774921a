"""Series targets over a window of months: shares that lack a value in some months."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration.evaluate import _value
from calibration.targets import load_targets
from model.errors import LasimInputError


def test_a_window_is_the_mean_of_the_months_that_have_a_value():
    series = pd.DataFrame({"share": [0.2, np.nan, 0.4, np.nan, 0.9]}, index=pd.RangeIndex(1, 6, name="month"))
    assert _value({}, series, "share", (1, 4)) == pytest.approx(0.3)
    assert _value({}, series, "share", (2, 2)) != _value({}, series, "share", (2, 2))  # NaN: no value
    assert _value({}, series, "share", (5, 9)) == pytest.approx(0.9)  # past the horizon: what there is
    # a single month without a value is missing: why P10 uses windows
    assert np.isnan(_value({}, series, "share", 2))


def test_shipped_p10_compares_windows_and_has_a_value_in_every_default_run():
    # P10's single months (60 vs 6) were meeting-free months in every run, so the target
    # was missing everywhere and took the largest distance; its windows always have a value
    from model.alliance import AllianceModel

    p10 = next(t for t in load_targets("seed_patterns").targets if t.name == "P10")
    assert p10.quantity.month == (37, 60) and p10.versus.month == (1, 12)
    assert "over months 37-60" in p10.describe()
    for seed in (1, 2, 3):
        s = AllianceModel("default", rng=seed).run(60).series()
        late, early = _value({}, s, p10.quantity.outcome, (37, 60)), _value({}, s, p10.quantity.outcome, (1, 12))
        assert np.isfinite(late) and np.isfinite(early)


def test_a_window_must_run_forwards(tmp_path):
    (tmp_path / "t.toml").write_text(
        'scenario = "default"\nparameters = ["imitation"]\n[[targets]]\nname = "W"\n'
        'outcome = "decision_maker_attendance_share"\nmonth = [12, 1]\nlow = 0\n', encoding="utf-8")
    with pytest.raises(LasimInputError, match=r"W\)\.month: \[12, 1\] is not a window"):
        load_targets(tmp_path / "t.toml")


def test_a_target_with_no_value_in_any_particle_is_named_after_its_generation(tmp_path):
    # month 500 is past the fake model's 60-month horizon: the statistic is missing in
    # every run, so the target adds the largest distance to every particle; the fit says so
    from calib_fakes import FakeSimulator, write_fake_targets

    from calibration.abc import calibrate
    from calibration.evaluate import never_computed_warning

    path = write_fake_targets(tmp_path / "t")
    path.write_text(path.read_text(encoding="utf-8") + (
        '\n[[targets]]\nname = "LATE"\noutcome = "adoption_share"\nmonth = 500\nlow = 0\nhigh = 1\n'),
        encoding="utf-8")
    sim = FakeSimulator()
    rows = []
    calibrate(load_targets(path, sim), tmp_path / "out", simulator=sim, population=10, generations=1,
              seed=3, workers=1, progress=rows.append)
    generation = next(r for r in rows if "epsilon" in r)
    assert generation["never_computed"] == ["LATE"]
    assert "LATE" in never_computed_warning(generation["never_computed"])
    assert never_computed_warning([]) == ""
