"""Why an event happened, in plain words, from numbers the model holds at that month.

The model calls these only when an event fires (a few dozen times a run), so
they are plain Python over plain numbers. Each states the rule of the model that
decided the event with the values it used; nothing is guessed after the fact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .mechanisms import paid_response


def pct(x: float) -> str:
    """``0.304`` -> ``30%``."""
    return f"{100 * x:.0f}%"


@dataclass(frozen=True)
class Money:
    """What paid a platform's running costs in one month (shares of its costs)."""

    donor_on: bool
    in_gap: bool
    gap_first: int
    gap_last: int
    donor_share: float
    cost_sharing: float
    member_funding: float
    ownership: float
    government: float  # government share before ownership (budget x involvement, where it backs)
    government_budget: float
    government_involvement: float
    funds: float
    meeting_funds: float
    width: float

    @property
    def members(self) -> float:
        if self.donor_on:
            return self.cost_sharing
        return max(self.cost_sharing, self.member_funding) * self.ownership

    @cached_property
    def meeting_chance(self) -> float:
        """Chance a due meeting happens at these funds (process 2)."""
        return float(self.funds * paid_response(np.float64(self.funds), self.meeting_funds, self.width))

    def words(self) -> str:
        """``after the donor left, members cover 30% of its costs (...) + government 0%``."""
        if self.donor_on:
            head = f"the donor pays {pct(self.donor_share)}, members {pct(self.members)} (cost sharing)"
        else:
            if self.cost_sharing >= self.member_funding:
                rule = f"cost sharing {self.cost_sharing:.2g} x ownership {self.ownership:.2f}"
            else:
                rule = f"member funding {self.member_funding:.2g} x ownership {self.ownership:.2f}"
            if self.in_gap:
                when = f"in the funding gap (months {self.gap_first}-{self.gap_last}) there is no donor money"
            else:
                when = "after the donor left"
            head = f"{when}, members cover {pct(self.members)} of its costs ({rule})"
        gov = self.government * self.ownership
        if gov > 0:
            head += (f" + government {pct(gov)} (budget {self.government_budget:.2g} x involvement "
                     f"{self.government_involvement:.2g} x ownership {self.ownership:.2f})")
        else:
            head += " + government 0%"
        return head

    def need(self) -> str:
        """How the money compares with what a meeting needs (the smooth response of process 2)."""
        return (f"a meeting needs about {pct(self.meeting_funds)}; at {pct(self.funds)} a due meeting "
                f"happens with probability {pct(self.meeting_chance)}")


def platform_stops_cause(money: Money) -> str:
    """Why a platform stopped meeting: its money against what a meeting needs."""
    text = f"{money.words()}; {money.need()}"
    if money.funds >= money.meeting_funds:
        # money was enough: what stopped it is the rule that a partly paid platform meets
        # only as often as its funds allow, a draw each month a meeting is due
        text += " (a partly paid platform meets only as often as its funds allow): it missed its due meetings"
    return text


def platform_revives_cause(now: Money, funds_when_stopped: float, government_when_stopped: float) -> str:
    """Why a platform meets again: what changed in its money since it stopped."""
    gov = now.government * now.ownership
    if now.donor_on and now.funds > funds_when_stopped + 0.005:
        what = "donor money flows again"
    elif gov > government_when_stopped + 0.005:
        what = (f"government money since the practice entered policy or district plans: {pct(gov)} "
                f"(budget {now.government_budget:.2g} x involvement {now.government_involvement:.2g} x ownership "
                f"{now.ownership:.2f})")
    elif now.funds > funds_when_stopped + 0.005:
        what = f"members' ownership rose to {now.ownership:.2f}"
    else:
        return (f"its money did not change ({pct(now.funds)} of its costs): a due meeting happened, "
                f"as it does with probability {pct(now.meeting_chance)}")
    return (f"{what}; funds {pct(funds_when_stopped)} -> {pct(now.funds)} of its costs; a due meeting now "
            f"happens with probability {pct(now.meeting_chance)}")


def funding_changes_cause(change: str, *, months: int, gap_months: int, donor_share: float, funds: np.ndarray,
                    members: np.ndarray, government: np.ndarray, meeting_funds: float, width: float) -> str:
    """The numbers behind a change in donor money: what platforms can pay now."""
    short = int(np.count_nonzero(funds < meeting_funds))
    n = funds.shape[0]
    tail = (f"platforms now pay {pct(float(funds.mean()))} of their costs on average (members "
            f"{pct(float(members.mean()))}, government {pct(float(government.mean()))}); "
            f"{short} of {n} have less than the {pct(meeting_funds)} a meeting needs")
    if change == "ends":
        return f"the project's {months} months are over and the donor's {pct(donor_share)} stops; {tail}"
    if change == "gap":
        return f"the donor's {pct(donor_share)} stops for {gap_months} months; {tail}"
    return f"after {gap_months} months without, the donor pays {pct(donor_share)} again; {tail}"


@dataclass(frozen=True)
class Functioning:
    """Which platforms meet each criterion of a functioning platform at one month."""

    regular: np.ndarray
    case_study: np.ndarray
    trusted: np.ndarray
    trust: np.ndarray
    funds: np.ndarray
    facilitation: np.ndarray
    diversity: np.ndarray
    idle: np.ndarray

    @property
    def n(self) -> int:
        return int(self.regular.shape[0])

    @property
    def count(self) -> int:
        return int(np.count_nonzero(self.regular & self.case_study & self.trusted))


def functioning_cause(f: Functioning, *, trust_threshold: float, share_needed: float) -> str:
    """Why the alliance now counts as functioning."""
    return (f"{f.count} of {f.n} platforms meet regularly, ran a case study in the last 12 months and have "
            f"member trust >= {trust_threshold:.2g} (needed: {pct(share_needed)}); mean trust "
            f"{float(f.trust.mean()):.2f}, facilitation {float(f.facilitation.mean()):.2f}")


def failing_criterion(f: Functioning) -> str:
    """The criterion of a functioning platform that most platforms fail.

    Ties go to the earlier step of the chain: a platform that does not meet can
    neither run a case study nor build trust.
    """
    fails = {"meeting": int(np.count_nonzero(~f.regular)), "case_study": int(np.count_nonzero(~f.case_study)),
             "trust": int(np.count_nonzero(~f.trusted))}
    return max(fails, key=lambda k: (fails[k], -list(fails).index(k)))


def not_functioning_cause(f: Functioning, *, trust_threshold: float, trust_base: float, conflict: float,
                    initial_trust: float, intensity: float, case_study_funds: float,
                    meeting_funds: float, width: float, switched_off: tuple[str, ...] = ()) -> str:
    """Why the alliance is not functioning: the criterion most platforms fail, with its numbers.

    ``switched_off`` names mechanisms a run switched off (``trust``, ``action_research``):
    their rule then did not apply, and the cause says so.
    """
    which = failing_criterion(f)
    off = {"case_study": "action_research", "trust": "trust"}.get(which)
    if off in switched_off:
        what = {"case_study": "ran a case study in the last 12 months", "trust": "have trusted members"}[which]
        bad = ~(f.case_study if which == "case_study" else f.trusted)
        return (f"only {f.n - int(bad.sum())} of {f.n} platforms {what}: the {off.replace('_', ' ')} "
                f"mechanism is switched off")
    if which == "meeting":
        bad = ~f.regular
        return (f"only {f.n - int(bad.sum())} of {f.n} platforms meet regularly: the others have "
                f"{pct(float(f.funds[bad].mean()))} of their costs on average against about "
                f"{pct(meeting_funds)} a meeting needs")
    if which == "case_study":
        bad = ~f.case_study
        fac = float(f.facilitation[bad].mean())
        funds = float(f.funds[bad].mean())
        paid = float(paid_response(np.asarray(funds), case_study_funds, width))
        chance = intensity * fac * paid
        return (f"only {f.n - int(bad.sum())} of {f.n} platforms ran a case study in the last 12 months: "
                f"at a meeting the chance is {pct(chance)} (intensity {intensity:.2g} x facilitation {fac:.2f}"
                f" x {pct(paid)} for funds {pct(funds)} against about {pct(case_study_funds)} a case study needs)")
    bad = ~f.trusted
    trust = float(f.trust[bad].mean())
    fac = float(f.facilitation[bad].mean())
    div = float(np.nanmean(f.diversity[bad])) if np.isfinite(f.diversity[bad]).any() else 0.0
    target = min(max(trust_base + fac - conflict * div * (1.0 - fac), 0.0), 1.0)
    head = f"trust {trust:.2f} below {trust_threshold:.2g} on {int(bad.sum())} of {f.n} platforms"
    if target < trust_threshold:
        return (f"{head}; facilitation {fac:.2f} lets conflicts between members grow: meetings pull trust "
                f"towards {target:.2f} (trust base {trust_base:.2g} + facilitation {fac:.2f} - conflict "
                f"{conflict:.2g} x members' diversity {div:.2f} x (1 - facilitation))")
    idle = int(np.count_nonzero(bad & f.idle))
    if idle * 2 >= int(bad.sum()):
        return f"{head}; {idle} of them do not meet, and trust erodes on a platform that does not meet"
    return (f"{head}; meetings pull trust towards {target:.2f} (facilitation {fac:.2f}), but it has not got "
            f"there from {initial_trust:.2g} at the start")


def policy_cause(pressure: float, threshold: float, adopted: int, total: int) -> str:
    """Why national policy changed."""
    return (f"{adopted} of {total} national government and regulator organisations practise, "
            f"{pct(pressure)} of their influence, reaching the policy threshold {pct(threshold)}")


def district_cause(pressure: float, involvement: float, threshold: float, adopted: int, total: int) -> str:
    """Why a district put the practice in its plans and budget."""
    return (f"{adopted} of {total} of its local-government organisations practise ({pct(pressure)} of their "
            f"influence) x government involvement {involvement:.2g} = {pct(pressure * involvement)}, reaching "
            f"the threshold {pct(threshold)}")


def programme_cause(policy_month: int, per_year: float, reached: int, total: int) -> str:
    """Why the national programme reached a district now."""
    return (f"policy changed in month {policy_month}; the programme adds {per_year:.2g} district(s) a year, "
            f"pilot districts first ({reached} of {total} reached)")


def scaled_cause(share: float, scale_share: float, backed_share: float, outside: bool, pilot_adoption: float,
           spillover: float, outside_spillover: float, reach: int, n_districts: int) -> str:
    """Why the innovation counts as scaled, and the channel that carried most of it."""
    where = "beyond the pilot districts" if outside else "among organisations outside the alliance"
    head = f"{pct(share)} adopted {where} (scale share {pct(scale_share)})"
    if backed_share >= 0.5:
        return (f"{head}; main channel: government, {pct(backed_share)} of those adopters are in districts "
                f"government backs ({reach} of {n_districts} districts)")
    return (f"{head}; main channel: spread without government backing ({pct(backed_share)} of those adopters "
            f"in backed districts): the pilots' example ({pct(pilot_adoption)} adopted there) and outreach "
            f"(spillover {spillover:.2g}, outside spillover {outside_spillover:.2g} a month)")


@dataclass(frozen=True)
class Survival:
    """What happened to the organisations practising when donor funding ended."""

    cohort: int
    kept: int
    lost_unprotected: int
    kept_backed: int
    kept_on_platform: int
    month: int


def sustain_cause(s: Survival | None, survival: float, ratio: float, cohort_share: float, min_share: float,
            project_months: int, horizon: int, fade: str = "") -> str:
    """Why the practice was or was not sustained after donor funding ended."""
    if project_months >= horizon:
        return f"donor funding lasts the whole run ({project_months} of {horizon} months): nothing to sustain yet"
    if not cohort_share >= min_share:
        share = "none" if math.isnan(cohort_share) else pct(cohort_share)
        return (f"only {share} of organisations practised when donor funding ended (below {pct(min_share)}): "
                f"too few to sustain")
    if s is None or math.isnan(survival):
        return "survival was not measured within the run"
    lost = s.cohort - s.kept
    carried = (f"of the {s.kept} who kept it, {s.kept_backed} are in districts government backs and "
               f"{s.kept_on_platform} sit on a platform that still meets")
    if survival >= ratio:
        return f"survival {survival:.2f} (at least {ratio:.2g}): {carried}"
    return (f"survival {survival:.2f} below {ratio:.2g}: of {s.cohort} practising when donor funding ended, "
            f"{lost} gave it up by month {s.month}, {s.lost_unprotected} of them with neither government "
            f"backing nor a platform that still meets; {carried}" + (f"; {fade}" if fade else ""))
