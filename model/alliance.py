"""The learning-alliance model: one step is one month of processes 1 to 11 (docs/ODD.md)."""

from __future__ import annotations

import gc
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from typing import Any

import mesa
import numpy as np
import pandas as pd

from .agents import Platform, Stakeholder
from .causes import (
    Functioning,
    Money,
    Survival,
    district_cause,
    functioning_cause,
    funding_changes_cause,
    not_functioning_cause,
    pct,
    platform_revives_cause,
    platform_stops_cause,
    policy_cause,
    programme_cause,
    scaled_cause,
    sustain_cause,
)
from .errors import LasimInputError
from .kinds import GOVERNMENT_KINDS, KIND_INDEX, KINDS, LEVEL_INDEX, POLICY_KINDS, Stage
from .mechanisms import adoption, any_per_row, csr_arrays, fade, funding, institutions, learning, membership
from .month import FIXED, INFO, OUT, config_record, mean_member_trust, record_index, tally_of
from .month import month as compiled_month
from .outcomes import SERIES_FIELDS, summarise
from .pages import built_in_small_pages
from .recording import MonthlyCollector
from .scenario import Scenario, load_scenario
from .structure import build_world


@dataclass(frozen=True, eq=False)
class Event:
    """Something a trainer can point at: ``month 14: funding gap starts``.

    ``cause`` says why, in plain words, from the model's state that month
    (:mod:`model.causes`); empty where the event needs no explanation. The model may
    hand in the cause as a function of that month's numbers, worded only when read:
    a large alliance has thousands of platform events a run, and a sweep reads none.
    """

    month: int
    kind: str
    text: str
    why: str | Callable[[], str] = field(default="", repr=False)

    @property
    def cause(self) -> str:
        if callable(self.why):
            object.__setattr__(self, "why", self.why())
        return self.why

    def _key(self) -> tuple[int, str, str, str]:
        return self.month, self.kind, self.text, self.cause

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Event) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return f"month {self.month}: {self.text}"


# plain ints: numpy compares an array with them about twice as fast as with IntEnum members
_ADOPTED = int(Stage.ADOPTED)


#: How a trainer names the levels in the event feed.
_LEVEL_WORDS = ("national", "district", "community")


def _seed_as_rng(seed: Any, rng: Any) -> Any:
    if rng is not None and seed is not None:
        raise LasimInputError("seed and rng: pass one of them (rng is Mesa's name; seed= is its deprecated alias)")
    warnings.warn("The use of the `seed` keyword argument is deprecated, use `rng` instead. No functional changes.",
                  FutureWarning, stacklevel=3)
    return seed


def _platform_money(base: Money, ownership: float, government: float, funds: float) -> Money:
    return replace(base, ownership=ownership, government=government, funds=funds)


def _stops_words(base: Money, ownership: float, government: float, funds: float) -> str:
    return platform_stops_cause(_platform_money(base, ownership, government, funds))


def _revives_words(base: Money, ownership: float, government: float, funds: float, funds_when_stopped: float,
                   government_when_stopped: float) -> str:
    return platform_revives_cause(_platform_money(base, ownership, government, funds), funds_when_stopped,
                                  government_when_stopped)


def _calendar_month(t: int, project_months: int, gap_start: int, gap_months: int, fade_scale: float,
                    fade_shape: float) -> tuple[bool, float]:
    return (bool(funding.donor_active(t, project_months, gap_start, gap_months)),
            float(fade.weibull_hazard(t - project_months, fade_scale, fade_shape)))


@lru_cache(maxsize=64)
def _calendar(horizon: int, *timing: Any) -> tuple[tuple[bool, float], ...]:
    """:func:`_calendar_month` of every month of a run: the same for every run of a sweep
    that does not vary these six parameters, so computed once for them."""
    return tuple(_calendar_month(t, *timing) for t in range(horizon))


def _kind_mask(kind: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    return np.isin(kind, [KIND_INDEX[k] for k in names])


#: State arrays the compiled month updates, kept as rows of a few 2-D blocks that it takes whole (every
#: array handed to a compiled function costs about 41 ns a call to unbox): each block's attribute, then
#: the attributes of its rows. The rows are updated in place, never rebound; a copy or pickle of a model
#: makes them rows of its own blocks again (``__setstate__``).
STATE_BLOCKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("_org_floats", ("knowledge", "trust", "support")),
    ("_org_flags", ("abandoned", "decision_maker", "is_member")),
    ("_seat_flags", ("seat_active", "_away")),
    ("_platform_months", ("last_meeting", "last_case_study")),
)


class AllianceModel(mesa.Model):
    """A learning alliance taking an innovation from pilot to scale.

    Parameters
    ----------
    scenario
        A :class:`~model.scenario.Scenario`, the name of a shipped scenario or a
        TOML path; ``None`` runs the default scenario.
    rng
        Seed of the model's random generator; every draw (traits, structure,
        every month) comes from it. ``seed=`` is accepted as Mesa accepts it:
        the same run as ``rng=``, with Mesa's warning that ``rng`` is the name to use.
    agent_reporters
        Record every stakeholder's stage, knowledge, trust and membership each
        month for ``datacollector.get_agent_vars_dataframe()`` (off by default:
        see docs/decisions.md).
    **parameters
        Overrides of scenario parameters, e.g. ``facilitation_quality=0.3``.
    """

    @built_in_small_pages  # a large model's construction stalled on huge pages (model.pages)
    def __init__(self, scenario: Scenario | str | None = None, *, rng: int | None = None,
                 agent_reporters: bool = False, **parameters: Any) -> None:
        if "seed" in parameters:
            rng = _seed_as_rng(parameters.pop("seed"), rng)
        if scenario is None:
            scenario = "default"
        if isinstance(scenario, str):
            scenario = load_scenario(scenario)
        scenario = scenario.with_parameters(**parameters)
        # Mesa only reuses an int seed as given; anything else it re-draws, which
        # would make "same seed, same run" depend on Mesa's internals.
        super().__init__(rng=None if rng is None else int(rng))
        self.config = scenario  # mesa.Model.scenario is Mesa's own experimental Scenario
        self.params = p = scenario.parameters
        # which mechanisms run (model.mechanisms.MECHANISMS); read as attributes every month
        self.on = on = dict(scenario.mechanisms)
        self._documentation = p.documentation if on["documentation"] else 0.0
        self._champion_boost = p.champion_boost if on["champions"] else 0.0
        self._exchange_rate = p.exchange_rate if on["exchange_visits"] else 0.0
        self._spillover = p.spillover if on["spillover"] else 0.0
        self._outside_spillover = p.outside_spillover if on["spillover"] else 0.0
        self.world = w = build_world(scenario, self.rng)
        n, n_p = w.n, w.n_platforms

        # Mesa agents are named views of rows of the arrays, made when first asked for:
        # a run never needs them, and at a million organisations making them costs seconds
        self._stakeholders: list[Stakeholder] | None = None
        self._platforms: list[Platform] | None = None

        # state arrays (see docs/ODD.md, "State variables")
        base = np.where(w.kind == KIND_INDEX["research"], 0.3, 0.02)
        champion_head_start = 0.25 * w.champion if on["champions"] else 0.0
        self.knowledge = np.clip(base + champion_head_start + 0.08 * self.rng.random(n), 0, 1)
        self.seat_active = w.edge_active.copy()
        self.is_member = self._members()
        self.trust = np.full(n, p.initial_trust)
        self.support = np.zeros(n)
        self.stage = np.full(n, Stage.UNAWARE, dtype=np.int8)
        self.abandoned = np.zeros(n, dtype=bool)
        # each organisation's tenure (months since its representative changed) kept as the month
        # the representative came, so that a month changes it only where one is replaced: a
        # million organisations' tenures, read and written every month, were a pass of their own
        self._representative_since = -self.rng.integers(0, 24, n).astype(np.int32)
        self.decision_maker = w.decision_maker.copy()
        self.fit = np.full(len(w.district_names), 0.5 * (1.0 - p.innovation_complexity))
        self.ownership = np.full(n_p, p.initial_ownership)
        self.last_meeting = np.full(n_p, -p.meeting_interval, dtype=np.int64)
        self.last_case_study = np.full(n_p, -10_000, dtype=np.int64)
        self.policy = False
        n_d = len(w.district_names)
        # districts whose local government put the practice in its plans and budget, and
        # districts a national programme has reached; the last entry is the national level
        self.district_policy = np.zeros(n_d, dtype=bool)
        self.backed = np.zeros(n_d + 1, dtype=bool)
        self._programme_order = institutions.programme_order(w.district_pilot, self.rng)
        self._reached = 0
        self.month = 0
        self.total_cost = 0.0
        # cumulative spending by payer (donor, members, government), k USD; summary only
        self.cost_by_payer = np.zeros(len(funding.PAYERS))
        # the events so far but the platforms' and districts', which are kept as arrays until
        # read (:attr:`events`): where they fall in the feed, whose they are and the month's numbers
        self._events: list[Event] = []
        self._batches: list[tuple[int, str, tuple]] = []

        # fixed masks and per-seat constants used every month
        self._gov = _kind_mask(w.kind, GOVERNMENT_KINDS)
        self._policy_maker = _kind_mask(w.kind, POLICY_KINDS) & (w.level == 0)
        self._institutional_kind = self._gov | (w.kind == KIND_INDEX["service_provider"])
        self._local_gov = w.kind == KIND_INDEX["local_government"]
        self._hard_to_reach_seat = (w.marginalised | (w.kind == KIND_INDEX["private_sector"]))[w.edge_agent]
        self._outside = ~w.in_pilot
        self._national = w.district < 0
        self._local = w.level == LEVEL_INDEX["local"]
        # the lead organisation allocates the project's money (Sartas et al. 2018): how far
        # each platform is from it is fixed by the alliance as launched, and the seats it
        # was offered on the platforms it funds are taken only while it allocates
        self._lead_distance = membership.lead_distance(
            w.lead, w.edge_active, w.edge_agent, w.edge_platform, w.platform_parent)[w.edge_platform]
        self._lead_offer = (w.edge_agent == w.lead) & ~w.edge_active
        # the per-seat joining and leaving factors while it allocates, and while it does not
        self._allocating = self._allocation(True)
        self._not_allocating = self._allocation(False)
        # seats left for lack of the lead's money, not refilled while it allocates (7.9)
        self._away = np.zeros(w.edge_agent.shape[0], dtype=bool)
        self._dm_base = np.array([scenario.trait_table()[k].decision_maker for k in KINDS])[w.kind]
        # group 0..2: the alliance districts' levels; 3: districts outside the alliance
        self._level_group = np.where(w.in_pilot, w.level, 3).astype(np.int64)
        # empty groups divide by NaN, so their shares come out NaN without a warning
        self._level_count = np.bincount(self._level_group, minlength=4).astype(float)
        self._kind_count = np.bincount(w.kind, minlength=len(KINDS)).astype(float)
        self._level_count[self._level_count == 0] = np.nan
        self._kind_count[self._kind_count == 0] = np.nan
        self._private_seat = (w.kind == KIND_INDEX["private_sector"])[w.edge_agent]
        self._scale_pop = self._outside if self._outside.any() else ~self.is_member
        self._was_idle = np.zeros(n_p, dtype=bool)
        self._n_pilot = max(int(w.in_pilot.sum()), 1)
        self._n_pilot_districts = int(w.district_pilot.sum())
        self._fit_index = np.where(w.district >= 0, w.district, len(w.district_names))
        self._platform_level_index = np.where(w.platform_district >= 0, w.platform_district, len(w.district_names))
        # per-seat copies of fixed traits: gathering them anew every month was a
        # large share of a step at 10,000 organisations
        ea, ep = w.edge_agent, w.edge_platform
        self._engagement_seat = w.engagement[ea]
        self._influence_seat = w.influence[ea]
        self._facilitation_seat = w.platform_facilitation[ep]
        self._champion_seat = w.champion[ea]
        self._marginalised_seat = w.marginalised[ea]
        self._gov_seat = self._gov[ea]
        self._has_home = w.home_platform >= 0
        self._home = np.maximum(w.home_platform, 0)
        self._functioning_month: int | None = None
        self._scale_month: int | None = None
        self._policy_month: int | None = None
        self._donor_was_active = True
        # the cohort practising when donor funding ends, and the share of it still practising
        # sustain_horizon_months later (docs/ODD.md, "Outputs")
        self._cohort: np.ndarray | None = (self.stage >= _ADOPTED) if p.project_months == 0 else None
        self._survival = math.nan
        # for the causes of events (model.causes): filled as the run goes, read only when an event fires
        self._pressure = 0.0
        self._funds_at_stop = np.zeros(n_p)
        self._gov_at_stop = np.zeros(n_p)
        self._paid: tuple = (True, np.zeros(n_p), self.ownership, np.ones(n_p))
        self._not_functioning: str | None = None
        self._scaled_cause = ""
        self._survival_detail: Survival | None = None
        self._pack_state()
        self._compile_inputs()
        # the record's counts of adopters, kept up to date as stages change in the compiled month
        w = self.world
        self._tally = tally_of(self.stage, self._level_group, w.kind, w.district, w.reach, self._scale_pop,
                               len(KINDS), len(w.district_names))
        # the month updates every state array in place, so one tuple of them serves every month
        # (a pickle or deep copy keeps it pointing at the copied arrays: it memoises them)
        self._state_arrays = self._state()
        # the month's random numbers are functions of this key, the month, the process and the
        # row (model.draws): the same seed gives each process the same draws whatever else runs,
        # so a knock-out changes only what it switches off
        self._draw_key = np.uint64(self.rng.integers(0, 2**64, dtype=np.uint64))

        # Mesa's DataCollector with every series as a named reporter; it keeps the month's
        # row (metric_row) and names the columns when they are read (model.recording)
        self.metric_row = np.full(len(SERIES_FIELDS), np.nan)
        self.datacollector = MonthlyCollector(agents=agent_reporters)
        self.running = True

    # ------------------------------------------------------------------ helpers

    @property
    def stakeholders(self) -> list[Stakeholder]:
        """One :class:`~model.agents.Stakeholder` per organisation (a row of the state arrays)."""
        self._make_agents()
        return self._stakeholders

    @property
    def platforms(self) -> list[Platform]:
        """One :class:`~model.agents.Platform` per platform."""
        self._make_agents()
        return self._platforms

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """Mesa's set of all agents (stakeholders and platforms), made on first use."""
        self._make_agents()
        return super().agents

    def _make_agents(self) -> None:
        if getattr(self, "_stakeholders", None) is None and hasattr(self, "world"):
            w = self.world
            self._stakeholders = [Stakeholder(self, i) for i in range(w.n)]
            self._platforms = [Platform(self, j) for j in range(w.n_platforms)]

    @property
    def tenure(self) -> np.ndarray:
        """Each organisation's tenure: months since its representative changed."""
        return self.month - self._representative_since

    def tenure_of(self, row: int) -> int:
        """:attr:`tenure` of organisation ``row`` alone (without the whole array)."""
        return int(self.month - self._representative_since[row])

    @property
    def metrics(self) -> dict[str, float]:
        """The last month's series by name (NaN before the first month)."""
        return dict(zip(SERIES_FIELDS, self.metric_row.tolist(), strict=True))

    def _allocation(self, allocating: bool) -> tuple[np.ndarray, np.ndarray]:
        """Per-seat joining and leaving factors of the lead organisation's allocation (process 9)."""
        strength = self.params.lead_allocation if allocating else 0.0
        join, leave = membership.allocation_factors(self._lead_distance, strength, allocating)
        # the lead joins the platforms it funds only while it allocates money to them
        return np.where(self._lead_offer & (not allocating), 0.0, join), leave

    def _members(self) -> np.ndarray:
        w = self.world
        return any_per_row(w.edge_agent, self.seat_active, w.n)

    def _platform_trust(self) -> np.ndarray:
        """Mean trust of each platform's current members (0 for an empty platform)."""
        w = self.world
        return mean_member_trust(self.trust, self.seat_active, w.edge_agent, w.edge_platform,
                                           w.n_platforms)

    def _compile_inputs(self) -> None:
        """The fixed inputs of the compiled month (:func:`model.month.month`) and its per-month buffers."""
        w, p = self.world, self.params
        self._config = config_record(
            p, self.on, documentation=self._documentation, champion_boost=self._champion_boost,
            exchange_rate=self._exchange_rate, spillover=self._spillover, outside_spillover=self._outside_spillover,
            pilot_organisations=self._n_pilot, own_seats=self._own_seats(),
        )
        agent_indptr, agent_seats, platform_indptr, platform_seats = self._seat_indices()
        h_indptr, h_indices, h_data = csr_arrays(w.horizontal)
        v_indptr, v_indices, v_data = csr_arrays(w.vertical)
        arrays = {
            "edge_agent": w.edge_agent, "edge_platform": w.edge_platform, "agent_seats": agent_seats,
            "platform_seats": platform_seats, "engagement_seat": self._engagement_seat,
            "influence_seat": self._influence_seat, "facilitation_seat": self._facilitation_seat,
            "join_allocating": self._allocating[0], "leave_allocating": self._allocating[1],
            "join_not_allocating": self._not_allocating[0], "leave_not_allocating": self._not_allocating[1],
            "edge_linking": w.edge_linking, "champion_seat": self._champion_seat, "gov_seat": self._gov_seat,
            "hard_seat": self._hard_to_reach_seat, "marginalised_seat": self._marginalised_seat,
            "private_seat": self._private_seat, "kind": w.kind, "district": w.district, "reach": w.reach,
            "level_group": self._level_group, "fit_index": self._fit_index, "home": self._home,
            "capacity": w.capacity, "influence": w.influence, "engagement": w.engagement, "threshold": w.threshold,
            "dm_base": self._dm_base, "policy_maker": self._policy_maker,
            "institutional_kind": self._institutional_kind, "local_gov": self._local_gov, "outside": self._outside,
            "local": self._local, "scale_pop": self._scale_pop, "has_home": self._has_home,
            "platform_district": w.platform_district, "platform_level": w.platform_level,
            "platform_level_index": self._platform_level_index, "platform_facilitation": w.platform_facilitation,
            "district_pilot": w.district_pilot,
            "district_influence": adoption.district_weight(w.influence, w.district, len(w.district_names)),
            "district_communities": w.district_communities,
            "programme_order": self._programme_order, "level_count": self._level_count,
            "kind_count": self._kind_count, "agent_indptr": agent_indptr, "platform_indptr": platform_indptr,
            "h_indptr": h_indptr, "h_indices": h_indices, "h_data": h_data, "v_indptr": v_indptr,
            "v_indices": v_indices, "v_data": v_data, "record_index": record_index(),
        }
        # 32-bit indices: a large run's month streams its index arrays from memory every pass;
        # unsigned where no row holds -1, because numba wraps a signed index (-1: the last
        # element) with a compare and a select at every gather, and cannot prove one read from
        # an array non-negative (the seats' and homes' indices unsigned: a 10,000-organisation
        # month 41 -> 37 ns, benchmarks/README.md)
        kinds = {"i": np.int32, "u": np.uint32, "s": np.int8, "f": np.float64, "b": np.bool_}
        fixed, starts = [], []
        for block, rows in FIXED:
            if block == "ragged_at":
                fixed.append(np.concatenate(starts))
            elif block.startswith("ragged_"):  # the small arrays end to end (model.month.FIXED)
                parts = [np.asarray(arrays[r], dtype=np.int64 if block[-1] == "i" else np.float64) for r in rows]
                starts.append(np.cumsum([0] + [len(x) for x in parts], dtype=np.int64))
                fixed.append(np.concatenate(parts))
            else:
                rows_of = [np.asarray(arrays[r]) for r in rows]
                if block[-1] == "u" and any(x.size and x.min() < 0 for x in rows_of):
                    raise RuntimeError(f"{block}: a negative index cannot be unsigned")
                fixed.append(np.stack(rows_of, dtype=kinds[block[-1]], casting="unsafe"))
        self._fixed = tuple(fixed)
        # the attendees' kernels add into these and leave them all zero (model.month.month)
        self._work = np.zeros((2, w.n))
        n_p, n_d = w.n_platforms, len(w.district_names)
        # the month's per-month buffers (model.month.OUT), a few 2-D blocks as the fixed inputs
        shapes = {"platform_b": (n_p, bool), "platform_f": (n_p, float), "att": (w.edge_agent.shape[0], bool),
                  "fresh_f": (n_d, float), "fresh_i": (n_d, np.int64), "changed_i": (n_p, np.int64),
                  "changed_f": (n_p, float), "info": (len(INFO), float)}
        self._out = tuple(np.zeros((len(rows), shapes[block][0]) if rows else shapes[block][0],
                                   dtype=shapes[block][1]) for block, rows in OUT)
        self._out_rows = self._step_rows()
        self._empty_row = np.full(len(SERIES_FIELDS), np.nan)
        # process 1's donor flow and process 10's hazard depend on the month alone
        self._calendar = _calendar(p.horizon_months, p.project_months, p.funding_gap_start, p.funding_gap_months,
                                   p.fade_scale_months, p.fade_shape)
        self._any_scale_pop = bool(self._scale_pop.any())
        # months the step checks every month: the project's last (the cohort is taken then), the
        # project's last or the run's (functioning is judged then), the month survival is measured,
        # the run's last
        self._cohort_month = p.project_months - 1
        self._project_end = (p.project_months - 1 if 0 < p.project_months < p.horizon_months
                             else p.horizon_months - 1)
        self._sustain_month = p.project_months - 1 + p.sustain_horizon_months
        self._last_month = p.horizon_months - 1

    def _own_seats(self) -> int:
        """How many of the first seats are their organisations' own: seat ``i`` held by organisation
        ``i`` on its home platform (``build_world`` numbers the counted members so). The month
        sums those seats in a pass over the organisations, in the same order."""
        w = self.world
        k = min(w.edge_agent.shape[0], w.n)
        own = (w.edge_agent[:k] == np.arange(k)) & (w.edge_platform[:k] == w.home_platform[:k])
        return k if own.all() else int(np.argmin(own))

    def _seat_indices(self) -> tuple[np.ndarray, ...]:
        """The seats of each organisation and of each platform (:func:`model.mechanisms.membership.seat_index`)."""
        w = self.world
        agent_indptr, agent_seats = membership.seat_index(w.edge_agent, w.n)
        platform_indptr, platform_seats = membership.seat_index(w.edge_platform, w.n_platforms)
        # 32-bit seat numbers, as the other index arrays: the month streams them every pass
        return agent_indptr, agent_seats.astype(np.int32), platform_indptr, platform_seats.astype(np.int32)

    def _calendar_month(self, t: int) -> tuple[bool, float]:
        """Whether donor money flows in month ``t`` (process 1), and the fade hazard then (process 10)."""
        p = self.params
        return _calendar_month(t, p.project_months, p.funding_gap_start, p.funding_gap_months, p.fade_scale_months,
                               p.fade_shape)

    def _pack_state(self) -> None:
        """Copy the state arrays of :data:`STATE_BLOCKS` into their blocks and make them the blocks' rows."""
        for block, rows in STATE_BLOCKS:
            setattr(self, block, np.stack([getattr(self, r) for r in rows]))
        self._state_rows()

    def _state_rows(self) -> None:
        for block, rows in STATE_BLOCKS:
            for k, r in enumerate(rows):
                setattr(self, r, getattr(self, block)[k])

    def _state(self) -> tuple:
        """The state the compiled month updates (:func:`model.month.month`'s ``state``)."""
        return (self._org_floats, self._org_flags, self.stage, self._representative_since, self._seat_flags,
                self.fit, self.ownership, self._platform_months, self.district_policy, self.backed, self._was_idle,
                self.cost_by_payer, self._tally)

    def _month_call(self, *args: Any) -> bool:
        """:func:`model.month.month` of ``args``: through numba's dispatcher the first month, then its
        compiled version directly.

        The dispatcher works out every argument's numba type on every call to find the compiled
        version (about 2 us of a default month's 17 when it was measured, with 85 arguments).
        The types cannot change within a run (the same arrays every month, the scalars of
        :meth:`step` of fixed Python types), so the version the dispatcher found on the first
        month is kept and called from then on.
        """
        result = compiled_month(*args)
        # with one version compiled, it is the one the dispatcher chose (it compiles a new one
        # for new types); with several, finding which costs more than the dispatcher does
        overloads = getattr(compiled_month, "overloads", {})
        if len(overloads) == 1:
            # dict.values, not OrderedDict.values: the ordered dict looks each key up again as it
            # iterates, and hashing a signature of 85 numba types took about 40 us, once a run (measured
            # before the arguments were packed into fewer arrays)
            self._month_call = next(iter(dict.values(overloads))).entry_point  # type: ignore[method-assign]
        return result

    def _step_rows(self) -> tuple[np.ndarray, ...]:
        """The rows and blocks of the month's buffers (:data:`model.month.OUT`) that :meth:`step` reads, in
        its order."""
        named = {}
        for (block, rows), buffer in zip(OUT, self._out, strict=True):
            named[block] = buffer
            if rows:
                named.update(zip(rows, buffer, strict=True))
        return tuple(named[k] for k in ("idle", "funds", "gov_share", "home_trust", "ownership_before", "fresh_f",
                                        "fresh_i", "changed_i", "changed_f", "info"))

    def __getstate__(self) -> dict[str, Any]:
        # the compiled version kept by _month_call is not picklable: a copy finds it again; the
        # rows step() reads are views of the month's buffers, which a pickle would copy apart
        state = self.__dict__.copy()
        state.pop("_month_call", None)
        state.pop("_out_rows", None)
        for _, rows in STATE_BLOCKS:
            for r in rows:
                state.pop(r, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._state_rows()
        self._out_rows = self._step_rows()

    def _event(self, kind: str, text: str, cause: str | Callable[[], str] = "") -> None:
        # months counted from 1, as in the series and the summary: an event of step t
        # (0-based) happens in month t + 1, and the last month of a run is its horizon
        self._events.append(Event(self.month + 1, kind, text, cause))

    # ------------------------------------------------------------------ the month

    def step(self) -> None:
        """One month: processes 1 to 11 of docs/ODD.md (compiled: :func:`model.month.month`), its events,
        then the month's record."""
        p, t = self.params, self.month
        donor_on, hazard = self._calendar[t] if t < len(self._calendar) else self._calendar_month(t)
        donor_now = p.donor_share if donor_on else 0.0
        row = self._empty_row.copy()
        # the scalars' types are part of the compiled version _month_call keeps: the month and
        # policy month are ints, the calendar's values a bool and floats, the cost a float
        policy_changed = self._month_call(
            t, self._config, donor_on, donor_now, -1 if self._policy_month is None else self._policy_month, hazard,
            self.total_cost, self._state_arrays, self._fixed, self._work, self._draw_key, self._out, row,
        )
        idle, funds, gov_share, home_trust, ownership, fresh_f, fresh_i, changed_i, changed_f, info = self._out_rows
        info = info.tolist()  # Python floats: cheaper to read one by one than numpy scalars
        # what paid for this month, kept for the causes of events
        self._paid = (donor_on, gov_share, ownership, funds)
        self._pressure = float(info[0])
        self._institution_events(t, policy_changed, info, fresh_f, fresh_i)
        self._follow_cohort(t)
        self.total_cost += info[6]
        self.metric_row = row
        self._month_events(t, idle, funds, donor_on, home_trust, changed_i, changed_f, info)
        self.month += 1
        self.datacollector.collect(self)
        if self.month >= p.horizon_months:
            self.running = False

    # ------------------------------------------------------------------ events

    def _institution_events(self, t: int, policy_changed: bool, info: list[float], fresh_f: np.ndarray,
                            fresh_i: np.ndarray) -> None:
        """Process 7's events: national policy, districts' own plans, the programme's reach."""
        p = self.params
        if policy_changed:
            self.policy = True
            self._policy_month = t
            self._event("policy", "national regulation changed: a government programme starts, district by district",
                        policy_cause(self._pressure, p.policy_threshold, int(info[1]),
                                     int(np.count_nonzero(self._policy_maker))))
        # the districts' and the programme's events kept as the month's arrays, made into events
        # when the feed is read, as the platforms' (a large alliance has hundreds of them a run,
        # and a sweep reads none)
        if info[2]:
            # the month's buffers list them first, in order (model.month.month)
            k = int(info[2])
            fresh, adopted, total = fresh_i[:, :k].copy()
            self._batches.append((len(self._events), "district", (t, fresh, fresh_f[:k].copy(), adopted, total,
                                                                  p.government_involvement,
                                                                  p.district_policy_threshold)))
        k = int(info[3])
        if k > self._reached:
            self._batches.append((len(self._events), "programme",
                                  (t, self._programme_order[self._reached:k].copy(), self._policy_month + 1,
                                   p.programme_districts_per_year, k)))
            self._reached = k

    def _district_events(self, t: int, fresh: np.ndarray, pressure: np.ndarray, adopted: np.ndarray,
                         total: np.ndarray, involvement: float, threshold: float) -> list[Event]:
        """Month ``t``'s districts that put the practice in their own plans (``fresh``), each with
        its pressure and its adopting and all local governments that month."""
        names = self.world.district_names
        return [Event(t + 1, "district", f"district {names[d]} puts the practice in its own plans and budget",
                      partial(district_cause, pr, involvement, threshold, a, n))
                for d, pr, a, n in zip(fresh.tolist(), pressure.tolist(), adopted.tolist(), total.tolist(),
                                       strict=True)]

    def _programme_events(self, t: int, districts: np.ndarray, policy_month: int, per_year: float,
                          reached: int) -> list[Event]:
        """Month ``t``'s districts the government programme reaches (``reached`` so far)."""
        names, n_d = self.world.district_names, self.district_policy.shape[0]
        return [Event(t + 1, "programme", f"the government programme reaches district {names[d]}",
                      partial(programme_cause, policy_month, per_year, reached, n_d))
                for d in districts.tolist()]

    def _month_events(self, t: int, idle: np.ndarray, funds: np.ndarray, donor_on: bool, home_trust: np.ndarray,
                      changed_i: np.ndarray, changed_f: np.ndarray, info: list[float]) -> None:
        """The month's other events: functioning, scale, funding, platforms stopping or meeting again."""
        p = self.params
        if self._functioning_month is None and info[5] >= p.functioning_share:
            self._functioning_month = t
            self._event("functioning", "the alliance is functioning: regular meetings, action research, trust",
                        functioning_cause(self._criteria(idle, home_trust, funds),
                                          trust_threshold=p.functioning_trust, share_needed=p.functioning_share))
        if self._scale_month is None and self._any_scale_pop and info[4] >= p.scale_share:
            self._scale_month = t
            self._scaled_cause = self._scale_cause(self.stage >= _ADOPTED)
            self._event("scaled", f"innovation has scaled: {p.scale_share:.0%} adoption beyond the pilots",
                        self._scaled_cause)
        if t == self._project_end and self._functioning_month is None:
            self._not_functioning = self._not_functioning_cause(idle, home_trust, funds)
            when = "by the end of the project" if t < p.horizon_months - 1 else f"in {p.horizon_months} months"
            self._event("functioning", f"the alliance is not functioning {when}", self._not_functioning)
        if t == self._sustain_month and self._cohort is not None:
            self._survival_detail = self._survival_breakdown(t, idle)

        # plain-words events for the trainer's feed
        if donor_on != self._donor_was_active:
            if not donor_on and t == p.project_months:
                self._event("funding", "project funding ends; only cost sharing and government money remain",
                            self._funding_cause("ends"))
            elif not donor_on:
                self._event("funding", "funding gap starts: no donor money", self._funding_cause("gap"))
            else:
                self._event("funding", "donor funding resumes after the gap", self._funding_cause("resumes"))
            self._donor_was_active = donor_on
        if info[7] or info[8]:  # counted in the compiled month: most months nothing changes
            # kept as the month's arrays (which platforms changed, how, and the money each had)
            # and made into events only when the feed is read (:attr:`events`): a large
            # alliance has thousands of platform events a run, a default run twenty months of them
            # the month's buffers list them first, in order, with their money (model.month.month)
            k = int(info[7] + info[8])
            changed, how = changed_i[:, :k].copy()
            ownership, government, money = changed_f[:, :k].copy()
            self._batches.append((len(self._events), "platform", (t, donor_on, changed, how, ownership, government,
                                                                  money)))
        if t == self._last_month:
            self._verdict(t, self.stage >= _ADOPTED)

    @property
    def events(self) -> list[Event]:
        """The run's events so far, in the order they happened (:class:`Event`)."""
        if self._batches:
            # in the order they were kept: the platforms' are worded month after month (a platform
            # that meets again is compared with what it had when it stopped)
            make = {"platform": self._platform_events, "district": self._district_events,
                    "programme": self._programme_events}
            merged: list[Event] = []
            start = 0
            for at, whose, args in self._batches:
                merged.extend(self._events[start:at])
                merged.extend(make[whose](*args))
                start = at
            merged.extend(self._events[start:])
            self._events[:] = merged
            self._batches.clear()
        return self._events

    def _platform_events(self, t: int, donor_on: bool, changed: np.ndarray, how: np.ndarray, ownership: np.ndarray,
                         government: np.ndarray, money: np.ndarray) -> list[Event]:
        """Month ``t``'s platforms that stopped meeting (``how`` 1), then those that met again (2); each
        cause from that month's money (``ownership``, ``government``, ``money``: one value per platform
        of ``changed``), worded when read. Called for the months in order: a platform that meets
        again is compared with what it had when it stopped."""
        w = self.world
        base = self._money_this_month(t, donor_on)
        stopped = how == 1
        newly_idle, revived = changed[stopped], changed[~stopped]
        self._funds_at_stop[newly_idle] = money[stopped]
        self._gov_at_stop[newly_idle] = government[stopped] * ownership[stopped]
        funds_when_stopped = self._funds_at_stop[revived].tolist()
        government_when_stopped = self._gov_at_stop[revived].tolist()
        ownership, government, money = (np.concatenate([a[stopped], a[~stopped]]).tolist()
                                        for a in (ownership, government, money))
        events = []
        for k, j in enumerate(newly_idle.tolist()):
            events.append(Event(t + 1, "platform", f"{_LEVEL_WORDS[w.platform_level[j]]} platform "
                                f"{w.platform_names[j]} stops meeting",
                                self._stop_cause(base, ownership[k], government[k], money[k])))
        k0 = newly_idle.shape[0]
        for k, j in enumerate(revived.tolist()):
            events.append(Event(t + 1, "platform", f"{_LEVEL_WORDS[w.platform_level[j]]} platform "
                                f"{w.platform_names[j]} meets again",
                                self._revive_cause(base, ownership[k0 + k], government[k0 + k], money[k0 + k],
                                                   funds_when_stopped[k], government_when_stopped[k])))
        return events

    def _follow_cohort(self, t: int) -> None:
        if t == self._cohort_month:
            self._cohort = self.stage >= _ADOPTED
        if t == self._sustain_month and self._cohort is not None:
            n = np.count_nonzero(self._cohort)
            self._survival = np.count_nonzero(self._cohort & (self.stage >= _ADOPTED)) / n if n else math.nan

    # ------------------------------------------------------------------ causes of events
    # Called only when an event fires: the numbers are the model's own, read that month.

    def _policy_makers_practising(self, adopted: np.ndarray) -> tuple[int, int]:
        return int(np.count_nonzero(adopted & self._policy_maker)), int(np.count_nonzero(self._policy_maker))

    def _money_this_month(self, t: int, donor_on: bool) -> Money:
        """What paid the platforms' costs in month ``t``, the platform's own numbers left at 0."""
        p = self.params
        gap_end = p.funding_gap_start + p.funding_gap_months
        return Money(
            donor_on=donor_on, in_gap=p.funding_gap_months > 0 and p.funding_gap_start <= t < gap_end,
            gap_first=p.funding_gap_start + 1, gap_last=gap_end, donor_share=p.donor_share,
            cost_sharing=p.cost_sharing, member_funding=p.member_funding, ownership=0.0,
            government=0.0, government_budget=p.government_budget,
            government_involvement=p.government_involvement, funds=0.0,
            meeting_funds=p.meeting_funds, width=p.funds_response_width,
        )

    def _stop_cause(self, base: Money, ownership: float, government: float, funds: float) -> str | Callable[[], str]:
        if not self.on["funding"]:
            return "money is switched off (every platform fully paid): it missed its due meetings by chance"
        return partial(_stops_words, base, ownership, government, funds)

    def _revive_cause(self, base: Money, ownership: float, government: float, funds: float,
                      funds_when_stopped: float, government_when_stopped: float) -> str | Callable[[], str]:
        if not self.on["funding"]:
            return "money is switched off (every platform fully paid)"
        return partial(_revives_words, base, ownership, government, funds, funds_when_stopped,
                       government_when_stopped)

    def _funding_cause(self, change: str) -> str:
        p = self.params
        donor_on, gov_share, ownership, funds = self._paid
        members = (np.full_like(funds, p.cost_sharing) if donor_on
                   else max(p.cost_sharing, p.member_funding) * ownership)
        return funding_changes_cause(
            change, months=p.project_months, gap_months=p.funding_gap_months, donor_share=p.donor_share,
            funds=funds, members=members, government=gov_share * ownership, meeting_funds=p.meeting_funds,
            width=p.funds_response_width,
        )

    def _criteria(self, idle: np.ndarray, home_trust: np.ndarray, funds: np.ndarray) -> Functioning:
        w, p, t = self.world, self.params, self.month
        div = learning.diversity(w.kind, self.seat_active, w.edge_agent, w.edge_platform, w.n_platforms, len(KINDS))
        return Functioning(
            regular=~idle, case_study=(t - self.last_case_study) <= 12, trusted=home_trust >= p.functioning_trust,
            trust=home_trust, funds=funds, facilitation=w.platform_facilitation, diversity=div, idle=idle,
        )

    def _not_functioning_cause(self, idle: np.ndarray, home_trust: np.ndarray, funds: np.ndarray) -> str:
        p = self.params
        return not_functioning_cause(
            self._criteria(idle, home_trust, funds), trust_threshold=p.functioning_trust, trust_base=p.trust_base,
            conflict=p.conflict, initial_trust=p.initial_trust, intensity=p.action_research_intensity,
            case_study_funds=p.case_study_funds, meeting_funds=p.meeting_funds, width=p.funds_response_width,
            switched_off=tuple(k for k in ("trust", "action_research") if not self.on[k]),
        )

    def _scale_extent(self, adopted: np.ndarray) -> float:
        pop = self._scale_pop
        return np.count_nonzero(adopted & pop) / max(np.count_nonzero(pop), 1)

    def _scale_cause(self, adopted: np.ndarray) -> str:
        p, w = self.params, self.world
        beyond = adopted & self._scale_pop
        backed = np.count_nonzero(beyond & self.backed[self._fit_index]) / max(np.count_nonzero(beyond), 1)
        return scaled_cause(
            self._scale_extent(adopted), p.scale_share, backed, bool(self._outside.any()),
            np.count_nonzero(adopted & w.in_pilot) / self._n_pilot, self._spillover, self._outside_spillover,
            int(np.count_nonzero(self.backed[:-1])), int(self.district_policy.shape[0]),
        )

    def _survival_breakdown(self, t: int, idle: np.ndarray) -> Survival:
        """Who of the cohort kept the practice, and what backed them (the fade rule's two protections)."""
        cohort = self._cohort
        kept = cohort & (self.stage >= _ADOPTED)
        lost = cohort & ~kept
        backed = self.backed[self._fit_index]
        on_platform = self.is_member & self._has_home & ~idle[self._home]
        count = np.count_nonzero
        return Survival(
            cohort=int(count(cohort)), kept=int(count(kept)),
            lost_unprotected=int(count(lost & ~backed & ~on_platform)), kept_backed=int(count(kept & backed)),
            kept_on_platform=int(count(kept & on_platform)), month=t + 1,
        )

    def _verdict(self, t: int, adopted: np.ndarray) -> None:
        """The run's result and its main cause: the first link of the chain (functioning -> scale
        -> sustained) that failed, or what carried a run that succeeded."""
        p = self.params
        cohort = self._cohort
        cohort_share = math.nan if cohort is None else np.count_nonzero(cohort) / self.world.n
        sustained = bool(cohort_share >= p.sustain_min_share and self._survival >= p.sustain_ratio)
        extent = self._scale_extent(adopted)
        parts = [f"the alliance functioned from month {self._functioning_month + 1}"
                 if self._functioning_month is not None else "the alliance never functioned"]
        beyond = "beyond the pilots" if self._outside.any() else "outside the alliance"
        parts.append(f"the innovation scaled in month {self._scale_month + 1} ({pct(extent)} adopted {beyond} "
                     f"at the end)" if self._scale_month is not None else
                     f"the innovation did not scale ({pct(extent)} {beyond}, {pct(p.scale_share)} needed)")
        surv = "" if math.isnan(self._survival) else f", survival {self._survival:.2f}"
        parts.append(("the practice was sustained" if sustained else "the practice was not sustained") + surv)
        held = sustain_cause(self._survival_detail, self._survival, p.sustain_ratio, cohort_share,
                                       p.sustain_min_share, p.project_months, p.horizon_months,
                                       f"after funding ends adopters give up at a Weibull hazard (scale "
                                       f"{p.fade_scale_months:g} months, shape {p.fade_shape:.2g}) cut by support "
                                       f"protection {p.support_protection:.2g} x (policy protection "
                                       f"{p.policy_protection:.2g} where government backs, or the ownership of "
                                       f"a platform that meets)")
        if self._functioning_month is None:
            main = self._not_functioning or ""
        elif self._scale_month is None:
            k, n = self._policy_makers_practising(adopted)
            if not self.policy and not self.on["national_institutionalisation"]:
                main = "national institutionalisation is switched off: national policy cannot change"
            elif not self.policy and n == 0:
                main = "no national government or regulator sits in this alliance: national policy cannot change"
            elif not self.policy:
                main = (f"national policy never changed: policy pressure {self._pressure:.2f} stayed below the "
                        f"threshold {p.policy_threshold:.2g} ({k} of {n} national government and regulator "
                        f"organisations practise; government involvement {p.government_involvement:.2g}); "
                        f"{np.count_nonzero(self.district_policy)} of "
                        f"{self.district_policy.shape[0]} districts put it in their own plans")
            else:
                main = (f"national policy changed in month {self._policy_month + 1}, but government backs only "
                        f"{np.count_nonzero(self.backed[:-1])} of {self.district_policy.shape[0]} districts by the "
                        f"end and adoption beyond the pilots reached {pct(extent)}")
        elif not sustained:
            main = held
        else:
            main = f"{self._scaled_cause}; {held}"
        self._event("verdict", f"result after {p.horizon_months} months: " + "; ".join(parts), main)

    def run(self, months: int | None = None) -> AllianceModel:
        """Run ``months`` months, or to the scenario's horizon."""
        end = self.params.horizon_months if months is None else self.month + months
        # Python's cycle collector rescans every tracked object each time it runs, and a large
        # alliance's event feed grows by thousands of them a run: paused, a 100,000-organisation
        # run takes a tenth less. A cycle made during the run is collected after it.
        collecting = gc.isenabled()
        gc.disable()
        try:
            if end > self.month:
                if self._only_the_step_scheduled():
                    self._run_steps(end - self.month)
                else:
                    self.run_for(end - self.month)
        finally:
            if collecting:
                gc.enable()
        return self

    def _only_the_step_scheduled(self) -> bool:
        """Whether Mesa's calendar holds nothing but the model's step, once a time unit from now."""
        beat = self._default_schedule
        return (self._simulator is None and beat.is_active and not beat._paused
                and beat.schedule.interval == 1 and beat.schedule.end is None and beat.schedule.count is None
                and beat.next_scheduled_time == self.time + 1 and len(self._event_list) == 1)

    def _run_steps(self, k: int) -> None:
        """``k`` steps as Mesa's ``run_for(k)`` runs them when only the step is on its calendar, without
        its calendar: each step, time moves on a unit and the step count by one, then :meth:`step`;
        after them the next step is scheduled a unit later, as Mesa would have left it.

        Mesa's calendar (a heap of events, a new event each step, a log line formatted each
        step) cost 3.4 us a step with warm caches and about 14 us at 10,000 organisations,
        where the month has just pushed Python's data out of them: a tenth of a default run.
        """
        beat = self._default_schedule
        done = 0
        try:
            for _ in range(k):
                self.time += 1
                self.steps += 1
                done += 1
                self._user_step()
        finally:
            beat._execution_count += done
            beat._current_event.cancel()
            beat._schedule_next(self.time + 1)

    def series(self) -> pd.DataFrame:
        """The monthly series recorded so far (one row per month, months 1..)."""
        return self.datacollector.series_frame()

    def summary(self) -> dict[str, Any]:
        """Run outcomes (see :data:`model.outcomes.SUMMARY_FIELDS`)."""
        practising = self.stage >= _ADOPTED
        cohort = self._cohort
        scale_pop = self._scale_pop
        return summarise(
            self.series(), self.params, functioning_month=self._functioning_month,
            institutionalised_month=self._policy_month, scale_month=self._scale_month,
            cohort_share=math.nan if cohort is None else np.count_nonzero(cohort) / self.world.n,
            survival=self._survival,
            uptake_after_funding=(math.nan if cohort is None
                                  else np.count_nonzero(practising & ~cohort) / self.world.n),
            scale_extent=(np.count_nonzero(practising & scale_pop) / np.count_nonzero(scale_pop)
                          if scale_pop.any() else math.nan),
            pilot_adoption=np.count_nonzero(practising & self.world.in_pilot) / self._n_pilot,
        ) | {f"cost_{payer}": float(v) for payer, v in zip(funding.PAYERS, self.cost_by_payer, strict=True)}
