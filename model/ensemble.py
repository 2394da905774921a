"""Scenario ensembles: a base scenario and equally likely parameter sets.

``lasim calibrate`` writes a posterior as an ensemble file; ``lasim run`` and
``lasim sweep`` accept one wherever they accept a scenario. The reader lives in
``model`` because an ensemble is model input, which every layer may read.

File format (TOML)::

    format = "lasim-ensemble"
    version = 1
    scenario = "default"          # shipped name, or a path relative to this file
    parameters = ["a", "b"]
    description = "..."
    [[members]]
    id = 0
    a = 0.1
    b = 0.2
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ScenarioError
from .scenario import Scenario, load_scenario, parameter_specs
from .tomlfile import parse_toml

ENSEMBLE_FORMAT = "lasim-ensemble"
ENSEMBLE_VERSION = 1


@dataclass
class Ensemble:
    """A base scenario and its members' parameter values (all equally likely)."""

    path: Path
    scenario: str
    parameters: list[str]
    members: list[dict[str, Any]]
    description: str = ""
    ids: list[int] = field(default_factory=list)

    def scenarios(self) -> list[Scenario]:
        """Each member as a validated scenario named ``<base>#<id>``."""
        base = load_scenario(self.scenario)
        out = []
        for i, rec in zip(self.ids, self.members, strict=True):
            s = base.with_parameters(f"{self.path}: members[id={i}]", **{k: rec[k] for k in self.parameters})
            out.append(s.model_copy(update={"name": f"{base.name}#{i}"}))
        return out


def is_ensemble_file(path: str | Path) -> bool:
    """Whether ``path`` is a TOML file that declares ``format = "lasim-ensemble"``."""
    p = Path(path)
    if p.suffix != ".toml" or not p.is_file():
        return False
    try:
        return tomllib.loads(p.read_text(encoding="utf-8")).get("format") == ENSEMBLE_FORMAT
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def load_ensemble(path: str | Path) -> Ensemble:
    """Read and validate an ensemble file.

    Raises
    ------
    ScenarioError
        Not an ensemble, an unknown or missing parameter, or a member that is not a number.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read ensemble ({exc})") from None
    raw = parse_toml(text, str(path), ScenarioError)
    if raw.get("format") != ENSEMBLE_FORMAT:
        raise ScenarioError(f"{path}: format must be {ENSEMBLE_FORMAT!r} (not an ensemble file)")
    if raw.get("version") != ENSEMBLE_VERSION:
        raise ScenarioError(f"{path}: version = {raw.get('version')!r}: unsupported (need {ENSEMBLE_VERSION})")
    params = raw.get("parameters")
    members = raw.get("members")
    if not isinstance(params, list) or not params:
        raise ScenarioError(f"{path}: parameters: must list the parameter names")
    if not isinstance(members, list) or not members:
        raise ScenarioError(f"{path}: members: no [[members]] tables")
    specs = parameter_specs()
    for p in params:
        if p not in specs:
            raise ScenarioError(f"{path}: parameters: unknown parameter {p!r}")
    ids = []
    for i, m in enumerate(members):
        if not isinstance(m, dict):
            raise ScenarioError(f"{path}: members[{i}] = {m!r}: must be a [[members]] table of parameter values")
        ident = m.get("id", i)
        if isinstance(ident, bool) or not isinstance(ident, int):
            raise ScenarioError(f"{path}: members[{i}].id = {ident!r}: must be a whole number")
        ids.append(ident)
        missing = [p for p in params if p not in m]
        if missing:
            raise ScenarioError(f"{path}: members[{i}]: missing {missing[0]!r}")
        for p in params:
            if isinstance(m[p], bool) or not isinstance(m[p], int | float):
                raise ScenarioError(f"{path}: members[{i}].{p} = {m[p]!r}: must be a number")
    scenario = str(raw.get("scenario", "default"))
    local = path.parent / scenario
    if scenario.endswith(".toml") and local.exists():
        scenario = str(local)
    return Ensemble(
        path=path, scenario=scenario, parameters=list(params),
        members=[{p: m[p] for p in params} for m in members],
        description=str(raw.get("description", "")),
        ids=ids,
    )
