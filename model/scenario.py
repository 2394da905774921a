"""Scenarios: everything one run needs, validated, loaded from TOML.

A scenario has three parts: ``structure`` (districts, platforms, who sits on
them, how they link), ``parameters`` (plain-named numbers a user types on the
command line) and ``traits`` (per-kind distributions of stakeholder traits).
Every error a user can make is turned into one line naming the file, the field,
the value and what is allowed (:class:`~model.errors.ScenarioError`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ScenarioError, did_you_mean
from .kinds import KINDS, LEVEL_INDEX, LEVELS
from .mechanisms import MECHANISMS
from .shipped import shipped
from .structure_variables import (
    EXCHANGE_LINKS,
    VARIABLE_SPECS,
    StructureVariables,
    apply_variables,
    as_variables,
    is_structure_variable,
    parse_variables,
    shown,
)
from .tomlfile import parse_toml
from .validation import format_validation_error

_STRICT = ConfigDict(extra="forbid", validate_assignment=False)


def _p(default: float, low: float, high: float, unit: str, meaning: str) -> Any:
    """A parameter field: default, allowed range, unit and one-line meaning."""
    return Field(default, ge=low, le=high, description=meaning,
                 json_schema_extra={"unit": unit, "low": low, "high": high})


class Parameters(BaseModel):
    """Scenario parameters; each has a default, a unit, a range and a meaning."""

    model_config = _STRICT

    # time and money
    horizon_months: int = _p(120, 12, 600, "months", "length of the simulation")
    project_months: int = _p(60, 0, 600, "months", "donor-funded project period from month 0")
    funding_gap_months: int = _p(0, 0, 120, "months", "months with no donor money inside the project")
    funding_gap_start: int = _p(6, 0, 600, "month", "month the funding gap starts")
    donor_share: float = _p(0.7, 0.0, 1.0, "share", "share of platform running costs donors pay during the project")
    cost_sharing: float = _p(0.3, 0.0, 1.0, "share", "share of running costs members pay themselves (quid pro quo)")
    member_funding: float = _p(0.5, 0.0, 1.0, "share", "share of running costs members who fully own a platform pay once the donor is gone (scaled by ownership)")
    government_budget: float = _p(0.4, 0.0, 1.0, "share", "share of running costs government pays once policy is institutionalised")
    donor_distortion: float = _p(0.1, 0.0, 0.5, "per month", "how fast donor money without cost sharing erodes ownership")
    initial_ownership: float = _p(0.2, 0.0, 1.0, "0..1", "members' ownership of each platform at the start")
    ownership_rate: float = _p(0.1, 0.0, 1.0, "per meeting", "how fast meetings members pay for build their ownership")
    meeting_funds: float = _p(0.25, 0.0, 1.0, "share", "funding (share of running costs) at which a due meeting is half as likely as its funds allow")
    case_study_funds: float = _p(0.5, 0.0, 1.0, "share", "funding (share of running costs) at which a case study is half as likely as facilitation allows")
    funds_response_width: float = _p(0.05, 0.0, 0.5, "share", "how gradually meetings and case studies respond to funds around those points (0: hard floors)")
    meeting_cost: float = _p(1.0, 0.0, 100.0, "k USD", "cost of one district platform meeting (national x2, community x0.5)")
    case_study_cost: float = _p(2.0, 0.0, 100.0, "k USD", "cost of one month of an action-research case study")
    # facilitation and platforms
    facilitation_quality: float = _p(0.7, 0.0, 1.0, "0..1", "skill of the platform facilitators")
    meeting_interval: int = _p(2, 1, 12, "months", "months between platform meetings")
    inclusion_barrier: float = _p(0.6, 0.0, 1.0, "0..1", "how much marginalised and private members stay away without proactive facilitation")
    conflict: float = _p(0.6, 0.0, 1.0, "0..1", "how strongly diverse interests erode trust under poor facilitation")
    initial_trust: float = _p(0.3, 0.0, 1.0, "0..1", "every organisation's trust in the alliance at the start")
    trust_base: float = _p(0.2, 0.0, 1.0, "0..1", "trust a meeting builds towards beyond the facilitator's skill (target = trust_base + facilitation - conflict)")
    trust_rate: float = _p(0.12, 0.0, 1.0, "per meeting", "how fast trust moves towards what facilitation allows")
    trust_decay: float = _p(0.04, 0.0, 1.0, "per month", "how fast trust erodes while a platform does not meet")
    trust_attendance: float = _p(0.4, 0.0, 1.0, "0..1", "how much distrust of the alliance keeps members away from meetings")
    champion_boost: float = _p(0.1, 0.0, 0.5, "0..1", "extra effective facilitation when a champion attends")
    functioning_trust: float = _p(0.45, 0.0, 1.0, "0..1", "mean member trust a platform needs to count as functioning")
    functioning_share: float = _p(0.66, 0.0, 1.0, "share", "share of platforms that must function for the alliance to count as functioning")
    # government
    government_involvement: float = _p(0.8, 0.0, 1.0, "0..1", "how engaged government members are (0: absent)")
    government_join_month: int = _p(0, 0, 600, "month", "month government members start to take part")
    policy_threshold: float = _p(0.65, 0.0, 1.0, "share", "influence-weighted adoption among national government and regulators that changes policy")
    policy_effect: float = _p(0.5, 0.0, 1.0, "share", "how much a policy change lowers adoption thresholds everywhere")
    district_policy_threshold: float = _p(0.5, 0.0, 1.0, "share", "influence-weighted adoption among a district's local government that puts the practice in the district's plans and budget")
    programme_districts_per_year: float = _p(1.0, 0.0, 100.0, "per year", "districts a national government programme reaches a year after policy changes (pilots first)")
    policy_dissemination: float = _p(0.015, 0.0, 1.0, "per month", "knowledge that government programmes carry to all districts after a policy change")
    # learning
    learning_rate: float = _p(0.4, 0.0, 1.0, "per meeting", "share of the knowledge gap closed at a well-facilitated meeting")
    exchange_rate: float = _p(0.2, 0.0, 1.0, "0..1", "weight of linked platforms' knowledge and field trials (exchange visits, e-platform)")
    vertical_rate: float = _p(0.3, 0.0, 1.0, "per month", "how much evidence and policy signals linking members carry between levels")
    documentation: float = _p(0.5, 0.0, 1.0, "0..1", "share of knowledge captured by process documentation")
    action_research_intensity: float = _p(0.6, 0.0, 1.0, "per month", "chance a funded platform runs a case study in a month")
    action_research_gain: float = _p(0.3, 0.0, 1.0, "per case study", "knowledge a participant gains from a case study")
    fit_gain: float = _p(0.05, 0.0, 1.0, "per case study", "improvement of the innovation's local fit per case study")
    fit_transfer: float = _p(0.03, 0.0, 1.0, "per month", "documented lessons that raise fit in districts outside the alliance")
    spillover: float = _p(0.05, 0.0, 1.0, "per month", "knowledge adopters' outreach carries to non-members of their district")
    outside_spillover: float = _p(0.02, 0.0, 1.0, "per month", "knowledge that reaches districts outside the alliance without policy")
    # innovation and adoption
    innovation_complexity: float = _p(0.5, 0.0, 1.0, "0..1", "how hard the innovation is to make work (lowers fit and learning)")
    relative_advantage: float = _p(0.6, 0.0, 1.0, "0..1", "how much better the innovation is than current practice")
    external_influence: float = _p(0.01, 0.0, 1.0, "per month", "Bass p: adoption hazard from outside the network")
    imitation: float = _p(0.3, 0.0, 3.0, "per month", "Bass q: adoption hazard per unit share of adopters met")
    threshold_scale: float = _p(1.0, 0.0, 3.0, "x", "multiplies every adoption threshold (0: everyone is ready)")
    support_memory: float = _p(0.8, 0.0, 1.0, "per month", "share of peer support remembered in a month without meetings")
    # turnover, membership, fade
    turnover_rate: float = _p(0.02, 0.0, 0.5, "per month", "chance an organisation's representative changes")
    recruitment_rate: float = _p(0.25, 0.0, 1.0, "per month", "chance a meeting platform recruits an interested non-member")
    dropout_rate: float = _p(0.01, 0.0, 1.0, "per month", "chance a member whose costs outweigh benefits leaves")
    lead_allocation: float = _p(1.0, 0.0, 5.0, "x", "while the donor pays, how much more likely joining is where the lead organisation sits and leaving is furthest from it (Sartas et al. 2018; 0: no effect)")
    fade_scale_months: float = _p(988.0, 1.0, 100000.0, "months", "Weibull scale of abandonment after funding ends (P11)")
    fade_shape: float = _p(0.41, 0.05, 3.0, "-", "Weibull shape of abandonment after funding ends (P11: <1, early failures)")
    policy_protection: float = _p(0.5, 0.0, 1.0, "0..1", "how much institutionalisation backs an adopter against fading, relative to owning a platform that meets")
    abandonment_penalty: float = _p(1.0, 0.0, 5.0, "x", "how much an organisation that abandoned the practice raises its adoption threshold (1: doubles it)")
    support_protection: float = _p(0.7, 0.0, 1.0, "share", "how much district government adoption and ownership protect adopters from fading")
    # outcome definitions
    scale_share: float = _p(0.3, 0.0, 1.0, "share", "adoption share outside the pilot districts that counts as scaled")
    sustain_horizon_months: int = _p(60, 1, 600, "months", "how long after donor funding ends survival of its practisers is measured")
    sustain_min_share: float = _p(0.1, 0.0, 1.0, "share", "share of all organisations practising when donor funding ends below which nothing counts as sustained")
    sustain_ratio: float = _p(0.9, 0.0, 1.0, "share", "survival (share of those practising when donor funding "
                              "ends still practising sustain_horizon_months later) that counts as sustained")

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        # pydantic's lax mode reads true/false as 1/0; in a scenario file that is a mistake, not a number
        if isinstance(value, bool):
            raise ValueError("must be a number, not true/false")
        return value

    @model_validator(mode="after")
    def _gap_inside_horizon(self) -> Parameters:
        if self.funding_gap_months and self.funding_gap_start >= self.horizon_months:
            raise ValueError(
                f"funding_gap_start = {self.funding_gap_start} must be before horizon_months = "
                f"{self.horizon_months} when funding_gap_months > 0"
            )
        # donor money that outlasts the run leaves nothing to sustain (sustained is then false);
        # funding that ends inside it must leave time to see whether the practice lasts
        end = self.project_months + self.sustain_horizon_months
        if self.project_months < self.horizon_months < end:
            raise ValueError(
                f"horizon_months = {self.horizon_months} is too short to measure sustained: donor funding ends "
                f"at project_months = {self.project_months} and survival is measured sustain_horizon_months = "
                f"{self.sustain_horizon_months} later; need horizon_months >= {end}"
            )
        return self


class Beta(BaseModel):
    """A trait distribution on 0..1: a beta distribution with this mean and sd."""

    model_config = _STRICT
    mean: float = Field(ge=0.0, le=1.0)
    sd: float = Field(0.1, ge=0.0, le=0.5)

    @model_validator(mode="after")
    def _feasible(self) -> Beta:
        if self.sd > 0 and self.sd**2 >= self.mean * (1 - self.mean):
            raise ValueError(
                f"sd = {self.sd} is too large for mean = {self.mean}: need sd^2 < mean*(1-mean)"
            )
        return self


class KindTraits(BaseModel):
    """Trait distributions of one stakeholder kind."""

    model_config = _STRICT
    influence: Beta = Beta(mean=0.5, sd=0.15)
    capacity: Beta = Beta(mean=0.5, sd=0.15)
    engagement: Beta = Beta(mean=0.7, sd=0.15)
    threshold: Beta = Beta(mean=0.3, sd=0.1)
    reach: int = Field(0, ge=0, le=1000, description="communities one adopter of this kind serves")
    marginalised: float = Field(0.0, ge=0.0, le=1.0, description="share that are marginalised groups")
    champion: float = Field(0.05, ge=0.0, le=1.0, description="share that are champions")
    decision_maker: float = Field(0.3, ge=0.0, le=1.0, description="share first represented by a decision maker")


def _t(infl, cap, eng, thr, reach=0, marg=0.0, champ=0.05, dm=0.3) -> KindTraits:
    return KindTraits(
        influence=Beta(mean=infl, sd=0.1), capacity=Beta(mean=cap, sd=0.1),
        engagement=Beta(mean=eng, sd=0.1), threshold=Beta(mean=thr, sd=0.08),
        reach=reach, marginalised=marg, champion=champ, decision_maker=dm,
    )


#: Default trait distributions per kind (documented in docs/ODD.md, "Initialisation").
DEFAULT_TRAITS: dict[str, KindTraits] = {
    "national_government": _t(0.9, 0.5, 0.55, 0.30, reach=0, dm=0.3),
    "local_government": _t(0.7, 0.45, 0.65, 0.35, reach=4, dm=0.3),
    "service_provider": _t(0.55, 0.55, 0.7, 0.30, reach=3, dm=0.3),
    "regulator": _t(0.8, 0.5, 0.5, 0.30, reach=0, dm=0.3),
    "ngo": _t(0.45, 0.6, 0.8, 0.25, reach=2, champ=0.1, dm=0.4),
    "community_group": _t(0.25, 0.4, 0.7, 0.25, reach=1, marg=0.5, dm=0.5),
    "research": _t(0.45, 0.8, 0.75, 0.2, reach=0, champ=0.15, dm=0.4),
    "private_sector": _t(0.5, 0.6, 0.45, 0.35, reach=2, dm=0.3),
    "donor": _t(0.7, 0.6, 0.6, 0.3, reach=0, dm=0.3),
    "media": _t(0.4, 0.4, 0.5, 0.3, reach=0, dm=0.3),
}

Count = Annotated[int, Field(ge=0, le=1_000_000)]
KindCounts = dict[Literal[KINDS], Count]  # type: ignore[valid-type]


class District(BaseModel):
    """A district (or city): pilot districts host platforms; others can only be reached."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    pilot: bool = True
    communities: int = Field(40, ge=0, le=10_000_000, description="communities its providers can reach")
    outsiders: KindCounts = Field(default_factory=dict, description="organisations outside the alliance")


class PlatformSpec(BaseModel):
    """One platform, or ``count`` identical ones named ``"<name> 1"`` ... ``"<name> count"``."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    level: Literal[LEVELS]  # type: ignore[valid-type]
    district: str | None = None
    parent: str | None = None
    count: int = Field(1, ge=1, le=100_000)
    linking_members: int = Field(0, ge=0, description="members who also sit on the parent platform")
    facilitation: float | None = Field(None, ge=0.0, le=1.0, description="overrides facilitation_quality here")
    members: KindCounts = Field(default_factory=dict)


class Organisation(BaseModel):
    """A named organisation on one or more named platforms (in addition to the counts)."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    kind: Literal[KINDS]  # type: ignore[valid-type]
    platforms: list[str]
    champion: bool = False
    marginalised: bool = False


class Structure(BaseModel):
    """Districts, platforms, named organisations and horizontal links."""

    model_config = _STRICT
    districts: list[District] = Field(min_length=1)
    platforms: list[PlatformSpec] = Field(min_length=1)
    organisations: list[Organisation] = Field(default_factory=list)
    exchanges: list[tuple[str, str]] = Field(
        default_factory=list, description="pairs of platforms (or platform groups) that exchange visits"
    )

    def expanded_platforms(self) -> list[tuple[str, PlatformSpec]]:
        """Each concrete platform with its own name (``count`` copies expanded)."""
        out = []
        for spec in self.platforms:
            if spec.count == 1:
                out.append((spec.name, spec))
            else:
                out.extend((f"{spec.name} {i + 1}", spec) for i in range(spec.count))
        return out

    def with_variables(self, variables: StructureVariables | dict[str, Any],
                       source: str = "structure_variables") -> Structure:
        """A validated copy changed by structure variables (:mod:`model.structure_variables`).

        Raises
        ------
        ScenarioError
            One line naming the variable (or the part of the structure it broke) and what is allowed.
        """
        v = as_variables(variables, source)
        data = apply_variables(self.model_dump(mode="python", exclude_none=True), v, source)
        try:
            return Structure.model_validate(data)
        except ValidationError as exc:
            line = format_validation_error(exc, source, Structure, prefix="structure")
            raise ScenarioError(f"{line} (after structure variables {shown(v)})") from None

    @model_validator(mode="after")
    def _consistent(self) -> Structure:
        districts = {d.name: d for d in self.districts}
        if len(districts) != len(self.districts):
            raise ValueError("district names must be unique")
        expanded = self.expanded_platforms()
        names = [n for n, _ in expanded]
        groups = {s.name: s for s in self.platforms}
        if len(set(names)) != len(names) or len(groups) != len(self.platforms):
            raise ValueError("platform names must be unique")
        level_of = {n: LEVEL_INDEX[s.level] for n, s in expanded}
        named_extra = {n: 0 for n in names}
        for org in self.organisations:
            if not org.platforms:
                raise ValueError(f"organisation {org.name!r} sits on no platform: name at least one")
            for p in org.platforms:
                if p not in level_of:
                    raise ValueError(
                        f"organisation {org.name!r} names unknown platform {p!r}{did_you_mean(p, names)}; "
                        f"known: {', '.join(names)}"
                    )
                named_extra[p] += 1
        for name, spec in expanded:
            if spec.level != "national":
                if spec.district is None:
                    raise ValueError(f"platform {name!r} at level {spec.level} needs a district")
                if spec.district not in districts:
                    raise ValueError(
                        f"platform {name!r} names unknown district {spec.district!r}{did_you_mean(spec.district, districts)}; known: "
                        f"{', '.join(districts)}"
                    )
                if not districts[spec.district].pilot:
                    raise ValueError(f"platform {name!r} is in district {spec.district!r}, which has pilot = false")
            size = sum(spec.members.values()) + named_extra[name]
            if size == 0:
                raise ValueError(f"platform {name!r} has no members: give it members = {{kind = count}}")
            if spec.linking_members > sum(spec.members.values()):
                raise ValueError(
                    f"platform {name!r} has linking_members = {spec.linking_members}, more than its "
                    f"{sum(spec.members.values())} counted members"
                )
            if spec.parent is not None:
                if spec.parent not in level_of:
                    raise ValueError(
                        f"platform {name!r} names unknown parent {spec.parent!r}{did_you_mean(spec.parent, names)}; "
                        f"known: {', '.join(names)}"
                    )
                if level_of[spec.parent] >= level_of[name]:
                    raise ValueError(
                        f"platform {name!r} ({spec.level}) has parent {spec.parent!r} at the same or a lower level"
                    )
            elif spec.linking_members:
                raise ValueError(f"platform {name!r} has linking_members but no parent platform")
        for a, b in self.exchanges:
            for p in (a, b):
                if p not in level_of and p not in groups:
                    raise ValueError(f"exchange names unknown platform {p!r}{did_you_mean(p, names)}; "
                                     f"known: {', '.join(names)}")
        return self


def unknown_mechanism(name: str) -> str:
    """What is wrong with mechanism ``name``: unknown, the closest known name, and every allowed one."""
    return f"unknown mechanism {name!r}{did_you_mean(name, MECHANISMS)}; allowed: {', '.join(MECHANISMS)}"


def _all_mechanisms() -> dict[str, bool]:
    return dict.fromkeys(MECHANISMS, True)


class Scenario(BaseModel):
    """Everything one run needs."""

    model_config = _STRICT
    name: str = "unnamed"
    description: str = ""
    structure: Structure
    parameters: Parameters = Field(default_factory=Parameters)
    traits: dict[Literal[KINDS], KindTraits] = Field(default_factory=dict)  # type: ignore[valid-type]
    mechanisms: dict[str, bool] = Field(
        default_factory=_all_mechanisms,
        description="which named mechanisms run (model.mechanisms.MECHANISMS); all by default",
    )

    @field_validator("mechanisms", mode="before")
    @classmethod
    def _known_mechanisms(cls, value: Any) -> dict[str, bool]:
        # checked by hand so every mistake reads as one line naming the switch and what is allowed
        if not isinstance(value, dict):
            raise ValueError(f"must be a table of name = true/false; names: {', '.join(MECHANISMS)}")
        out = _all_mechanisms()
        for name, on in value.items():
            shown = str(on).lower() if isinstance(on, bool) else repr(on)
            if name not in MECHANISMS:
                raise ValueError(f"mechanisms.{name} = {shown}: " + unknown_mechanism(name))
            if not isinstance(on, bool):
                raise ValueError(f"mechanisms.{name} = {shown}: must be true or false")
            out[name] = on
        return out

    def knock_out(self, names: Iterable[str], _source: str = "--off") -> Scenario:
        """A validated copy with the named mechanisms switched off (the others keep their setting).

        Raises
        ------
        ScenarioError
            When a name is not in :data:`model.mechanisms.MECHANISMS`.
        """
        names = list(names)
        if not names:
            return self
        switches = dict(self.mechanisms)
        for name in names:
            if name not in MECHANISMS:
                raise ScenarioError(f"{_source} {name}: " + unknown_mechanism(name))
            switches[name] = False
        return self.model_copy(update={"mechanisms": switches})

    def switched_off(self) -> list[str]:
        """Names of the mechanisms this scenario switches off, in the order of ``MECHANISMS``."""
        return [m for m in MECHANISMS if not self.mechanisms.get(m, True)]

    def trait_table(self) -> dict[str, KindTraits]:
        """Traits of every kind: the scenario's own, else the defaults."""
        return {k: self.traits.get(k, DEFAULT_TRAITS[k]) for k in KINDS}

    def with_parameters(self, _source: str = "parameter override", **values: Any) -> Scenario:
        """A validated copy with some parameters changed (``_source`` names them in errors).

        A name may also be a structure variable (``community_platforms``,
        ``district_members.ngo``; :mod:`model.structure_variables`), which
        changes the structure the same way a ``[structure_variables]`` table does.

        Raises
        ------
        ScenarioError
            When a name is unknown or a value is of the wrong type or out of range.
        """
        if not values:
            return self
        data = self.parameters.model_dump()
        structural = {k: v for k, v in values.items() if is_structure_variable(k)}
        for k in values:
            if k not in data and k not in structural:
                raise ScenarioError(f"{_source}: " + _unknown_parameter(k))
        update: dict[str, Any] = {}
        if len(structural) < len(values):
            data.update({k: v for k, v in values.items() if k not in structural})
            try:
                update["parameters"] = Parameters.model_validate(data)
            except ValidationError as exc:
                raise scenario_error(exc, _source, prefix="parameters") from None
        if structural:
            update["structure"] = self.structure.with_variables(structural, _source)
        return self.model_copy(update=update)


# --------------------------------------------------------------------------- parameter table


@dataclass(frozen=True)
class ParamSpec:
    """One scenario parameter: name, default, allowed range, unit, meaning."""

    name: str
    default: float
    low: float
    high: float
    unit: str
    meaning: str
    integer: bool


def parameter_specs() -> dict[str, ParamSpec]:
    """The allowed range of every scenario parameter (sampling and priors use it)."""
    out = {}
    for name, field in Parameters.model_fields.items():
        extra = field.json_schema_extra or {}
        out[name] = ParamSpec(
            name=name, default=field.default, low=extra["low"], high=extra["high"],
            unit=extra["unit"], meaning=field.description or "", integer=field.annotation is int,
        )
    return out


def setting_specs() -> dict[str, Any]:
    """Every name a sweep, ``--set`` or a search may change: parameters, then structure variables.

    Structure variables (:data:`model.structure_variables.VARIABLE_SPECS`) have
    the same fields as :class:`ParamSpec`; all of them are whole numbers.
    """
    return {**parameter_specs(), **VARIABLE_SPECS}


def _unknown_parameter(name: str) -> str:
    names = [*Parameters.model_fields, *VARIABLE_SPECS]
    return (f"unknown parameter {name!r}{did_you_mean(name, names)}; run 'lasim show default' for the list "
            "(structure variables: see docs/ODD.md, 'Structure variables')")


def parse_assignments(items: list[str] | None) -> dict[str, Any]:
    """Parse ``name=value`` strings (the CLI's ``--set``) into typed parameter values.

    Raises
    ------
    ScenarioError
        For a missing ``=``, an unknown name or a value that is not a number.
    """
    specs = setting_specs()
    out: dict[str, Any] = {}
    for item in items or []:
        name, sep, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name:
            raise ScenarioError(f"--set {item!r}: expected name=value, e.g. facilitation_quality=0.4")
        if name not in specs:
            raise ScenarioError(f"--set {item!r}: " + _unknown_parameter(name))
        spec = specs[name]
        try:
            if name == "exchange_links" and not raw.lstrip("-").isdigit():
                if raw not in EXCHANGE_LINKS:
                    raise ValueError(raw)
                raw = str(EXCHANGE_LINKS.index(raw))
            value: Any = int(raw) if spec.integer else float(raw)
        except ValueError:
            kind = "a whole number" if spec.integer else "a number"
            names = " or one of none, district, across, all" if name == "exchange_links" else ""
            raise ScenarioError(
                f"--set {name}={raw!r}: must be {kind} from {spec.low:g} to {spec.high:g} ({spec.unit}){names}"
            ) from None
        out[name] = value
    return out


# --------------------------------------------------------------------------- loading


def _parameter_rule(err: dict[str, Any], loc: str) -> str | None:
    """A parameter's own line: an unknown name with a suggestion, or its unit and range."""
    parts = loc.split(".")
    if len(parts) != 2 or parts[0] != "parameters":
        return None
    name = parts[1]
    if err["type"] == "extra_forbidden":
        return _unknown_parameter(name)
    spec = parameter_specs().get(name)
    if spec is None or err["type"] == "missing":
        return None
    value = err.get("input")
    shown = f" = {value!r}" if value is not None and not isinstance(value, dict | list) else ""
    kind = "a whole number" if spec.integer else "a number"
    return f"{loc}{shown}: must be {kind} from {spec.low:g} to {spec.high:g} ({spec.unit})"


def scenario_error(exc: ValidationError, source: str, prefix: str = "") -> ScenarioError:
    """A scenario's ValidationError as the one-line :class:`ScenarioError`."""
    return ScenarioError(format_validation_error(exc, source, Scenario, prefix=prefix, special=_parameter_rule))


def scenario_names() -> list[str]:
    """Names of the shipped scenarios."""
    return sorted(shipped("model", "scenarios"))


def list_scenarios() -> list[tuple[str, str]]:
    """(name, one-line description) of every shipped scenario."""
    return [(n, load_scenario(n).description.strip().splitlines()[0]) for n in scenario_names()]


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as a dict (parsed TOML)."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise scenario_error(exc, source) from None


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name, or a scenario TOML file by path.

    A file may start from another scenario with ``base = "default"`` (a shipped
    name or a path relative to the file) and change only what differs: its
    ``parameters`` and ``traits`` tables update the base's, a ``structure``
    table replaces it, and a ``structure_variables`` table changes the
    structure by name (:mod:`model.structure_variables`).

    Raises
    ------
    ScenarioError
        For an unknown name, an unreadable or malformed file or an invalid scenario.
    """
    data, source = _read_scenario_data(name_or_path, ())
    return scenario_from_dict(data, source)


def _read_scenario_data(
    name_or_path: str | Path, seen: tuple[tuple[str, str], ...]
) -> tuple[dict[str, Any], str]:
    text_source = str(name_or_path)
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists() or "/" in text_source:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ScenarioError(f"{text_source}: no such scenario file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"{text_source}: cannot read scenario file ({exc.__class__.__name__})") from None
        source = text_source
    else:
        files = shipped("model", "scenarios")
        if text_source not in files:
            raise ScenarioError(
                f"unknown scenario {text_source!r}{did_you_mean(text_source, files)}; shipped scenarios: "
                f"{', '.join(sorted(files))} (or give a .toml path)"
            )
        text = files[text_source].read_text(encoding="utf-8")
        source = f"{text_source}.toml"
    data = parse_toml(text, source, ScenarioError)
    data.setdefault("name", path.stem if source == text_source else text_source)
    variables = data.pop("structure_variables", None)
    data, source = _read_with_base(data, source, text_source, path, seen)
    if variables is not None:
        data = _apply_structure_variables(data, variables, source)
    return data, source


def _apply_structure_variables(data: dict[str, Any], variables: Any, source: str) -> dict[str, Any]:
    """The scenario data with its structure changed by a ``[structure_variables]`` table."""
    parsed = parse_variables(variables, source)
    try:
        structure = Structure.model_validate(data.get("structure"))
    except ValidationError as exc:
        raise scenario_error(exc, source, prefix="structure") from None
    changed = structure.with_variables(parsed, f"{source}: structure_variables")
    return {**data, "structure": changed.model_dump(mode="python", exclude_none=True)}


def _read_with_base(
    data: dict[str, Any], source: str, text_source: str, path: Path, seen: tuple[tuple[str, str], ...]
) -> tuple[dict[str, Any], str]:
    base = data.pop("base", None)
    if base is None:
        return data, source
    if not isinstance(base, str):
        raise ScenarioError(f"{source}: base = {base!r}: must be a scenario name or a .toml path")
    # a file is the same file however its path is spelt (./b.toml, ../d/b.toml, a symlink)
    identity = str(path.resolve()) if source == text_source else source
    if identity in (s[0] for s in seen):
        chain = " -> ".join((*(s[1] for s in seen), source))
        raise ScenarioError(f"{source}: base scenarios form a cycle ({chain}); a base may not lead back to its own file")
    base_ref = base
    is_path = base.endswith(".toml") or "/" in base
    if not is_path and base not in scenario_names() and not Path(base).exists():
        # name the file that asked for the base, not only the base it asked for
        raise ScenarioError(
            f"{source}: base = {base!r}: unknown scenario{did_you_mean(base, scenario_names())}; shipped scenarios: "
            f"{', '.join(scenario_names())} "
            "(or a .toml path)"
        )
    if is_path and source == text_source:
        base_ref = str(path.parent / base)
    if is_path and not Path(base_ref).exists():
        raise ScenarioError(f"{source}: base = {base!r}: no such scenario file ({base_ref})")
    base_data, _ = _read_scenario_data(base_ref, (*seen, (identity, source)))
    merged = dict(base_data)
    for key, value in data.items():
        if key in ("parameters", "traits", "mechanisms") and isinstance(value, dict):
            merged[key] = {**base_data.get(key, {}), **value}
        else:
            merged[key] = value
    if "description" not in data:
        merged["description"] = base_data.get("description", "")
    return merged, source


def scenario_to_toml(scenario: Scenario) -> str:
    """The scenario as TOML, every parameter written out so it can be copied and edited."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["structure"]["exchanges"] = [list(x) for x in data["structure"]["exchanges"]]
    specs = parameter_specs()
    lines = [tomli_w.dumps({"name": data["name"], "description": data["description"]}), "[parameters]"]
    for name, value in data["parameters"].items():
        s = specs[name]
        lines.append(f"{name} = {tomli_w.dumps({'v': value})[4:].strip()}  # {s.unit}, {s.low:g}..{s.high:g}: {s.meaning}")
    lines.append("")
    lines.append("[mechanisms]")
    for name, meaning in MECHANISMS.items():
        lines.append(f"{name} = {'true' if data['mechanisms'].get(name, True) else 'false'}  # process {meaning}")
    lines.append("")
    lines.append(tomli_w.dumps({"structure": data["structure"]}))
    if data["traits"]:
        lines.append(tomli_w.dumps({"traits": data["traits"]}))
    return "\n".join(lines)
