"""The event feed in plain words: grouped, with key moments pinned and a verdict at the end.

The page states causes only as the model records them: an event's optional
``cause`` text (``model.alliance.Event.cause``, read with ``getattr`` so the feed
works with models that do not record one yet). Nothing here guesses why
something happened; without a recorded cause the line says only what happened.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Event kinds shown among the key moments, pinned above the rest of the feed.
KEY_KINDS: tuple[str, ...] = ("funding", "functioning", "policy", "scaled", "verdict")
#: Platform events within this many months of the first of a run of them are one line.
GROUP_MONTHS = 3

_PLATFORM = re.compile(r"^(?P<level>\w+) platform (?P<name>.+) (?P<verb>stops meeting|meets again)$")
_VERB_PLURAL = {"stops meeting": "stop meeting", "meets again": "meet again"}


@dataclass(frozen=True)
class FeedEvent:
    """One model event, as the page reads it."""

    month: int
    kind: str
    text: str
    cause: str = ""


def feed_events(events: Iterable[Any]) -> list[FeedEvent]:
    """The model's events (``model.alliance.Event``) as :class:`FeedEvent` (oldest first)."""
    return [FeedEvent(int(e.month), str(e.kind), str(e.text), str(getattr(e, "cause", "") or ""))
            for e in events]


@dataclass(frozen=True)
class FeedLine:
    """One line of the feed: an event, or several alike grouped."""

    first_month: int
    last_month: int
    kind: str
    text: str
    causes: tuple[str, ...] = ()
    count: int = 1
    pinned: bool = False
    names: tuple[str, ...] = field(default=())

    @property
    def when(self) -> str:
        """``month 9`` or ``months 9-10``."""
        if self.first_month == self.last_month:
            return f"month {self.first_month}"
        return f"months {self.first_month}-{self.last_month}"

    def __str__(self) -> str:
        line = f"{self.when}: {self.text}"
        if self.causes:
            line += ": " + "; ".join(self.causes)
        return line


def _group_platforms(events: Sequence[FeedEvent]) -> list[FeedLine]:
    """Platform events of one verb close in time, as one line listing the platforms."""
    lines: list[FeedLine] = []
    current: list[tuple[FeedEvent, re.Match[str]]] = []

    def flush() -> None:
        if not current:
            return
        first, m0 = current[0]
        if len(current) == 1:
            lines.append(FeedLine(first.month, first.month, first.kind, first.text,
                                  (first.cause,) if first.cause else ()))
        else:
            verb = _VERB_PLURAL[m0["verb"]]
            names = tuple(m["name"] for _, m in current)
            # community platforms are many and alike: count them, name the others
            named = [m["name"] for _, m in current if m["level"] != "community"]
            n_comm = sum(m["level"] == "community" for _, m in current)
            if n_comm:
                named.append(f"{n_comm} community platform{'s' if n_comm > 1 else ''}")
            causes = tuple(dict.fromkeys(e.cause for e, _ in current if e.cause))
            lines.append(FeedLine(first.month, current[-1][0].month, first.kind,
                                  f"{len(current)} platforms {verb} ({', '.join(named)})",
                                  causes, count=len(current), names=names))
        current.clear()

    for e in events:
        m = _PLATFORM.match(e.text) if e.kind == "platform" else None
        if m is None:
            flush()
            lines.append(FeedLine(e.month, e.month, e.kind, e.text, (e.cause,) if e.cause else (),
                                  pinned=e.kind in KEY_KINDS))
            continue
        if current and (current[0][1]["verb"] != m["verb"] or e.month - current[0][0].month > GROUP_MONTHS):
            flush()
        current.append((e, m))
    flush()
    return lines


def group_feed(events: Sequence[FeedEvent]) -> list[FeedLine]:
    """The feed's lines, oldest first: repeated platform events grouped, key moments pinned."""
    return _group_platforms(events)


def _month_word(x: Any) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f" (month {int(x)})"


def verdict_line(summary: dict[str, Any], horizon: int, events: Sequence[FeedEvent],
                 parameters: dict[str, Any] | None = None) -> FeedLine:
    """The run's result in one line, with its main cause when the model recorded one.

    The main cause is the cause the model recorded for the decisive event: for a
    run that scaled, the scaling event; otherwise the last recorded cause of a
    platform stopping, the alliance not functioning or funding ending.
    """
    parts = []
    if summary.get("functioning"):
        parts.append("the alliance functioned" + _month_word(summary.get("functioning_month")))
    else:
        parts.append("the alliance never functioned")
    if summary.get("scaled"):
        parts.append("the innovation scaled" + _month_word(summary.get("scale_month")))
    else:
        parts.append("the innovation did not scale")
    final, peak = float(summary.get("final_adoption", 0.0)), float(summary.get("peak_adoption", 0.0))
    survival = summary.get("survival")
    kept = "" if survival is None or (isinstance(survival, float) and math.isnan(survival)) else \
        f", survival {float(survival):.2f}"
    held = "the practice was sustained" if summary.get("sustained") else "the practice was not sustained"
    parts.append(f"{held}{kept}: {100 * final:.0f}% adopted at the end, peak {100 * peak:.0f}%")
    text = f"result after {horizon} months: " + "; ".join(parts)
    if summary.get("scaled"):
        decisive = [e for e in events if e.kind == "scaled" and e.cause]
    else:
        decisive = [e for e in events if e.kind in ("platform", "functioning", "funding", "verdict") and e.cause
                    and not e.text.endswith("again") and "resumes" not in e.text]
    cause = (f"main cause: {decisive[-1].cause}",) if decisive else ()
    return FeedLine(horizon, horizon, "verdict", text, cause, pinned=True)
