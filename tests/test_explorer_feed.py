"""The explorer's feed: grouped, key moments pinned, a verdict at the end, causes as the model records them."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest

from lasim.explorer.feed import FeedEvent, feed_events, group_feed, verdict_line
from lasim.explorer.page import feed_lines
from lasim.explorer.session import ExplorerSession


def _weak_run(seed: int) -> ExplorerSession:
    s = ExplorerSession.open("default", seed=seed)
    s.reset({"facilitation_quality": 0.2})
    s.step(200)
    return s


def test_repeated_platform_events_become_one_line_and_key_moments_are_pinned():
    for seed in (1, 2, 3):
        snap = _weak_run(seed).snapshot()
        events = snap.events
        lines = group_feed(events)
        platform_events = [e for e in events if e.kind == "platform"]
        # nothing lost: every platform event is counted in exactly one line
        assert sum(ln.count for ln in lines if ln.kind == "platform") == len(platform_events)
        assert len([ln for ln in lines if ln.kind == "platform"]) < max(len(platform_events), 2)
        pinned = [ln for ln in lines if ln.pinned]
        assert {ln.kind for ln in pinned} == {e.kind for e in events if e.kind != "platform"}
        assert all(not ln.pinned for ln in lines if ln.kind == "platform")


def test_stopped_platforms_are_those_whose_last_event_is_stopping():
    for seed in (1, 2, 3):
        snap = _weak_run(seed).snapshot()
        s = ExplorerSession.open("default", seed=seed)
        names = s.model.world.platform_names
        last: dict[str, str] = {}
        for e in snap.events:
            if e.kind == "platform":
                last[next(n for n in sorted(names, key=len, reverse=True) if f" {n} " in f" {e.text} ")] = e.text
        stopped_by_events = {n for n, text in last.items() if text.endswith("stops meeting")}
        assert {names[j] for j in np.flatnonzero(snap.stopped)} == stopped_by_events


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_verdict_line_states_the_result(seed):
    s = _weak_run(seed)
    snap = s.snapshot()
    line = verdict_line(snap.summary, snap.horizon, snap.events, snap.parameters)
    assert line.pinned and line.kind == "verdict"
    text = str(line)
    assert f"result after {snap.horizon} months" in text
    assert ("the innovation scaled" in text) == bool(snap.summary["scaled"])
    assert ("the alliance functioned" in text) == bool(snap.summary["functioning"])
    assert ("the practice was sustained" in text) == bool(snap.summary["sustained"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_finished_run_shows_one_verdict_the_models_own(seed):
    snap = _weak_run(seed).snapshot()
    frame = SimpleNamespace(events=snap.events, finished=True, summary=snap.summary, horizon=snap.horizon,
                            parameters=snap.parameters)
    pinned, _ = feed_lines(frame)
    verdicts = [ln for ln in pinned if ln.kind == "verdict"]
    model_verdict = next(e for e in frame.events if e.kind == "verdict")
    assert len(verdicts) == 1
    assert model_verdict.text in str(verdicts[0]) and model_verdict.cause in str(verdicts[0])


@dataclass
class _EventWithCause:
    month: int
    kind: str
    text: str
    cause: str


def test_causes_recorded_by_the_model_are_shown_and_never_invented():
    plain = feed_events([_EventWithCause(3, "platform", "community platform A stops meeting", "")])
    assert plain[0].cause == "" and str(group_feed(plain)[0]) == "month 3: community platform A stops meeting"
    why = "after the donor left, members cover 30% of its costs (cost sharing 0.5 x ownership 0.6)"
    events = feed_events([
        _EventWithCause(60, "funding", "project funding ends", "the project's 60 months are over"),
        _EventWithCause(61, "platform", "community platform A stops meeting", why),
        _EventWithCause(62, "platform", "community platform B stops meeting", why),
    ])
    lines = group_feed(events)
    grouped = next(ln for ln in lines if ln.kind == "platform")
    assert grouped.count == 2 and grouped.causes == (why,)  # one cause shared by the group, said once
    assert why in str(grouped)
    summary = {"functioning": False, "scaled": False, "sustained": False, "final_adoption": 0.05,
               "peak_adoption": 0.06}
    verdict = verdict_line(summary, 120, events)
    assert verdict.causes == (f"main cause: {why}",)
    # a model without causes gets a verdict without one
    assert verdict_line(summary, 120, [FeedEvent(61, "platform", "x stops meeting")]).causes == ()
