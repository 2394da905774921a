"""Build the alliance from a scenario's structure: agents, platforms, links, traits.

Runs once per model, before the first month, in array operations over blocks of
organisations (a million build in seconds); the monthly step only touches the
arrays this module returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numba import njit

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


def _weighted_sample_per_group(
    group: np.ndarray, weight: np.ndarray, k: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Per group, ``k[group]`` positions drawn without replacement with chances proportional to ``weight``.

    ``group`` is sorted. Efraimidis and Spirakis (2006): each item gets the key
    ``log(u) / weight``; the ``k`` largest keys of a group are a weighted sample
    without replacement, the same distribution as successive weighted draws
    (``rng.choice(..., replace=False, p=...)``), for every group at once.
    Returns the chosen positions, sorted.
    """
    if group.size == 0:
        return np.empty(0, dtype=np.int64)
    with np.errstate(divide="ignore"):
        key = np.log(rng.random(group.size)) / weight
    return _largest_keys_per_group(group, key, np.asarray(k, dtype=np.int64))


@njit(cache=True)
def _largest_keys_per_group(group: np.ndarray, key: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Sorted positions of the ``k[group]`` largest keys of each run of equal ``group`` values.

    Ties go to the earlier position and a NaN key comes last, as a stable sort by group
    and then by descending key would order them. Groups hold a few organisations and
    ``k`` is a few linking members, so picking the largest ``k`` times over beats sorting
    all of them (``numpy.lexsort`` of a million keys took 0.12 s of the 1M build).
    """
    n = group.shape[0]
    chosen = np.zeros(n, dtype=np.bool_)
    start = 0
    while start < n:
        end = start
        while end < n and group[end] == group[start]:
            end += 1
        for _ in range(min(max(k[group[start]], 0), end - start)):
            best = -1
            for i in range(start, end):
                if chosen[i]:
                    continue
                # strictly larger, so the earlier of equal keys stays; any number beats a NaN
                if best < 0 or key[i] > key[best] or (np.isnan(key[best]) and not np.isnan(key[i])):
                    best = i
            chosen[best] = True
        start = end
    return np.flatnonzero(chosen)


def build_world(scenario: Scenario, rng: np.random.Generator) -> World:
    """Lay out agents, platforms and links of ``scenario`` with traits drawn from ``rng``.

    Array operations over whole blocks of organisations, with Python loops only over
    platform specifications, districts and named organisations, so a million
    organisations build in seconds. Agents are numbered platform by platform (the
    counted members, in the order of each platform's ``members``), then named
    organisations, then each district's outsiders; seats follow the same order, then
    linking seats, then recruitable seats.
    """
    st = scenario.structure
    params = scenario.parameters
    district_index = {d.name: i for i, d in enumerate(st.districts)}
    specs = st.platforms
    spec_start = np.concatenate([[0], np.cumsum([s.count for s in specs])]).astype(np.int64)
    n_p = int(spec_start[-1])
    names_of_platforms = [n for n, _ in st.expanded_platforms()]
    pidx = {name: i for i, name in enumerate(names_of_platforms)}
    group_of = {s.name: np.arange(spec_start[i], spec_start[i + 1]) for i, s in enumerate(specs)}

    def spec_array(values, dtype) -> np.ndarray:
        """One value per specification, repeated over its copies (one per platform)."""
        return np.repeat(np.array(values, dtype=dtype), [s.count for s in specs])

    platform_level = spec_array([LEVEL_INDEX[s.level] for s in specs], np.int8)
    platform_district = spec_array([district_index[s.district] if s.district else -1 for s in specs], np.int64)
    facilitation = spec_array(
        [s.facilitation if s.facilitation is not None else params.facilitation_quality for s in specs], float
    )
    # a parent named by its group name is its first copy, as before (names are unique)
    parent = spec_array([pidx[s.parent] if s.parent else -1 for s in specs], np.int64)

    # counted members: one entry per (specification, kind) with its count, expanded per
    # platform and then per organisation, in the order of each specification's members
    e_kind = np.array([KIND_INDEX[k] for sp_ in specs for k in sp_.members], dtype=np.int8)
    e_count = np.array([c for sp_ in specs for c in sp_.members.values()], dtype=np.int64)
    n_entries = np.array([len(sp_.members) for sp_ in specs], dtype=np.int64)
    entries_of_platform = np.repeat(n_entries, [sp_.count for sp_ in specs])
    first_entry = np.repeat(np.cumsum(n_entries) - n_entries, [sp_.count for sp_ in specs])
    u_plat = np.repeat(np.arange(n_p, dtype=np.int64), entries_of_platform)
    u_entry = np.repeat(first_entry - (np.cumsum(entries_of_platform) - entries_of_platform), entries_of_platform)
    u_entry += np.arange(u_entry.size, dtype=np.int64)
    c_kind = np.repeat(e_kind[u_entry], e_count[u_entry]) if u_entry.size else np.empty(0, np.int8)
    c_plat = np.repeat(u_plat, e_count[u_entry]) if u_entry.size else np.empty(0, np.int64)
    n_counted = c_kind.size

    # named organisations (few: a loop)
    o_kind, o_home, o_seat_agent, o_seat_plat, o_seat_link = [], [], [], [], []
    names: list[str | None] = [None] * n_counted
    for j, org in enumerate(st.organisations):
        o_kind.append(KIND_INDEX[org.kind])
        o_home.append(pidx[org.platforms[0]])
        names.append(org.name)
        for i, p in enumerate(org.platforms):
            o_seat_agent.append(n_counted + j)
            o_seat_plat.append(pidx[p])
            o_seat_link.append(i > 0)
    o_home_a = np.array(o_home, dtype=np.int64)

    # outsiders: organisations of a district outside the alliance, one entry per (district, kind)
    o_entries = [(d, KIND_INDEX[k], c, k == "community_group", dist.pilot)
                 for d, dist in enumerate(st.districts) for k, c in dist.outsiders.items()]
    x_d, x_kind, x_count, x_community, x_pilot = (np.array(col).reshape(-1) for col in zip(*o_entries, strict=True)) \
        if o_entries else (np.empty(0, np.int64), np.empty(0, np.int8), np.empty(0, np.int64),
                           np.empty(0, bool), np.empty(0, bool))
    x_count = x_count.astype(np.int64)
    out_kind = [np.repeat(x_kind.astype(np.int8), x_count)]
    out_district = [np.repeat(x_d.astype(np.int64), x_count)]
    out_level = [np.repeat(np.where(x_community.astype(bool), LEVEL_INDEX["local"], LEVEL_INDEX["intermediate"])
                           .astype(np.int8), x_count)]
    n_named = len(o_kind)
    first_out = n_counted + n_named

    kind = np.concatenate([c_kind, np.array(o_kind, dtype=np.int8), *out_kind]).astype(np.int8)
    n = kind.size
    names += [None] * (n - len(names))
    home = np.concatenate([c_plat, o_home_a, np.full(n - first_out, -1, dtype=np.int64)])
    district = np.concatenate([
        platform_district[c_plat], platform_district[o_home_a], *out_district,
    ]).astype(np.int64)
    level = np.concatenate([
        platform_level[c_plat], platform_level[o_home_a], *out_level,
    ]).astype(np.int8)

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
    for j, org in enumerate(st.organisations):
        champion[n_counted + j] |= org.champion
        marginalised[n_counted + j] |= org.marginalised

    # linking members: drawn in proportion to influence, since organisations that
    # carry evidence up a level are usually the ones with a voice there (seed 002)
    links_wanted = spec_array([s.linking_members if s.parent is not None else 0 for s in specs], np.int64)
    candidates = (links_wanted[c_plat] > 0).nonzero()[0]  # counted members are sorted by platform
    chosen = candidates[_weighted_sample_per_group(c_plat[candidates], influence[candidates], links_wanted, rng)]
    l_agent = chosen
    l_plat = parent[c_plat[chosen]]

    # recruitable seats: each pilot-district outsider on one of its district's platforms, at random:
    # community groups on a community platform, others on a district platform (else the other kind)
    n_d = len(st.districts)
    local_p = platform_level == LEVEL_INDEX["local"]
    in_d = (platform_district >= 0).nonzero()[0]
    cell = 2 * platform_district[in_d] + local_p[in_d]  # (district, local?) cells, platforms sorted by cell
    by_cell = in_d[np.argsort(cell, kind="stable")]
    cell_size = np.bincount(cell, minlength=2 * n_d)
    cell_start = np.cumsum(cell_size) - cell_size
    want = 2 * x_d.astype(np.int64) + x_community.astype(np.int64)
    want = np.where(cell_size[want] > 0, want, want ^ 1) if want.size else want
    ok = x_pilot.astype(bool) & (cell_size[want] > 0) if want.size else np.empty(0, bool)
    recruitable = np.repeat(ok, x_count)
    r_agent = first_out + recruitable.nonzero()[0]
    r_cell = np.repeat(want, x_count)[recruitable]
    r_plat = by_cell[cell_start[r_cell] + rng.integers(0, np.maximum(cell_size[r_cell], 1))] \
        if r_agent.size else r_agent

    edge_agent = np.concatenate([np.arange(n_counted), np.array(o_seat_agent, dtype=np.int64), l_agent,
                                 r_agent]).astype(np.int64)
    edge_platform = np.concatenate([c_plat, np.array(o_seat_plat, dtype=np.int64), l_plat, r_plat]).astype(np.int64)
    edge_linking = np.concatenate([np.zeros(n_counted, bool), np.array(o_seat_link, dtype=bool),
                                   np.ones(l_agent.size, bool), np.zeros(r_agent.size, bool)])
    edge_active = np.concatenate([np.ones(n_counted + len(o_seat_agent) + l_agent.size, bool),
                                  np.zeros(r_agent.size, bool)])
    # the lead organisation allocates the project's money (Sartas et al. 2018): it may
    # take a seat on every platform it funds (process 9, ``lead_allocation``)
    lead = int(lead_organisation(edge_active, edge_agent, edge_platform, kind.shape[0], n_p))
    if lead >= 0:
        held = np.zeros(n_p, dtype=bool)
        held[edge_platform[edge_agent == lead]] = True
        offered = (~held).nonzero()[0]
        edge_agent = np.concatenate([edge_agent, np.full(offered.size, lead, dtype=np.int64)])
        edge_platform = np.concatenate([edge_platform, offered.astype(np.int64)])
        edge_linking = np.concatenate([edge_linking, np.zeros(offered.size, bool)])
        edge_active = np.concatenate([edge_active, np.zeros(offered.size, bool)])

    # vertical links weighted by the number of linking members who carry them
    lk = edge_linking
    child = home[edge_agent[lk]]
    par = edge_platform[lk]
    ok = child >= 0
    v = sp.coo_array((np.ones(ok.sum()), (child[ok], par[ok])), shape=(n_p, n_p)).tocsr()
    vertical = (v + v.T).tocsr()

    # exchange links: every platform of one side with every platform of the other (a name is
    # a platform or a group of copies, each a run of consecutive platforms), in array operations
    # over all pairs at once (a large alliance has thousands of pairs)
    def run_of(name: str) -> tuple[int, int]:
        if name in group_of:
            g = group_of[name]
            return (int(g[0]) if g.size else 0), g.size
        return (pidx[name], 1) if name in pidx else (0, 0)

    runs = np.array([(*run_of(a), *run_of(b)) for a, b in st.exchanges], dtype=np.int64).reshape(-1, 4)
    a_start, a_size, b_start, b_size = runs.T
    per_pair = a_size * b_size
    pair = np.repeat(np.arange(per_pair.size), per_pair)
    k = np.arange(pair.size) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    i = a_start[pair] + k // b_size[pair]
    j = b_start[pair] + k % b_size[pair]
    keep = i != j
    # both directions; duplicates from overlapping pairs collapse to one link below
    r = np.concatenate([i[keep], j[keep]])
    c = np.concatenate([j[keep], i[keep]])
    horizontal = sp.coo_array((np.ones(r.size), (r, c)), shape=(n_p, n_p)).tocsr()
    horizontal.data[:] = 1.0  # duplicates from overlapping pairs collapse to one link

    district_pilot = np.array([d.pilot for d in st.districts], dtype=bool)
    return World(
        kind=kind,
        level=level,
        district=district,
        home_platform=home,
        in_pilot=np.where(district >= 0, district_pilot[np.maximum(district, 0)], True),
        influence=influence, capacity=capacity, engagement=engagement, threshold=threshold,
        reach=reach, marginalised=marginalised, champion=champion, decision_maker=decision_maker,
        names=names,
        platform_names=names_of_platforms,
        platform_level=platform_level,
        platform_district=platform_district,
        platform_parent=parent,
        platform_facilitation=facilitation,
        lead=lead,
        edge_agent=edge_agent, edge_platform=edge_platform, edge_linking=edge_linking,
        edge_active=edge_active,
        district_names=[d.name for d in st.districts],
        district_pilot=district_pilot,
        district_communities=np.array([d.communities for d in st.districts], dtype=np.int64),
        vertical=vertical, horizontal=horizontal,
    )
