"""Scaled copies of the default scenario for the benchmarks.

The default alliance is one national platform over five districts (two pilot
districts with a district platform and four community platforms each, three
districts outside the alliance). A scaled scenario keeps the national platform
and repeats that block of five districts ``copies`` times, each copy with its
own platforms, linking members, outsiders and exchange links, so every
mechanism does the same work per organisation as in the default run.
"""

from __future__ import annotations

import copy

from model.scenario import Scenario, load_scenario


def _size(base: Scenario) -> tuple[int, int]:
    """(organisations on the national platform, organisations per copy of the district block)."""
    st = base.structure
    national = sum(sum(s.members.values()) * s.count for s in st.platforms if s.district is None)
    per_block = sum(sum(s.members.values()) * s.count for s in st.platforms if s.district is not None)
    per_block += sum(sum(d.outsiders.values()) for d in st.districts)
    return national, per_block


def copies_for(n_target: int, base: Scenario | None = None) -> int:
    """How many copies of the district block give about ``n_target`` organisations."""
    national, per_block = _size(base or load_scenario("default"))
    return max(1, round((n_target - national) / per_block))


def scaled_scenario(copies: int, base: Scenario | None = None) -> Scenario:
    """The default scenario (or ``base``) with its district block repeated ``copies`` times.

    District, platform and exchange names get a `` #k`` suffix in copy ``k``;
    platforms under the national platform keep it as their parent.
    """
    base = base or load_scenario("default")
    st = base.structure.model_dump(mode="python")
    national = {s["name"] for s in st["platforms"] if s["district"] is None}
    districts, platforms, exchanges = [], [s for s in st["platforms"] if s["district"] is None], []
    for k in range(copies):
        def tag(name: str, k: int = k) -> str:
            return name if name in national else f"{name} #{k + 1}"

        for d in st["districts"]:
            districts.append({**copy.deepcopy(d), "name": tag(d["name"])})
        for s in st["platforms"]:
            if s["district"] is None:
                continue
            s2 = copy.deepcopy(s)
            s2["name"], s2["district"] = tag(s["name"]), tag(s["district"])
            s2["parent"] = tag(s["parent"]) if s["parent"] else None
            platforms.append(s2)
        exchanges.extend((tag(a), tag(b)) for a, b in st["exchanges"])
    if st["organisations"]:
        raise ValueError("scaling a scenario with named organisations is not supported")
    data = base.model_dump(mode="python")
    data["name"] = f"{base.name}x{copies}"
    data["structure"] = {**st, "districts": districts, "platforms": platforms, "exchanges": exchanges}
    return Scenario.model_validate(data)


def scenario_with_about(n_target: int, base: Scenario | None = None) -> Scenario:
    """A scaled default scenario with about ``n_target`` organisations."""
    base = base or load_scenario("default")
    return scaled_scenario(copies_for(n_target, base), base)
