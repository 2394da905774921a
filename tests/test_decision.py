"""``lasim compare`` as decision support: ranking, targets, budgets, cost by payer, 8-design figures,
and ``--uncertain`` (frequency best, regret, the flip box)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from experiments.compare import (
    cost_table,
    decide,
    make_designs,
    non_dominated,
    pairwise,
    parse_target,
    run_comparison,
    verdict,
)
from experiments.report import COLOURS, FIGURES, figure_data, render_figures
from experiments.robustness import analyse, load_uncertainties, run_robustness, write_robustness
from lasim.cli import main
from model.runner import replication_seeds

# --------------------------------------------------------------------------- the target parser


@pytest.mark.parametrize("text, outcome, op, value", [
    ("scaled>=0.8", "scaled", ">=", 0.8),
    (" sustained <= .25 ", "sustained", "<=", 0.25),
    ("functioning>=1", "functioning", ">=", 1.0),
])
def test_target_parses_outcome_operator_and_share(text, outcome, op, value):
    t = parse_target(text)
    assert (t.outcome, t.op, t.value) == (outcome, op, value)


@pytest.mark.parametrize("text, expected", [
    ("scaled>0.8", "expected OUTCOME>=P or OUTCOME<=P"),
    ("scaled=>0.8", "expected OUTCOME>=P or OUTCOME<=P"),
    ("scaled>=80%", "expected OUTCOME>=P or OUTCOME<=P"),
    ("scaled>=0.8 and sustained>=0.5", "expected OUTCOME>=P or OUTCOME<=P"),
    ("", "expected OUTCOME>=P or OUTCOME<=P"),
    ("scaledd>=0.8", "unknown outcome 'scaledd' (did you mean 'scaled'?)"),
    ("total_cost<=900", "unknown outcome 'total_cost'"),
    ("scaled>=1.5", "1.5 is not a share"),
])
def test_bad_target_is_one_line_exit_2_and_writes_nothing(text, expected, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["compare", "district_hubs", "linked_layers", "-n", "2", "--target", text, "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and err.startswith("lasim: error: --target")
    assert expected in err
    assert not out.exists()


@pytest.mark.parametrize("args, expected", [
    (["--budget", "0"], "--budget 0: must be a positive number"),
    (["--budget", "nan"], "--budget nan: must be a positive number"),
    (["--outcome", "peak_adoption"], "--outcome 'peak_adoption': not a yes/no outcome"),
])
def test_bad_budget_or_outcome_is_one_line_exit_2(args, expected, tmp_path, capsys):
    rc = main(["compare", "district_hubs", "linked_layers", "-n", "2", *args, "--out", str(tmp_path / "o"), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and expected in err


def test_misspelled_design_lists_the_shipped_designs_with_a_guess(tmp_path, capsys):
    rc = main(["compare", "distict_hubs", "linked_layers", "-n", "2", "--out", str(tmp_path / "o"), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert "did you mean 'district_hubs'?" in err and "shipped designs: district_hubs, linked_layers" in err


# --------------------------------------------------------------------------- decisions on synthetic run tables


def _runs(designs: dict[str, tuple[list[bool], list[float]]]) -> pd.DataFrame:
    """A run table: per design, scaled per replication and total cost per replication."""
    rows = []
    for i, (label, (scaled, cost)) in enumerate(designs.items()):
        for r, (s, c) in enumerate(zip(scaled, cost, strict=True)):
            rows.append({"design": label, "design_index": i, "replication": r, "seed": r, "scaled": s,
                         "sustained": s, "functioning": True, "total_cost": c, "cost_donor": 0.5 * c,
                         "cost_members": 0.3 * c, "cost_government": 0.2 * c, "scale_month": 50.0 if s else np.nan,
                         "peak_communities_reached": 10.0 if s else 0.0, "final_adoption": 0.2})
    return pd.DataFrame(rows)


def test_non_dominated_marks_the_front():
    assert non_dominated([0.5, 0.5, 0.8, 0.2], [100, 120, 200, 50]) == [True, False, True, True]


def test_cheaper_design_identical_in_effect_wins_the_target_and_the_ranking_tie():
    scaled = [True] * 18 + [False] * 2  # 90%, Wilson lower bound 70%
    runs = _runs({"A (dear)": (scaled, [1000.0 + r for r in range(20)]),
                  "B (cheap)": (scaled, [600.0 + r for r in range(20)]),
                  "C (weak)": ([True] * 5 + [False] * 15, [300.0] * 20)})
    d = decide(runs, target=parse_target("scaled>=0.6"))
    assert d.chosen == "B (cheap)"
    assert d.ranking["design"].tolist()[:2] == ["B (cheap)", "A (dear)"]
    # identical effect: no pair is clear between A and B, C is clearly behind both
    assert set(d.ranking.set_index("design").loc["C (weak)", "clearly_behind"].split("; ")) == {
        "A (dear)", "B (cheap)"}
    # the whole interval must meet it: 90% of 20 runs does not surely reach 80%
    d80 = decide(runs, target=parse_target("scaled>=0.8"))
    assert d80.chosen is None and any("None meets scaled>=0.8" in line for line in d80.lines)
    assert any("Closest: B (cheap)" in line for line in d80.lines)


def test_budget_keeps_only_designs_whose_whole_cost_interval_fits():
    scaled = [True] * 18 + [False] * 2
    runs = _runs({"A (dear)": (scaled, [1000.0 + r for r in range(20)]),
                  "B (weak)": ([True] * 5 + [False] * 15, [300.0 + r for r in range(20)])})
    d = decide(runs, target=parse_target("scaled>=0.6"), budget=900)
    assert d.chosen is None and any("Closest: B (weak)" in line for line in d.lines)
    d = decide(runs, budget=2000)
    assert d.chosen == "A (dear)"
    # A's mean cost is 1009.5; a budget at the mean is not enough when the interval's upper end is above
    d = decide(runs, budget=1009.5)
    assert d.chosen == "B (weak)"
    d = decide(runs, budget=100)
    assert d.chosen is None and any("No design is within the budget" in line for line in d.lines)


def test_cost_table_splits_by_payer_and_says_when_no_community_is_reached():
    runs = _runs({"A": ([False] * 5, [100.0, 110, 90, 105, 95]), "B": ([True] * 5, [200.0] * 5)})
    t = cost_table(runs).set_index("design")
    assert t.loc["A", "cost_donor_mean"] == pytest.approx(50.0)
    assert t.loc["A", "cost_total_lo"] < 100 < t.loc["A", "cost_total_hi"]
    assert t.loc["A", "runs_reaching_none"] == 5 and np.isinf(t.loc["A", "cost_per_community"])
    data = figure_data(runs, pd.DataFrame({"design": [], "replication": [], "month": []}, dtype=object))
    from experiments.report import _table_rows

    rows = {r[0]: r for r in _table_rows(data)[1]}
    assert rows["A"][-1] == "no community reached"


# --------------------------------------------------------------------------- the real model


def test_cheaper_meetings_identical_in_effect_rank_first_and_meet_the_target(default_scenario):
    # meeting_cost changes what is spent, nothing else: with common random numbers every run is the same
    dear = default_scenario.model_copy(update={"name": "dear"})
    cheap = default_scenario.with_parameters(meeting_cost=0.5).model_copy(update={"name": "cheap"})
    comp = run_comparison(make_designs([dear, cheap]), 4, root_seed=11)
    a, b = (comp.runs[comp.runs["design"] == lab].reset_index(drop=True) for lab in ("A (dear)", "B (cheap)"))
    pd.testing.assert_series_equal(a["functioning"], b["functioning"])
    assert (b["total_cost"] < a["total_cost"]).all()
    total = b["cost_donor"] + b["cost_members"] + b["cost_government"]
    np.testing.assert_allclose(total, b["total_cost"], rtol=1e-9)
    # both meet a target every design meets; the cheaper one is chosen and ranks first on the tie
    d = decide(comp.runs, target=parse_target("functioning>=0"))
    assert d.ranking["design"].iloc[0] == "B (cheap)" and d.chosen == "B (cheap)"
    assert d.ranking["p"].iloc[0] == d.ranking["p"].iloc[1]


# --------------------------------------------------------------------------- 8 designs


def _synthetic(n_designs: int, reps: int = 12, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    labels = [f"{chr(65 + i)} (design_number_{i})" for i in range(n_designs)]
    rows, series = [], []
    for i, lab in enumerate(labels):
        for r in range(reps):
            s = bool(rng.random() < (i + 1) / (n_designs + 1))
            c = 200.0 + 100 * i + rng.normal(0, 20)
            rows.append({"design": lab, "design_index": i, "replication": r, "seed": r, "scaled": s,
                         "sustained": bool(rng.random() < 0.5), "functioning": True, "scale_month": 60.0 + i,
                         "total_cost": c, "cost_donor": 0.5 * c, "cost_members": 0.4 * c, "cost_government": 0.1 * c,
                         "peak_communities_reached": 20.0, "final_adoption": 0.3})
            months = np.arange(1, 121)
            curve = 1 / (1 + np.exp(-(months - 60 + 3 * i) / 10))
            series.append(pd.DataFrame({"design": lab, "replication": r, "month": months,
                                        **{c: curve * k for c, k in (("adoption_national", 1.0),
                                                                     ("adoption_intermediate", 0.8),
                                                                     ("adoption_local", 0.6),
                                                                     ("adoption_outside", 0.3))}}))
    return pd.DataFrame(rows), pd.concat(series, ignore_index=True)


def _has_colour(png: bytes, hex_colour: str, min_pixels: int = 20) -> bool:
    img = mpimg.imread(io.BytesIO(png), format="png")[..., :3]
    rgb = np.array([int(hex_colour[k:k + 2], 16) / 255 for k in (1, 3, 5)])
    return int((np.abs(img - rgb).max(axis=-1) < 0.02).sum()) >= min_pixels


def test_eight_designs_render_with_a_colour_and_a_name_each():
    runs, series = _synthetic(8)
    data = figure_data(runs, series, {"target": "scaled>=0.5", "budget": 700})
    pngs = render_figures(data)
    assert set(pngs) == set(FIGURES)
    for name in ("probabilities", "cost_effect", "months_to_scale", "adoption_by_level", "cost"):
        missing = [c for c in COLOURS[:8] if not _has_colour(pngs[name], c)]
        assert not missing, (name, missing)
    # small multiples: one row of adoption panels per design, so the figure grows with the designs
    two = render_figures(figure_data(*_synthetic(2)))
    h8 = mpimg.imread(io.BytesIO(pngs["adoption_by_level"]), format="png").shape[0]
    h2 = mpimg.imread(io.BytesIO(two["adoption_by_level"]), format="png").shape[0]
    assert h8 > 2.5 * h2


def test_eight_design_report_through_the_command(tmp_path):
    folder = tmp_path / "designs"
    folder.mkdir()
    files = []
    for i, fq in enumerate(np.linspace(0.2, 0.9, 8)):
        f = folder / f"d{i}.toml"
        f.write_text(f'name = "facilitation_{fq:.1f}"\nbase = "default"\n\n[parameters]\n'
                     f'facilitation_quality = {fq:.2f}\nhorizon_months = 84\nproject_months = 36\n'
                     f'sustain_horizon_months = 48\n', encoding="utf-8")
        files.append(str(f))
    out = tmp_path / "out"
    rc = main(["compare", *files, "-n", "2", "--out", str(out), "--processes", "1", "-q", "--budget", "5000",
               "--target", "functioning>=0.1"])
    assert rc == 0
    meta = json.loads((out / "report.json").read_text())
    assert len(meta["figures"]["ranking"]) == 8 and meta["options"]["budget"] == 5000
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Ranking" in md and "## Cost by payer" in md and "## Decision" in md
    for name in FIGURES:  # no run scales this short: months_to_scale shows the 8th colour in text only
        if name != "months_to_scale":
            assert _has_colour((out / f"{name}.png").read_bytes(), COLOURS[7]), name


def test_set_applies_to_every_design(tmp_path):
    out = tmp_path / "out"
    rc = main(["compare", "district_hubs", "linked_layers", "-n", "1", "--set", "facilitation_quality=0.35",
               "--set", "horizon_months=24", "--set", "project_months=12", "--set", "sustain_horizon_months=12",
               "--out", str(out), "--processes", "1", "-q"])
    assert rc == 0
    for f in sorted((out / "designs").glob("*.toml")):
        text = f.read_text(encoding="utf-8")
        assert "facilitation_quality = 0.35" in text and "horizon_months = 24" in text, f.name


# --------------------------------------------------------------------------- robustness


def _unc_file(tmp_path: Path, body: str) -> Path:
    f = tmp_path / "uncertain.toml"
    f.write_text(body, encoding="utf-8")
    return f


UNC = """replications = 12
seed = {seed}

[sampler]
method = "lhs"
n = 10

[factors.facilitation_quality]
range = [0.2, 0.9]

[factors.government_involvement]
range = [0.0, 1.0]
"""


def coin_run(scenario, seed, *, series=False):
    """Scales with a chance that grows with facilitation; 'worse' designs need a luckier draw.

    The same seed gives the same draw ``u`` in every design (common random numbers), so
    a 'worse' run scales only where the 'good' one does.
    """
    p = scenario.parameters
    u = np.random.default_rng(int(seed)).random()
    chance = 0.3 + 0.6 * p.facilitation_quality
    if scenario.name.startswith("worse"):
        chance *= 0.4
    if scenario.name.startswith("flip"):  # better than 'good' only where facilitation is weak
        chance = 0.95 if p.facilitation_quality < 0.45 else 0.1
    return SimpleNamespace(summary={"scaled": bool(u < chance), "total_cost": 100.0 + 10 * chance})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_design_worse_in_every_condition_is_never_best_and_has_regret(default_scenario, tmp_path, seed):
    good = default_scenario.model_copy(update={"name": "good"})
    worse = default_scenario.model_copy(update={"name": "worse"})
    designs = make_designs([good, worse])
    unc = load_uncertainties(_unc_file(tmp_path, UNC.format(seed=seed)), [good, worse])
    r = run_robustness(designs, unc, run_fn=coin_run)
    s = r.summary.set_index("design")
    assert s.loc["B (worse)", "freq_best"] == 0.0 and s.loc["B (worse)", "best_in"] == 0
    assert s.loc["B (worse)", "regret_mean"] > 0 and s.loc["B (worse)", "regret_max"] > 0
    assert s.loc["A (good)", "freq_best"] == 1.0 and s.loc["A (good)", "regret_max"] == 0.0
    assert r.winner == "A (good)" and r.flips == 0 and r.box is None
    # common random numbers: replication i has the same seed in every design and condition
    seeds = replication_seeds(seed, 12)
    for _, g in r.runs.groupby(["design", "condition"]):
        assert g.sort_values("replication")["seed"].tolist() == seeds


def test_flip_box_finds_where_the_winner_loses(default_scenario, tmp_path):
    good = default_scenario.model_copy(update={"name": "good"})
    flip = default_scenario.model_copy(update={"name": "flip"})
    unc = load_uncertainties(_unc_file(tmp_path, UNC.format(seed=4).replace("n = 10", "n = 20")), [good])
    r = run_robustness(make_designs([good, flip]), unc, run_fn=coin_run)
    assert r.winner == "A (good)"
    low = unc.conditions["facilitation_quality"] < 0.45
    assert r.flips >= 1 and r.box is not None
    hi_limit = r.box["limits"]["facilitation_quality"][1]
    # the box is the weak-facilitation corner, and says so
    assert hi_limit is not None and hi_limit < 0.5 and "facilitation_quality" in r.box["sentence"]
    beaten = r.per_condition.drop_duplicates("condition").set_index("condition")["winner_beaten"]
    assert beaten[~low.to_numpy()].sum() == 0
    files = write_robustness(r, tmp_path / "robustness")
    assert {"summary.csv", "conditions.csv", "runs.csv", "robustness.png", "report.txt"} <= set(files)
    assert "Where the ranking flips (PRIM)" in (tmp_path / "robustness" / "report.txt").read_text()
    assert not list((tmp_path / "robustness").glob(".*.tmp"))
    # the analysis is a function of the run table: recomputed, the same numbers
    again = analyse(r.runs, r.designs, unc, "scaled")
    pd.testing.assert_frame_equal(again.summary, r.summary)


@pytest.mark.parametrize("body, expected", [
    ('[factors.facilitation_qualty]\nrange = [0.1, 0.5]\n', "unknown parameter"),
    ('[sampler]\nmethod = "sobol"\nn = 8\n[factors.facilitation_quality]\nrange = [0.1, 0.5]\n'
     '[factors.donor_share]\nrange = [0.1, 0.5]\n', "conditions are drawn with lhs or factorial"),
    ('[factors.facilitation_quality]\nrange = [0.1, 1.5]\n', "allowed range of facilitation_quality"),
    ('replications = 0\n[factors.facilitation_quality]\nrange = [0.1, 0.5]\n', "replications"),
])
def test_bad_uncertain_file_is_one_line_exit_2(body, expected, tmp_path, capsys):
    f = _unc_file(tmp_path, body)
    out = tmp_path / "out"
    rc = main(["compare", "district_hubs", "linked_layers", "-n", "2", "--uncertain", str(f), "--out", str(out),
               "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and expected in err, err
    assert not out.exists()


def test_set_and_uncertain_on_the_same_parameter_is_refused(tmp_path, capsys):
    f = _unc_file(tmp_path, '[factors.facilitation_quality]\nrange = [0.1, 0.5]\n')
    rc = main(["compare", "district_hubs", "linked_layers", "-n", "2", "--uncertain", str(f),
               "--set", "facilitation_quality=0.3", "--out", str(tmp_path / "o"), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "either set or uncertain" in err


@pytest.mark.slow
def test_uncertain_through_the_command_with_the_model(tmp_path):
    f = _unc_file(tmp_path, 'replications = 2\nseed = 3\n[sampler]\nmethod = "lhs"\nn = 4\n'
                            '[factors.facilitation_quality]\nrange = [0.3, 0.8]\n')
    out = tmp_path / "out"
    rc = main(["compare", "district_hubs", "linked_layers", "-n", "2", "--uncertain", str(f), "--out", str(out),
               "--processes", "1", "-q", "--set", "horizon_months=84", "--set", "project_months=36",
               "--set", "sustain_horizon_months=48"])
    assert rc == 0
    summary = pd.read_csv(out / "robustness" / "summary.csv")
    assert len(summary) == 2 and (summary["conditions"] == 4).all()
    assert ((summary["regret_mean"] >= 0) & (summary["regret_max"] <= 1)).all()
    runs = pd.read_csv(out / "robustness" / "runs.csv")
    assert len(runs) == 2 * 4 * 2
    assert (out / "robustness" / "robustness.png").stat().st_size > 0
    report = (out / "robustness" / "report.txt").read_text(encoding="utf-8")
    assert "## Is the choice robust?" in (out / "report.md").read_text(encoding="utf-8")
    assert report.splitlines()[0] in (out / "report.md").read_text(encoding="utf-8")
    assert "id='fig-robustness'" in (out / "report.html").read_text(encoding="utf-8")


def test_cost_of_donor_budgets_and_ranks_on_the_donors_money_only():
    scaled = [True] * 18 + [False] * 2
    runs = _runs({"A (dear)": (scaled, [1000.0 + r for r in range(20)]),
                  "B (weak)": ([True] * 5 + [False] * 15, [300.0 + r for r in range(20)])})
    # A costs ~1010 in all, of which the donor pays half: within a 600 k USD donor budget, not a total one
    assert decide(runs, target=parse_target("scaled>=0.6"), budget=600).chosen is None
    d = decide(runs, target=parse_target("scaled>=0.6"), budget=600, cost_of="donor")
    assert d.chosen == "A (dear)" and any("donor cost" in line for line in d.lines)
    assert d.ranking.set_index("design").loc["A (dear)", "cost"] == pytest.approx(0.5 * 1009.5)


def test_no_difference_is_called_clear_on_a_handful_of_runs():
    # 6 of 6 against 0 of 6: the paired interval excludes zero, but 6 runs are a handful
    runs = _runs({"A (base)": ([False] * 6, [500.0] * 6), "B (new)": ([True] * 6, [500.0] * 6)})
    pairs = pairwise(runs, "scaled")
    assert pairs["lo"].iloc[0] > 0 and not pairs["clear"].iloc[0]
    line = verdict(runs)[0]
    assert "not called clear on 6 paired runs" in line and "clear (the 95%" not in line
    # the same contrast on 20 pairs is called clear
    runs20 = _runs({"A (base)": ([False] * 20, [500.0] * 20), "B (new)": ([True] * 20, [500.0] * 20)})
    assert pairwise(runs20, "scaled")["clear"].iloc[0]
    assert "clear (the 95% interval excludes zero)" in verdict(runs20)[0]
