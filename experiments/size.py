"""A size guard: refuse, before anything runs, work that would not fit in memory.

The model keeps a few arrays per organisation and per seat; measured at about
500 bytes per organisation (seats included) on the default structure scaled
5x to 60x, so the estimate below (1 kB per organisation plus 1 kB per seat)
errs on the safe side. A command that keeps every run's monthly series in
memory (``lasim run``) also needs about 400 bytes per run and month.
"""

from __future__ import annotations

import os
from typing import Any

from model.errors import LasimInputError

BYTES_PER_ORGANISATION = 1024
BYTES_PER_SEAT = 1024
BYTES_PER_RUN_MONTH = 400
#: Never more than this, whatever the machine (``--allow-large`` lifts it).
MAX_BYTES = 8 * 1024**3


def memory_limit() -> int:
    """Half the physical memory, at most :data:`MAX_BYTES`."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return MAX_BYTES
    return min(MAX_BYTES, physical // 2)


def structure_size(scenario: Any) -> tuple[int, int]:
    """(organisations, seats) a scenario's world will hold, counted without building it."""
    st = scenario.structure
    organisations = seats = 0
    for p in st.platforms:
        members = sum(p.members.values())
        organisations += p.count * members
        seats += p.count * (members + p.linking_members)
    for d in st.districts:
        organisations += sum(d.outsiders.values())
    for org in getattr(st, "organisations", ()):
        organisations += 1
        seats += len(org.platforms)
    return organisations, seats


def _gb(n: float) -> str:
    return f"{n / 1024**3:.1f} GB"


def check_size(scenario: Any, runs: int, *, allow: bool = False, keep_series: bool = True,
               limit: int | None = None) -> int:
    """The estimated peak memory in bytes; refuse it in one line if it passes the limit.

    Parameters
    ----------
    scenario
        The scenario (or first ensemble member) every run uses.
    runs
        Runs whose outputs the command holds at once.
    allow
        ``--allow-large``: warn nothing, refuse nothing.
    keep_series
        Whether the command keeps every run's monthly series in memory.
    """
    limit = limit or memory_limit()
    organisations, seats = structure_size(scenario)
    per_model = organisations * BYTES_PER_ORGANISATION + seats * BYTES_PER_SEAT
    months = scenario.parameters.horizon_months
    outputs = runs * months * BYTES_PER_RUN_MONTH if keep_series else 0
    if allow:
        return per_model + outputs
    if per_model > limit:
        raise LasimInputError(
            f"structure: {organisations:,} organisations on {seats:,} seats need about "
            f"{_gb(per_model)} per run, above the limit of {_gb(limit)}; make the structure "
            "smaller or add --allow-large")
    if per_model + outputs > limit:
        raise LasimInputError(
            f"--replications: {runs:,} runs x {months} months of series need about "
            f"{_gb(per_model + outputs)}, above the limit of {_gb(limit)}; run fewer or add "
            "--allow-large")
    return per_model + outputs
