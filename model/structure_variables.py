"""Structure variables: change a base structure by name instead of rewriting it.

A design usually differs from its base in a few numbers: how many pilot
districts, how many community platforms each, how many linking members carry
evidence up a level, who sits on the platforms, which platforms exchange
visits. A scenario file says so in a ``[structure_variables]`` table::

    base = "default"
    [structure_variables]
    community_platforms = 3
    linking_members = 3
    exchange_links = "all"
    district_members = { service_provider = 4, research = 0 }

and the same names work as sweep factors and ``--set`` values, flattened
(``district_members.research``). The levels are the model's: *district*
platforms are the intermediate platforms of pilot districts, *community*
platforms the local ones, *national* the national ones.

Every variable is applied to a copy of the structure and the result is
validated as a whole, so a design that leaves a platform empty or asks for
more linking members than members fails with the usual one-line error.
Applying the same values twice gives the same structure (it sets counts, it
does not add to them), which keeps results reproducible however a scenario
was reached.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ScenarioError
from .kinds import KINDS
from .validation import format_validation_error

#: Exchange patterns, from none to all; a sweep or a search uses the number, a file may use the name.
EXCHANGE_LINKS = ("none", "district", "across", "all")
_EXCHANGE_MEANING = ("no exchange visits", "district platforms of pilot districts exchange pairwise",
                     "also community platforms of different districts", "also community platforms of one district")

_MEMBER_GROUPS = ("national_members", "district_members", "community_members")
_COUNT_HIGH = 1000


@dataclass(frozen=True)
class VariableSpec:
    """One structure variable as a flat name: its range and meaning (like ``ParamSpec``)."""

    name: str
    default: float
    low: float
    high: float
    unit: str
    meaning: str
    integer: bool = True


def _scalar_specs() -> dict[str, VariableSpec]:
    out = {
        "pilot_districts": VariableSpec("pilot_districts", 2, 1, 100, "districts",
                                        "districts that host platforms (first the base's pilots, then its "
                                        "other districts in file order; the rest is where scaling is measured)"),
        "community_platforms": VariableSpec("community_platforms", 4, 0, 100, "per district",
                                            "community (local) platforms in each pilot district (0: none)"),
        "linking_members": VariableSpec("linking_members", 2, 0, _COUNT_HIGH, "members",
                                        "members of each district and community platform who also sit on "
                                        "its parent platform"),
        "district_linking_members": VariableSpec("district_linking_members", 2, 0, _COUNT_HIGH, "members",
                                                 "linking members of each district platform (overrides "
                                                 "linking_members there)"),
        "community_linking_members": VariableSpec("community_linking_members", 2, 0, _COUNT_HIGH, "members",
                                                  "linking members of each community platform (overrides "
                                                  "linking_members there)"),
        "exchange_links": VariableSpec("exchange_links", 2, 0, len(EXCHANGE_LINKS) - 1, "pattern",
                                       "exchange visits: " + ", ".join(
                                           f"{i} {n} ({m})" for i, (n, m) in
                                           enumerate(zip(EXCHANGE_LINKS, _EXCHANGE_MEANING, strict=True)))),
    }
    for group in _MEMBER_GROUPS:
        level = group.split("_")[0]
        for kind in KINDS:
            name = f"{group}.{kind}"
            out[name] = VariableSpec(name, 0, 0, _COUNT_HIGH, "members",
                                     f"{kind} members of each {level} platform")
    return out


VARIABLE_SPECS: dict[str, VariableSpec] = _scalar_specs()

Count = int
_KindCounts = dict[Literal[KINDS], Count]  # type: ignore[valid-type]


class StructureVariables(BaseModel):
    """``[structure_variables]``: named changes to the base scenario's structure.

    Unset variables leave the base as it is.
    """

    model_config = ConfigDict(extra="forbid", strict=False)
    pilot_districts: int | None = Field(None, ge=1, le=100)
    community_platforms: int | None = Field(None, ge=0, le=100)
    linking_members: int | None = Field(None, ge=0, le=_COUNT_HIGH)
    district_linking_members: int | None = Field(None, ge=0, le=_COUNT_HIGH)
    community_linking_members: int | None = Field(None, ge=0, le=_COUNT_HIGH)
    exchange_links: int | None = Field(None, ge=0, le=len(EXCHANGE_LINKS) - 1)
    national_members: _KindCounts = Field(default_factory=dict)
    district_members: _KindCounts = Field(default_factory=dict)
    community_members: _KindCounts = Field(default_factory=dict)
    organisations: list[dict[str, Any]] = Field(
        default_factory=list, description="named organisations added to the base's (as in [[structure.organisations]])")

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a number, not true/false")
        return value

    @field_validator("national_members", "district_members", "community_members", mode="before")
    @classmethod
    def _counts(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            for kind, count in value.items():
                if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= _COUNT_HIGH:
                    raise ValueError(f"{kind} = {count!r}: must be a whole number from 0 to {_COUNT_HIGH}")
        return value

    @field_validator("exchange_links", mode="before")
    @classmethod
    def _exchange_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value not in EXCHANGE_LINKS:
                raise ValueError(f"{value!r}: must be one of {', '.join(EXCHANGE_LINKS)} (or 0..3)")
            return EXCHANGE_LINKS.index(value)
        return value

    def flat(self) -> dict[str, Any]:
        """The set variables as flat names (``district_members.ngo``), as sweeps and ``--set`` name them."""
        out: dict[str, Any] = {}
        for name in ("pilot_districts", "community_platforms", "linking_members", "district_linking_members",
                     "community_linking_members", "exchange_links"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for group in _MEMBER_GROUPS:
            for kind, count in getattr(self, group).items():
                out[f"{group}.{kind}"] = count
        return out


def is_structure_variable(name: str) -> bool:
    """True for a flat structure-variable name (``community_platforms``, ``district_members.ngo``)."""
    return name in VARIABLE_SPECS


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Flat names -> the ``[structure_variables]`` table (``district_members.ngo`` -> nested)."""
    out: dict[str, Any] = {}
    for name, value in flat.items():
        group, dot, kind = name.partition(".")
        if dot:
            out.setdefault(group, {})[kind] = value
        else:
            out[name] = value
    return out


def parse_variables(data: Any, source: str, prefix: str = "structure_variables") -> StructureVariables:
    """Validate a ``[structure_variables]`` table (raises one-line :class:`ScenarioError`)."""
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{source}: {prefix or 'structure_variables'}: must be a table of structure variables")
    try:
        return StructureVariables.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, source, StructureVariables, prefix=prefix)) from None


# --------------------------------------------------------------------------- reading a structure


def _pilots(st: dict[str, Any]) -> list[str]:
    return [d["name"] for d in st["districts"] if d.get("pilot", True)]


def _level_specs(st: dict[str, Any], level: str) -> list[dict[str, Any]]:
    pilots = set(_pilots(st))
    return [p for p in st["platforms"]
            if p["level"] == level and (level == "national" or p.get("district") in pilots)]


def _expanded_names(spec: dict[str, Any]) -> list[str]:
    n = spec.get("count", 1)
    return [spec["name"]] if n == 1 else [f"{spec['name']} {i + 1}" for i in range(n)]


def exchange_pattern(st: dict[str, Any], level: int) -> list[tuple[str, str]]:
    """The exchange pairs of pattern ``level`` (see :data:`EXCHANGE_LINKS`) for structure ``st``."""
    pairs: list[tuple[str, str]] = []
    if level >= 1:
        names = [p["name"] for p in _level_specs(st, "intermediate")]
        pairs += [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    groups = [p["name"] for p in _level_specs(st, "local")]
    if level >= 2:
        by_district = {p["name"]: p.get("district") for p in _level_specs(st, "local")}
        pairs += [(a, b) for i, a in enumerate(groups) for b in groups[i + 1:] if by_district[a] != by_district[b]]
    if level >= 3:
        pairs += [(g, g) for g in groups]
    return pairs


def _pattern_of(st: dict[str, Any]) -> int | None:
    """Which exchange pattern the structure's exchanges are, or None if they are none of them."""
    given = {frozenset(p) for p in st.get("exchanges", [])}
    for level in range(len(EXCHANGE_LINKS)):
        if given == {frozenset(p) for p in exchange_pattern(st, level)}:
            return level
    return None


def structure_values(structure: Any) -> dict[str, Any]:
    """The structure variables a structure has now (where they are uniform), as flat names.

    A variable that differs between platforms of its level (two districts with
    different numbers of community platforms) is left out.
    """
    st = structure.model_dump(mode="python") if hasattr(structure, "model_dump") else structure
    out: dict[str, Any] = {"pilot_districts": len(_pilots(st))}
    pilots = _pilots(st)
    local = _level_specs(st, "local")
    counts = {d: sum(p.get("count", 1) for p in local if p.get("district") == d) for d in pilots}
    if len(set(counts.values())) == 1:
        out["community_platforms"] = next(iter(counts.values()))
    for var, level in (("district_linking_members", "intermediate"), ("community_linking_members", "local")):
        values = {p.get("linking_members", 0) for p in _level_specs(st, level)}
        if len(values) == 1:
            out[var] = values.pop()
    pattern = _pattern_of(st)
    if pattern is not None:
        out["exchange_links"] = pattern
    return out


# --------------------------------------------------------------------------- changing a structure


def _at(source: str, name: str) -> str:
    """Where a variable's value came from: ``file: structure_variables.name`` or ``--set: name``."""
    return f"{source}.{name}" if source.endswith("structure_variables") else f"{source}: {name}"


def _rename(name: str, old: str, new: str) -> str:
    if name == old:
        return new
    if name.startswith(old + " "):
        return new + name[len(old):]
    return f"{name} ({new})"


def _insert_after_level(platforms: list[dict[str, Any]], spec: dict[str, Any]) -> None:
    last = max((i for i, p in enumerate(platforms) if p["level"] == spec["level"]), default=len(platforms) - 1)
    platforms.insert(last + 1, spec)


def _copy_district_platforms(st: dict[str, Any], template: str, new: str, levels: tuple[str, ...]) -> None:
    """Copy the platforms of district ``template`` at ``levels`` into district ``new``."""
    tmpl = [p for p in st["platforms"] if p.get("district") == template and p["level"] in levels]
    names = {p["name"] for p in st["platforms"] if p.get("district") == template}
    for p in tmpl:
        copy = {**p, "name": _rename(p["name"], template, new), "district": new,
                "members": dict(p.get("members", {}))}
        if p.get("parent") in names:
            copy["parent"] = _rename(p["parent"], template, new)
        elif p.get("parent") is not None and p["level"] == "local":
            # a community platform hangs under its own district's platform, if the district has one
            own = [q["name"] for q in st["platforms"] if q.get("district") == new and q["level"] == "intermediate"]
            copy["parent"] = own[0] if own else p["parent"]
        _insert_after_level(st["platforms"], copy)


def _drop_platforms(st: dict[str, Any], gone: list[dict[str, Any]]) -> None:
    """Remove platform specs, the exchanges naming them and named organisations' seats on them."""
    group_names = {p["name"] for p in gone}
    concrete = {n for p in gone for n in _expanded_names(p)}
    st["platforms"] = [p for p in st["platforms"] if p["name"] not in group_names]
    names = group_names | concrete
    st["exchanges"] = [x for x in st.get("exchanges", []) if x[0] not in names and x[1] not in names]
    orgs = []
    for org in st.get("organisations", []):
        seats = [p for p in org["platforms"] if p not in concrete and p not in group_names]
        if seats:  # an organisation whose every platform is gone leaves the alliance
            orgs.append({**org, "platforms": seats})
    st["organisations"] = orgs


def _set_pilots(st: dict[str, Any], k: int, where: str) -> None:
    districts = st["districts"]
    pilots = _pilots(st)
    if k > len(districts):
        raise ScenarioError(f"{_at(where, 'pilot_districts')} = {k}: must be from 1 to {len(districts)} "
                            f"(the base has {len(districts)} districts)")
    if k < len(pilots):
        leaving = set(pilots[k:])
        for d in districts:
            if d["name"] in leaving:
                d["pilot"] = False
        _drop_platforms(st, [p for p in st["platforms"] if p.get("district") in leaving])
    elif k > len(pilots):
        if not pilots:
            raise ScenarioError(f"{_at(where, 'pilot_districts')} = {k}: the base has no pilot district to copy")
        joining = [d for d in districts if not d.get("pilot", True)][:k - len(pilots)]
        for d in joining:
            d["pilot"] = True
            _copy_district_platforms(st, pilots[0], d["name"], ("intermediate", "local"))


def _set_community_platforms(st: dict[str, Any], c: int, where: str) -> None:
    pilots = _pilots(st)
    local = _level_specs(st, "local")
    for d in pilots:
        own = [p for p in local if p.get("district") == d]
        if len(own) > 1:
            raise ScenarioError(f"{_at(where, 'community_platforms')} = {c}: district {d!r} has {len(own)} groups of "
                                "community platforms; the variable needs one group per district")
    if c == 0:
        _drop_platforms(st, local)
        return
    for d in pilots:
        own = [p for p in local if p.get("district") == d]
        if own:
            own[0]["count"] = c
            continue
        if not local:
            raise ScenarioError(f"{_at(where, 'community_platforms')} = {c}: the base has no community "
                                "platform to copy; give one in [[structure.platforms]] (level = \"local\")")
        template = local[0]["district"]
        _copy_district_platforms(st, template, d, ("local",))
        for p in st["platforms"]:
            if p.get("district") == d and p["level"] == "local":
                p["count"] = c


def apply_variables(structure: Mapping[str, Any], variables: StructureVariables | Mapping[str, Any],
                    source: str = "structure_variables") -> dict[str, Any]:
    """``structure`` (a ``Structure`` dumped to plain data) changed by ``variables``, as plain data.

    The caller validates the result as a whole ``Structure``
    (``model.scenario.Structure.with_variables`` does both).

    Parameters
    ----------
    structure
        ``Structure.model_dump(mode="python", exclude_none=True)``.
    variables
        A :class:`StructureVariables` or flat names (``{"community_platforms": 3}``).
    source
        Names the values in errors (a file and table, or ``--set``).

    Raises
    ------
    ScenarioError
        One line naming the variable, its value and what is allowed.
    """
    v = as_variables(variables, source)
    st = copy.deepcopy(dict(structure))
    st["exchanges"] = [tuple(x) for x in st.get("exchanges", [])]
    pattern = _pattern_of(st)
    if v.pilot_districts is not None:
        _set_pilots(st, v.pilot_districts, source)
    if v.community_platforms is not None:
        _set_community_platforms(st, v.community_platforms, source)
    for group, level in zip(_MEMBER_GROUPS, ("national", "intermediate", "local"), strict=True):
        changes = getattr(v, group)
        if changes:
            for p in _level_specs(st, level):
                p["members"] = {k: n for k, n in {**p.get("members", {}), **changes}.items() if n > 0}
    for level, own in (("intermediate", v.district_linking_members), ("local", v.community_linking_members)):
        value = own if own is not None else v.linking_members
        if value is not None:
            for p in _level_specs(st, level):
                if p.get("parent") is not None:
                    p["linking_members"] = value
    reshaped = v.pilot_districts is not None or v.community_platforms is not None
    level = v.exchange_links if v.exchange_links is not None else (pattern if reshaped else None)
    if level is not None:
        # a reshaped structure keeps the base's pattern of exchanges over its new platforms
        st["exchanges"] = exchange_pattern(st, level)
    st["organisations"] = [*st.get("organisations", []), *v.organisations]
    return st


def as_variables(variables: StructureVariables | Mapping[str, Any], source: str) -> StructureVariables:
    """Flat names (``district_members.ngo``) or a parsed table as :class:`StructureVariables`."""
    if isinstance(variables, StructureVariables):
        return variables
    unknown = [n for n in variables if n not in VARIABLE_SPECS]
    if unknown:
        raise ScenarioError(f"{source}: unknown structure variable {unknown[0]!r}; "
                            f"allowed: {', '.join(VARIABLE_SPECS)}")
    return parse_variables(nest(variables), source, prefix="")


def shown(variables: StructureVariables) -> str:
    """``name=value, ...`` of the set variables (for error messages)."""
    return ", ".join(f"{k}={val}" for k, val in variables.flat().items()) or "none"
