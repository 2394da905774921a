"""Stakeholders and platforms: named views of the model's arrays.

The state every month touches lives in numpy arrays on the model (one row per
organisation, one per platform), so a step never loops over agents in Python;
these classes give a reader, a notebook or the app a named handle on one row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from .kinds import KINDS, LEVELS, STAGE_NAMES, Stage

if TYPE_CHECKING:
    from .alliance import AllianceModel


class Stakeholder(mesa.Agent):
    """One organisation, acting through a representative (a row of the model's arrays)."""

    model: AllianceModel

    def __init__(self, model: AllianceModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    # fixed attributes
    @property
    def kind(self) -> str:
        return KINDS[self.model.world.kind[self.row]]

    @property
    def level(self) -> str:
        return LEVELS[self.model.world.level[self.row]]

    @property
    def district(self) -> str | None:
        d = self.model.world.district[self.row]
        return self.model.world.district_names[d] if d >= 0 else None

    @property
    def influence(self) -> float:
        return float(self.model.world.influence[self.row])

    @property
    def capacity(self) -> float:
        return float(self.model.world.capacity[self.row])

    @property
    def threshold(self) -> float:
        return float(self.model.world.threshold[self.row])

    @property
    def marginalised(self) -> bool:
        return bool(self.model.world.marginalised[self.row])

    @property
    def champion(self) -> bool:
        return bool(self.model.world.champion[self.row])

    # state
    @property
    def knowledge(self) -> float:
        return float(self.model.knowledge[self.row])

    @property
    def trust(self) -> float:
        return float(self.model.trust[self.row])

    @property
    def support(self) -> float:
        return float(self.model.support[self.row])

    @property
    def stage(self) -> Stage:
        return Stage(int(self.model.stage[self.row]))

    @property
    def stage_name(self) -> str:
        return STAGE_NAMES[int(self.model.stage[self.row])]

    @property
    def member(self) -> bool:
        return bool(self.model.is_member[self.row])

    @property
    def months_since_new_representative(self) -> int:
        return self.model.tenure_of(self.row)

    @property
    def decision_maker(self) -> bool:
        return bool(self.model.decision_maker[self.row])

    @property
    def platforms(self) -> list[str]:
        w = self.model.world
        seats = (w.edge_agent == self.row) & self.model.seat_active
        return [w.platform_names[p] for p in w.edge_platform[seats]]

    def __repr__(self) -> str:
        return f"Stakeholder({self.row}, {self.kind}, {self.level}, {self.stage_name})"


class Platform:
    """One multi-stakeholder platform (a row of the model's platform arrays)."""

    def __init__(self, model: AllianceModel, index: int) -> None:
        self.model = model
        self.index = index

    @property
    def name(self) -> str:
        return self.model.world.platform_names[self.index]

    @property
    def level(self) -> str:
        return LEVELS[self.model.world.platform_level[self.index]]

    @property
    def district(self) -> str | None:
        d = self.model.world.platform_district[self.index]
        return self.model.world.district_names[d] if d >= 0 else None

    @property
    def parent(self) -> str | None:
        p = self.model.world.platform_parent[self.index]
        return self.model.world.platform_names[p] if p >= 0 else None

    @property
    def facilitation(self) -> float:
        return float(self.model.world.platform_facilitation[self.index])

    @property
    def member_rows(self) -> np.ndarray:
        w = self.model.world
        return w.edge_agent[(w.edge_platform == self.index) & self.model.seat_active]

    @property
    def size(self) -> int:
        return int(self.member_rows.size)

    @property
    def ownership(self) -> float:
        return float(self.model.ownership[self.index])

    @property
    def last_meeting(self) -> int:
        return int(self.model.last_meeting[self.index])

    def __repr__(self) -> str:
        return f"Platform({self.name!r}, {self.level}, {self.size} members)"
