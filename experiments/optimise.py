"""Search alliance designs for the cheapest that meets a target, or the front of cost against success.

A *design* is a point in a search space of structure variables
(:mod:`model.structure_variables`) and levers (meeting interval, action-research
intensity, cost sharing, facilitation quality) applied to a base scenario under
fixed conditions (``--set``). Optuna's NSGA-II sampler proposes designs; each is
run ``replications`` times on the same seeds (common random numbers, so two
designs differ by their design, not by their luck) through
:func:`experiments.runs.run_many`. Objectives: the design's cost (minimised) and
the probability of each chosen yes/no outcome (maximised). A target
(``scaled>=0.8``) becomes an NSGA-II constraint.

The study lives in ``DIR/study.db`` (Optuna's SQLite storage): every finished
trial is committed there, so an interrupted search loses at most the trial it
was running and a rerun resumes from the next one. The final front is run again
on fresh seeds and reported with Wilson intervals; that, not the search's own
estimate (chosen for being high, hence biased upwards), is the evidence.

Cost model (docs/decisions.md, "The cost of a design"): the model's own
spending over the horizon (``total_cost``: meetings at ``meeting_cost`` by level
and case-study months at ``case_study_cost``, whoever pays), so the number of
platforms, the meeting interval and the action-research intensity are priced
by what they make happen; plus a facilitation premium, since the model charges
nothing for skill: each meeting costs ``FACILITATION_PREMIUM x (quality - base
quality)`` of its price more (or less). Cost sharing moves spending from the
donor to members and costs nothing in total.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w
from scipy.stats import t as student_t

from model.digest import model_digest
from model.errors import LasimInputError
from model.runner import RunResult, replication_seeds, run_scenario
from model.scenario import Scenario, load_scenario, setting_specs
from model.structure_variables import EXCHANGE_LINKS, is_structure_variable, nest

from .executors import Executor
from .runs import run_many
from .statistics import wilson
from .tasks import Run, Variant

#: Each meeting costs this share of its price more per unit of facilitation quality above the base's.
FACILITATION_PREMIUM = 1.0
#: The run function that also returns what the cost model needs (case-study months).
PRICED_RUN = "experiments.optimise:run_priced"
#: Yes/no run outcomes a search can target or maximise.
OUTCOMES = ("scaled", "sustained", "functioning", "institutionalised", "local_impact")
STUDY_NAME = "lasim-optimise"
DB_NAME = "study.db"
#: Bumped when the meaning of a trial's numbers changes, so an old study is not resumed with new ones.
COST_MODEL_VERSION = 1


@dataclass(frozen=True)
class SearchVariable:
    """One searched name: a scenario parameter or a structure variable, its range and grid step."""

    name: str
    low: float
    high: float
    step: float | None = None
    integer: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: The default search space: structure variables and the four levers, each on a grid a designer would use.
DEFAULT_SPACE: tuple[SearchVariable, ...] = (
    SearchVariable("community_platforms", 0, 6, 1, True),
    SearchVariable("linking_members", 0, 4, 1, True),
    SearchVariable("exchange_links", 0, 3, 1, True),
    SearchVariable("meeting_interval", 1, 6, 1, True),
    SearchVariable("action_research_intensity", 0.1, 1.0, 0.05),
    SearchVariable("cost_sharing", 0.0, 0.6, 0.05),
    SearchVariable("facilitation_quality", 0.4, 1.0, 0.05),
)


def parse_vary(items: Sequence[str]) -> tuple[SearchVariable, ...]:
    """``NAME=LOW:HIGH[:STEP]`` strings (``--vary``) as the search space, checked against allowed ranges.

    Raises
    ------
    LasimInputError
        One line naming the item and what is allowed.
    """
    specs = setting_specs()
    out: list[SearchVariable] = []
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        parts = raw.split(":")
        if not sep or len(parts) not in (2, 3):
            raise LasimInputError(f"--vary {item!r}: expected NAME=LOW:HIGH or NAME=LOW:HIGH:STEP, "
                                  "e.g. community_platforms=0:6")
        if name not in specs:
            raise LasimInputError(f"--vary {item!r}: unknown parameter or structure variable {name!r}; "
                                  "see 'lasim show default' and docs/ODD.md, 'Structure variables'")
        spec = specs[name]
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            raise LasimInputError(f"--vary {item!r}: LOW, HIGH and STEP must be numbers") from None
        low, high = nums[0], nums[1]
        step = nums[2] if len(nums) == 3 else (1.0 if spec.integer else None)
        if not spec.low <= low < high <= spec.high:
            raise LasimInputError(f"--vary {item!r}: need {spec.low:g} <= LOW < HIGH <= {spec.high:g} "
                                  f"({spec.unit})")
        if spec.integer and (low != int(low) or high != int(high) or (step is not None and step != int(step))):
            raise LasimInputError(f"--vary {item!r}: {name} takes whole numbers")
        if step is not None and step <= 0:
            raise LasimInputError(f"--vary {item!r}: STEP must be > 0")
        if any(v.name == name for v in out):
            raise LasimInputError(f"--vary {item!r}: {name} is given twice")
        out.append(SearchVariable(name, low, high, step, spec.integer))
    return tuple(out)


@dataclass(frozen=True)
class Target:
    """``outcome >= threshold``: the share of runs a design must reach."""

    outcome: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.outcome}>={self.threshold:g}"


def parse_target(text: str) -> Target:
    """``"scaled>=0.8"`` as a :class:`Target` (also ``80%``)."""
    m = re.fullmatch(r"\s*([a-z_]+)\s*>=\s*([0-9.]+)\s*(%?)\s*", text or "")
    if not m:
        raise LasimInputError(f"--target {text!r}: expected OUTCOME>=SHARE, e.g. scaled>=0.8")
    outcome, value = m.group(1), float(m.group(2)) / (100 if m.group(3) else 1)
    if outcome not in OUTCOMES:
        raise LasimInputError(f"--target {text!r}: unknown outcome {outcome!r}; allowed: {', '.join(OUTCOMES)}")
    if not 0 < value <= 1:
        raise LasimInputError(f"--target {text!r}: the share must be above 0 and at most 1 (or 100%)")
    return Target(outcome, value)


def parse_objectives(text: str) -> tuple[str, ...]:
    """``"scaled,sustained"``: the yes/no outcomes whose probability is maximised."""
    names = tuple(dict.fromkeys(n.strip() for n in (text or "").split(",") if n.strip()))
    bad = [n for n in names if n not in OUTCOMES]
    if not names or bad:
        raise LasimInputError(f"--objectives {text!r}: give outcomes from {', '.join(OUTCOMES)}, "
                              "separated by commas")
    return names


@dataclass(frozen=True)
class OptimiseSettings:
    """Everything that decides which trials a search makes (``n_trials`` only says how many)."""

    base: str = "default"
    conditions: Mapping[str, Any] = field(default_factory=dict)
    space: tuple[SearchVariable, ...] = DEFAULT_SPACE
    objectives: tuple[str, ...] = ("scaled",)
    target: Target | None = None
    replications: int = 50
    seed: int = 0
    population: int = 20

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "conditions": dict(self.conditions),
                "space": [v.to_dict() for v in self.space], "objectives": list(self.objectives),
                "target": str(self.target) if self.target else None, "replications": self.replications,
                "seed": self.seed, "population": self.population, "cost_model": COST_MODEL_VERSION,
                "facilitation_premium": FACILITATION_PREMIUM, "model": model_digest()}

    def fingerprint(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @property
    def outcomes(self) -> tuple[str, ...]:
        """Objectives, with the target's outcome first among them."""
        if self.target and self.target.outcome not in self.objectives:
            return (self.target.outcome, *self.objectives)
        return self.objectives

    @property
    def reported(self) -> tuple[str, ...]:
        """Outcomes the confirmed front reports: the searched ones, then scaled and sustained."""
        return tuple(dict.fromkeys((*self.outcomes, "scaled", "sustained")))

    def base_scenario(self) -> Scenario:
        """The base scenario under the fixed conditions (validated)."""
        return load_scenario(self.base).with_parameters("--set", **dict(self.conditions))

    def check(self) -> Scenario:
        """Validate everything before anything runs: the base, conditions and both ends of the space."""
        if self.replications < 2:
            raise LasimInputError(f"--replications {self.replications}: must be at least 2")
        if self.population < 2:
            raise LasimInputError(f"--population {self.population}: must be at least 2")
        if not self.space:
            raise LasimInputError("--vary: the search space is empty")
        clash = [v.name for v in self.space if v.name in self.conditions]
        if clash:
            raise LasimInputError(f"--set {clash[0]}: is also searched (--vary); a name is either fixed or searched")
        base = self.base_scenario()
        for corner in ("low", "high"):
            values = {v.name: _value(v, getattr(v, corner)) for v in self.space}
            try:
                base.with_parameters("search space", **values)
            except LasimInputError as exc:
                raise LasimInputError(f"{exc} (at the {corner} end of every searched range)") from None
        return base


def _value(v: SearchVariable, x: float) -> Any:
    return int(round(x)) if v.integer else round(float(x), 6)


# --------------------------------------------------------------------------- cost


def run_priced(scenario: Any, seed: int, *, series: bool = False) -> RunResult:
    """``run_scenario`` that also reports case-study months (the cost model splits spending with them)."""
    result = run_scenario(scenario, seed, series=True)
    summary = dict(result.summary)
    summary["case_study_months"] = float(result.series["case_studies"].sum())
    return RunResult(summary, result.series if series else None, result.events)


def design_cost(summary: Mapping[str, Any], params: Any, base_facilitation: float) -> float:
    """Cost of one run of a design (k USD): model spending plus the facilitation premium."""
    meetings = float(summary["total_cost"]) - params.case_study_cost * float(summary["case_study_months"])
    premium = FACILITATION_PREMIUM * (params.facilitation_quality - base_facilitation) * meetings
    return float(summary["total_cost"]) + premium


# --------------------------------------------------------------------------- evaluation


def evaluate(base: Scenario, values: Mapping[str, Any], seeds: Sequence[int], outcomes: Sequence[str], *,
             executor: Executor | None = None, on_result: Callable[[Run], None] | None = None,
             base_facilitation: float | None = None) -> pd.DataFrame:
    """Run one design on ``seeds``; one row per run with its cost and the outcomes."""
    fac = base.parameters.facilitation_quality if base_facilitation is None else base_facilitation
    design = base.with_parameters("design", **dict(values))  # validated here, built again in the worker
    runs = run_many([Variant(base, dict(values))], list(seeds), executor=executor, run_fn=PRICED_RUN,
                    on_result=on_result)
    bad = [r for r in runs if not r.ok]
    if bad:
        raise RuntimeError(f"a run of design {dict(values)} failed (seed {bad[0].seed}): {bad[0].error}")
    rows = []
    for r in runs:
        row = {"seed": r.seed, "cost": design_cost(r.summary, design.parameters, fac),
               "total_cost": float(r.summary["total_cost"])}
        row.update({o: bool(r.summary[o]) for o in outcomes})
        rows.append(row)
    return pd.DataFrame(rows)


def mean_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and its Student-t 95% interval."""
    x = np.asarray(values, dtype=float)
    n = x.size
    if n < 2:
        return float(x.mean()) if n else math.nan, math.nan, math.nan
    half = float(student_t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return float(x.mean()), float(x.mean()) - half, float(x.mean()) + half


def non_dominated(cost: Sequence[float], probs: Sequence[Sequence[float]]) -> np.ndarray:
    """Mask of points no other point beats: no dearer and no less likely in every outcome, better in one."""
    c = np.asarray(cost, dtype=float)
    p = np.asarray(probs, dtype=float).reshape(len(c), -1)
    keep = np.ones(len(c), dtype=bool)
    for i in range(len(c)):
        no_worse = (c <= c[i]) & (p >= p[i]).all(axis=1)
        better = (c < c[i]) | (p > p[i]).any(axis=1)
        if (no_worse & better).any():
            keep[i] = False
    return keep


# --------------------------------------------------------------------------- the search


@dataclass
class SearchState:
    """What a call to :func:`search` found in and added to the study."""

    resumed_from: int
    completed: int
    trials: pd.DataFrame


def _distributions(space: Sequence[SearchVariable]) -> dict[str, Any]:
    from optuna.distributions import FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for v in space:
        if v.integer:
            out[v.name] = IntDistribution(int(v.low), int(v.high), step=int(v.step or 1))
        else:
            out[v.name] = FloatDistribution(v.low, v.high, step=v.step)
    return out


def _constraint(trial: Any) -> list[float]:
    # optuna calls this on each finished trial: <= 0 means the target is met
    return [float(trial.user_attrs.get("constraint", 0.0))]


def open_study(settings: OptimiseSettings, out: Path) -> Any:
    """Create or load the study in ``out/study.db``; refuse one made with other settings."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{(out / DB_NAME).resolve()}"
    directions = ["minimize", *["maximize"] * len(settings.outcomes)]
    probe = optuna.create_study(study_name=STUDY_NAME, storage=storage, directions=directions,
                                load_if_exists=True)
    stored = probe.user_attrs.get("fingerprint")
    if stored is None:
        probe.set_user_attr("fingerprint", settings.fingerprint())
        probe.set_user_attr("settings", settings.to_dict())
    elif stored != settings.fingerprint():
        old = probe.user_attrs.get("settings", {})
        differ = sorted(k for k, v in settings.to_dict().items() if old.get(k) != json.loads(json.dumps(v)))
        if differ == ["model"]:
            # a resumed search would mix trials of two models: the front would not be this model's
            raise LasimInputError(f"--out {str(out)!r}: holds a search made by another version of the model "
                                  "(its sources changed); choose another --out (or --overwrite)")
        raise LasimInputError(f"--out {str(out)!r}: holds a search with other settings ({', '.join(differ)}); "
                              "rerun with the same options to resume, or choose another --out (or --overwrite)")
    done = sum(t.state.name == "COMPLETE" for t in probe.trials)
    return optuna.load_study(study_name=STUDY_NAME, storage=storage, sampler=_sampler(settings, done))


def _sampler(settings: OptimiseSettings, done: int) -> Any:
    """NSGA-II seeded for the trial after ``done`` finished ones.

    Its random state is the only thing it keeps in memory (populations and parents
    are in the study's storage), so a fresh one per trial, seeded by the trial's
    place, draws the same design whether the search ran straight through or was
    interrupted and resumed.
    """
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constraints_func is marked experimental
        return optuna.samplers.NSGAIISampler(
            population_size=settings.population, seed=settings.seed + done,
            constraints_func=_constraint if settings.target else None)


def finished_trials(settings: OptimiseSettings, out: str | Path) -> int:
    """Finished trials of the study in ``out`` (0 if there is none); refuses one with other settings."""
    if not (Path(out) / DB_NAME).exists():
        return 0
    study = open_study(settings, Path(out))
    return sum(t.state.name == "COMPLETE" for t in study.get_trials(deepcopy=False))


def search(settings: OptimiseSettings, out: str | Path, n_trials: int, *, executor: Executor | None = None,
           on_trial: Callable[[int, int], None] | None = None,
           on_result: Callable[[Run], None] | None = None) -> SearchState:
    """Run trials until the study in ``out`` holds ``n_trials`` finished ones.

    A rerun with the same settings resumes: finished trials are kept and not run
    again; one left running by a kill is marked failed and its place taken by a
    new trial. Each trial's sampler is seeded with ``seed + finished trials``, so an
    interrupted and resumed search draws the same designs as one run straight through.

    Parameters
    ----------
    settings
        What to search (see :class:`OptimiseSettings`).
    out
        Output folder; the study is ``out/study.db``.
    n_trials
        Finished trials wanted in total (not in this call).
    on_trial
        Called with (finished trials, n_trials) after each trial.
    on_result
        Called with each run as it finishes (progress bars).
    """
    from optuna.trial import TrialState

    out = Path(out)
    base = settings.check()
    study = open_study(settings, out)
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        study.tell(t.number, state=TrialState.FAIL)  # a run killed mid-trial: its results never came
    done = sum(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False))
    resumed_from = done
    seeds = replication_seeds(settings.seed, settings.replications)
    dists = _distributions(settings.space)
    outcomes = settings.outcomes
    fac = base.parameters.facilitation_quality
    while done < n_trials:
        study.sampler = _sampler(settings, done)
        trial = study.ask(dists)
        values = {v.name: _value(v, trial.params[v.name]) for v in settings.space}
        try:
            rows = evaluate(base, values, seeds, outcomes, executor=executor, on_result=on_result,
                            base_facilitation=fac)
        except BaseException:
            study.tell(trial, state=TrialState.FAIL)
            raise
        cost = float(rows["cost"].mean())
        probs = [float(rows[o].mean()) for o in outcomes]
        trial.set_user_attr("cost", cost)
        trial.set_user_attr("total_cost", float(rows["total_cost"].mean()))
        for o, p in zip(outcomes, probs, strict=True):
            trial.set_user_attr(f"p_{o}", p)
        if settings.target:
            p_target = float(rows[settings.target.outcome].mean())
            trial.set_user_attr("constraint", settings.target.threshold - p_target)
        study.tell(trial, [cost, *probs])
        done += 1
        if on_trial:
            on_trial(done, n_trials)
    return SearchState(resumed_from, done, trials_table(study, settings))


def trials_table(study: Any, settings: OptimiseSettings) -> pd.DataFrame:
    """One row per trial: number, state, the design's values and its search estimates."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        row: dict[str, Any] = {"trial": t.number, "state": t.state.name}
        for v in settings.space:
            row[v.name] = _value(v, t.params[v.name]) if v.name in t.params else None
        row["cost"] = t.user_attrs.get("cost")
        row["total_cost"] = t.user_attrs.get("total_cost")
        for o in settings.outcomes:
            row[f"p_{o}"] = t.user_attrs.get(f"p_{o}")
        if settings.target:
            c = t.user_attrs.get("constraint")
            row["meets_target"] = None if c is None else bool(c <= 1e-12)
        rows.append(row)
    return pd.DataFrame(rows)


def search_front(trials: pd.DataFrame, settings: OptimiseSettings, size: int) -> pd.DataFrame:
    """The designs to re-evaluate: non-dominated finished trials (one per distinct design), at most ``size``.

    With a target, the cheapest designs whose search estimate is within 0.1 of
    it, dominated or not: the estimate of a chosen design is biased upwards, so
    the cheapest on the search's front may fail on fresh seeds and the next
    cheapest pass (when none comes near, the most likely design). Without one,
    designs spread evenly along the front by cost.
    """
    done = trials[trials["state"] == "COMPLETE"].copy()
    names = [v.name for v in settings.space]
    done = done.drop_duplicates(subset=names)
    if settings.target:
        t = settings.target
        near = done[done[f"p_{t.outcome}"] >= t.threshold - 0.1].sort_values(["cost", "trial"])
        if len(near):
            return near.head(size)
        return done.sort_values([f"p_{t.outcome}", "cost"], ascending=[True, False]).tail(1)
    probs = done[[f"p_{o}" for o in settings.outcomes]].to_numpy(dtype=float)
    front = done[non_dominated(done["cost"].to_numpy(dtype=float), probs)].sort_values("cost")
    if len(front) <= size:
        return front
    idx = np.unique(np.round(np.linspace(0, len(front) - 1, size)).astype(int))
    return front.iloc[idx]


def confirm(settings: OptimiseSettings, front: pd.DataFrame, replications: int, *,
            executor: Executor | None = None, on_result: Callable[[Run], None] | None = None) -> pd.DataFrame:
    """Run the front's designs again on fresh seeds; P(outcome) with Wilson intervals, cost with t intervals.

    Fresh seeds are children ``replications_search .. + replications`` of the root
    seed's sequence: independent of the seeds the search chose the designs on.
    """
    base = settings.base_scenario()
    fac = base.parameters.facilitation_quality
    all_seeds = replication_seeds(settings.seed, settings.replications + replications)
    seeds = all_seeds[settings.replications:]
    rows = []
    for rec in front.to_dict("records"):
        values = {v.name: _value(v, rec[v.name]) for v in settings.space}
        runs = evaluate(base, values, seeds, settings.reported, executor=executor, on_result=on_result,
                        base_facilitation=fac)
        row: dict[str, Any] = {"trial": int(rec["trial"]), **values}
        row["cost"], row["cost_low"], row["cost_high"] = mean_interval(runs["cost"])
        row["total_cost"] = float(runs["total_cost"].mean())
        for o in settings.reported:
            k = int(runs[o].sum())
            row[f"p_{o}"], row[f"p_{o}_low"], row[f"p_{o}_high"] = wilson(k, len(runs))
            if o in settings.outcomes:
                row[f"search_p_{o}"] = rec[f"p_{o}"]
        row["n"] = len(runs)
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        table["non_dominated"] = non_dominated(table["cost"], table[[f"p_{o}" for o in settings.outcomes]])
        if settings.target:
            t = settings.target
            table["meets_target"] = table[f"p_{t.outcome}"] >= t.threshold
            table["surely_meets_target"] = table[f"p_{t.outcome}_low"] >= t.threshold
    return table.sort_values("cost").reset_index(drop=True)


def answer(settings: OptimiseSettings, confirmed: pd.DataFrame) -> str:
    """The plain-language answer: the cheapest design that meets the target on fresh seeds, or the closest."""
    if not len(confirmed):
        return "no design was evaluated"
    o = settings.target.outcome if settings.target else settings.outcomes[0]

    def describe(r: Mapping[str, Any]) -> str:
        return (f"design {int(r['trial'])} ({design_label(r, settings)}): P({o}) {r[f'p_{o}']:.0%} "
                f"[{r[f'p_{o}_low']:.0%}, {r[f'p_{o}_high']:.0%}] over n = {int(r['n'])} fresh runs, "
                f"cost {r['cost']:.0f} k USD [{r['cost_low']:.0f}, {r['cost_high']:.0f}]")

    if settings.target is None:
        best = confirmed.sort_values(f"p_{o}", ascending=False).iloc[0]
        return f"The most likely design to reach {o} on the front is {describe(best)}."
    t = settings.target
    ok = confirmed[confirmed["meets_target"]]
    if len(ok):
        r = ok.iloc[0]
        sure = ("its interval's lower end clears the target too" if r["surely_meets_target"]
                else "but its interval reaches below the target")
        return f"The cheapest design that meets {t} on fresh seeds is {describe(r)}; {sure}."
    r = confirmed.sort_values(f"p_{o}", ascending=False).iloc[0]
    return f"No design met {t} on fresh seeds; the closest is {describe(r)}."


def design_label(values: Mapping[str, Any], settings: OptimiseSettings) -> str:
    parts = []
    for v in settings.space:
        x = values[v.name]
        shown = EXCHANGE_LINKS[int(x)] if v.name == "exchange_links" else (f"{x:g}" if not v.integer else str(int(x)))
        parts.append(f"{v.name}={shown}")
    return ", ".join(parts)


def design_toml(values: Mapping[str, Any], settings: OptimiseSettings, name: str, base_ref: str,
                note: str) -> str:
    """A scenario file for ``lasim compare``: the base, the conditions and the design's values."""
    params = {**dict(settings.conditions), **{k: v for k, v in values.items() if not is_structure_variable(k)}}
    structure = nest({k: (EXCHANGE_LINKS[int(v)] if k == "exchange_links" else v)
                      for k, v in values.items() if is_structure_variable(k)})
    data: dict[str, Any] = {"base": base_ref, "name": name, "description": note}
    if params:
        data["parameters"] = params
    if structure:
        data["structure_variables"] = structure
    return ("# Written by `lasim optimise` (docs/decisions.md, 'The cost of a design'): a design it found,\n"
            "# ready for `lasim compare`. The [parameters] include the conditions it was searched under.\n"
            + tomli_w.dumps(data))
