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
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.ensemble import is_ensemble_file, load_ensemble
from model.errors import LasimInputError
from model.mechanisms import MECHANISMS
from model.runner import SUMMARY_FIELDS, replication_seeds
from model.scenario import load_scenario, parameter_specs, unknown_mechanism
from model.shipped import resolve

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
_TOP_KEYS = {
    "name", "description", "scenario", "replications", "seed", "outcomes", "series",
    "common_random_numbers", "sampler", "factors", "fixed", "heatmap", "off",
}
_FACTOR_KEYS = {"levels", "range", "steps", "distribution", "peak", "mean", "sd"}
_HEATMAP_KEYS = {"x", "y", "facet", "outcomes"}
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
        spec = replace(self, off=_parse_off([*self.off, *names], source, "", flag=True))
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
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LasimInputError(f"{path}: not valid TOML: {exc}") from None
    return _parse(data, str(p))


SPECS_DIR = Path(__file__).resolve().parent / "specs"


# ---------------------------------------------------------------------- parsing
def _resolve_scenario(scenario: str, source: str) -> str:
    """A scenario given as a relative path is relative to the spec file, not the cwd."""
    if scenario.endswith(".toml") and not Path(scenario).is_absolute():
        candidate = Path(source).parent / scenario
        if candidate.exists():
            return str(candidate)
    return scenario


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _fail(source: str, field_: str, value: Any, allowed: str) -> LasimInputError:
    return LasimInputError(f"{source}: {field_} = {value!r}: {allowed}")


def _parse(data: Mapping[str, Any], source: str) -> ExperimentSpec:

    if not isinstance(data, Mapping):
        raise LasimInputError(f"{source}: a spec must be a TOML table")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise _fail(source, unknown[0], data[unknown[0]],
                    f"unknown key; allowed: {', '.join(sorted(_TOP_KEYS))}")
    pspecs = parameter_specs()

    name = data.get("name", Path(source).stem)
    if not isinstance(name, str) or not name:
        raise _fail(source, "name", name, "must be a non-empty string")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise _fail(source, "description", description, "must be a string")
    scenario = data.get("scenario", "default")
    if not isinstance(scenario, str) or not scenario:
        raise _fail(source, "scenario", scenario, "must be a scenario name or a TOML path")

    replications = data.get("replications", 1)
    if not isinstance(replications, int) or isinstance(replications, bool) or replications < 1:
        raise _fail(source, "replications", replications, "must be an integer >= 1")
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise _fail(source, "seed", seed, "must be an integer >= 0")
    for key in ("series", "common_random_numbers"):
        if key in data and not isinstance(data[key], bool):
            raise _fail(source, key, data[key], "must be true or false")

    sampler = _parse_sampler(data.get("sampler", {"method": "factorial"}), source)
    factors = _parse_factors(data.get("factors"), sampler, pspecs, source)
    _check_sampler_fits(sampler, factors, source)
    fixed = _parse_fixed(data.get("fixed", {}), factors, pspecs, source)
    outcomes = _parse_outcomes(data.get("outcomes"), source)
    heatmap = _parse_heatmap(data.get("heatmap"), factors, outcomes, source)
    off = _parse_off(data.get("off", []), source, "off")

    spec = ExperimentSpec(
        name=name, description=description, scenario=scenario, factors=tuple(factors),
        sampler=sampler, replications=replications, seed=seed, outcomes=outcomes,
        series=bool(data.get("series", False)),
        common_random_numbers=bool(data.get("common_random_numbers", True)),
        fixed=fixed, heatmap=heatmap, off=off, source=source,
    )
    if spec.n_runs > MAX_RUNS:
        raise _fail(source, "sampler", sampler.to_dict(),
                    f"plans {spec.n_runs:,} runs; at most {MAX_RUNS:,} are allowed")
    _check_scenario(spec)
    return spec


def _parse_sampler(raw: Any, source: str) -> SamplerSpec:
    if isinstance(raw, str):
        raw = {"method": raw}
    if not isinstance(raw, Mapping):
        raise _fail(source, "sampler", raw, f"must be a table with method = one of {SAMPLERS}")
    method = raw.get("method", "factorial")
    if method not in SAMPLERS:
        raise _fail(source, "sampler.method", method, f"allowed: {', '.join(SAMPLERS)}")
    unknown = sorted(set(raw) - _SAMPLER_KEYS[method])
    if unknown:
        allowed = ", ".join(sorted(_SAMPLER_KEYS[method] - {"method"})) or "none"
        raise _fail(source, f"sampler.{unknown[0]}", raw[unknown[0]],
                    f"not an option of the {method} sampler; its options: {allowed}")
    n = raw.get("n")
    if method != "factorial" and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise _fail(source, "sampler.n", n,
                    f"the {method} sampler needs n, an integer >= 1")
    if method == "sobol":
        if n < 2 or n & (n - 1):
            lower = 1 << (n.bit_length() - 1)
            hint = f"{lower} or {lower * 2}" if n >= 2 else "2"
            raise _fail(source, "sampler.n", n,
                        f"Sobol needs a power of two (e.g. {hint}) for its convergence "
                        "properties")
        so = raw.get("second_order", True)
        if not isinstance(so, bool):
            raise _fail(source, "sampler.second_order", so, "must be true or false")
        return SamplerSpec("sobol", n, second_order=so)
    if method == "morris":
        if n < 2:
            raise _fail(source, "sampler.n", n, "Morris needs at least 2 trajectories")
        lv = raw.get("num_levels", 4)
        if not isinstance(lv, int) or isinstance(lv, bool) or lv < 2 or lv % 2:
            raise _fail(source, "sampler.num_levels", lv,
                        "Morris needs an even number of grid levels >= 2 (usually 4)")
        return SamplerSpec("morris", n, num_levels=lv)
    return SamplerSpec(method, n)


def _parse_factors(raw: Any, sampler: SamplerSpec, pspecs: Mapping[str, Any],
                   source: str) -> list[Factor]:
    if not isinstance(raw, Mapping) or not raw:
        raise _fail(source, "factors", raw,
                    "needs at least one [factors.NAME] table naming a scenario parameter")
    factors = []
    for name, body in raw.items():
        where = f"factors.{name}"
        if name not in pspecs:
            raise _fail(source, "factors", name,
                        f"unknown parameter; allowed: {', '.join(sorted(pspecs))}")
        ps = pspecs[name]
        if not isinstance(body, Mapping):
            raise _fail(source, where, body, "must be a table with levels or range")
        unknown = sorted(set(body) - _FACTOR_KEYS)
        if unknown:
            raise _fail(source, f"{where}.{unknown[0]}", body[unknown[0]],
                        f"unknown key; allowed: {', '.join(sorted(_FACTOR_KEYS))}")
        integer = bool(getattr(ps, "integer", False))
        low_ok = ps.low if ps.low is not None else -math.inf
        high_ok = ps.high if ps.high is not None else math.inf
        allowed = f"allowed range of {name} is [{ps.low}, {ps.high}]"

        def in_range(v: Any, key: str, *, _w=where, _allowed=allowed, _i=integer,
                     _lo=low_ok, _hi=high_ok) -> float:
            if not _is_number(v):
                raise _fail(source, f"{_w}.{key}", v, "must be a number")
            if _i and float(v) != int(v):
                raise _fail(source, f"{_w}.{key}", v, "must be a whole number (integer parameter)")
            if not _lo <= v <= _hi:
                raise _fail(source, f"{_w}.{key}", v, _allowed)
            return int(v) if _i else float(v)

        if "levels" in body:
            if set(body) - {"levels"}:
                extra = sorted(set(body) - {"levels"})[0]
                raise _fail(source, f"{where}.{extra}", body[extra],
                            "a factor given by levels takes no other keys")
            levels = body["levels"]
            if not isinstance(levels, list) or not levels:
                raise _fail(source, f"{where}.levels", levels,
                            "must be a non-empty list of values")
            vals = tuple(in_range(v, "levels") for v in levels)
            if len(set(vals)) != len(vals):
                raise _fail(source, f"{where}.levels", levels, "levels must be distinct")
            factors.append(Factor(name, levels=vals, integer=integer))
            continue

        rng = body.get("range")
        if rng is None:
            if ps.low is None or ps.high is None:
                raise _fail(source, where, dict(body),
                            f"{name} has no bounded default range; give range = [low, high]")
            low, high = ps.low, ps.high
        else:
            if not isinstance(rng, list) or len(rng) != 2:
                raise _fail(source, f"{where}.range", rng, "must be [low, high]")
            low, high = in_range(rng[0], "range"), in_range(rng[1], "range")
        if not low < high:
            raise _fail(source, f"{where}.range", [low, high],
                        "empty range: low must be below high")
        if "steps" in body:
            steps = body["steps"]
            if not isinstance(steps, int) or isinstance(steps, bool) or steps < 2:
                raise _fail(source, f"{where}.steps", steps, "must be an integer >= 2")
            if sampler.method != "factorial":
                raise _fail(source, f"{where}.steps", steps,
                            f"steps makes levels for a factorial design, not for "
                            f"{sampler.method}")
            vals = np.linspace(low, high, steps)
            levels = tuple(int(v) for v in np.unique(np.rint(vals))) if integer \
                else tuple(float(v) for v in vals)
            factors.append(Factor(name, levels=levels, integer=integer))
            continue
        dist = body.get("distribution", "uniform")
        if dist not in DISTRIBUTIONS:
            raise _fail(source, f"{where}.distribution", dist,
                        f"allowed: {', '.join(DISTRIBUTIONS)}")
        peak = mean = sd = None
        if dist == "triangular":
            peak = body.get("peak")
            if not _is_number(peak) or not low <= peak < high:
                raise _fail(source, f"{where}.peak", peak,
                            f"a triangular factor needs peak in [{low}, {high})")
            peak = float(peak)
        if dist == "normal":
            mean, sd = body.get("mean"), body.get("sd")
            if not _is_number(mean):
                raise _fail(source, f"{where}.mean", mean, "a normal factor needs a number mean")
            if not _is_number(sd) or sd <= 0:
                raise _fail(source, f"{where}.sd", sd, "a normal factor needs sd > 0")
            mean, sd = float(mean), float(sd)
        if dist == "loguniform" and low <= 0:
            raise _fail(source, f"{where}.range", [low, high],
                        "a loguniform factor needs low > 0")
        for key, used_by in (("peak", "triangular"), ("mean", "normal"), ("sd", "normal")):
            if key in body and dist != used_by:
                raise _fail(source, f"{where}.{key}", body[key],
                            f"not used by a {dist} distribution")
        factors.append(Factor(name, low=float(low), high=float(high), distribution=dist,
                              peak=peak, mean=mean, sd=sd, integer=integer))
    return factors


def _check_sampler_fits(sampler: SamplerSpec, factors: list[Factor], source: str) -> None:
    method = sampler.method
    for f in factors:
        if method == "factorial" and f.levels is None:
            raise _fail(source, f"factors.{f.name}", f.to_dict(),
                        "a factorial sampler needs levels = [...] (or range with steps)")
        if method != "factorial" and f.levels is not None:
            raise _fail(source, f"factors.{f.name}.levels", list(f.levels),
                        f"the {method} sampler draws from a range; give range = [low, high] "
                        "or use method = 'factorial'")
        if method == "morris" and f.distribution != "uniform":
            raise _fail(source, f"factors.{f.name}.distribution", f.distribution,
                        "Morris elementary effects need uniform factors")
    if method in ("sobol", "morris") and len(factors) < 2:
        raise _fail(source, "factors", [f.name for f in factors],
                    f"{method} sensitivity analysis needs at least 2 factors")


def _parse_fixed(raw: Any, factors: list[Factor], pspecs: Mapping[str, Any],
                 source: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise _fail(source, "fixed", raw, "must be a table of parameter = value")
    names = {f.name for f in factors}
    for key, value in raw.items():
        if key not in pspecs:
            raise _fail(source, f"fixed.{key}", value,
                        f"unknown parameter; allowed: {', '.join(sorted(pspecs))}")
        if key in names:
            raise _fail(source, f"fixed.{key}", value,
                        "is also a factor; a parameter is either fixed or varied")
    return dict(raw)


def _parse_off(raw: Any, source: str, field_: str, *, flag: bool = False) -> tuple[str, ...]:
    """Mechanism names to switch off, each known, duplicates dropped, order kept."""
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise _fail(source, field_, raw, f"must be a list of mechanism names: {', '.join(MECHANISMS)}")
    for name in raw:
        if name not in MECHANISMS:
            where = f"{source} {name}" if flag else f"{source}: {field_}"
            raise LasimInputError(f"{where}: {unknown_mechanism(name)}")
    return tuple(dict.fromkeys(raw))


def _summary_field_names() -> list[str]:

    return list(SUMMARY_FIELDS)


def _parse_outcomes(raw: Any, source: str) -> tuple[str, ...] | None:
    if raw is None:
        return None
    known = _summary_field_names()
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
        raise _fail(source, "outcomes", raw, "must be a non-empty list of summary field names")
    for name in raw:
        if name not in known:
            raise _fail(source, "outcomes", name,
                        f"unknown outcome; allowed: {', '.join(known)}")
    return tuple(dict.fromkeys(raw))


def _parse_heatmap(raw: Any, factors: list[Factor], outcomes: tuple[str, ...] | None,
                   source: str) -> HeatmapSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise _fail(source, "heatmap", raw, "must be a table with x, y, facet, outcomes")
    unknown = sorted(set(raw) - _HEATMAP_KEYS)
    if unknown:
        raise _fail(source, f"heatmap.{unknown[0]}", raw[unknown[0]],
                    f"unknown key; allowed: {', '.join(sorted(_HEATMAP_KEYS))}")
    level_factors = [f.name for f in factors if f.levels is not None]
    for key in ("x", "y", "facet"):
        v = raw.get(key)
        if v is None and key == "facet":
            continue
        if v not in level_factors:
            raise _fail(source, f"heatmap.{key}", v,
                        f"must name a factor with levels: {', '.join(level_factors) or 'none'}")
    outs = raw.get("outcomes", ["scaled"])
    known = list(outcomes) if outcomes is not None else _summary_field_names()
    if not isinstance(outs, list) or not outs or any(o not in known for o in outs):
        raise _fail(source, "heatmap.outcomes", outs,
                    f"must list outcomes the sweep keeps: {', '.join(known)}")
    return HeatmapSpec(raw["x"], raw["y"], raw.get("facet"), tuple(outs))


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
