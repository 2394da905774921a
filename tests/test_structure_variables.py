"""Structure variables: each changes the built world the way its name says; designs written with them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from experiments.runs import run_many
from experiments.spec import load_spec
from model.errors import LasimInputError
from model.kinds import KIND_INDEX, LEVEL_INDEX
from model.scenario import load_scenario, parse_assignments
from model.structure import build_world
from model.structure_variables import structure_values

DATA = Path(__file__).parent / "data"
DESIGNS = Path(__file__).resolve().parents[1] / "model" / "scenarios" / "designs"
LOCAL, MID = LEVEL_INDEX["local"], LEVEL_INDEX["intermediate"]


def world(scenario, seed=1):
    return build_world(scenario, np.random.default_rng(seed))


@pytest.fixture(scope="module")
def base():
    return load_scenario("default")


def _platforms_at(w, level):
    return int((w.platform_level == level).sum())


def test_pilot_districts_adds_and_removes_districts_with_their_platforms(base):
    w0 = world(base)
    for k in (1, 3, 4):
        s = base.with_parameters(pilot_districts=k)
        w = world(s)
        assert int(w.district_pilot.sum()) == k
        assert _platforms_at(w, MID) == k
        assert _platforms_at(w, LOCAL) == 4 * k
        # every district platform of a new pilot hangs under the national platform, its communities under it
        for p in np.flatnonzero(w.platform_level == LOCAL):
            parent = w.platform_parent[p]
            assert w.platform_level[parent] == MID and w.platform_district[parent] == w.platform_district[p]
    # the base is unchanged and the setting (districts) is the same
    assert len(world(base.with_parameters(pilot_districts=3)).district_names) == len(w0.district_names)


def test_community_platforms_sets_the_count_per_pilot_district(base):
    for c in (0, 1, 6):
        w = world(base.with_parameters(community_platforms=c))
        assert _platforms_at(w, LOCAL) == 2 * c
        for d in np.flatnonzero(w.district_pilot):
            assert int(((w.platform_level == LOCAL) & (w.platform_district == d)).sum()) == c


def test_linking_members_per_level(base):
    def linking_seats(w, level):
        homes = w.home_platform[w.edge_agent[w.edge_linking]]
        return int((w.platform_level[homes[homes >= 0]] == level).sum())

    w0 = world(base)
    assert linking_seats(w0, LOCAL) == 8 * 2 and linking_seats(w0, MID) == 2 * 2
    w = world(base.with_parameters(linking_members=4))
    assert linking_seats(w, LOCAL) == 8 * 4 and linking_seats(w, MID) == 2 * 4
    w = world(base.with_parameters(linking_members=4, community_linking_members=1))
    assert linking_seats(w, LOCAL) == 8 * 1 and linking_seats(w, MID) == 2 * 4


def test_members_by_kind_per_level(base):
    s = base.with_parameters(**{"community_members.community_group": 10, "district_members.research": 0,
                                "national_members.media": 5})
    w, w0 = world(s), world(base)

    def count(w, level, kind):
        members = (w.home_platform >= 0) & (w.kind == KIND_INDEX[kind])
        return int((w.platform_level[w.home_platform[members]] == level).sum())

    assert count(w, LOCAL, "community_group") == 8 * 10
    assert count(w0, LOCAL, "community_group") == 8 * 6
    assert count(w, MID, "research") == 0 and count(w0, MID, "research") == 2
    assert count(w, LEVEL_INDEX["national"], "media") == 5
    assert count(w, LOCAL, "ngo") == count(w0, LOCAL, "ngo")


@pytest.mark.parametrize(("pattern", "links"), [(0, 0), (1, 1), (2, 1 + 16), (3, 1 + 16 + 2 * 6)])
def test_exchange_links_patterns(base, pattern, links):
    w = world(base.with_parameters(exchange_links=pattern))
    assert int(w.horizontal.nnz) == 2 * links  # symmetric: each link twice


def test_reshaping_keeps_the_base_exchange_pattern(base):
    assert structure_values(base.structure)["exchange_links"] == 2
    s = base.with_parameters(pilot_districts=3)
    assert structure_values(s.structure)["exchange_links"] == 2
    assert int(world(s).horizontal.nnz) == 2 * (3 + 3 * 16)


@pytest.mark.parametrize("name", ["district_hubs", "linked_layers"])
def test_shipped_designs_written_shorter_build_the_same_world(name):
    shipped = DESIGNS / f"{name}.toml"
    short = load_scenario(DATA / f"{name}_short.toml")
    full = load_scenario(shipped)
    assert json.dumps(short.structure.model_dump(mode="json")) == json.dumps(full.structure.model_dump(mode="json"))
    lines = [ln for ln in (DATA / f"{name}_short.toml").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    full_lines = [ln for ln in shipped.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(lines) * 3 < len(full_lines)
    wa, wb = world(short, 5), world(full, 5)
    for field in ("kind", "home_platform", "edge_agent", "edge_platform", "edge_linking", "influence"):
        assert np.array_equal(getattr(wa, field), getattr(wb, field))


def test_applying_twice_is_the_same_structure(base):
    values = {"pilot_districts": 3, "community_platforms": 2, "linking_members": 3, "exchange_links": 3}
    once = base.with_parameters(**values)
    assert once.with_parameters(**values).structure == once.structure


def test_file_table_and_set_agree(tmp_path, base):
    f = tmp_path / "d.toml"
    f.write_text('base = "default"\n[structure_variables]\ncommunity_platforms = 2\nexchange_links = "none"\n')
    from_file = load_scenario(f)
    from_set = base.with_parameters(**parse_assignments(["community_platforms=2", "exchange_links=none"]))
    assert from_file.structure == from_set.structure


@pytest.mark.parametrize(("text", "expect"), [
    ("pilot_districts = 9", "structure_variables.pilot_districts = 9: must be from 1 to 5"),
    ("community_platforms = -1", "structure_variables.community_platforms = -1"),
    ("exchange_links = \"some\"", "must be one of none, district, across, all"),
    ("linking_members = 40", "linking_members = 40, more than its"),
    ("district_members = { wizard = 2 }", "structure_variables.district_members.wizard"),
    ("platforms = 3", "unknown field 'structure_variables.platforms'"),
    ("pilot_districts = true", "must be a number"),
])
def test_bad_variables_are_one_line_errors(tmp_path, text, expect):
    f = tmp_path / "bad.toml"
    f.write_text(f'base = "default"\n[structure_variables]\n{text}\n')
    with pytest.raises(LasimInputError) as err:
        load_scenario(f)
    msg = str(err.value)
    assert "\n" not in msg and expect in msg and str(f) in msg


def test_same_seed_same_output_with_variables(base):
    s = base.with_parameters(community_platforms=2, linking_members=3, horizon_months=24, project_months=12,
                             sustain_horizon_months=12)
    a = run_many([s], [3, 4])
    b = run_many([s], [3, 4])
    assert [r.summary for r in a] == [r.summary for r in b]


def test_sweep_over_a_structure_variable_runs(tmp_path):
    f = tmp_path / "spec.toml"
    f.write_text("""
name = "linking"
scenario = "default"
replications = 1
seed = 3
outcomes = ["scaled", "total_cost"]
[fixed]
horizon_months = 24
project_months = 12
sustain_horizon_months = 12
[factors.linking_members]
levels = [0, 4]
[factors.community_platforms]
levels = [1, 3]
""")
    spec = load_spec(f)
    _, plan = spec.plan()
    assert len(plan) == 4
    base = spec.base_scenario()
    scenarios = [base.with_parameters(linking_members=int(r.linking_members),
                                      community_platforms=int(r.community_platforms)) for r in plan.itertuples()]
    runs = run_many(scenarios, [int(s) for s in plan["seed"]][:1])
    assert all(r.ok for r in runs)
    costs = [r.summary["total_cost"] for r in runs]
    # three community platforms a district meet more often than one: dearer at either linking level
    assert costs[1] > costs[0] and costs[3] > costs[2]


def test_sweep_refuses_a_structure_value_the_base_cannot_take(tmp_path):
    f = tmp_path / "spec.toml"
    f.write_text('name = "x"\nscenario = "default"\n[factors.pilot_districts]\nlevels = [1, 7]\n')
    with pytest.raises(LasimInputError, match="pilot_districts = 7: must be from 1 to 5"):
        load_spec(f)


def test_lasim_sweep_over_members_by_kind(tmp_path):
    from experiments.store import load_results
    from lasim.cli import main

    spec = tmp_path / "spec.toml"
    spec.write_text("""
name = "members"
scenario = "default"
replications = 1
seed = 5
outcomes = ["scaled", "total_cost"]
[fixed]
horizon_months = 24
project_months = 12
sustain_horizon_months = 12
[factors."community_members.community_group"]
levels = [2, 9]
""")
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--processes", "1", "--no-progress"]) == 0
    df = load_results(out)
    assert sorted(df["community_members.community_group"]) == [2, 9]
    assert df["total_cost"].notna().all()
