"""Run a scenario once, seeded: the one function every layer above calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .alliance import AllianceModel, Event
from .errors import LasimInputError
from .outcomes import SERIES_FIELDS, SUMMARY_FIELDS
from .scenario import Scenario

__all__ = ["RunResult", "run_scenario", "replication_seeds", "SERIES_FIELDS", "SUMMARY_FIELDS"]


@dataclass
class RunResult:
    """Outcomes of one run: summary dict, monthly series (optional) and events."""

    summary: dict[str, Any]
    series: pd.DataFrame | None = None
    events: list[Event] = field(default_factory=list)


def run_scenario(scenario: Scenario | str | None, seed: int, *, series: bool = True,
                 **parameters: Any) -> RunResult:
    """Build and run one model to its horizon.

    Parameters
    ----------
    scenario
        Scenario object, shipped name or TOML path (``None``: default).
    seed
        Seed of the model's generator; the same scenario and seed give the same run.
    series
        Whether to return the monthly series.
    **parameters
        Parameter overrides.
    """
    model = AllianceModel(scenario, rng=int(seed), **parameters)
    model.run()
    return RunResult(model.summary(), model.series() if series else None, list(model.events))


def replication_seeds(root: int, n: int) -> list[int]:
    """Seeds of ``n`` replications from a root seed.

    ``SeedSequence(root).spawn`` gives independent streams, and child ``i``
    does not depend on ``n``: replication 3 is the same run whether 5 or 50
    were asked for.
    """
    if isinstance(root, bool) or int(root) != root or root < 0:
        raise LasimInputError(f"seed = {root!r}: must be a whole number, 0 or more")
    return [int(s.generate_state(1, dtype=np.uint32)[0]) for s in np.random.SeedSequence(int(root)).spawn(n)]
