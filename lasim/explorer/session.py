"""One browser tab's simulation: the model, its fixed layout and its history, without any UI.

The page only reads :class:`Snapshot` objects and calls :meth:`ExplorerSession.step`,
:meth:`~ExplorerSession.reset`; so everything here is testable without a browser,
and the play thread and the renderer never touch the model at the same time
(a lock guards the model, snapshots are copies).
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lasim.drawing import AllianceLayout, compute_layout
from model.alliance import AllianceModel
from model.runner import replication_seeds
from model.scenario import Scenario, load_scenario, parameter_specs, scenario_names

from .feed import FeedEvent, feed_events
from .server import SCENARIO_ENV


@dataclass(frozen=True)
class Control:
    """A slider of the explorer: the scenario parameter it sets, in plain words."""

    name: str
    label: str
    unit: str
    low: float
    high: float
    step: float
    integer: bool
    help: str
    #: How the value reads after the label: ``"{}"`` is the value ("month {}", "{} months").
    pattern: str = ""

    def fmt(self, value: Any) -> str:
        """The value in words, e.g. ``6 months``, ``month 6``, ``1 month``, ``0.7 (0 = poor, 1 = excellent)``."""
        if self.integer:
            v = int(value)
            text = self.pattern.format(v) if self.pattern else f"{v} {self.unit}".strip()
            return text.replace("1 months", "1 month") if v == 1 else text
        return f"{float(value):.3g} ({self.unit})"


def _control(name: str, label: str, step: float, high: float | None = None,
             unit: str | None = None, pattern: str = "") -> Control:
    spec = parameter_specs()[name]
    return Control(
        name=name, label=label, unit=unit or spec.unit, low=float(spec.low),
        high=float(spec.high if high is None else high), step=step, integer=spec.integer,
        help=spec.meaning, pattern=pattern,
    )



def controls(horizon_months: int = 120) -> list[Control]:
    """The sliders a trainer moves, in the order shown.

    Ranges are the model's allowed ranges except where the full range would
    make the slider useless (turnover above 20% a month; gaps beyond the horizon).
    """
    return [
        _control("facilitation_quality", "Facilitation quality", 0.05, unit="0 poor, 1 excellent"),
        _control("funding_gap_months", "Funding gap length", 1, high=min(120, horizon_months),
                 pattern="{} months"),
        _control("funding_gap_start", "Funding gap starts at", 1, high=horizon_months - 1, pattern="month {}"),
        _control("government_involvement", "Government involvement", 0.05, unit="0 absent, 1 engaged"),
        _control("documentation", "Documentation", 0.05, unit="share of lessons"),
        _control("turnover_rate", "Staff turnover", 0.005, high=0.2, unit="a month"),
        _control("cost_sharing", "Cost sharing", 0.05, unit="share of costs"),
    ]


#: Names of the parameters the explorer's sliders set.
CONTROL_NAMES: tuple[str, ...] = tuple(c.name for c in controls())


def first_line(text: str) -> str:
    """The first non-blank line of a description ("" when there is none)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


@dataclass(frozen=True)
class Choice:
    """An entry of the scenario picker."""

    label: str
    target: str
    description: str


def _shipped_designs() -> dict[str, str]:

    folder = resources.files("model") / "scenarios" / "designs"
    return {p.name[:-5]: str(p) for p in folder.iterdir() if p.name.endswith(".toml")}


@functools.lru_cache(maxsize=64)
def _describe(target: str) -> str:
    try:
        return first_line(load_scenario(target).description)
    except ValueError:  # a broken file is reported when it is opened, not while listing
        return ""


def picker_label(name: str, description: str, width: int = 70) -> str:
    """``name: description``, the description cut to fit a picker line."""
    if not description:
        return name
    text = f"{name}: {description}"
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def scenario_choices() -> dict[str, str]:
    """Label -> scenario (shipped name or file path) for the picker.

    The file given to ``lasim app`` (if any) comes first, then the shipped
    scenarios, then the shipped alliance designs (``model/scenarios/designs``);
    each label carries the first line of the description.
    """
    return {c.label: c.target for c in choice_list()}


def choice_list() -> list[Choice]:
    """The picker's entries in order (see :func:`scenario_choices`)."""
    out: list[Choice] = []
    given = os.environ.get(SCENARIO_ENV)
    if given:
        name = Path(given).name if Path(given).exists() else given
        out.append(Choice(picker_label(name, _describe(given)), given, _describe(given)))
    targets = [c.target for c in out]
    entries = [(n, n) for n in scenario_names()]
    entries += [(f"design {n}", path) for n, path in sorted(_shipped_designs().items())]
    for name, target in entries:
        if target in targets or (given and name == given):
            continue
        d = _describe(target)
        out.append(Choice(picker_label(name, d), target, d))
    return out


def label_of(target: str | None, choices: dict[str, str]) -> str:
    """The picker label of ``target`` (a name or path), else the default scenario's, else the first."""
    for label, t in choices.items():
        if t == target:
            return label
    for label, t in choices.items():
        if t == "default":
            return label
    return next(iter(choices))


def model_seed(seed: int) -> int:
    """The model's seed for the app's seed ``seed``: the first replication of ``lasim run --seed seed``."""
    return replication_seeds(int(seed), 1)[0]


@functools.lru_cache(maxsize=32)
def _inert_controls(scenario_json: str, horizon: int) -> dict[str, str]:
    scenario = Scenario.model_validate_json(scenario_json)
    return inert_controls(scenario, horizon)


def inert_controls(scenario: Scenario, horizon: int | None = None) -> dict[str, str]:
    """Controls that change nothing in ``scenario``, each with the reason shown to the trainer.

    A control is inert when runs with it at both ends of its slider give the same
    months (same seed), both with the other controls as in the scenario and with
    them all moved to the middle of their ranges (a funding gap's start matters only
    once the gap has a length). The model decides, not a list kept by hand.
    """
    horizon = horizon or scenario.parameters.horizon_months
    ctrls = controls(horizon)
    base = {c.name: getattr(scenario.parameters, c.name) for c in ctrls}
    mid = {c.name: (round((c.low + c.high) / 2) if c.integer else (c.low + c.high) / 2) for c in ctrls}
    seed = model_seed(1)

    def run(values: dict[str, Any]) -> pd.DataFrame:
        m = AllianceModel(scenario.with_parameters(**values), rng=seed)
        m.run(horizon)
        return m.series()

    out: dict[str, str] = {}
    for c in ctrls:
        lo, hi = (int(c.low), int(c.high)) if c.integer else (c.low, c.high)
        if all(run({**others, c.name: lo}).equals(run({**others, c.name: hi})) for others in (base, mid)):
            ends = (c.fmt(lo), c.fmt(hi)) if c.integer else (f"{lo:g}", f"{hi:g}")
            out[c.name] = f"no effect in this scenario: runs at {ends[0]} and {ends[1]} give the same months"
    return out


def cached_inert_controls(scenario: Scenario) -> dict[str, str]:
    """:func:`inert_controls`, computed once per scenario (a picker switch should not wait twice)."""
    return _inert_controls(scenario.model_dump_json(), scenario.parameters.horizon_months)


@dataclass(frozen=True)
class Snapshot:
    """What the page draws for one month (copies; safe to read while the model plays on)."""

    month: int
    horizon: int
    series: pd.DataFrame
    stage: np.ndarray
    seat_active: np.ndarray
    member: np.ndarray
    influence: np.ndarray
    events: list[FeedEvent]
    parameters: dict[str, Any]
    finished: bool
    stopped: np.ndarray
    summary: dict[str, Any] | None = None


class ExplorerSession:
    """A model being explored: built from a scenario, parameters and a seed; stepped on demand.

    Parameters
    ----------
    scenario
        The scenario to explore.
    seed
        The run's seed, as ``lasim run --seed``: the model runs with
        :func:`model_seed` of it, so the app's seed N is the CLI's seed N.
    parameters
        Overrides of the scenario's parameters (the sliders).
    """

    def __init__(self, scenario: Scenario, seed: int = 1, parameters: dict[str, Any] | None = None):
        self._lock = threading.Lock()
        self.scenario = scenario
        self.seed = int(seed)
        self.parameters: dict[str, Any] = {}
        self.model: AllianceModel
        self.layout: AllianceLayout
        self.version = 0
        self.reset(parameters or {}, seed)

    @classmethod
    def open(cls, name_or_path: str, seed: int = 1) -> ExplorerSession:
        """A session on a shipped scenario name or a scenario TOML path."""
        return cls(load_scenario(name_or_path), seed)

    def reset(self, parameters: dict[str, Any] | None = None, seed: int | None = None) -> None:
        """Rebuild the model at month 0 with these parameter overrides and seed.

        Raises
        ------
        model.errors.ScenarioError
            When a value is out of its allowed range.
        """
        params = dict(self.parameters if parameters is None else parameters)
        seed = self.seed if seed is None else int(seed)
        scenario = self.scenario.with_parameters(**params)  # validates before anything changes
        model = AllianceModel(scenario, rng=model_seed(seed))
        layout = compute_layout(model.world)  # once per model: playing only recolours
        with self._lock:
            self.parameters, self.seed, self.model, self.layout = params, seed, model, layout
            self.version += 1

    def current(self, name: str) -> Any:
        """Value of a scenario parameter in the running model."""
        return getattr(self.model.params, name)

    @property
    def finished(self) -> bool:
        """True once the model reached its horizon."""
        return not self.model.running

    def step(self, months: int = 1) -> int:
        """Advance up to ``months`` months (not past the horizon); returns the new month."""
        with self._lock:
            for _ in range(months):
                if not self.model.running:
                    break
                self.model.step()
            self.version += 1
            return self.model.month

    def close(self) -> None:
        """Drop the model (a closed browser tab must not keep it alive)."""
        with self._lock:
            self.__dict__.pop("model", None)
            self.__dict__.pop("layout", None)

    def snapshot(self) -> Snapshot:
        """A consistent copy of everything the page shows."""
        with self._lock:
            m = self.model
            series = m.series() if m.month else pd.DataFrame()
            t = m.month - 1
            # the platforms that did not meet within two meeting intervals: the model's own
            # "stops meeting" rule (model.alliance, "plain-words events")
            stopped = ((t - m.last_meeting) > 2 * m.params.meeting_interval) if m.month else np.zeros(
                len(m.last_meeting), dtype=bool)
            return Snapshot(
                month=m.month,
                horizon=m.params.horizon_months,
                series=series,
                stage=m.stage.copy(),
                seat_active=m.seat_active.copy(),
                member=m.is_member.copy(),
                influence=m.world.influence,
                events=feed_events(m.events),
                parameters=m.params.model_dump(),
                finished=not m.running,
                stopped=np.asarray(stopped, dtype=bool).copy(),
                summary=None if m.running else m.summary(),
            )
