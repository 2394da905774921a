"""Stakeholder kinds, levels and adoption stages (seed 002's stakeholder types)."""

from __future__ import annotations

from enum import IntEnum

KINDS: tuple[str, ...] = (
    "national_government",
    "local_government",
    "service_provider",
    "regulator",
    "ngo",
    "community_group",
    "research",
    "private_sector",
    "donor",
    "media",
)
KIND_INDEX = {k: i for i, k in enumerate(KINDS)}

KIND_LABELS = {
    "national_government": "national government / policy maker",
    "local_government": "local government",
    "service_provider": "service provider (public, private or voluntary)",
    "regulator": "regulator",
    "ngo": "civil-society organisation (NGO, union, professional body)",
    "community_group": "water-user / community group",
    "research": "research and training organisation",
    "private_sector": "private sector company",
    "donor": "donor",
    "media": "media",
}

#: Kinds whose involvement the ``government_involvement`` parameter scales.
GOVERNMENT_KINDS = ("national_government", "local_government", "regulator")
#: Kinds whose adoption changes national policy (process 7).
POLICY_KINDS = ("national_government", "regulator")
#: Kinds whose adoption reaches communities (process 6, scaling reach).
PROVIDER_KINDS = ("local_government", "service_provider", "ngo")

LEVELS: tuple[str, ...] = ("national", "intermediate", "local")
LEVEL_INDEX = {lv: i for i, lv in enumerate(LEVELS)}


class Stage(IntEnum):
    """Adoption stage of one organisation."""

    UNAWARE = 0
    AWARE = 1
    TRIALLING = 2
    ADOPTED = 3
    INSTITUTIONALISED = 4


STAGE_NAMES = tuple(s.name.lower() for s in Stage)
