"""Process 1: what money each platform has this month (seeds 002, 003, 004)."""

from __future__ import annotations

import numpy as np
from numba import njit


def donor_active(month: int, project_months: int, gap_start: int, gap_months: int) -> bool:
    """Whether donor money flows this month: inside the project and outside the gap."""
    in_gap = gap_start <= month < gap_start + gap_months
    return month < project_months and not in_gap


def platform_funds(
    donor_on: bool,
    donor_share: float,
    cost_sharing: float,
    member_funding: float,
    ownership: np.ndarray,
    government_share: float | np.ndarray,
) -> np.ndarray:
    """Share of its running cost each platform can pay this month (0..1).

    While the donor pays, members pay their agreed ``cost_sharing`` (the project's
    condition, 002: membership is premised on joint sharing of costs). Once the
    donor is gone (after the project or in a gap), members pay what they own:
    ``max(cost_sharing, member_funding) x ownership``. Government, once the practice
    is institutionalised, co-finances what local members own and run, not a donor's
    project (004), so its share is scaled by ownership too; ``government_share``
    may be one number or one per platform. Ownership, which donor money without
    cost sharing erodes (process 11), so decides what is left once the donor leaves.
    """
    gov = np.broadcast_to(np.asarray(government_share, dtype=float), np.shape(ownership))
    return platform_funds_kernel(bool(donor_on), float(donor_share), float(cost_sharing), float(member_funding),
                                 np.asarray(ownership, dtype=float), np.ascontiguousarray(gov))


@njit(cache=True)
def platform_funds_kernel(
    donor_on: bool, donor_share: float, cost_sharing: float, member_funding: float,
    ownership: np.ndarray, government_share: np.ndarray,
) -> np.ndarray:
    """:func:`platform_funds` with one government share per platform (compiled)."""
    out = np.empty(ownership.shape[0])
    for j in range(ownership.shape[0]):
        members = cost_sharing if donor_on else max(cost_sharing, member_funding) * ownership[j]
        out[j] = min(1.0, donor_share + members + government_share[j] * ownership[j])
    return out


_LEVEL_FACTOR = np.array([2.0, 1.0, 0.5])  # national, intermediate, local meetings


@njit(cache=True)
def monthly_cost(
    meets: np.ndarray, platform_level: np.ndarray, case_studies: np.ndarray,
    meeting_cost: float, case_study_cost: float,
) -> float:
    """Spending this month: meetings (national x2, community x0.5) and case studies."""
    meetings = 0.0
    studies = 0
    for j in range(meets.shape[0]):
        if meets[j]:
            meetings += _LEVEL_FACTOR[platform_level[j]]
        if case_studies[j]:
            studies += 1
    return meeting_cost * meetings + case_study_cost * studies


PAYERS = ("donor", "members", "government")


def cost_by_payer(
    meets: np.ndarray, platform_level: np.ndarray, case_studies: np.ndarray,
    meeting_cost: float, case_study_cost: float,
    donor_share: float, members: float | np.ndarray, government: float | np.ndarray,
) -> np.ndarray:
    """This month's spending split between donor, members and government (k USD, 3 numbers).

    Each platform's spending (as :func:`monthly_cost`) is shared in proportion to what
    each payer put in that month: ``donor_share``, the members' share and the
    government's share (already scaled by ownership), one number or one per platform.
    When these sum above 1 the platform is fully paid and the payers share the bill
    pro rata. A platform nobody pays for (all shares 0) that still spends, e.g. a case
    study running after the money stopped, is counted as the members' own (in-kind)
    spending. The three numbers sum to :func:`monthly_cost`.
    """
    n = np.shape(meets)[0]
    per = [np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=float), (n,))) for x in (members, government)]
    return cost_by_payer_kernel(np.asarray(meets, dtype=bool), np.asarray(platform_level, dtype=np.int8),
                                np.asarray(case_studies, dtype=bool), float(meeting_cost), float(case_study_cost),
                                float(donor_share), *per)


@njit(cache=True)
def cost_by_payer_kernel(
    meets: np.ndarray, platform_level: np.ndarray, case_studies: np.ndarray, meeting_cost: float,
    case_study_cost: float, donor_share: float, members: np.ndarray, government: np.ndarray,
) -> np.ndarray:
    """:func:`cost_by_payer` with one members' and one government share per platform (compiled)."""
    out = np.zeros(3)
    for j in range(meets.shape[0]):
        spent = (meeting_cost * _LEVEL_FACTOR[platform_level[j]] if meets[j] else 0.0) + (
            case_study_cost if case_studies[j] else 0.0)
        if spent == 0.0:
            continue
        total = donor_share + members[j] + government[j]
        if total <= 0.0:  # nobody paid: the members' own, in kind
            out[1] += spent
            continue
        out[0] += donor_share / total * spent
        out[1] += members[j] / total * spent
        out[2] += government[j] / total * spent
    return out
