"""The experiment spec: a small TOML document saying what to run.

A spec names a base scenario, the factors to vary (any scenario parameter, as
levels or as a range with a distribution), a sampler (full factorial, Latin
hypercube, Sobol or Morris), replications, a root seed and the outcomes to keep.
Like a NetLogo BehaviorSpace experiment, it is meant to be read and edited by
hand; like SALib's ``ProblemSpec``, it is one object with verbs (``plan``,
``salib_problem``, ``ema_parameters``).

Every check happens here, before anything is run or written, so a bad spec
costs the user one line of error and leaves their output directory alone.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from model.ensemble import is_ensemble_file, load_ensemble
from model.errors import LasimInputError, did_you_mean
from model.mechanisms import MECHANISMS
from model.runner import SUMMARY_FIELDS, replication_seeds
from model.scenario import load_scenario, setting_specs, unknown_mechanism
from model.shipped import resolve
from model.tomlfile import parse_toml
from model.validation import Finite, format_validation_error

SAMPLERS = ("factorial", "lhs", "sobol", "morris")
# Sampler options each method understands; anything else is a typo worth reporting.
_SAMPLER_KEYS = {
    "factorial": {"method"},
    "lhs": {"method", "n"},
    "sobol": {"method", "n", "second_order"},
    "morris": {"method", "n", "num_levels"},
}
# Our names for distributions -> SALib's codes. Only bounded ones: every scenario
# parameter has an allowed range, and a sample outside it would be rejected.
DISTRIBUTIONS = {
    "uniform": "unif",
    "triangular": "triang",
    "normal": "truncnorm",
    "loguniform": "logunif",
}
# Guards against a typo turning into a week-long sweep.
MAX_RUNS = 5_000_000


@dataclass(frozen=True)
class Factor:
    """One scenario parameter varied by the experiment.

    Exactly one of ``levels`` (discrete values, for full factorial designs) or
    ``low``/``high`` (a range, for sampled designs) is set.
    """

    name: str
    levels: tuple[float, ...] | None = None
    low: float | None = None
    high: float | None = None
    distribution: str = "uniform"
    peak: float | None = None
    mean: float | None = None
    sd: float | None = None
    integer: bool = False

    def salib_bounds(self) -> list[float]:
        """Bounds in SALib's convention for this factor's distribution."""
        assert self.low is not None and self.high is not None
        if self.distribution == "triangular":
            return [self.low, self.high, (self.peak - self.low) / (self.high - self.low)]
        if self.distribution == "normal":
            return [self.low, self.high, self.mean, self.sd]
        return [self.low, self.high]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.levels is not None:
            out["levels"] = list(self.levels)
        else:
            out["range"] = [self.low, self.high]
            out["distribution"] = self.distribution
            for key in ("peak", "mean", "sd"):
                if getattr(self, key) is not None:
                    out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class SamplerSpec:
    """How the factor space is sampled."""

    method: str = "factorial"
    n: int | None = None
    second_order: bool = True
    num_levels: int = 4

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method}
        if self.method in ("lhs", "sobol", "morris"):
            out["n"] = self.n
        if self.method == "sobol":
            out["second_order"] = self.second_order
        if self.method == "morris":
            out["num_levels"] = self.num_levels
        return out


@dataclass(frozen=True)
class HeatmapSpec:
    """A faceted heatmap of outcome probabilities drawn after a sweep."""

    x: str
    y: str
    facet: str | None = None
    outcomes: tuple[str, ...] = ("scaled",)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"x": self.x, "y": self.y, "outcomes": list(self.outcomes)}
        if self.facet:
            out["facet"] = self.facet
        return out


@dataclass(frozen=True)
class ExperimentSpec:
    """A validated experiment: what to vary, how to sample it, how often to repeat it.

    Build one with :func:`load_spec` (from TOML) or :meth:`from_dict`; both check
    every field against the model's parameter ranges and raise
    :class:`model.errors.LasimInputError` with one line naming the problem.

    Attributes
    ----------
    name, description : str
        Shown in reports.
    scenario : str
        Shipped scenario name or path to a scenario TOML file.
    factors : tuple of Factor
        The varied parameters, in spec order (this order is the column order of
        the SALib problem).
    sampler : SamplerSpec
    replications : int
        Runs per sampled point, each with its own seed.
    seed : int
        Root of ``numpy.random.SeedSequence``; every run seed derives from it.
    outcomes : tuple of str or None
        Summary fields kept; ``None`` keeps all of them.
    series : bool
        Keep each run's monthly series too (large: 120 rows per run).
    common_random_numbers : bool
        If true, replication ``r`` uses the same seed at every sampled point, so
        differences between points are not masked by different random draws
        (a paired design; it lowers the noise in sensitivity indices and
        heatmap contrasts). If false, every run gets its own spawned seed.
    fixed : dict
        Parameter values applied to every run (e.g. a shorter horizon).
    off : tuple of str
        Mechanisms (``model.mechanisms.MECHANISMS``) switched off in every run;
        ``lasim sweep --off NAME`` adds to them. Part of the spec's identity.
    heatmap : HeatmapSpec or None
    source : str
        Where the spec came from (for messages; not part of its identity).
    """

    name: str
    scenario: str
    factors: tuple[Factor, ...]
    sampler: SamplerSpec
    replications: int = 1
    seed: int = 0
    description: str = ""
    outcomes: tuple[str, ...] | None = None
    series: bool = False
    common_random_numbers: bool = True
    fixed: Mapping[str, Any] = field(default_factory=dict)
    heatmap: HeatmapSpec | None = None
    off: tuple[str, ...] = ()
    source: str = "<spec>"

    # ------------------------------------------------------------------ identity
    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (what ``manifest.json`` stores)."""
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "scenario": self.scenario,
            "replications": self.replications,
            "seed": self.seed,
            "series": self.series,
            "common_random_numbers": self.common_random_numbers,
            "sampler": self.sampler.to_dict(),
            "factors": {f.name: f.to_dict() for f in self.factors},
            "fixed": dict(self.fixed),
        }
        if self.outcomes is not None:
            out["outcomes"] = list(self.outcomes)
        if self.heatmap is not None:
            out["heatmap"] = self.heatmap.to_dict()
        if self.off:  # absent when empty, so stores made before `off` existed keep their fingerprint
            out["off"] = list(self.off)
        return out

    def with_off(self, names: Sequence[str], source: str = "--off") -> ExperimentSpec:
        """This spec with ``names`` also switched off (``lasim sweep --off NAME``), checked and in order."""
        if not names:
            return self
        spec = replace(self, off=_parse_off([*self.off, *names], source))
        _check_scenario(spec)
        return spec

    def fingerprint(self) -> str:
        """Hash of everything that decides which runs exist and what they compute.

        Name, description and plots are left out: renaming an experiment or
        changing its picture does not invalidate finished runs.
        """
        data = self.to_dict()
        for key in ("name", "description", "heatmap"):
            data.pop(key, None)
        blob = json.dumps(data, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @property
    def factor_names(self) -> list[str]:
        return [f.name for f in self.factors]

    # ----------------------------------------------------------------- scenarios
    def base_scenario(self) -> Any:
        """The scenario every run starts from: the named scenario plus ``fixed``.

        For a scenario ensemble (a calibrated posterior, ``model.ensemble``) a tuple
        of member scenarios: replication ``r`` runs member ``r mod M``, so the
        replications carry parameter uncertainty as well as chance.
        """

        path = _resolve_scenario(self.scenario, self.source)
        fixed = dict(self.fixed)
        if is_ensemble_file(path):
            return tuple((m.with_parameters(**fixed) if fixed else m).knock_out(self.off, "off")
                         for m in load_ensemble(path).scenarios())
        base = load_scenario(path)
        return (base.with_parameters(**fixed) if fixed else base).knock_out(self.off, "off")

    # ------------------------------------------------------------------ sampling
    def salib_problem_dict(self) -> dict[str, Any]:
        """The SALib problem as a plain dict (names, bounds, dists)."""
        return {
            "names": self.factor_names,
            "num_vars": len(self.factors),
            "bounds": [f.salib_bounds() for f in self.factors],
            "dists": [DISTRIBUTIONS[f.distribution] for f in self.factors],
        }

    def salib_problem(self, outputs: list[str] | None = None) -> Any:
        """A SALib ``ProblemSpec`` for this spec's sampled factors.

        Only meaningful for range factors (LHS, Sobol, Morris designs).
        """
        from SALib import ProblemSpec

        if self.sampler.method == "factorial":
            raise LasimInputError(
                f"{self.source}: sampler.method = 'factorial': a SALib problem needs range "
                "factors; use lhs, sobol or morris"
            )
        problem = self.salib_problem_dict()
        problem.pop("num_vars")
        if outputs:
            problem["outputs"] = list(outputs)
        return ProblemSpec(problem)

    def ema_parameters(self) -> list[Any]:
        """EMA Workbench parameters (uncertainties) spanning the same space.

        Integer scenario parameters become ``IntegerParameter``; a levels factor
        spans its lowest to highest level.
        """
        with warnings.catch_warnings():
            # EMA Workbench warns at import about optional back ends we do not use.
            warnings.simplefilter("ignore")
            from ema_workbench import IntegerParameter, RealParameter

        params = []
        for f in self.factors:
            low = min(f.levels) if f.levels is not None else f.low
            high = max(f.levels) if f.levels is not None else f.high
            if f.integer:
                # EMA Workbench rejects numpy integers; plain ints only.
                params.append(IntegerParameter(f.name, int(low), int(high)))
            else:
                params.append(RealParameter(f.name, float(low), float(high)))
        return params

    def design(self) -> tuple[np.ndarray | None, pd.DataFrame]:
        """The sampled points.

        Returns
        -------
        raw : ndarray or None
            The sampler's matrix in SALib's row order, before integer rounding
            (Sobol and Morris analyses need it unchanged); ``None`` for factorial.
        samples : DataFrame
            One row per point: ``sample_id`` and one column per factor, holding
            the value the run actually uses (integers rounded).
        """
        method = self.sampler.method
        raw: np.ndarray | None
        if method == "factorial":
            raw = None
            grids = np.meshgrid(*[np.asarray(f.levels, dtype=float) for f in self.factors],
                                indexing="ij")
            values = np.column_stack([g.ravel() for g in grids])
        else:
            problem = self.salib_problem_dict()
            # SALib samplers take a seed; the root seed keeps the design reproducible
            # and independent of the run seeds (those come from SeedSequence).
            seed = int(self.seed) % (2**32)
            if method == "lhs":
                from SALib.sample import latin

                raw = latin.sample(problem, self.sampler.n, seed=seed)
            elif method == "sobol":
                from SALib.sample import sobol

                raw = sobol.sample(problem, self.sampler.n,
                                   calc_second_order=self.sampler.second_order, seed=seed)
            else:
                from SALib.sample import morris

                raw = morris.sample(problem, self.sampler.n,
                                    num_levels=self.sampler.num_levels, seed=seed)
            values = raw.copy()
        samples = pd.DataFrame({"sample_id": np.arange(len(values), dtype=np.int64)})
        for j, f in enumerate(self.factors):
            col = values[:, j]
            if f.integer:
                samples[f.name] = np.rint(col).astype(np.int64)
            else:
                # Clip guards the last ulp: a ppf can land a hair outside the range
                # that with_parameters would then refuse.
                lo = f.low if f.low is not None else -np.inf
                hi = f.high if f.high is not None else np.inf
                samples[f.name] = np.clip(col.astype(float), lo, hi)
        return raw, samples

    @property
    def n_samples(self) -> int:
        """Number of sampled points (before replication), without sampling."""
        d = len(self.factors)
        n = self.sampler.n or 0
        match self.sampler.method:
            case "factorial":
                return math.prod(len(f.levels or ()) for f in self.factors)
            case "lhs":
                return n
            case "sobol":
                return n * (2 * d + 2 if self.sampler.second_order else d + 2)
            case _:
                return n * (d + 1)

    @property
    def n_runs(self) -> int:
        return self.n_samples * self.replications

    def plan(self) -> tuple[np.ndarray | None, pd.DataFrame]:
        """Every run of the experiment, with its id, point, replication and seed.

        ``run_id = sample_id * replications + replication``, so ids are stable
        and a run's seed is fixed by the spec alone, whatever executor runs it.
        """
        raw, samples = self.design()
        reps = self.replications
        n = len(samples)
        run_id = np.arange(n * reps, dtype=np.int64)
        plan = samples.loc[np.repeat(np.arange(n), reps)].reset_index(drop=True)
        plan.insert(0, "replication", np.tile(np.arange(reps, dtype=np.int64), n))
        plan.insert(0, "run_id", run_id)
        if self.common_random_numbers:
            seeds = np.asarray(run_seeds(self.seed, reps), dtype=np.uint64)
            plan["seed"] = np.tile(seeds, n)
        else:
            plan["seed"] = np.asarray(run_seeds(self.seed, n * reps), dtype=np.uint64)
        cols = ["run_id", "sample_id", "replication", "seed", *self.factor_names]
        return raw, plan[cols]

    # ---------------------------------------------------------------- construct
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<spec>") -> ExperimentSpec:
        """Validate plain data (a parsed TOML document) into a spec."""
        return _parse(data, source)


def run_seeds(root: int, n: int) -> list[int]:
    """Seeds for ``n`` runs from ``SeedSequence(root).spawn``: child i is the same whatever n is.

    Delegates to the model's own ``replication_seeds`` so a sweep's replication
    ``r`` uses the seed ``lasim run --seed ROOT`` gives its replication ``r``.
    """

    return [int(s) for s in replication_seeds(int(root), int(n))]


def load_spec(path: str | Path) -> ExperimentSpec:
    """Read and validate an experiment spec TOML file.

    A bare name (``headline``) finds a shipped spec in ``experiments/specs/``.

    Raises
    ------
    LasimInputError
        One line naming the file, the field, the value and what is allowed.
    """
    p = resolve(path, "experiments", "specs", "spec")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise LasimInputError(f"{path}: cannot read spec file: {reason}") from None
    return _parse(parse_toml(text, str(path)), str(p))


SPECS_DIR = Path(__file__).resolve().parent / "specs"


# ---------------------------------------------------------------------- parsing
def _resolve_scenario(scenario: str, source: str) -> str:
    """A scenario given as a relative path is relative to the spec file, not the cwd."""
    if scenario.endswith(".toml") and not Path(scenario).is_absolute():
        candidate = Path(source).parent / scenario
        if candidate.exists():
            return str(candidate)
    return scenario


# ---------------------------------------------------------------------- the file, typed
# Types, unknown keys and simple bounds are pydantic's; what depends on the model
# (parameter ranges, integer parameters, outcomes) or on several fields at once is
# checked by the validators below. Every error becomes one line through
# model.validation.format_validation_error, the formatter scenario files use.
_FILE = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


def _bad(field_: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"{field_} = {value!r}: {allowed}")


class SamplerFile(BaseModel):
    """``[sampler]``: a method and the options that method understands."""

    model_config = _FILE
    method: Literal[SAMPLERS] = "factorial"  # type: ignore[valid-type]
    n: int | None = Field(None, ge=1)
    second_order: bool = True
    num_levels: int = 4

    @model_validator(mode="before")
    @classmethod
    def _options_of_the_method(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            raw = {"method": raw}
        if not isinstance(raw, Mapping):
            raise _bad("sampler", raw, f"must be a table with method = one of {SAMPLERS}")
        method = raw.get("method", "factorial")
        if method in _SAMPLER_KEYS:
            unknown = sorted(set(raw) - _SAMPLER_KEYS[method])
            if unknown:
                allowed = ", ".join(sorted(_SAMPLER_KEYS[method] - {"method"})) or "none"
                raise _bad(f"sampler.{unknown[0]}", raw[unknown[0]],
                           f"not an option of the {method} sampler; its options: {allowed}")
        return raw

    @model_validator(mode="after")
    def _method_needs(self) -> SamplerFile:
        n, method = self.n, self.method
        if method != "factorial" and n is None:
            raise _bad("sampler.n", n, f"the {method} sampler needs n, an integer >= 1")
        if method == "sobol" and (n < 2 or n & (n - 1)):
            lower = 1 << (n.bit_length() - 1)
            hint = f"{lower} or {lower * 2}" if n >= 2 else "2"
            raise _bad("sampler.n", n, f"Sobol needs a power of two (e.g. {hint}) for its convergence properties")
        if method == "morris":
            if n < 2:
                raise _bad("sampler.n", n, "Morris needs at least 2 trajectories")
            if self.num_levels < 2 or self.num_levels % 2:
                raise _bad("sampler.num_levels", self.num_levels,
                           "Morris needs an even number of grid levels >= 2 (usually 4)")
        return self

    def spec(self) -> SamplerSpec:
        return SamplerSpec(self.method, self.n, second_order=self.second_order, num_levels=self.num_levels)


class FactorFile(BaseModel):
    """``[factors.NAME]``: levels, or a range (with steps, or a distribution)."""

    model_config = _FILE
    levels: list[Finite] | None = Field(None, min_length=1)
    range: list[Finite] | None = Field(None, min_length=2, max_length=2)
    steps: int | None = Field(None, ge=2)
    distribution: Literal[tuple(DISTRIBUTIONS)] = "uniform"  # type: ignore[valid-type]
    peak: Finite | None = None
    mean: Finite | None = None
    sd: Finite | None = Field(None, gt=0)

    def factor(self, name: str, method: str, ps: Any) -> Factor:
        """The checked :class:`Factor` for parameter ``ps`` under sampler ``method``."""
        where = f"factors.{name}"

        def in_range(v: float, key: str) -> float:
            if ps.integer and float(v) != int(v):
                raise _bad(f"{where}.{key}", v, "must be a whole number (integer parameter)")
            if not ps.low <= v <= ps.high:
                raise _bad(f"{where}.{key}", v, f"allowed range of {name} is [{ps.low}, {ps.high}]")
            return int(v) if ps.integer else float(v)

        given = self.model_fields_set
        if self.levels is not None:
            if given - {"levels"}:
                extra = sorted(given - {"levels"})[0]
                raise _bad(f"{where}.{extra}", getattr(self, extra), "a factor given by levels takes no other keys")
            vals = tuple(in_range(v, "levels") for v in self.levels)
            if len(set(vals)) != len(vals):
                raise _bad(f"{where}.levels", self.levels, "levels must be distinct")
            return Factor(name, levels=vals, integer=ps.integer)
        low, high = (ps.low, ps.high) if self.range is None else (in_range(v, "range") for v in self.range)
        if not low < high:
            raise _bad(f"{where}.range", [low, high], "empty range: low must be below high")
        if self.steps is not None:
            if method != "factorial":
                raise _bad(f"{where}.steps", self.steps,
                           f"steps makes levels for a factorial design, not for {method}")
            vals = np.linspace(low, high, self.steps)
            levels = tuple(int(v) for v in np.unique(np.rint(vals))) if ps.integer else tuple(float(v) for v in vals)
            return Factor(name, levels=levels, integer=ps.integer)
        dist = self.distribution
        if dist == "triangular" and (self.peak is None or not low <= self.peak < high):
            raise _bad(f"{where}.peak", self.peak, f"a triangular factor needs peak in [{low}, {high})")
        if dist == "normal" and self.mean is None:
            raise _bad(f"{where}.mean", None, "a normal factor needs a number mean")
        if dist == "normal" and self.sd is None:
            raise _bad(f"{where}.sd", None, "a normal factor needs sd > 0")
        if dist == "loguniform" and low <= 0:
            raise _bad(f"{where}.range", [low, high], "a loguniform factor needs low > 0")
        for key, used_by in (("peak", "triangular"), ("mean", "normal"), ("sd", "normal")):
            if key in given and dist != used_by:
                raise _bad(f"{where}.{key}", getattr(self, key), f"not used by a {dist} distribution")
        return Factor(name, low=float(low), high=float(high), distribution=dist, peak=self.peak,
                      mean=self.mean, sd=self.sd, integer=ps.integer)


class HeatmapFile(BaseModel):
    """``[heatmap]``: which level factors make the axes and facets, and which outcomes."""

    model_config = _FILE
    x: str
    y: str
    facet: str | None = None
    outcomes: list[str] = Field(default_factory=lambda: ["scaled"], min_length=1)


class SpecFile(BaseModel):
    """A spec TOML file as written; :meth:`spec` checks it against the model and builds the spec."""

    model_config = _FILE
    name: str | None = Field(None, min_length=1)
    description: str = ""
    scenario: str = Field("default", min_length=1)
    replications: int = Field(1, ge=1)
    seed: int = Field(0, ge=0)
    outcomes: list[str] | None = Field(None, min_length=1)
    series: bool = False
    common_random_numbers: bool = True
    sampler: SamplerFile = Field(default_factory=SamplerFile)
    factors: dict[str, FactorFile] = Field(min_length=1)
    fixed: dict[str, Any] = Field(default_factory=dict)
    heatmap: HeatmapFile | None = None
    off: list[str] = Field(default_factory=list)
    _factors: list[Factor] = PrivateAttr(default_factory=list)

    @field_validator("factors", mode="before")
    @classmethod
    def _factors_are_parameters(cls, raw: Any) -> Any:
        # checked before the bodies, so a misspelt name is reported as such
        if not isinstance(raw, Mapping) or not raw:
            raise ValueError("needs at least one [factors.NAME] table naming a scenario parameter")
        pspecs = setting_specs()
        for name in raw:
            if name not in pspecs:
                raise _bad("factors", name, f"unknown parameter{did_you_mean(name, pspecs)}; "
                                            f"allowed: {', '.join(sorted(pspecs))}")
        return raw

    @model_validator(mode="after")
    def _consistent(self) -> SpecFile:
        self._factors = [body.factor(name, self.sampler.method, setting_specs()[name])
                         for name, body in self.factors.items()]
        _check_sampler_fits(self.sampler.method, self._factors)
        pspecs = setting_specs()
        for key, value in self.fixed.items():
            if key not in pspecs:
                raise _bad(f"fixed.{key}", value, f"unknown parameter{did_you_mean(key, pspecs)}; "
                                                  f"allowed: {', '.join(sorted(pspecs))}")
            if key in self.factors:
                raise _bad(f"fixed.{key}", value, "is also a factor; a parameter is either fixed or varied")
        known = list(SUMMARY_FIELDS)
        for name in self.outcomes or []:
            if name not in known:
                raise _bad("outcomes", name, f"unknown outcome{did_you_mean(name, known)}; allowed: {', '.join(known)}")
        for name in self.off:
            if name not in MECHANISMS:
                raise ValueError(f"off: {unknown_mechanism(name)}")
        if self.heatmap is not None:
            level_factors = [f.name for f in self._factors if f.levels is not None]
            for key in ("x", "y", "facet"):
                v = getattr(self.heatmap, key)
                if (v is not None or key != "facet") and v not in level_factors:
                    raise _bad(f"heatmap.{key}", v,
                               f"must name a factor with levels: {', '.join(level_factors) or 'none'}")
            keeps = list(dict.fromkeys(self.outcomes)) if self.outcomes is not None else known
            if any(o not in keeps for o in self.heatmap.outcomes):
                raise _bad("heatmap.outcomes", self.heatmap.outcomes,
                           f"must list outcomes the sweep keeps: {', '.join(keeps)}")
        return self

    def spec(self, source: str) -> ExperimentSpec:
        """The :class:`ExperimentSpec` (not yet checked against the scenario)."""
        h = self.heatmap
        return ExperimentSpec(
            name=self.name or Path(source).stem, description=self.description, scenario=self.scenario,
            factors=tuple(self._factors), sampler=self.sampler.spec(), replications=self.replications,
            seed=self.seed, outcomes=tuple(dict.fromkeys(self.outcomes)) if self.outcomes is not None else None,
            series=self.series, common_random_numbers=self.common_random_numbers, fixed=dict(self.fixed),
            heatmap=HeatmapSpec(h.x, h.y, h.facet, tuple(h.outcomes)) if h is not None else None,
            off=tuple(dict.fromkeys(self.off)), source=source,
        )


def _parse(data: Mapping[str, Any], source: str) -> ExperimentSpec:
    if not isinstance(data, Mapping):
        raise LasimInputError(f"{source}: a spec must be a TOML table")
    try:
        spec = SpecFile.model_validate(dict(data)).spec(source)
    except ValidationError as exc:
        raise LasimInputError(format_validation_error(exc, source, SpecFile)) from None
    if spec.n_runs > MAX_RUNS:
        raise LasimInputError(f"{source}: sampler = {spec.sampler.to_dict()!r}: plans {spec.n_runs:,} runs; "
                              f"at most {MAX_RUNS:,} are allowed")
    _check_scenario(spec)
    return spec


def _check_sampler_fits(method: str, factors: list[Factor]) -> None:
    for f in factors:
        if method == "factorial" and f.levels is None:
            raise _bad(f"factors.{f.name}", f.to_dict(),
                       "a factorial sampler needs levels = [...] (or range with steps)")
        if method != "factorial" and f.levels is not None:
            raise _bad(f"factors.{f.name}.levels", list(f.levels),
                       f"the {method} sampler draws from a range; give range = [low, high] or use method = 'factorial'")
        if method == "morris" and f.distribution != "uniform":
            raise _bad(f"factors.{f.name}.distribution", f.distribution,
                       "Morris elementary effects need uniform factors")
    if method in ("sobol", "morris") and len(factors) < 2:
        raise _bad("factors", [f.name for f in factors], f"{method} sensitivity analysis needs at least 2 factors")


def _parse_off(names: Sequence[str], source: str) -> tuple[str, ...]:
    """``--off`` names: each a known mechanism; duplicates dropped, order kept."""
    for name in names:
        if name not in MECHANISMS:
            raise LasimInputError(f"{source} {name}: {unknown_mechanism(name)}")
    return tuple(dict.fromkeys(names))


def _check_scenario(spec: ExperimentSpec) -> None:
    """Load the base scenario and apply the first point, so a bad value fails now."""
    try:
        base = spec.base_scenario()
    except LasimInputError as exc:
        raise LasimInputError(f"{spec.source}: scenario/fixed: {exc}") from None
    # every sampled point, for every ensemble member, before the first run: a value
    # the model refuses must not surface as thousands of failed runs
    _, samples = spec.design()
    members = base if isinstance(base, tuple) else (base,)
    names = [f.name for f in spec.factors]
    for sample_id, row in enumerate(samples[names].itertuples(index=False, name=None)):
        values = {n: _py(v) for n, v in zip(names, row, strict=True)}
        for member in members:
            try:
                member.with_parameters(**values)
            except LasimInputError as exc:
                raise LasimInputError(f"{spec.source}: factors (sample {sample_id}): {exc}") from None


def _py(v: Any) -> Any:
    """numpy scalar -> Python scalar (pydantic and EMA Workbench want plain types)."""
    return v.item() if hasattr(v, "item") else v
