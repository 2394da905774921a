"""What calibration needs from a model: parameter ranges, outcome names and one run.

The ABC machinery, the targets and the validation suite talk to a
:class:`Simulator`, not to ``model`` directly, so the tests can swap in a tiny
fake model and the calibration layer stays a thin client of ``model.runner``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from experiments.runs import run_many
from model.runner import SERIES_FIELDS, SUMMARY_FIELDS
from model.scenario import load_scenario, parameter_specs

#: The model's yes/no run outcomes (calibration.evaluate scores them on more runs).
YES_NO_OUTCOMES = frozenset({"functioning", "institutionalised", "scaled", "sustained"})


@runtime_checkable
class ParamRange(Protocol):
    """The parts of ``model.scenario.ParamSpec`` calibration uses."""

    name: str
    default: float
    low: float
    high: float
    integer: bool


@runtime_checkable
class Simulator(Protocol):
    """A model calibration can run.

    ``run`` must be a pure function of ``(parameters, seed)``: the same inputs
    give the same outputs, whichever process calls it.
    """

    scenario_name: str

    def parameter_specs(self) -> Mapping[str, ParamRange]: ...

    def summary_fields(self) -> Mapping[str, str]: ...

    def series_fields(self) -> Mapping[str, str]: ...

    def horizon(self, parameters: Mapping[str, Any]) -> int: ...

    def run(
        self, parameters: Mapping[str, Any], seed: int, *, series: bool
    ) -> tuple[Mapping[str, Any], pd.DataFrame | None]: ...


@dataclass
class ModelSimulator:
    """The lasim model: a base scenario with parameters overridden per run.

    Parameters
    ----------
    scenario : str or Path
        A shipped scenario name or a scenario TOML file.
    run_fn : str or callable, optional
        Replaces the model (tests); see :func:`experiments.runs.run_many`.
    """

    scenario: str | Path
    run_fn: Any = None
    _base: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._base = load_scenario(self.scenario)

    @property
    def scenario_name(self) -> str:
        return str(self.scenario)

    @property
    def base(self) -> Any:
        """The loaded base :class:`model.scenario.Scenario`."""
        return self._base

    def base_values(self) -> dict[str, float]:
        """The base scenario's parameter values."""
        return {k: float(v) for k, v in self._base.parameters.model_dump().items()}

    def parameter_specs(self) -> Mapping[str, ParamRange]:
        return parameter_specs()

    def summary_fields(self) -> Mapping[str, str]:
        return dict(SUMMARY_FIELDS)

    def series_fields(self) -> Mapping[str, str]:
        return dict(SERIES_FIELDS)

    def yes_no_outcomes(self) -> frozenset[str]:
        """Run outcomes that are yes/no (their mean over runs is a share of runs)."""
        return YES_NO_OUTCOMES

    def horizon(self, parameters: Mapping[str, Any]) -> int:
        return int(parameters.get("horizon_months", self._base.parameters.horizon_months))

    def scenario_for(self, parameters: Mapping[str, Any]) -> Any:
        """The base scenario with ``parameters`` applied (integers rounded)."""
        specs = self.parameter_specs()
        values = {
            k: (round(float(v)) if specs[k].integer else float(v)) for k, v in parameters.items()
        }
        return self._base.with_parameters(**values)

    def run(
        self, parameters: Mapping[str, Any], seed: int, *, series: bool
    ) -> tuple[Mapping[str, Any], pd.DataFrame | None]:
        # one run per call: pyabc's sampler owns the parallelism of calibration
        (run,) = run_many([self.scenario_for(parameters)], [int(seed)], series=series,
                          run_fn=self.run_fn)
        if not run.ok:
            raise RuntimeError(f"run with seed {seed} failed: {run.error}")
        return run.summary, (run.series if series else None)
