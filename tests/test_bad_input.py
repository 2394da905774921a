"""Bad input to ``lasim run`` / ``lasim show``: one line on stderr, exit code 2, no traceback, nothing written.

Each case gives the command line and, where it needs one, a scenario file; the
error line must name the source (file or option), the field, the value and
what is allowed (``lasim: error: <source>: <field> = <value>: <what is allowed>``).
Most cases call :func:`lasim.cli.main` in-process (fast); a few go through the
installed ``lasim`` script in a real subprocess to prove no traceback escapes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lasim.cli import main

LASIM = Path(sys.executable).parent / "lasim"

# a small valid structure that the structural cases break one thing at a time
DISTRICT = '[[structure.districts]]\nname = "Hill"\n'
NATIONAL = '[[structure.platforms]]\nname = "Capital"\nlevel = "national"\nmembers = { national_government = 2 }\n'


def district_platform(**fields: str) -> str:
    """A district platform table; ``fields`` (TOML values) replace or add to the defaults."""
    table = {"name": '"Hill"', "level": '"intermediate"', "district": '"Hill"', "members": "{ ngo = 3 }", **fields}
    return "[[structure.platforms]]\n" + "".join(f"{k} = {v}\n" for k, v in table.items())


# name -> (files {name: text}, argv after "run" (FILE -> path of "bad.toml"), words the line must contain)
CASES: dict[str, tuple[dict[str, str], list[str], list[str]]] = {
    # ---------------------------------------------------------------- scenario files: fields and values
    "unknown parameter in a file": (
        {"bad.toml": 'base = "default"\n[parameters]\nfacilitation_qualty = 0.5\n'},
        ["FILE"], ["bad.toml", "facilitation_qualty", "did you mean 'facilitation_quality'"]),
    "unknown top-level field": (
        {"bad.toml": 'base = "default"\ncolour = "red"\n'},
        ["FILE"], ["bad.toml", "unknown field 'colour'", "allowed here: name, description, structure"]),
    "unknown field in a district": (
        {"bad.toml": DISTRICT + "colour = 3\n" + NATIONAL},
        ["FILE"], ["bad.toml", "structure.districts.0.colour", "allowed here: name, pilot, communities"]),
    "unknown trait": (
        {"bad.toml": 'base = "default"\n[traits.ngo]\ninfluenc = { mean = 0.5 }\n'},
        ["FILE"], ["bad.toml", "traits.ngo.influenc", "did you mean 'influence'"]),
    "wrong type: text for a number": (
        {"bad.toml": 'base = "default"\n[parameters]\nfacilitation_quality = "high"\n'},
        ["FILE"], ["bad.toml", "parameters.facilitation_quality = 'high'", "must be a number from 0 to 1"]),
    "wrong type: fraction for a whole number": (
        {"bad.toml": 'base = "default"\n[parameters]\nmeeting_interval = 2.5\n'},
        ["FILE"], ["bad.toml", "parameters.meeting_interval = 2.5", "must be a whole number from 1 to 12"]),
    "wrong type: true for a number": (
        {"bad.toml": 'base = "default"\n[parameters]\nmeeting_interval = true\n'},
        ["FILE"], ["bad.toml", "parameters.meeting_interval = True", "must be a whole number from 1 to 12"]),
    "out of range: above": (
        {"bad.toml": 'base = "default"\n[parameters]\nfacilitation_quality = 1.5\n'},
        ["FILE"], ["bad.toml", "parameters.facilitation_quality = 1.5", "from 0 to 1"]),
    "out of range: negative": (
        {"bad.toml": 'base = "default"\n[parameters]\nturnover_rate = -0.1\n'},
        ["FILE"], ["bad.toml", "parameters.turnover_rate = -0.1", "from 0 to 0.5 (per month)"]),
    "out of range: nan": (
        {"bad.toml": 'base = "default"\n[parameters]\ndocumentation = nan\n'},
        ["FILE"], ["bad.toml", "parameters.documentation = nan", "from 0 to 1"]),
    "funding gap after the horizon": (
        {"bad.toml": 'base = "default"\n[parameters]\nfunding_gap_months = 6\nfunding_gap_start = 200\n'},
        ["FILE"], ["bad.toml", "funding_gap_start = 200", "before horizon_months = 120"]),
    "trait sd above its limit": (
        {"bad.toml": 'base = "default"\n[traits.ngo]\ninfluence = { mean = 0.5, sd = 0.6 }\n'},
        ["FILE"], ["bad.toml", "traits.ngo.influence.sd = 0.6", "less than or equal to 0.5"]),
    "trait sd impossible for its mean": (
        {"bad.toml": 'base = "default"\n[traits.ngo]\ninfluence = { mean = 0.9, sd = 0.4 }\n'},
        ["FILE"], ["bad.toml", "traits.ngo.influence", "sd = 0.4", "mean = 0.9", "sd^2 < mean*(1-mean)"]),
    "unknown stakeholder kind": (
        {"bad.toml": DISTRICT + district_platform(members="{ farmers = 2 }")},
        ["FILE"], ["bad.toml", "structure.platforms.0.members.farmers = 'farmers'", "'ngo'", "'media'"]),
    "unknown level": (
        {"bad.toml": DISTRICT + district_platform(level='"regional"')},
        ["FILE"], ["bad.toml", "structure.platforms.0.level = 'regional'", "'national', 'intermediate' or 'local'"]),
    "negative member count": (
        {"bad.toml": DISTRICT + district_platform(members="{ ngo = -2 }")},
        ["FILE"], ["bad.toml", "structure.platforms.0.members.ngo = -2", "greater than or equal to 0"]),
    "malformed TOML": (
        {"bad.toml": 'base = "default"\n[parameters\nfacilitation_quality = 0.5\n'},
        ["FILE"], ["bad.toml", "malformed TOML", "line 2"]),
    "not text": (
        {"bad.toml": "\udcff"},  # written as raw bytes below
        ["FILE"], ["bad.toml", "cannot read scenario file"]),
    "no structure": (
        {"bad.toml": 'name = "x"\n'},
        ["FILE"], ["bad.toml", "missing field 'structure'"]),
    # ---------------------------------------------------------------- scenario files: impossible structures
    "platform with no members": (
        {"bad.toml": DISTRICT + '[[structure.platforms]]\nname = "Capital"\nlevel = "national"\n'},
        ["FILE"], ["bad.toml", "platform 'Capital' has no members", "members = {kind = count}"]),
    "more linking members than members": (
        {"bad.toml": DISTRICT + NATIONAL + district_platform(parent='"Capital"', linking_members="5")},
        ["FILE"], ["bad.toml", "platform 'Hill'", "linking_members = 5", "more than its 3 counted members"]),
    "linking members without a parent": (
        {"bad.toml": DISTRICT + district_platform(linking_members="1")},
        ["FILE"], ["bad.toml", "platform 'Hill'", "linking_members", "no parent"]),
    "unknown parent platform": (
        {"bad.toml": DISTRICT + NATIONAL + district_platform(parent='"Capitol"')},
        ["FILE"], ["bad.toml", "platform 'Hill'", "unknown parent 'Capitol'", "known: Capital, Hill"]),
    "parent at a lower level": (
        {"bad.toml": DISTRICT + NATIONAL.replace('level = "national"', 'level = "national"\nparent = "Hill"')
         + district_platform()},
        ["FILE"], ["bad.toml", "platform 'Capital'", "parent 'Hill'", "same or a lower level"]),
    "unknown district": (
        {"bad.toml": DISTRICT + district_platform(district='"Dale"')},
        ["FILE"], ["bad.toml", "platform 'Hill'", "unknown district 'Dale'", "known: Hill"]),
    "platform in a district outside the alliance": (
        {"bad.toml": DISTRICT + "pilot = false\n" + district_platform()},
        ["FILE"], ["bad.toml", "platform 'Hill'", "district 'Hill'", "pilot = false"]),
    "unknown exchange platform": (
        {"bad.toml": '[structure]\nexchanges = [["Hill", "Dale"]]\n' + DISTRICT + district_platform()},
        ["FILE"], ["bad.toml", "exchange", "unknown platform 'Dale'", "known: Hill"]),
    "organisation on no platform": (
        {"bad.toml": DISTRICT + district_platform()
         + '[[structure.organisations]]\nname = "Water Trust"\nkind = "ngo"\nplatforms = []\n'},
        ["FILE"], ["bad.toml", "organisation 'Water Trust'", "sits on no platform", "name at least one"]),
    "organisation on an unknown platform": (
        {"bad.toml": DISTRICT + district_platform()
         + '[[structure.organisations]]\nname = "Water Trust"\nkind = "ngo"\nplatforms = ["Dale"]\n'},
        ["FILE"], ["bad.toml", "organisation 'Water Trust'", "unknown platform 'Dale'", "known: Hill"]),
    "duplicate platform names": (
        {"bad.toml": DISTRICT + district_platform() + district_platform()},
        ["FILE"], ["bad.toml", "platform names must be unique"]),
    "no districts": (
        {"bad.toml": "[structure]\ndistricts = []\n" + NATIONAL},
        ["FILE"], ["bad.toml", "structure.districts", "at least 1 item"]),
    # ---------------------------------------------------------------- base scenarios
    "unknown base scenario": (
        {"bad.toml": 'base = "defualt"\n'},
        ["FILE"], ["bad.toml", "base = 'defualt'", "unknown scenario", "default", "funding_gap"]),
    "missing base file": (
        {"bad.toml": 'base = "nowhere.toml"\n'},
        ["FILE"], ["bad.toml", "base = 'nowhere.toml'", "no such scenario file"]),
    "base is not text": (
        {"bad.toml": "base = 3\n"},
        ["FILE"], ["bad.toml", "base = 3", "must be a scenario name or a .toml path"]),
    "base cycle": (
        {"bad.toml": 'base = "other.toml"\n', "other.toml": 'base = "bad.toml"\n'},
        ["FILE"], ["bad.toml", "other.toml", "cycle"]),
    "base is itself": (
        {"bad.toml": 'base = "bad.toml"\n'},
        ["FILE"], ["bad.toml", "cycle"]),
    "error inside the base file": (
        {"bad.toml": 'base = "other.toml"\n', "other.toml": 'base = "default"\n[parameters]\nlearning_rate = 7\n'},
        ["FILE"], ["parameters.learning_rate = 7", "from 0 to 1"]),
    # ---------------------------------------------------------------- --set
    "--set unknown name": (
        {}, ["--set", "facilitation=0.4"], ["--set", "'facilitation", "unknown parameter",
                                             "did you mean 'facilitation_quality'"]),
    "--set not a number": (
        {}, ["--set", "facilitation_quality=high"], ["--set", "facilitation_quality='high'",
                                                     "must be a number from 0 to 1"]),
    "--set fraction for a whole number": (
        {}, ["--set", "meeting_interval=2.5"], ["--set", "meeting_interval='2.5'", "a whole number from 1 to 12"]),
    "--set out of range": (
        {}, ["--set", "facilitation_quality=2"], ["--set", "facilitation_quality = 2.0", "from 0 to 1"]),
    "--set infinity": (
        {}, ["--set", "fade_scale_months=inf"], ["--set", "fade_scale_months = inf", "from 1 to 100000"]),
    "--set missing '='": (
        {}, ["--set", "facilitation_quality"], ["--set 'facilitation_quality'", "expected name=value"]),
    "--set missing name": (
        {}, ["--set", "=0.4"], ["--set '=0.4'", "expected name=value"]),
    "--set on a bad file reports the file first": (
        {"bad.toml": 'base = "default"\n[parameters]\nlearning_rate = 7\n'},
        ["FILE", "--set", "learning_rate=0.1"], ["bad.toml", "learning_rate = 7"]),
    # ---------------------------------------------------------------- other options and names
    "--replications 0": ({}, ["--replications", "0"], ["--replications", "0 is too small", "1 or more"]),
    "--replications not a number": ({}, ["--replications", "many"], ["--replications", "'many'", "1 or more"]),
    "--seed -1": ({}, ["--seed", "-1"], ["--seed", "-1 is too small", "0 or more"]),
    "--seed not a number": ({}, ["--seed", "1.5"], ["--seed", "'1.5'", "0 or more"]),
    "unknown scenario name": ({}, ["defualt"], ["unknown scenario 'defualt'", "default", "weak_facilitation"]),
    "missing scenario file": ({}, ["nowhere.toml"], ["nowhere.toml", "no such scenario file"]),
    "unknown option": ({}, ["--colour", "3"], ["unrecognized arguments", "--colour"]),
}


def _write(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = tmp_path / name
        if text == "\udcff":
            path.write_bytes(b"\xff\xfe\x00 not text")
        else:
            path.write_text(text, encoding="utf-8")


def _argv(tmp_path: Path, args: list[str], out: Path) -> list[str]:
    files = [str(tmp_path / "bad.toml") if a == "FILE" else a for a in args]
    if args and args[0] not in ("FILE",) and args[0].endswith(".toml"):
        files[0] = str(tmp_path / args[0])
    return ["run", *files, "--out", str(out), "--no-plots"]


def _run_in_process(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors exit through SystemExit(2)
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_one_line(code, err: str, words: list[str]) -> None:
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("lasim: error: "), line
    for word in words:
        assert word in line, f"{word!r} not in {line!r}"


def test_there_are_enough_cases():
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_line_exit_2_and_writes_nothing(case, tmp_path, capsys, monkeypatch):
    files, args, words = CASES[case]
    _write(tmp_path, files)
    monkeypatch.chdir(tmp_path)  # a default output directory (runs/...) would land here
    out = tmp_path / "out"
    before = sorted(p.name for p in tmp_path.iterdir())
    code, stdout, err = _run_in_process(_argv(tmp_path, args, out), capsys)
    _assert_one_line(code, err, words)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, not even runs/


def test_default_output_directory_is_not_created_on_bad_input(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = _run_in_process(["run", "--set", "facilitation_quality=2"], capsys)
    _assert_one_line(code, err, ["facilitation_quality"])
    assert list(tmp_path.iterdir()) == []


def test_existing_output_directory_is_refused_and_left_untouched(tmp_path, capsys):
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("my earlier results\n")
    (out / "sub").mkdir()
    (out / "sub" / "data.csv").write_text("a,b\n1,2\n")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    code, _, err = _run_in_process(["run", "--out", str(out), "--no-plots"], capsys)
    _assert_one_line(code, err, [f"--out = '{out}'", "not empty", "--overwrite"])
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == mtimes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # no stray temporary directory


def test_output_path_that_is_a_file_is_refused(tmp_path, capsys):
    out = tmp_path / "results"
    out.write_text("not a directory\n")
    code, _, err = _run_in_process(["run", "--out", str(out), "--no-plots"], capsys)
    _assert_one_line(code, err, [f"--out = '{out}'", "not a directory"])
    assert out.read_text() == "not a directory\n"


@pytest.mark.parametrize("argv", [["show", "defualt"], ["show", "nowhere.toml"]])
def test_show_of_an_unknown_scenario(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = _run_in_process(argv, capsys)
    _assert_one_line(code, err, [argv[1]])
    assert stdout == ""


# ---------------------------------------------------------------- through the installed script


SUBPROCESS_CASES = ["more linking members than members", "--set not a number"]


@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_the_installed_script_prints_one_line_and_no_traceback(case, tmp_path):
    files, args, words = CASES[case]
    _write(tmp_path, files)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    proc = subprocess.run([str(LASIM), *_argv(tmp_path, args, out)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)
    _assert_one_line(proc.returncode, proc.stderr, words)
    assert proc.stdout == ""
    assert not out.exists()


def test_the_installed_script_refuses_a_non_empty_output_directory(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "keep.txt").write_text("keep me\n")
    proc = subprocess.run([str(LASIM), "run", "--out", str(out)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    _assert_one_line(proc.returncode, proc.stderr, ["--out", "not empty", "--overwrite"])
    assert (out / "keep.txt").read_text() == "keep me\n"
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_a_command_whose_optional_extra_is_missing_says_which_to_install(monkeypatch, capsys, tmp_path):
    # a base install (README's first command) has no pyabc: `lasim validate` printed a
    # ModuleNotFoundError traceback; now one line naming the package and the extra
    import builtins

    import lasim.cli as cli

    real_import = builtins.__import__

    def no_pyabc(name, *args, **kwargs):
        if name.split(".")[0] in ("pyabc", "cloudpickle"):
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return real_import(name, *args, **kwargs)

    for mod in [m for m in sys.modules if m.startswith(("calibration.abc", "calibration.validation"))]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(builtins, "__import__", no_pyabc)
    code = cli.main(["validate", "--out", str(tmp_path / "v")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "validate needs" in err and "'.[calibration]'" in err
    assert not (tmp_path / "v").exists()
