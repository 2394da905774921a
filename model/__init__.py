"""The lasim model: stakeholders on multi-level learning platforms (Mesa 3)."""

from .alliance import AllianceModel, Event
from .errors import LasimInputError, ScenarioError
from .runner import RunResult, replication_seeds, run_scenario
from .scenario import Scenario, list_scenarios, load_scenario, parameter_specs, scenario_to_toml

__all__ = [
    "AllianceModel", "Event", "LasimInputError", "ScenarioError", "RunResult", "replication_seeds",
    "run_scenario", "Scenario", "list_scenarios", "load_scenario", "parameter_specs", "scenario_to_toml",
]
