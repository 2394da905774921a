"""One browser tab's simulation: the model, its fixed layout and its history, without any UI.

The page only reads :class:`Snapshot` objects and calls :meth:`ExplorerSession.step`,
:meth:`~ExplorerSession.reset`; so everything here is testable without a browser,
and the play thread and the renderer never touch the model at the same time
(a lock guards the model, snapshots are copies).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lasim.drawing import AllianceLayout, compute_layout
from model.alliance import AllianceModel
from model.scenario import Scenario, list_scenarios, load_scenario, parameter_specs

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


def _control(name: str, label: str, step: float, high: float | None = None,
             unit: str | None = None) -> Control:
    spec = parameter_specs()[name]
    return Control(
        name=name, label=label, unit=unit or spec.unit, low=float(spec.low),
        high=float(spec.high if high is None else high), step=step, integer=spec.integer,
        help=spec.meaning,
    )


def controls(horizon_months: int = 120) -> list[Control]:
    """The sliders a trainer moves, in the order shown.

    Ranges are the model's allowed ranges except where the full range would
    make the slider useless (turnover above 20% a month; gaps beyond the horizon).
    """
    return [
        _control("facilitation_quality", "Facilitation quality", 0.05, unit="0 = poor, 1 = excellent"),
        _control("funding_gap_months", "Funding gap length", 1, high=min(120, horizon_months)),
        _control("funding_gap_start", "Funding gap starts at", 1, high=horizon_months - 1),
        _control("government_involvement", "Government involvement", 0.05, unit="0 = absent, 1 = fully engaged"),
        _control("documentation", "Process documentation", 0.05, unit="share of lessons written down"),
        _control("turnover_rate", "Staff turnover", 0.005, high=0.2, unit="chance per month"),
        _control("cost_sharing", "Cost sharing by members", 0.05, unit="share of running costs"),
    ]


#: Names of the parameters the explorer's sliders set.
CONTROL_NAMES: tuple[str, ...] = tuple(c.name for c in controls())


def scenario_choices() -> dict[str, str]:
    """Label -> scenario (shipped name or file path) for the picker.

    The file given to ``lasim app`` (if any) comes first, then the shipped scenarios.
    """
    out: dict[str, str] = {}
    given = os.environ.get(SCENARIO_ENV)
    if given:
        label = Path(given).name if Path(given).exists() else given
        out[label] = given
    for name, _ in list_scenarios():
        out.setdefault(name, name)
    return out


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
    events: list[str]
    parameters: dict[str, Any]
    finished: bool


class ExplorerSession:
    """A model being explored: built from a scenario, parameters and a seed; stepped on demand.

    Parameters
    ----------
    scenario
        The scenario to explore.
    seed
        Seed of the model's generator.
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
        model = AllianceModel(scenario, rng=seed)
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

    def snapshot(self, last_events: int = 40) -> Snapshot:
        """A consistent copy of everything the page shows."""
        with self._lock:
            m = self.model
            series = m.series() if m.month else pd.DataFrame()
            return Snapshot(
                month=m.month,
                horizon=m.params.horizon_months,
                series=series,
                stage=m.stage.copy(),
                seat_active=m.seat_active.copy(),
                member=m.is_member.copy(),
                influence=m.world.influence,
                events=[str(e) for e in m.events[-last_events:]][::-1],
                parameters=m.params.model_dump(),
                finished=not m.running,
            )
