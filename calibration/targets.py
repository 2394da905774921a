"""Calibration targets: what the model must reproduce, read from TOML (+ CSV).

A targets file names a base scenario, how many replications to run per
parameter set, optionally the parameters to calibrate and their priors, and a
list of ``[[targets]]``. Each target is one of three kinds:

``range``
    a statistic of runs lies in ``[low, high]`` (``months to a functioning
    alliance between 12 and 36``);
``compare``
    a statistic in one arm is at least ``ratio`` x the same statistic in a paired
    arm plus ``difference`` (``share scaled with government >= 2 x share
    without``); arms are parameter overrides applied on top of the calibrated
    parameters, and both arms use the same replication seeds;
``series``
    an observed adoption series from a CSV file (``month`` plus ``share`` or
    ``adopters``), compared with the mean simulated series.

Every target turns into a discrepancy ``d >= 0`` (0 when it holds) and the ABC
distance is ``sum(weight * d)``; see :func:`discrepancy` and docs/calibration.md.
Bad input raises :class:`~model.errors.LasimInputError` with one line naming the
file, the target or row, and the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from model.errors import LasimInputError, did_you_mean
from model.shipped import resolve, shipped
from model.tomlfile import parse_toml
from model.validation import Finite, format_validation_error

from .simulator import ModelSimulator, Simulator

#: Statistics of one outcome over replications.
STATISTICS = {
    "mean": "mean over runs (missing values ignored)",
    "median": "median over runs; a missing time (the event never happened) counts as "
    "later than any",
    "share": "share of runs in which the outcome is true (non-zero)",
    "happened": "share of runs in which the outcome is not missing (the event happened)",
}
KINDS = ("range", "compare", "series")
#: Largest discrepancy one target contributes: a run that never produces the
#: outcome must not make the distance infinite, or pyabc's median epsilon stalls.
MAX_DISCREPANCY = 10.0

# keys every kind of target accepts; each kind adds its own
_COMMON_KEYS = {"name", "kind", "description", "outcome", "set", "weight", "source"}
_TARGET_KEYS = {
    "range": _COMMON_KEYS | {"statistic", "month", "low", "high", "scale"},
    "compare": _COMMON_KEYS | {"statistic", "month", "versus", "versus_outcome", "versus_statistic",
                               "versus_month", "ratio", "difference", "scale"},
    "series": _COMMON_KEYS | {"file", "level", "population"},
}


@dataclass(frozen=True)
class Quantity:
    """One statistic of runs: an outcome, how runs are summarised, in which arm."""

    outcome: str
    statistic: str = "mean"
    #: a month, or the first and last month of a window whose mean (months without a
    #: value skipped) is the run's value
    month: int | tuple[int, int] | None = None
    overrides: tuple[tuple[str, float], ...] = ()

    @property
    def arm(self) -> tuple[tuple[str, float], ...]:
        return self.overrides


@dataclass(frozen=True)
class Target:
    """One calibration target (see the module docstring for the kinds)."""

    name: str
    kind: str
    quantity: Quantity
    weight: float = 1.0
    description: str = ""
    source: str = ""
    low: float = -math.inf
    high: float = math.inf
    versus: Quantity | None = None
    ratio: float = 1.0
    difference: float = 0.0
    scale: float = 1.0
    observed: pd.DataFrame | None = field(default=None, compare=False)

    @property
    def quantities(self) -> list[Quantity]:
        return [self.quantity] + ([self.versus] if self.versus is not None else [])

    def observed_value(self) -> Any:
        """What the target asks for, for tables and the stored observed statistics."""
        if self.kind == "range":
            return [self.low, self.high]
        if self.kind == "compare":
            return [self.ratio, self.difference]
        assert self.observed is not None
        return self.observed["share"].to_numpy()

    def describe(self) -> str:
        """A one-line plain statement of the target."""
        q = self.quantity
        what = f"{q.statistic} {q.outcome}{month_text(q.month)}"
        if self.kind == "range":
            return f"{what} in [{self.low:g}, {self.high:g}]" + _arm_text(q)
        if self.kind == "compare":
            assert self.versus is not None
            v = self.versus
            other = f"{v.statistic} {v.outcome}{month_text(v.month)}"
            extra = f" + {self.difference:g}" if self.difference else ""
            return f"{what}{_arm_text(q)} >= {self.ratio:g} x {other}{_arm_text(v)}{extra}"
        return f"mean {q.outcome} vs {self.source} (RMSE over {len(self.observed)} months)"


def _arm_text(q: Quantity) -> str:
    return " [" + ", ".join(f"{k}={v:g}" for k, v in q.overrides) + "]" if q.overrides else ""


@dataclass
class TargetSet:
    """A parsed, validated targets file."""

    path: Path
    scenario: str
    replications: int
    targets: list[Target]
    priors: dict[str, tuple[float, float]] = field(default_factory=dict)
    parameters: list[str] = field(default_factory=list)
    description: str = ""

    def arms(self) -> list[tuple[tuple[str, float], ...]]:
        """The distinct sets of overrides the targets need, base arm first."""
        seen: dict[tuple[tuple[str, float], ...], None] = {(): None}
        for t in self.targets:
            for q in t.quantities:
                seen.setdefault(q.arm, None)
        return list(seen)

    def arm_needs_series(self, arm: tuple[tuple[str, float], ...]) -> bool:
        return any(
            q.arm == arm and (t.kind == "series" or q.month is not None)
            for t in self.targets
            for q in t.quantities
        )

    def used_arms(self) -> list[tuple[tuple[str, float], ...]]:
        """Arms some target reads (the base arm only when a target uses it)."""
        used = {q.arm for t in self.targets for q in t.quantities}
        return [a for a in self.arms() if a in used]


def resolve_targets_path(name_or_path: str | Path) -> Path:
    """A targets file by path, or a shipped one by name (``seed_patterns``)."""
    return resolve(name_or_path, "calibration", "targets", "targets")


def shipped_targets() -> list[Path]:
    """The targets files shipped in ``calibration/targets``."""
    return sorted(shipped("calibration", "targets").values())


# --- the file, typed ----------------------------------------------------------------------
# Types, unknown keys and simple bounds are pydantic's (one line through
# model.validation.format_validation_error, as for scenarios and sweep specs); what needs
# the model (outcome and parameter names, ranges, the horizon) or a CSV is checked below.
_FILE = ConfigDict(extra="forbid", strict=True)
Statistic = Literal[tuple(STATISTICS)]  # type: ignore[valid-type]
#: ``month = 36``, or a window ``month = [37, 60]``: single months of a series can lack a
#: value (shares of attendance in a month without meetings), a window's mean has one
def _check_month(value: Any) -> Any:
    whole = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    window = (isinstance(value, list) and len(value) == 2
              and all(isinstance(m, int) and not isinstance(m, bool) for m in value))
    if not (whole or window):
        raise ValueError("expected a month (a whole number >= 0) or a window of months [first, last]")
    return value


Month = Annotated[Any, BeforeValidator(_check_month)]


def month_text(month: int | tuple[int, int] | None) -> str:
    """`` at month 6`` or `` over months 37-60`` (empty for a run outcome)."""
    if month is None:
        return ""
    if isinstance(month, tuple):
        return f" over months {month[0]}-{month[1]}"
    return f" at month {month}"


def _month(where: str, key: str, month: int | list[int] | None) -> int | tuple[int, int] | None:
    if not isinstance(month, list):
        return month
    first, last = month
    if first < 1 or last < first:
        raise LasimInputError(
            f"{where}.{key}: [{first}, {last}] is not a window of months; expected [first, last] "
            "with 1 <= first <= last"
        )
    return (first, last)


class PriorFile(BaseModel):
    """``[priors] NAME = {low = .., high = ..}``: a uniform prior."""

    model_config = _FILE
    low: Finite
    high: Finite


class TargetFile(BaseModel):
    """One ``[[targets]]`` table as written; which keys it may hold depends on its kind."""

    model_config = _FILE
    name: str = Field(min_length=1)
    kind: Literal[KINDS]  # type: ignore[valid-type]
    description: str = ""
    source: str = ""
    weight: Finite = Field(1.0, gt=0)
    outcome: str | None = None
    statistic: Statistic = "mean"
    month: Month | None = None
    set: dict[str, Finite] | None = None
    low: Finite | None = None
    high: Finite | None = None
    scale: Finite | None = Field(None, gt=0)
    versus: dict[str, Finite] | None = None
    versus_outcome: str | None = None
    versus_statistic: Statistic | None = None
    versus_month: Month | None = None
    ratio: Finite = Field(1.0, ge=0)
    difference: Finite = 0.0
    file: str | None = None
    level: str | int | None = None
    population: Finite | None = Field(None, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _kind_and_its_keys(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        kind = raw.get("kind")
        if kind is None:
            paired = {"versus", "versus_outcome", "versus_month", "versus_statistic"} & set(raw)
            kind = "series" if "file" in raw else ("compare" if paired else "range")
            raw = {**raw, "kind": kind}
        if kind in _TARGET_KEYS:
            extra = set(raw) - _TARGET_KEYS[kind]
            if extra:
                raise ValueError(f"unknown key {sorted(extra)[0]!r} for a {kind} target"
                                 f"{did_you_mean(sorted(extra)[0], _TARGET_KEYS[kind])}; allowed: "
                                 f"{', '.join(sorted(_TARGET_KEYS[kind]))}")
        return raw


class TargetsFile(BaseModel):
    """A targets TOML file as written."""

    model_config = _FILE
    scenario: str = "default"
    replications: int = Field(3, ge=1)
    description: str = ""
    parameters: list[str] = Field(default_factory=list)
    priors: dict[str, PriorFile] = Field(default_factory=dict)
    targets: list[TargetFile] = Field(default_factory=list)


def _target_locator(raw: Mapping[str, Any]) -> Any:
    """Name ``targets.0`` as the messages always have: ``targets[0] (P1)``."""
    def locate(parts: list[str]) -> str:
        if len(parts) >= 2 and parts[0] == "targets" and parts[1].isdigit():
            i = int(parts[1])
            items = raw.get("targets") if isinstance(raw.get("targets"), list) else []
            name = items[i].get("name") if i < len(items) and isinstance(items[i], dict) else None
            head = f"targets[{i}]" + (f" ({name})" if isinstance(name, str) and name else "")
            return ".".join([head, *parts[2:]])
        return ".".join(parts)
    return locate


def _overrides(
    where: str, key: str, raw: Mapping[str, float] | None, specs: Mapping[str, Any]
) -> tuple[tuple[str, float], ...]:
    out = []
    for name, v in (raw or {}).items():
        if name not in specs:
            raise LasimInputError(
                f"{where}.{key}.{name}: unknown parameter{did_you_mean(name, specs)}; known: {', '.join(sorted(specs))}"
            )
        spec = specs[name]
        if not spec.low <= v <= spec.high:
            raise LasimInputError(
                f"{where}.{key}.{name}: {v:g} is outside the allowed range "
                f"[{spec.low:g}, {spec.high:g}]"
            )
        out.append((name, float(v)))
    return tuple(sorted(out))


def _quantity(
    where: str,
    sim: Simulator,
    outcome: str | None,
    statistic: str,
    month: int | tuple[int, int] | None,
    overrides: Mapping[str, float] | None,
    *,
    outcome_key: str = "outcome",
    month_key: str = "month",
    set_key: str = "set",
) -> Quantity:
    if outcome is None:
        raise LasimInputError(f"{where}.{outcome_key}: missing (an outcome name)")
    if month is not None:
        fields = sim.series_fields()
        if outcome not in fields:
            raise LasimInputError(
                f"{where}.{outcome_key}: unknown series outcome {outcome!r}{did_you_mean(outcome, fields)} "
                f"(with {month_key}); "
                f"known: {', '.join(fields)}"
            )
    else:
        fields = sim.summary_fields()
        if outcome not in fields:
            raise LasimInputError(
                f"{where}.{outcome_key}: unknown outcome {outcome!r}{did_you_mean(outcome, fields)}; "
                f"known run outcomes: "
                f"{', '.join(fields)} (series outcomes need month = N)"
            )
    return Quantity(
        outcome=outcome,
        statistic=statistic,
        month=month,
        overrides=_overrides(where, set_key, overrides, sim.parameter_specs()),
    )


def load_series_csv(
    path: Path, *, level: str | None = None, population: float | None = None
) -> pd.DataFrame:
    """Read an observed adoption series: columns ``month`` and ``share`` or ``adopters``.

    ``adopters`` (a cumulative count) is turned into a share with ``population``
    (from the target, or a ``population`` column). A ``level`` column, if present,
    is filtered to ``level``. Returns a frame with ``month`` and ``share``.

    Raises
    ------
    LasimInputError
        Naming the file and line (the header is line 1) of the first problem.
    """
    try:
        df = pd.read_csv(path, comment="#", skip_blank_lines=True)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise LasimInputError(f"{path}: cannot read CSV ({str(exc).splitlines()[0]})") from None
    df.columns = [str(c).strip() for c in df.columns]
    # Line numbers for messages: comment lines are skipped by pandas, so count them.
    lines = [
        i + 1
        for i, raw in enumerate(path.read_text(encoding="utf-8").splitlines())
        if raw.strip() and not raw.lstrip().startswith("#")
    ]
    line_of = lines[1:]
    time_col = "month" if "month" in df.columns else ("time" if "time" in df.columns else None)
    if time_col is None:
        raise LasimInputError(
            f"{path}: missing column 'month' (need month and share or adopters; found "
            f"{', '.join(df.columns) or 'no columns'})"
        )
    value_col = (
        "share" if "share" in df.columns else ("adopters" if "adopters" in df.columns else None)
    )
    if value_col is None:
        raise LasimInputError(
            f"{path}: missing column 'share' or 'adopters' (found {', '.join(df.columns)})"
        )
    rows = np.arange(len(df))
    if "level" in df.columns:
        levels = sorted(str(v) for v in df["level"].dropna().unique())
        if level is None and len(levels) > 1:
            raise LasimInputError(
                f"{path}: column 'level' holds {', '.join(levels)}; "
                "the target must name level = ..."
            )
        if level is not None:
            if level not in levels:
                raise LasimInputError(
                    f"{path}: no rows with level {level!r}; levels: {', '.join(levels)}"
                )
            rows = np.flatnonzero(df["level"].astype(str).to_numpy() == level)
    if len(rows) == 0:
        raise LasimInputError(f"{path}: no data rows")
    out_month, out_value, pops = [], [], []
    for i in rows:
        where = f"{path}: line {line_of[i]}"
        for col in (time_col, value_col) + (("population",) if "population" in df.columns else ()):
            v = pd.to_numeric(pd.Series([df[col].iloc[i]]), errors="coerce").iloc[0]
            if pd.isna(v):
                raise LasimInputError(f"{where}: {col} = {df[col].iloc[i]!r} is not a number")
        m, v = float(df[time_col].iloc[i]), float(df[value_col].iloc[i])
        if m < 0 or not m.is_integer():
            raise LasimInputError(f"{where}: {time_col} = {m:g} must be a whole month >= 0")
        if out_month and m <= out_month[-1]:
            raise LasimInputError(
                f"{where}: {time_col} = {m:g} does not increase (previous {out_month[-1]:g}); "
                "time must be strictly increasing"
            )
        if v < 0:
            raise LasimInputError(f"{where}: {value_col} = {v:g} is negative")
        if value_col == "share" and v > 1:
            raise LasimInputError(f"{where}: share = {v:g} is above 1 (a share is 0..1)")
        if "population" in df.columns:
            pops.append(float(df["population"].iloc[i]))
        out_month.append(m)
        out_value.append(v)
    values = np.asarray(out_value)
    if value_col == "adopters":
        if population is None and pops:
            pop = np.asarray(pops)
        elif population is not None:
            pop = np.full(len(values), float(population))
        else:
            raise LasimInputError(
                f"{path}: column 'adopters' needs a population (a 'population' column or "
                "population = N in the target)"
            )
        if np.any(pop <= 0):
            raise LasimInputError(f"{path}: population must be > 0")
        too_many = np.flatnonzero(values > pop)
        if too_many.size:
            i = rows[too_many[0]]
            raise LasimInputError(f"{path}: line {line_of[i]}: adopters exceed the population")
        values = values / pop
    return pd.DataFrame({"month": np.asarray(out_month, dtype=int), "share": values})


def load_targets(name_or_path: str | Path, simulator: Simulator | None = None) -> TargetSet:
    """Parse and validate a targets file.

    Parameters
    ----------
    name_or_path : str or Path
        A TOML file, or the name of a shipped one (``seed_patterns``).
    simulator : Simulator, optional
        Checks outcome and parameter names; default: the model on the file's scenario.

    Raises
    ------
    LasimInputError
        One line naming the file, the target and the field.
    """
    path = resolve_targets_path(name_or_path)
    data, _ = read_targets_file(path)
    scenario = data.scenario
    scenario_path = path.parent / scenario
    if scenario.endswith(".toml") and scenario_path.exists():
        scenario = str(scenario_path)
    if simulator is None:
        simulator = ModelSimulator(scenario)
    specs = simulator.parameter_specs()

    priors: dict[str, tuple[float, float]] = {}
    for name, prior in data.priors.items():
        where = f"{path}: priors.{name}"
        if name not in specs:
            raise LasimInputError(f"{where}: unknown parameter{did_you_mean(name, specs)}; "
                                  f"known: {', '.join(sorted(specs))}")
        check_prior_range(name, prior.low, prior.high, specs[name], where=where)
        priors[name] = (prior.low, prior.high)
    for p in data.parameters:
        if p not in specs:
            raise LasimInputError(
                f"{path}: parameters: unknown parameter {p!r}{did_you_mean(p, specs)}; "
                f"known: {', '.join(sorted(specs))}"
            )
    if not data.targets:
        raise LasimInputError(f"{path}: no [[targets]]: give at least one target")
    targets: list[Target] = []
    names: set[str] = set()
    for i, t in enumerate(data.targets):
        targets.append(_parse_target(path, i, t, simulator, names))
    return TargetSet(
        path=path,
        scenario=scenario,
        replications=data.replications,
        targets=targets,
        priors=priors,
        parameters=list(data.parameters),
        description=data.description,
    )


def read_targets_file(path: Path) -> tuple[TargetsFile, dict[str, Any]]:
    """The typed file and its raw TOML; checks what needs no model (types, keys, bounds).

    Raises
    ------
    LasimInputError
        One line naming the file, the target and the field.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LasimInputError(f"{path}: cannot read ({exc})") from None
    raw = parse_toml(text, str(path))
    try:
        return TargetsFile.model_validate(raw), raw
    except ValidationError as exc:
        raise LasimInputError(format_validation_error(exc, str(path), TargetsFile,
                                                      locate=_target_locator(raw))) from None


def check_prior_range(name: str, low: float, high: float, spec: Any, *, where: str) -> None:
    """A prior ``[low, high]`` must be non-empty and inside the parameter's allowed range."""
    if not low < high:
        raise LasimInputError(f"{where}: low = {low:g} must be below high = {high:g}")
    if low < spec.low or high > spec.high:
        raise LasimInputError(
            f"{where}: [{low:g}, {high:g}] is outside the allowed range of {name} "
            f"[{spec.low:g}, {spec.high:g}]"
        )


def _parse_target(path: Path, i: int, t: TargetFile, sim: Simulator, names: set[str]) -> Target:
    where = f"{path}: targets[{i}] ({t.name})"
    if t.name in names:
        raise LasimInputError(f"{where}.name: duplicate target name")
    names.add(t.name)
    common = dict(name=t.name, kind=t.kind, weight=t.weight, description=t.description, source=t.source)
    month_a = _month(where, "month", t.month)
    if t.kind == "range":
        q = _quantity(where, sim, t.outcome, t.statistic, month_a, t.set)
        if t.low is None and t.high is None:
            raise LasimInputError(f"{where}: a range target needs low and/or high")
        low = t.low if t.low is not None else -math.inf
        high = t.high if t.high is not None else math.inf
        if low > high:
            raise LasimInputError(f"{where}.low: {low:g} is above high = {high:g}")
        width = high - low
        default_scale = (
            width
            if math.isfinite(width) and width > 0
            else max(1.0, abs(low if math.isfinite(low) else high))
        )
        scale = t.scale if t.scale is not None else default_scale
        return Target(quantity=q, low=low, high=high, scale=scale, **common)
    if t.kind == "compare":
        q = _quantity(where, sim, t.outcome, t.statistic, month_a, t.set)
        # the other arm: the same outcome and month unless versus_* says otherwise
        same = month_a if t.versus_outcome is None else None
        month = _month(where, "versus_month", t.versus_month) if t.versus_month is not None else same
        v = _quantity(where, sim, t.versus_outcome or t.outcome, t.versus_statistic or t.statistic,
                      month, t.versus or {})
        if v == q:
            raise LasimInputError(
                f"{where}: versus compares the arm with itself; change set, versus or versus_month"
            )
        scale = t.scale if t.scale is not None else 1.0
        return Target(quantity=q, versus=v, ratio=t.ratio, difference=t.difference, scale=scale, **common)
    # series
    if t.file is None:
        raise LasimInputError(f"{where}.file: missing (a CSV with month and share or adopters)")
    csv = (path.parent / t.file) if not Path(t.file).is_absolute() else Path(t.file)
    if not csv.is_file():
        raise LasimInputError(f"{where}.file: {csv} does not exist")
    fields = sim.series_fields()
    if t.outcome not in fields:
        raise LasimInputError(
            f"{where}.outcome: unknown series outcome {t.outcome!r}{did_you_mean(t.outcome, fields)}; "
            f"known: {', '.join(fields)}"
        )
    observed = load_series_csv(csv, level=None if t.level is None else str(t.level), population=t.population)
    overrides = _overrides(where, "set", t.set, sim.parameter_specs())
    horizon = sim.horizon(dict(overrides))
    late = observed["month"] > horizon
    if late.any():
        raise LasimInputError(
            f"{csv}: month {int(observed['month'][late].iloc[0])} is beyond the scenario horizon "
            f"({horizon} months)"
        )
    q = Quantity(outcome=str(t.outcome), statistic="mean", overrides=overrides)
    common["source"] = common["source"] or csv.name
    return Target(quantity=q, observed=observed, **common)


# --- statistics of runs and discrepancies ------------------------------------------------


def _as_float(v: Any) -> float:
    if v is None:
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def statistic(values: Sequence[Any], how: str) -> float:
    """Summarise one outcome over replications (see :data:`STATISTICS`)."""
    x = np.array([_as_float(v) for v in values], dtype=float)
    if how == "mean":
        finite = x[~np.isnan(x)]
        return float(finite.mean()) if finite.size else math.nan
    if how == "median":
        return float(np.median(np.where(np.isnan(x), np.inf, x)))
    if how == "share":
        return float(np.mean(np.nan_to_num(x, nan=0.0) != 0))
    if how == "happened":
        return float(np.mean(~np.isnan(x)))
    raise ValueError(how)


def discrepancy(target: Target, stats: Mapping[str, Any]) -> float:
    """How far simulated statistics are from a target: 0 when it holds.

    - ``range``: distance from the value to ``[low, high]`` divided by ``scale``
      (default: the width of the range);
    - ``compare``: ``max(0, ratio * b + difference - a) / scale`` (default scale 1);
    - ``series``: root mean square difference between the mean simulated share
      and the observed share over the observed months.

    Missing or infinite statistics give :data:`MAX_DISCREPANCY`, as does anything
    larger.
    """
    if target.kind == "series":
        sim = np.asarray(stats[target.name], dtype=float)
        obs = target.observed["share"].to_numpy()
        if sim.shape != obs.shape or not np.all(np.isfinite(sim)):
            return MAX_DISCREPANCY
        return float(min(np.sqrt(np.mean((sim - obs) ** 2)), MAX_DISCREPANCY))
    if target.kind == "range":
        v = _as_float(stats[target.name])
        if math.isnan(v):
            return MAX_DISCREPANCY
        if target.low <= v <= target.high:
            return 0.0
        gap = (target.low - v) if v < target.low else (v - target.high)
        d = gap / target.scale
    else:
        a, b = _as_float(stats[target.name + ":a"]), _as_float(stats[target.name + ":b"])
        need = target.ratio * b + target.difference if target.ratio else target.difference
        if math.isnan(a) or math.isnan(b) or math.isnan(need):
            return MAX_DISCREPANCY
        if a >= need:
            return 0.0
        d = (need - a) / target.scale
    return float(min(d, MAX_DISCREPANCY)) if math.isfinite(d) else MAX_DISCREPANCY


def holds(target: Target, stats: Mapping[str, Any]) -> bool:
    """Whether a range or compare target holds for these statistics."""
    return discrepancy(target, stats) == 0.0
