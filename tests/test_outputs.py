"""Outputs: existing results are never mixed or lost, names are never paths, sizes are guarded.

One test per defect of issue 9's groups 5-8 that concern what the commands write.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.executors import SerialExecutor
from experiments.spec import load_spec
from experiments.sweep import run_sweep
from lasim.cli import main
from model.scenario import load_scenario, scenario_to_toml

LASIM = Path(sys.executable).parent / "lasim"
REPO = Path(__file__).resolve().parent.parent


def _lasim(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(code: int, err: str, *words: str) -> str:
    assert code == 2 and "Traceback" not in err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    for w in words:
        assert w in lines[0], f"{w!r} not in {lines[0]!r}"
    return lines[0]


def _design(tmp_path: Path, file: str, name: str, **params) -> Path:
    s = load_scenario("default").with_parameters(horizon_months=12, **params)
    path = tmp_path / file
    path.write_text(scenario_to_toml(s.model_copy(update={"name": name})))
    return path


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def test_a_design_name_never_makes_compare_write_outside_out(tmp_path, capsys):
    a = _design(tmp_path, "a.toml", "../../escaped")
    b = _design(tmp_path, "b.toml", "/tmp/lasim-abs-name", facilitation_quality=0.9)
    work = tmp_path / "deep" / "er"
    work.mkdir(parents=True)
    out = work / "cmp"
    before = _files(tmp_path)
    code, _, err = _lasim(["compare", str(a), str(b), "-n", "2", "--out", str(out), "-q",
                           "--processes", "1"], capsys)
    assert code == 0, err
    new = _files(tmp_path) - before
    assert new and all(p.startswith("deep/er/cmp") or p in ("deep", "deep/er") for p in new), new
    assert sorted(p.name for p in (out / "designs").iterdir()) == ["A_escaped.toml",
                                                                  "B_tmp_lasim-abs-name.toml"]
    assert not Path("/tmp/lasim-abs-name").exists()


def test_compare_refuses_a_non_empty_folder_and_overwrite_replaces_it_whole(tmp_path, capsys):
    a = _design(tmp_path, "a.toml", "a")
    b = _design(tmp_path, "b.toml", "b", facilitation_quality=0.9)
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "old-report.html").write_text("old")
    argv = ["compare", str(a), str(b), "-n", "2", "--out", str(out), "-q", "--processes", "1"]
    _one_line(*_lasim(argv, capsys)[::2], "--out", "not empty", "--overwrite")
    assert _files(out) == {"old-report.html"}
    code, _, err = _lasim([*argv, "--overwrite"], capsys)
    assert code == 0, err
    assert "old-report.html" not in _files(out) and "report.html" in _files(out)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # nothing left aside


def test_a_scenario_name_that_is_a_path_stays_a_folder_name_under_runs(tmp_path, capsys,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    scen = _design(tmp_path, "s.toml", str(tmp_path / "victim"))
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "keep.txt").write_text("mine")
    code, _, err = _lasim(["run", str(scen), "--no-plots", "--overwrite"], capsys)
    assert code == 0, err
    assert (tmp_path / "victim" / "keep.txt").read_text() == "mine"
    [made] = list((tmp_path / "runs").iterdir())
    assert "/" not in made.name and (made / "summary.csv").exists()


def test_run_overwrite_swaps_the_new_results_in_and_leaves_nothing_aside(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.csv").write_text("old")
    code, _, err = _lasim(["run", "--out", str(out), "--no-plots", "--overwrite",
                           "--set", "horizon_months=12"], capsys)
    assert code == 0, err
    assert "stale.csv" not in _files(out) and "summary.csv" in _files(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_huge_structure_is_refused_in_one_line_naming_the_field(tmp_path, capsys):
    text = (scenario_to_toml(load_scenario("default"))
            + '\n[[structure.platforms]]\nname = "Mass"\nlevel = "local"\ndistrict = "'
            + load_scenario("default").structure.districts[0].name
            + '"\ncount = 100000\nmembers = { community_group = 10000 }\n')
    path = tmp_path / "huge.toml"
    path.write_text(text)
    code, _, err = _lasim(["run", str(path), "--out", str(tmp_path / "o")], capsys)
    _one_line(code, err, "structure", "organisations", "--allow-large")
    assert not (tmp_path / "o").exists()


def test_absurd_replications_are_refused_before_any_seed_is_made(tmp_path, capsys):
    code, _, err = _lasim(["run", "--replications", "1000000000000", "--out",
                           str(tmp_path / "o")], capsys)
    _one_line(code, err, "--replications", "1,000,000,000,000", "--allow-large")


@pytest.fixture
def store(tmp_path, monkeypatch):
    spec_file = tmp_path / "s.toml"
    spec_file.write_text('name = "s"\nscenario = "default"\nreplications = 30\nseed = 1\n'
                         '[factors.facilitation_quality]\nlevels = [0.2, 0.9]\n')
    monkeypatch.syspath_prepend(str(REPO / "tests" / "experiments"))
    out = tmp_path / "store"
    run_sweep(load_spec(spec_file), out, executor=SerialExecutor(), progress=False,
              run_function="xp_fakes:toy_run")
    return out


def test_results_export_refuses_an_existing_file_unless_overwrite(store, tmp_path, capsys):
    target = tmp_path / "table.csv"
    target.write_text("precious")
    code, _, err = _lasim(["results", str(store), "--export", str(target)], capsys)
    _one_line(code, err, "--export", "file exists", "--overwrite")
    assert target.read_text() == "precious"
    code, _, err = _lasim(["results", str(store), "--export", str(target), "--overwrite"], capsys)
    assert code == 0 and "run_id" in target.read_text()


def test_results_piped_into_head_ends_without_a_traceback(store):
    env = os.environ | {"PYTHONPATH": str(REPO)}
    proc = subprocess.run(f"'{LASIM}' results '{store}' | head -1", shell=True, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr


def test_result_files_get_the_umask_permissions(tmp_path):
    from experiments.files import atomic_write_text

    old = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "x.txt", "x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_calibrate_onto_a_file_is_one_line(tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("keep")
    code, _, err = _lasim(["calibrate", "seed_patterns", "--out", str(target)], capsys)
    _one_line(code, err, "--out", "not a directory")
    assert target.read_text() == "keep"


@pytest.mark.parametrize("case", ["deep", "base loop"])
def test_self_referring_or_absurdly_deep_files_are_one_line(tmp_path, capsys, case):
    if case == "deep":
        path = tmp_path / "deep.toml"
        path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    else:
        (tmp_path / "d").mkdir()
        path = tmp_path / "d" / "a.toml"
        path.write_text('base = "./b.toml"\n')
        (tmp_path / "d" / "b.toml").write_text('base = "../d/a.toml"\n')
    code, _, err = _lasim(["show", str(path)], capsys)
    if case == "deep":
        _one_line(code, err, "deep.toml", "nested thousands of levels deep", "a few levels at most")
    else:
        # the cycle is found in model.scenario by resolving paths, not by running out of stack
        _one_line(code, err, "b.toml", "a.toml", "cycle", "may not lead back to its own file")
