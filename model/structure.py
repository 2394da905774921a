"""Build the alliance from a scenario's structure: agents, platforms, links, traits.

Runs once per model, before the first month, so plain Python loops over
platforms and kinds are fine here; the monthly step only touches the arrays
this module returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .kinds import KIND_INDEX, KINDS, LEVEL_INDEX
from .mechanisms.membership import lead_organisation
from .scenario import Beta, Scenario


@dataclass
class World:
    """The fixed shape of an alliance: who exists, where, on which platforms.

    Agent arrays have one row per organisation; platform arrays one row per
    platform; ``edge_*`` arrays one row per (organisation, platform) seat, the
    COO form of the membership matrix (recruitable seats start inactive).
    """

    kind: np.ndarray
    level: np.ndarray
    district: np.ndarray
    home_platform: np.ndarray
    in_pilot: np.ndarray
    influence: np.ndarray
    capacity: np.ndarray
    engagement: np.ndarray
    threshold: np.ndarray
    reach: np.ndarray
    marginalised: np.ndarray
    champion: np.ndarray
    decision_maker: np.ndarray
    names: list[str | None]
    platform_names: list[str]
    platform_level: np.ndarray
    platform_district: np.ndarray
    platform_parent: np.ndarray
    platform_facilitation: np.ndarray
    lead: int
    edge_agent: np.ndarray
    edge_platform: np.ndarray
    edge_linking: np.ndarray
    edge_active: np.ndarray
    district_names: list[str]
    district_pilot: np.ndarray
    district_communities: np.ndarray
    vertical: sp.csr_array
    horizontal: sp.csr_array

    @property
    def n(self) -> int:
        return len(self.kind)

    @property
    def n_platforms(self) -> int:
        return len(self.platform_names)

    def membership(self, active: np.ndarray | None = None) -> sp.coo_array:
        """Organisation x platform membership matrix (1 where the seat is active)."""
        act = self.edge_active if active is None else active
        return sp.coo_array(
            (act.astype(float), (self.edge_agent, self.edge_platform)),
            shape=(self.n, self.n_platforms),
        )


def _beta(rng: np.random.Generator, dist: Beta, size: int) -> np.ndarray:
    if dist.sd == 0 or size == 0:
        return np.full(size, dist.mean)
    # method of moments: mean m, variance v -> a = m*c, b = (1-m)*c with c = m(1-m)/v - 1
    m = min(max(dist.mean, 1e-6), 1 - 1e-6)
    c = m * (1 - m) / dist.sd**2 - 1
    return rng.beta(m * c, (1 - m) * c, size)


def build_world(scenario: Scenario, rng: np.random.Generator) -> World:
    """Lay out agents, platforms and links of ``scenario`` with traits drawn from ``rng``."""
    st = scenario.structure
    params = scenario.parameters
    district_index = {d.name: i for i, d in enumerate(st.districts)}
    expanded = st.expanded_platforms()
    pidx = {name: i for i, (name, _) in enumerate(expanded)}
    groups: dict[str, list[int]] = {}
    for i, (_, spec) in enumerate(expanded):
        groups.setdefault(spec.name, []).append(i)

    kinds: list[int] = []
    homes: list[int] = []
    districts: list[int] = []
    levels: list[int] = []
    names: list[str | None] = []
    e_agent: list[int] = []
    e_plat: list[int] = []
    e_link: list[bool] = []
    e_active: list[bool] = []
    forced_champion: list[int] = []
    forced_marginalised: list[int] = []
    counted_members: list[list[int]] = [[] for _ in expanded]

    def add_agent(kind: int, home: int, district: int, level: int, name: str | None = None) -> int:
        kinds.append(kind)
        homes.append(home)
        districts.append(district)
        levels.append(level)
        names.append(name)
        return len(kinds) - 1

    def seat(agent: int, platform: int, linking: bool, active: bool = True) -> None:
        e_agent.append(agent)
        e_plat.append(platform)
        e_link.append(linking)
        e_active.append(active)

    for p, (_, spec) in enumerate(expanded):
        d = district_index[spec.district] if spec.district else -1
        for kind_name, count in spec.members.items():
            for _ in range(count):
                a = add_agent(KIND_INDEX[kind_name], p, d, LEVEL_INDEX[spec.level])
                seat(a, p, False)
                counted_members[p].append(a)
    for org in st.organisations:
        first = pidx[org.platforms[0]]
        spec = expanded[first][1]
        d = district_index[spec.district] if spec.district else -1
        a = add_agent(KIND_INDEX[org.kind], first, d, LEVEL_INDEX[spec.level], org.name)
        for i, p in enumerate(org.platforms):
            seat(a, pidx[p], i > 0)
        if org.champion:
            forced_champion.append(a)
        if org.marginalised:
            forced_marginalised.append(a)
    # outsiders: organisations of a district outside the alliance, recruitable in pilot districts
    local_of: dict[int, list[int]] = {}
    mid_of: dict[int, list[int]] = {}
    for p, (_, spec) in enumerate(expanded):
        if spec.district:
            d = district_index[spec.district]
            (local_of if spec.level == "local" else mid_of).setdefault(d, []).append(p)
    recruit_targets: list[tuple[int, list[int]]] = []
    for d, dist in enumerate(st.districts):
        for kind_name, count in dist.outsiders.items():
            k = KIND_INDEX[kind_name]
            level = LEVEL_INDEX["local" if kind_name == "community_group" else "intermediate"]
            prefer = (local_of if kind_name == "community_group" else mid_of).get(d) or (
                mid_of.get(d) or local_of.get(d) or []
            )
            for _ in range(count):
                a = add_agent(k, -1, d, level)
                if dist.pilot and prefer:
                    recruit_targets.append((a, prefer))

    n = len(kinds)
    kind = np.array(kinds, dtype=np.int8)
    traits = scenario.trait_table()
    influence = np.empty(n)
    capacity = np.empty(n)
    engagement = np.empty(n)
    threshold = np.empty(n)
    reach = np.zeros(n, dtype=np.int32)
    marginalised = np.zeros(n, dtype=bool)
    champion = np.zeros(n, dtype=bool)
    decision_maker = np.zeros(n, dtype=bool)
    for k, kname in enumerate(KINDS):
        idx = np.flatnonzero(kind == k)
        t = traits[kname]
        influence[idx] = _beta(rng, t.influence, idx.size)
        capacity[idx] = _beta(rng, t.capacity, idx.size)
        engagement[idx] = _beta(rng, t.engagement, idx.size)
        threshold[idx] = _beta(rng, t.threshold, idx.size)
        reach[idx] = t.reach
        marginalised[idx] = rng.random(idx.size) < t.marginalised
        champion[idx] = rng.random(idx.size) < t.champion
        decision_maker[idx] = rng.random(idx.size) < t.decision_maker
    champion[forced_champion] = True
    marginalised[forced_marginalised] = True

    # linking members: drawn in proportion to influence, since organisations that
    # carry evidence up a level are usually the ones with a voice there (seed 002)
    for p, (_, spec) in enumerate(expanded):
        if spec.linking_members and spec.parent is not None:
            members = np.array(counted_members[p])
            w = influence[members] / influence[members].sum()
            chosen = rng.choice(members, size=spec.linking_members, replace=False, p=w)
            for a in np.sort(chosen):
                seat(int(a), pidx[spec.parent], True)
    for a, targets in recruit_targets:
        seat(a, targets[int(rng.integers(len(targets)))], False, active=False)
    # the lead organisation allocates the project's money (Sartas et al. 2018): it may
    # take a seat on every platform it funds (process 9, ``lead_allocation``)
    lead = lead_organisation(np.array(e_active, dtype=bool), np.array(e_agent, dtype=np.int64),
                             np.array(e_plat, dtype=np.int64), len(kinds), len(expanded))
    if lead >= 0:
        held = {p for a, p in zip(e_agent, e_plat, strict=True) if a == lead}
        for p in range(len(expanded)):
            if p not in held:
                seat(lead, p, False, active=False)

    n_p = len(expanded)
    parent = np.array([pidx[s.parent] if s.parent else -1 for _, s in expanded], dtype=np.int64)
    edge_agent = np.array(e_agent, dtype=np.int64)
    edge_platform = np.array(e_plat, dtype=np.int64)
    edge_linking = np.array(e_link, dtype=bool)

    # vertical links weighted by the number of linking members who carry them
    lk = edge_linking
    child = np.asarray(homes, dtype=np.int64)[edge_agent[lk]]
    par = edge_platform[lk]
    ok = child >= 0
    v = sp.coo_array((np.ones(ok.sum()), (child[ok], par[ok])), shape=(n_p, n_p)).tocsr()
    vertical = (v + v.T).tocsr()

    rows: list[int] = []
    cols: list[int] = []
    for a_name, b_name in st.exchanges:
        a_set = groups.get(a_name, [pidx[a_name]] if a_name in pidx else [])
        b_set = groups.get(b_name, [pidx[b_name]] if b_name in pidx else [])
        for i in a_set:
            for j in b_set:
                if i != j:
                    rows += [i, j]
                    cols += [j, i]
    horizontal = sp.coo_array((np.ones(len(rows)), (rows, cols)), shape=(n_p, n_p)).tocsr()
    horizontal.data[:] = 1.0  # duplicates from overlapping pairs collapse to one link

    district = np.array(districts, dtype=np.int64)
    district_pilot = np.array([d.pilot for d in st.districts], dtype=bool)
    fac = np.array(
        [s.facilitation if s.facilitation is not None else params.facilitation_quality for _, s in expanded]
    )
    return World(
        kind=kind,
        level=np.array(levels, dtype=np.int8),
        district=district,
        home_platform=np.array(homes, dtype=np.int64),
        in_pilot=np.where(district >= 0, district_pilot[np.maximum(district, 0)], True),
        influence=influence, capacity=capacity, engagement=engagement, threshold=threshold,
        reach=reach, marginalised=marginalised, champion=champion, decision_maker=decision_maker,
        names=names,
        platform_names=[n for n, _ in expanded],
        platform_level=np.array([LEVEL_INDEX[s.level] for _, s in expanded], dtype=np.int8),
        platform_district=np.array(
            [district_index[s.district] if s.district else -1 for _, s in expanded], dtype=np.int64
        ),
        platform_parent=parent,
        platform_facilitation=fac,
        lead=lead,
        edge_agent=edge_agent, edge_platform=edge_platform, edge_linking=edge_linking,
        edge_active=np.array(e_active, dtype=bool),
        district_names=[d.name for d in st.districts],
        district_pilot=district_pilot,
        district_communities=np.array([d.communities for d in st.districts], dtype=np.int64),
        vertical=vertical, horizontal=horizontal,
    )
