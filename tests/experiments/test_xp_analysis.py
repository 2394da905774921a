"""Sobol, Morris and PRIM/CART on a toy run function whose answer is known."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from experiments.discovery import describe, discover
from experiments.executors import SerialExecutor
from experiments.sensitivity import analyse
from experiments.spec import load_spec
from experiments.sweep import RUN_FUNCTION_ENV, run_sweep
from lasim.cli import main
from model.errors import LasimInputError

TOY = "xp_fakes:toy_run"

# toy peak_adoption = 0.6 f + 0.3 g - 0.01 gap + 0.05 d f + noise: facilitation first,
# then government, then the gap; documentation only through its interaction with f.
SENS = """
name = "sens"
scenario = "default"
replications = 2
seed = 3
outcomes = ["scaled", "sustained", "peak_adoption", "scale_month"]
[sampler]
method = "{method}"
n = {n}
[factors.facilitation_quality]
range = [0.0, 1.0]
[factors.government_involvement]
range = [0.0, 1.0]
[factors.funding_gap_months]
range = [0, 12]
[factors.documentation]
"""

DISCOVER = """
name = "disc"
scenario = "default"
replications = 4
seed = 8
outcomes = ["scaled", "sustained", "peak_adoption"]
[factors.facilitation_quality]
levels = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
[factors.funding_gap_months]
levels = [0, 4, 8, 12, 16, 20, 24]
[factors.government_involvement]
levels = [0.0, 0.5, 1.0]
"""


def _sweep(text: str, tmp_path, name: str):
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    spec = load_spec(path)
    out = tmp_path / name
    report = run_sweep(spec, out, executor=SerialExecutor(), progress=False, run_function=TOY)
    assert report.status == "complete"
    return spec, out


def test_sobol_ranks_known_drivers_with_ci_s2_and_convergence(tmp_path):
    spec, out = _sweep(SENS.format(method="sobol", n=64), tmp_path, "sobol")
    res = analyse(spec, out)
    peak = res.indices[res.indices["outcome"] == "peak_adoption"].set_index("parameter")
    assert peak["ST"].idxmax() == "facilitation_quality"
    assert peak.loc["facilitation_quality", "ST"] > peak.loc["government_involvement", "ST"] \
        > peak.loc["documentation", "ST"]
    assert (peak[["S1_conf", "ST_conf"]] > 0).all().all()
    assert set(res.s2.columns) >= {"parameter_i", "parameter_j", "S2", "S2_conf"}
    assert len(res.s2[res.s2["outcome"] == "peak_adoption"]) == 6   # 4 choose 2
    assert sorted(res.convergence["N"].unique()) == [4, 8, 16, 32, 64]
    # scale_month is undefined where nothing scaled: left out with a note, not a crash
    assert any(n.startswith("scale_month") for n in res.notes)
    names = {p.name for p in res.files}
    assert {"sobol_indices.csv", "sobol_s2.csv", "sobol_convergence.csv",
            "sobol_peak_adoption.png", "sobol_s2_peak_adoption.png"} <= names
    # plain CSVs that read as they are, the provenance in a JSON beside each
    for name, table in (("sobol_indices", res.indices), ("sobol_s2", res.s2), ("sobol_convergence", res.convergence)):
        assert pd.read_csv(out / "sensitivity" / f"{name}.csv").shape == table.shape, name
        prov = json.loads((out / "sensitivity" / f"{name}.provenance.json").read_text())
        assert (prov["experiment"], prov["scenario"], prov["root_seed"]) == ("sens", "default", 3)


def test_morris_mu_star_and_plot(tmp_path):
    spec, out = _sweep(SENS.format(method="morris", n=10), tmp_path, "morris")
    res = analyse(spec, out)
    peak = res.indices[res.indices["outcome"] == "peak_adoption"].set_index("parameter")
    assert peak["mu_star"].idxmax() == "facilitation_quality"
    assert {"mu", "mu_star", "mu_star_conf", "sigma"} <= set(peak.columns)
    assert (out / "sensitivity" / "morris_peak_adoption.png").stat().st_size > 1000
    assert pd.read_csv(out / "sensitivity" / "morris_indices.csv").shape == res.indices.shape
    assert json.loads((out / "sensitivity" / "morris_indices.provenance.json").read_text())["experiment"] == "sens"


def test_sensitivity_command_refuses_a_factorial_spec(tmp_path, capsys):
    path = tmp_path / "disc.toml"
    path.write_text(DISCOVER)
    assert main(["sensitivity", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "needs 'sobol' or 'morris'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_prim_finds_the_scaling_box_and_says_it_plainly(tmp_path):
    _, out = _sweep(DISCOVER, tmp_path, "disc")
    res = discover(out, "scaled", min_density=0.8)
    box = res.boxes[0]
    # the toy scales (95%) exactly when facilitation >= 0.6 and the gap <= 8
    lo_f, hi_f = box.limits["facilitation_quality"]
    lo_g, hi_g = box.limits["funding_gap_months"]
    assert lo_f == 0.6 and hi_f is None
    assert lo_g is None and hi_g == 8
    assert "government_involvement" not in box.limits
    assert box.density > 0.9 and box.coverage > 0.9
    assert box.sentence.startswith(f"scales in {box.density:.0%} of runs when ")
    assert "facilitation_quality >= 0.6" in box.sentence
    assert "funding_gap_months <= 8" in box.sentence
    assert res.cart_boxes and res.cart_boxes[0].density >= 0.8
    folder = out / "discovery" / "scaled"
    for name in ("boxes.csv", "summary.txt", "prim_trajectories.csv",
                 "prim_tradeoff_box1.png", "prim_limits_box1.png"):
        assert (folder / name).exists(), name
    boxes = pd.read_csv(folder / "boxes.csv")
    assert list(boxes.columns) == ["method", "box", "coverage", "density", "mass", "factor", "min", "max"]
    assert len(boxes) == sum(max(len(b.limits), 1) for b in res.boxes + res.cart_boxes)
    assert pd.read_csv(folder / "prim_trajectories.csv").shape[0] > 1
    for name in ("boxes", "prim_trajectories"):
        assert json.loads((folder / f"{name}.provenance.json").read_text())["experiment"] == "disc"


def test_discover_numeric_outcome_needs_above(tmp_path, capsys):
    _, out = _sweep(DISCOVER, tmp_path, "disc")
    with pytest.raises(LasimInputError, match="--above"):
        discover(out, "peak_adoption")
    res = discover(out, "peak_adoption", above=0.6, plot=False)
    assert res.boxes and "facilitation_quality" in res.boxes[0].limits
    assert main(["discover", str(out), "--outcome", "nope"]) == 2
    assert "allowed" in capsys.readouterr().err


def test_sentence_wording():
    s = describe({"a": (0.6, None), "b": (None, 8.0), "c": (0.35, 0.7)}, 0.83, 0.71, "scales",
                 {"b"})
    assert s == ("scales in 83% of runs when a >= 0.6, b <= 8 and c between 0.35 and 0.7 "
                 "(this box holds 71% of all runs where it happens)")


def test_cli_end_to_end_on_toy(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(RUN_FUNCTION_ENV, TOY)
    path = tmp_path / "disc.toml"
    path.write_text(DISCOVER + '[heatmap]\nx = "funding_gap_months"\n'
                    'y = "facilitation_quality"\nfacet = "government_involvement"\n'
                    'outcomes = ["scaled", "sustained"]\n')
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--processes", "1",
                 "--no-progress"]) == 0
    assert (out / "plots" / "heatmap.png").stat().st_size > 5000
    table = pd.read_csv(out / "plots" / "heatmap.csv")
    assert (out / "plots" / "heatmap.provenance.json").exists()
    assert len(table) == 10 * 7 * 3 and (table["runs"] == 4).all()
    capsys.readouterr()
    assert main(["discover", str(out), "--outcome", "scaled"]) == 0
    assert "PRIM box 1: scales in" in capsys.readouterr().out


def test_sensitivity_command_end_to_end_on_toy(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(RUN_FUNCTION_ENV, TOY)
    path = tmp_path / "sobol.toml"
    path.write_text(SENS.format(method="sobol", n=16))
    out = tmp_path / "out"
    assert main(["sensitivity", str(path), "--out", str(out), "--processes", "1",
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "peak_adoption:" in printed and "ST" in printed
    assert (out / "sensitivity" / "sobol_indices.csv").exists()
    # rerun: nothing to run again, the analysis is simply redone
    assert main(["sensitivity", str(path), "--out", str(out), "--processes", "1",
                 "--no-progress"]) == 0
    assert "already done" in capsys.readouterr().err


def _overlaps(texts, renderer) -> list[tuple[str, str]]:
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_text() and t.get_visible()]
    return [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:] if ba.overlaps(bb)]


def test_morris_figure_labels_never_overlap():
    from experiments.plots import plot_morris

    # 24 parameters, most with the same effect: the case that piled names on top of each other
    rng = np.random.default_rng(0)
    names = [f"parameter_with_a_long_name_{k}" for k in range(24)]
    mu = np.where(np.arange(24) < 3, [0.5, 0.5, 0.49] + [0] * 21, 0.01)
    table = pd.DataFrame({"outcome": "scaled", "parameter": names, "mu": mu, "mu_star": mu,
                          "mu_star_conf": 0.1 * mu, "sigma": mu + rng.uniform(0, 1e-3, 24)})
    fig = plot_morris(table, "scaled")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    ax = fig.axes[0]
    texts = [*ax.get_yticklabels(), *ax.texts, ax.title, ax.xaxis.label]
    assert _overlaps(texts, renderer) == []
    assert {t.get_text() for t in ax.get_yticklabels()} == set(names)


def test_prim_limits_figure_is_drawn_from_the_sentence_box(tmp_path, monkeypatch):
    from experiments import plots

    drawn = []
    real = plots.plot_box_limits
    monkeypatch.setattr(plots, "plot_box_limits", lambda *a, **k: drawn.append(a) or real(*a, **k))
    # five levels per factor, as the headline spec: PRIM cuts between levels (0.7 between 0.6 and 0.8)
    spec = DISCOVER.replace("levels = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]",
                            "levels = [0.2, 0.4, 0.6, 0.8, 1.0]")
    _, out = _sweep(spec, tmp_path, "disc5")
    res = discover(out, "scaled", min_density=0.8)
    assert len(drawn) == len([b for b in res.boxes if b.limits]) >= 1
    for box, (limits, ranges, labels, _title) in zip(res.boxes, drawn, strict=False):
        assert limits == box.limits
        for name, (lo_text, hi_text) in labels.items():
            # the numbers the sentence gives for this factor are the figure's numbers
            said = re.search(rf"{name} (?:between ([^ ,()]+) and ([^ ,()]+)|(?:>=|<=|=) ([^ ,()]+))", box.sentence)
            sentence_numbers = [v for v in said.groups() if v]
            figure_numbers = [t.split()[-1] for t in (lo_text, hi_text) if t]
            assert figure_numbers == sentence_numbers, (name, labels, box.sentence)
        # every limit is a level that was run, inside the explored range
        for name, (lo, hi) in limits.items():
            assert all(v is None or ranges[name][0] <= v <= ranges[name][1] for v in (lo, hi))
    fig = real(*drawn[0])
    shown = {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid()}
    for name, (lo_text, hi_text) in drawn[0][2].items():
        assert shown.get(f"lo:{name}", "") == lo_text and shown.get(f"hi:{name}", "") == hi_text


def test_s2_heatmap_masks_pairs_whose_interval_includes_zero():
    from experiments.plots import plot_s2

    names = ["a", "b", "c"]
    s2 = pd.DataFrame({"outcome": "x", "parameter_i": ["a", "a", "b"], "parameter_j": ["b", "c", "c"],
                       "S2": [0.30, 0.05, -0.20], "S2_conf": [0.10, 0.20, 0.05]})
    fig = plot_s2(s2, "x", names)
    coloured = fig.axes[0].images[-1].get_array()
    shown = ~np.ma.getmaskarray(coloured) & np.isfinite(np.ma.filled(coloured, np.nan))
    assert shown[0, 1] and shown[1, 2] and not shown[0, 2]   # 0.05 ± 0.20 includes 0: masked
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "0.30\n±0.10" in texts and "0.05\n±0.20" in texts
    assert "2 of 3 pairs" in fig.axes[0].get_title()
