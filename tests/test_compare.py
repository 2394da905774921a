"""``lasim compare``: report files, figures equal to the tables, common random numbers, bad designs."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from experiments.compare import load_designs, make_designs, outcome_table, run_comparison, shipped_designs, wilson
from experiments.report import FIGURES, figure_data, json_safe, read_tables, render_figures
from lasim.cli import main
from model.runner import replication_seeds

REPLICATIONS = 6
DESIGNS = shipped_designs()


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("compare") / "report"
    rc = main(["compare", str(DESIGNS["district_hubs"]), str(DESIGNS["linked_layers"]),
               "--replications", str(REPLICATIONS), "--seed", "7", "--out", str(out), "--processes", "1", "-q"])
    assert rc == 0
    return out


def _pixels(png: bytes) -> np.ndarray:
    return mpimg.imread(io.BytesIO(png), format="png")


def test_two_example_designs_are_shipped():
    assert {"district_hubs", "linked_layers"} <= set(DESIGNS)
    designs = load_designs(["district_hubs", "linked_layers"])
    structures = [d.scenario.structure for d in designs]
    assert structures[0] != structures[1]
    # same districts and parameters: the designs differ in structure only
    assert designs[0].scenario.parameters == designs[1].scenario.parameters
    assert [d.name for d in structures[0].districts] == [d.name for d in structures[1].districts]


def test_report_files_exist(report_dir):
    for name in ("report.html", "report.md", "report.json", "runs.csv", "series.parquet",
                 *(f"{f}.png" for f in FIGURES)):
        assert (report_dir / name).stat().st_size > 0, name
    assert sorted(p.name for p in (report_dir / "designs").glob("*.toml")) == [
        "A_district_hubs.toml", "B_linked_layers.toml"]
    assert not list(report_dir.glob(".*.tmp"))


def test_html_is_self_contained(report_dir):
    text = (report_dir / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*['"](?!data:)""", text), "report.html references an outside file"
    assert "http://" not in text and "https://" not in text
    assert len(re.findall(r"data:image/png;base64,", text)) == len(FIGURES)


def test_common_random_numbers_and_provenance(report_dir):
    runs, _ = read_tables(report_dir)
    assert len(runs) == 2 * REPLICATIONS
    seeds = replication_seeds(7, REPLICATIONS)
    for _, r in runs.groupby("design"):
        assert r.sort_values("replication")["seed"].tolist() == seeds
    meta = json.loads((report_dir / "report.json").read_text())
    assert meta["seeds"] == seeds and meta["root_seed"] == 7 and meta["common_random_numbers"]
    assert {"lasim_version", "git_commit", "created"} <= set(meta["provenance"])
    from experiments.files import read_parquet_meta

    inside = read_parquet_meta(report_dir / "series.parquet")
    assert inside["seeds"] == seeds and inside["provenance"]["git_commit"] == meta["provenance"]["git_commit"]
    assert [d["source"] for d in meta["designs"]] == [str(DESIGNS["district_hubs"]), str(DESIGNS["linked_layers"])]


def test_figures_equal_those_computed_from_the_run_table(report_dir):
    runs, series = read_tables(report_dir)
    meta = json.loads((report_dir / "report.json").read_text())
    data = figure_data(runs, series, meta["options"])
    stored = meta["figures"]
    # the stored figure data is the data recomputed from the tables (JSON turns NaN into null)
    assert json.loads(json.dumps(json_safe(data))) == stored
    pngs = render_figures(data)
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    for name in FIGURES:
        expected = _pixels(pngs[name])
        np.testing.assert_array_equal(_pixels((report_dir / f"{name}.png").read_bytes()), expected, err_msg=name)
        m = re.search(rf"id='fig-{name}'[^>]*src='data:image/png;base64,([^']+)'", html)
        assert m, name
        np.testing.assert_array_equal(_pixels(base64.b64decode(m.group(1))), expected, err_msg=name)


def test_report_numbers_match_an_independent_count(report_dir):
    runs = pd.read_csv(report_dir / "runs.csv")
    md = (report_dir / "report.md").read_text(encoding="utf-8")
    for design, r in runs.groupby("design"):
        k = int(r["scaled"].astype(bool).sum())
        p, lo, hi = wilson(k, len(r))
        assert abs(p - k / len(r)) < 1e-12
        row = next(line for line in md.splitlines() if line.startswith(f"| {design} |"))
        assert f"{100 * p:.0f}% [{100 * lo:.0f}, {100 * hi:.0f}]" in row
        assert f"{r['total_cost'].mean():.0f}" in row
    assert "Design B (linked_layers) scales in" in md


def test_wilson_interval_known_values():
    p, lo, hi = wilson(41, 100)
    assert p == 0.41 and lo == pytest.approx(0.3181, abs=1e-3) and hi == pytest.approx(0.5082, abs=1e-3)
    assert wilson(0, 10)[1] == 0.0 and wilson(10, 10)[2] == 1.0


def test_comparison_is_reproducible_and_order_independent(default_scenario):
    a = default_scenario
    b = default_scenario.with_parameters(facilitation_quality=0.3)
    one = run_comparison(make_designs([a, b]), 2, root_seed=3)
    two = run_comparison(make_designs([a, b]), 2, root_seed=3)
    pd.testing.assert_frame_equal(one.runs, two.runs)
    table = outcome_table(one.runs)
    assert table["design"].tolist() == ["A (default)", "B (default)"]


# --------------------------------------------------------------------------- bad input


def _variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = DESIGNS["linked_layers"].read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"{name}.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


BAD = {
    "unknown_platform_in_exchange": ('[["North", "South"]', '[["North", "Nowhere"]', "unknown platform 'Nowhere'"),
    "unknown_parent_platform": ('parent = "North"', 'parent = "Norht"', "unknown parent 'Norht'"),
    "member_on_no_platform": ('platforms = ["National", "North", "South"]', "platforms = []", "sits on no platform"),
    "member_on_unknown_platform": ('platforms = ["National", "North", "South"]', 'platforms = ["National", "Eest"]',
                                   "unknown platform 'Eest'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_design_is_one_line_exit_2(case, tmp_path, capsys):
    old, new, expected = BAD[case]
    bad = _variant(tmp_path, case, old, new)
    out = tmp_path / "out"
    rc = main(["compare", str(DESIGNS["district_hubs"]), str(bad), "-n", "2", "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("lasim: error: ")
    assert f"{case}.toml" in err and expected in err
    assert not out.exists()


@pytest.mark.parametrize("args, expected", [
    (["-n", "0"], "--replications 0: must be at least 1"),
    (["-n", "-3"], "--replications -3: must be at least 1"),
])
def test_zero_replications_is_one_line_exit_2(args, expected, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["compare", "district_hubs", "linked_layers", *args, "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and expected in err
    assert not out.exists()


def test_one_design_is_one_line_exit_2(tmp_path, capsys):
    rc = main(["compare", "district_hubs", "--out", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "at least two designs" in err


def test_missing_design_file_through_the_real_command(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "lasim.cli", "compare", "district_hubs", str(tmp_path / "nope.toml"),
         "-n", "2", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "nope.toml" in proc.stderr
    assert "Traceback" not in proc.stderr
