"""build_world: the alliance laid out from a scenario's structure, on the default and a hand-written one."""

from __future__ import annotations

import numpy as np
import pytest

from model.kinds import KIND_INDEX, LEVEL_INDEX
from model.scenario import scenario_from_dict
from model.structure import World, build_world

SMALL = {
    "name": "small",
    "structure": {
        "districts": [
            {"name": "Hill", "pilot": True, "communities": 12,
             "outsiders": {"service_provider": 2, "community_group": 3}},
            {"name": "Plain", "pilot": False, "communities": 7, "outsiders": {"ngo": 4}},
        ],
        "platforms": [
            {"name": "Capital", "level": "national", "members": {"national_government": 2, "regulator": 1}},
            {"name": "Hill", "level": "intermediate", "district": "Hill", "parent": "Capital",
             "linking_members": 1, "members": {"local_government": 2, "ngo": 2}},
            {"name": "Village", "level": "local", "district": "Hill", "parent": "Hill", "count": 2,
             "linking_members": 2, "members": {"community_group": 3, "service_provider": 1}},
        ],
        "organisations": [
            {"name": "Water Trust", "kind": "ngo", "platforms": ["Village 1", "Hill"], "champion": True},
        ],
        "exchanges": [["Village", "Village"], ["Hill", "Capital"]],
    },
}


@pytest.fixture(scope="module")
def small():
    return scenario_from_dict(SMALL, "small.toml")


@pytest.fixture(scope="module")
def small_world(small) -> World:
    return build_world(small, np.random.default_rng(1))


@pytest.fixture(scope="module")
def default_world(default_scenario) -> World:
    return build_world(default_scenario, np.random.default_rng(1))


def counted_seats(w: World) -> np.ndarray:
    """Per platform: active non-linking seats (the counted members plus named organisations' first seat)."""
    keep = w.edge_active & ~w.edge_linking
    return np.bincount(w.edge_platform[keep], minlength=w.n_platforms)


def test_default_world_has_the_counts_of_its_file(default_scenario, default_world):
    w = default_world
    expected = {}
    for name, spec in default_scenario.structure.expanded_platforms():
        expected[name] = sum(spec.members.values())
    assert dict(zip(w.platform_names, counted_seats(w).tolist(), strict=True)) == expected
    outsiders = sum(sum(d.outsiders.values()) for d in default_scenario.structure.districts)
    assert w.n == sum(expected.values()) + outsiders
    assert w.n_platforms == 11
    assert (w.home_platform == -1).sum() == outsiders


def test_kinds_and_levels_follow_the_platform_each_member_sits_on(default_scenario, default_world):
    w = default_world
    for p, (_, spec) in enumerate(default_scenario.structure.expanded_platforms()):
        home = w.home_platform == p
        assert (w.level[home] == LEVEL_INDEX[spec.level]).all()
        for kind, count in spec.members.items():
            assert (w.kind[home] == KIND_INDEX[kind]).sum() == count


@pytest.mark.parametrize("world", ["default_world", "small_world"])
def test_linking_members_sit_on_their_home_and_its_parent(world, request, default_scenario, small):
    w: World = request.getfixturevalue(world)
    scenario = default_scenario if world == "default_world" else small
    link_agents = w.edge_agent[w.edge_linking]
    link_plats = w.edge_platform[w.edge_linking]
    counted = w.home_platform[link_agents]
    named = np.array([name is not None for name in w.names])[link_agents]
    # a counted linking member's extra seat is on its home platform's parent
    assert (w.platform_parent[counted[~named]] == link_plats[~named]).all()
    expanded = scenario.structure.expanded_platforms()
    per_child = np.bincount(counted[~named], minlength=w.n_platforms)
    assert per_child.tolist() == [spec.linking_members for _, spec in expanded]
    # every linking member also holds its (non-linking) seat at home
    home_seats = {(a, p) for a, p, lk in zip(w.edge_agent, w.edge_platform, w.edge_linking, strict=True) if not lk}
    assert all((a, w.home_platform[a]) in home_seats for a in link_agents)


def test_recruitable_seats_are_inactive_and_only_in_pilot_districts(default_world, small_world):
    for w in (default_world, small_world):
        # the lead organisation's seats on the platforms it funds: their own test below
        inactive = ~w.edge_active & (w.edge_agent != w.lead)
        agents = w.edge_agent[inactive]
        assert (w.home_platform[agents] == -1).all()  # only outsiders can be recruited
        assert w.district_pilot[w.district[agents]].all()
        # ... onto a platform of their own district
        assert (w.platform_district[w.edge_platform[inactive]] == w.district[agents]).all()
        assert not w.edge_linking[inactive].any()
        # outsiders of districts outside the alliance have no seat at all
        outside = np.flatnonzero(~w.in_pilot)
        assert not np.isin(w.edge_agent, outside).any()
        # and every pilot outsider has exactly one seat to be recruited to
        pilot_out = np.flatnonzero((w.home_platform == -1) & w.in_pilot)
        assert np.bincount(agents, minlength=w.n)[pilot_out].tolist() == [1] * pilot_out.size


def test_community_groups_are_recruited_to_community_platforms(small_world):
    w = small_world
    inactive = ~w.edge_active & (w.edge_agent != w.lead)
    cg = w.kind[w.edge_agent[inactive]] == KIND_INDEX["community_group"]
    assert (w.platform_level[w.edge_platform[inactive][cg]] == LEVEL_INDEX["local"]).all()
    assert (w.platform_level[w.edge_platform[inactive][~cg]] == LEVEL_INDEX["intermediate"]).all()


@pytest.mark.parametrize("world", ["default_world", "small_world"])
def test_the_lead_organisation_holds_one_seat_on_every_platform(world, request):
    # the best-connected member at launch allocates the money (Sartas et al. 2018); it
    # may join every platform it does not sit on, by recruitment (process 9)
    w: World = request.getfixturevalue(world)
    launch = w.edge_active
    k = np.bincount(w.edge_platform[launch], minlength=w.n_platforms).astype(float)
    degree = np.bincount(w.edge_agent[launch], weights=k[w.edge_platform[launch]] - 1, minlength=w.n)
    assert w.lead == int(degree.argmax())
    mine = w.edge_agent == w.lead
    assert sorted(w.edge_platform[mine].tolist()) == list(range(w.n_platforms))
    assert not w.edge_linking[mine & ~launch].any()
    assert (w.edge_agent[~launch] == w.lead).sum() == w.n_platforms - launch[mine].sum()


@pytest.mark.parametrize("world", ["default_world", "small_world"])
def test_link_matrices_are_symmetric_without_self_links(world, request):
    w: World = request.getfixturevalue(world)
    for m in (w.vertical, w.horizontal):
        d = m.toarray()
        np.testing.assert_array_equal(d, d.T)
        assert np.all(np.diag(d) == 0)
        assert np.all(d >= 0)


def test_vertical_weights_count_linking_members(small_world):
    w = small_world
    names = w.platform_names
    v = w.vertical.toarray()
    cap, hill, v1, v2 = (names.index(x) for x in ("Capital", "Hill", "Village 1", "Village 2"))
    assert v[hill, cap] == 1
    # Water Trust (home Village 1, also on Hill) carries the link like a counted linking member
    assert v[v1, hill] == 2 + 1 and v[v2, hill] == 2
    assert v[v1, cap] == 0 and v[v1, v2] == 0


def test_exchanges_link_platform_groups_once(small_world, default_world):
    w = small_world
    h = w.horizontal.toarray()
    names = w.platform_names
    v1, v2, hill, cap = (names.index(x) for x in ("Village 1", "Village 2", "Hill", "Capital"))
    assert h[v1, v2] == 1 and h[hill, cap] == 1
    assert h.sum() == 4  # two undirected links
    # default: North-South, and each North community with each South community
    assert default_world.horizontal.toarray().sum() == 2 * (1 + 4 * 4)


def test_named_organisation_sits_on_all_its_platforms_as_a_champion(small_world):
    w = small_world
    a = w.names.index("Water Trust")
    plats = sorted(w.platform_names[p] for p in w.edge_platform[w.edge_agent == a])
    assert plats == ["Hill", "Village 1"]
    assert w.champion[a]
    assert w.platform_names[w.home_platform[a]] == "Village 1"
    assert w.kind[a] == KIND_INDEX["ngo"]


def test_small_world_counts(small_world):
    w = small_world
    assert w.n == 3 + 4 + 2 * 4 + 1 + 5 + 4
    counts = dict(zip(w.platform_names, counted_seats(w).tolist(), strict=True))
    assert counts == {"Capital": 3, "Hill": 4, "Village 1": 5, "Village 2": 4}
    assert w.platform_district.tolist() == [-1, 0, 0, 0]
    assert w.district_communities.tolist() == [12, 7]
    assert w.in_pilot.sum() == w.n - 4  # only Plain's four NGOs are outside the alliance
    assert (w.platform_facilitation == 0.7).all()  # the default facilitation_quality


def test_traits_are_in_range(default_world):
    w = default_world
    for x in (w.influence, w.capacity, w.engagement, w.threshold):
        assert np.all((x >= 0) & (x <= 1))
    assert (w.reach[w.kind == KIND_INDEX["local_government"]] == 4).all()
    assert not w.marginalised[w.kind == KIND_INDEX["national_government"]].any()


def test_same_seed_same_world_and_different_seed_different_traits(default_scenario):
    a = build_world(default_scenario, np.random.default_rng(7))
    b = build_world(default_scenario, np.random.default_rng(7))
    c = build_world(default_scenario, np.random.default_rng(8))
    for field in World.__dataclass_fields__:
        x, y = getattr(a, field), getattr(b, field)
        if hasattr(x, "toarray"):
            np.testing.assert_array_equal(x.toarray(), y.toarray())
        elif isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y)
        else:
            assert x == y
    assert not np.array_equal(a.influence, c.influence)
    np.testing.assert_array_equal(a.kind, c.kind)  # the layout itself is fixed by the file


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_linking_members_are_drawn_like_successive_weighted_draws_without_replacement(seed):
    from model.structure import _weighted_sample_per_group

    weight = np.array([1.0, 2.0, 7.0])
    groups = 20_000
    group = np.repeat(np.arange(groups), 3)
    for k in (1, 2):
        chosen = _weighted_sample_per_group(group, np.tile(weight, groups), np.full(groups, k),
                                            np.random.default_rng(seed))
        assert chosen.size == k * groups
        assert np.all(np.bincount(group[chosen], minlength=groups) == k)  # k distinct per group
        share = np.bincount(chosen % 3, minlength=3) / groups
        # exact inclusion chances of rng.choice(3, k, replace=False, p=weight / 10)
        p = weight / weight.sum()
        second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(3) if i != j) for j in range(3)])
        expected = p if k == 1 else p + second
        np.testing.assert_allclose(share, expected, atol=0.012)  # se <= 0.0035
    everyone = _weighted_sample_per_group(group[:6], np.tile(weight, 2), np.array([3, 0]),
                                          np.random.default_rng(seed))
    np.testing.assert_array_equal(everyone, [0, 1, 2])


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_largest_keys_per_group_picks_what_a_stable_sort_by_group_and_descending_key_picks(seed):
    from model.structure import _largest_keys_per_group

    g = np.random.default_rng(seed)
    group = np.sort(g.integers(0, 300, 3_000))
    # few distinct keys, so ties are common; some -inf (weight 0) and NaN
    key = g.choice(np.array([-3.0, -2.0, -1.0, -0.5, -np.inf, np.nan]), group.size)
    k = g.integers(0, 6, 300)
    order = np.lexsort((-key, group))  # the numpy form: stable, NaN last
    gs = group[order]
    rank = np.arange(gs.size) - np.searchsorted(gs, gs, side="left")
    expected = np.sort(order[rank < k[gs]])
    np.testing.assert_array_equal(_largest_keys_per_group(group, key, k), expected)
