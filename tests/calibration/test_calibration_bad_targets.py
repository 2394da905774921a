"""Bad targets files and CSVs: one line naming file/row/field, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from lasim.cli import main

GOOD_CSV = "month,adopters\n1,3\n2,7\n3,12\n"


def _write(tmp: Path, toml: str, csv: str | None = GOOD_CSV) -> Path:
    (tmp / "targets.toml").write_text(toml, encoding="utf-8")
    if csv is not None:
        (tmp / "obs.csv").write_text(csv, encoding="utf-8")
    return tmp / "targets.toml"


SERIES = """
scenario = "default"
replications = 1
parameters = ["imitation"]
[[targets]]
name = "adoption"
file = "obs.csv"
outcome = "adoption_all"
population = 100
"""
RANGE = """
scenario = "default"
parameters = ["imitation"]
[[targets]]
name = "P1"
outcome = "functioning_month"
statistic = "median"
low = 12
high = 36
"""

CASES = {
    "unknown outcome": (RANGE.replace('"functioning_month"', '"speed_of_light"'), GOOD_CSV, [],
                        ["targets[0] (P1).outcome", "speed_of_light"]),
    "unknown series outcome": (SERIES.replace("adoption_all", "adoption_mars"), GOOD_CSV, [],
                               ["targets[0] (adoption).outcome", "adoption_mars"]),
    "unknown parameter in priors": (RANGE + "[priors]\nwarp = {low = 0, high = 1}\n", None, [],
                                    ["priors.warp", "unknown parameter"]),
    "unknown parameter in --params": (RANGE, None, ["--params", "imitation,warp_factor"],
                                      ["--params", "warp_factor"]),
    "unknown parameter in parameters": (RANGE.replace('["imitation"]', '["nope"]'), None, [],
                                        ["parameters", "nope"]),
    "unknown parameter in an arm": (RANGE + 'set = { warp = 1 }\n', None, [],
                                    ["targets[0] (P1).set.warp", "unknown parameter"]),
    "prior outside allowed range": (RANGE + "[priors]\nimitation = {low = 0.1, high = 5.0}\n",
                                    None, [], ["priors.imitation", "outside the allowed range"]),
    "prior empty": (RANGE + "[priors]\nimitation = {low = 0.3, high = 0.1}\n", None, [],
                    ["priors.imitation", "below high"]),
    "csv missing month": (SERIES, "time_of_day,adopters\n1,2\n", [], ["obs.csv", "month"]),
    "csv missing values": (SERIES, "month,count\n1,2\n", [], ["obs.csv", "share", "adopters"]),
    "csv non-monotone time": (SERIES, "month,adopters\n1,3\n5,7\n4,9\n", [],
                              ["obs.csv", "line 4", "month", "increas"]),
    "csv negative counts": (SERIES, "month,adopters\n1,3\n2,-7\n", [],
                            ["obs.csv", "line 3", "adopters", "negative"]),
    "csv not a number": (SERIES, "month,adopters\n1,3\n2,many\n", [],
                         ["obs.csv", "line 3", "adopters"]),
    "csv share above one": (SERIES.replace("population = 100\n", ""), "month,share\n1,0.2\n2,1.5\n",
                            [], ["obs.csv", "line 3", "share"]),
    "csv adopters without population": (SERIES.replace("population = 100\n", ""), GOOD_CSV, [],
                                        ["obs.csv", "population"]),
    "csv beyond horizon": (SERIES, "month,adopters\n1,3\n500,9\n", [], ["obs.csv", "500", "horizon"]),
    "csv missing file": (SERIES.replace("obs.csv", "nothere.csv"), None, [],
                         ["targets[0] (adoption).file", "nothere.csv"]),
    "malformed toml": ("scenario = \n", None, [], ["targets.toml", "malformed TOML"]),
    "unknown target key": (RANGE + "colour = 'red'\n", None, [], ["targets[0] (P1)", "colour"]),
    "unknown statistic": (RANGE.replace('"median"', '"mode"'), None, [],
                          ["targets[0] (P1).statistic", "mode"]),
    "no targets": ('scenario = "default"\nparameters = ["imitation"]\n', None, [],
                   ["targets.toml", "no [[targets]]"]),
    "low above high": (RANGE.replace("low = 12", "low = 50"), None, [],
                       ["targets[0] (P1).low", "above high"]),
    "negative weight": (RANGE + "weight = -1\n", None, [], ["targets[0] (P1).weight = -1", "greater than 0"]),
    "unknown shipped targets": (None, None, [], ["no_such_targets", "no such targets file"]),
    "month window backwards": (SERIES.replace('file = "obs.csv"\n', "")
                               .replace("population = 100\n", "month = [60, 37]\nlow = 0\n"), None, [],
                               ["targets[0] (adoption).month", "[60, 37]", "1 <= first <= last"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_targets_exit_2_one_line_nothing_written(case, tmp_path, capsys):
    toml, csv, extra, needles = CASES[case]
    target = "no_such_targets" if toml is None else str(_write(tmp_path, toml, csv))
    out = tmp_path / "out"
    code = main(["calibrate", target, "--out", str(out), "--population", "4",
                 "--generations", "1", *extra])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lasim: error: ")
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert not out.exists()


def test_out_dir_with_other_content_is_refused(tmp_path, capsys):
    toml = _write(tmp_path, RANGE, None)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code = main(["calibrate", str(toml), "--out", str(out), "--population", "4"])
    assert code == 2
    assert "not a calibration directory" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("extra, words", [
    ("weight = inf\n", ["targets[0] (P1).weight = inf", "finite number"]),
    ("month = 'x'\n", ["targets[0] (P1).month = 'x'", "a whole number >= 0", "[first, last]"]),
    ("month = -3\n", ["targets[0] (P1).month = -3", "a whole number >= 0"]),
    ("set = 3\n", ["targets[0] (P1).set = 3", "must be a table"]),
    ("month = [1, 2, 3]\n", ["targets[0] (P1).month = [1, 2, 3]", "[first, last]"]),
    ("colour = 'red'\n", ["targets[0] (P1)", "unknown key 'colour' for a range target", "allowed: description"]),
])
def test_typed_target_errors_name_the_target_field_value_and_rule(extra, words, tmp_path):
    # targets are pydantic models; their errors go through model.validation's formatter,
    # which names a target as the messages always have: targets[i] (name)
    from calibration.targets import load_targets
    from model.errors import LasimInputError

    with pytest.raises(LasimInputError) as info:
        load_targets(_write(tmp_path, RANGE + extra, None))
    msg = str(info.value)
    assert "\n" not in msg and "targets.toml" in msg
    for w in words:
        assert w in msg, msg
