"""Process 1: what money each platform has this month (seeds 002, 003, 004)."""

from __future__ import annotations

import numpy as np


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
    members = cost_sharing if donor_on else max(cost_sharing, member_funding) * ownership
    return np.minimum(1.0, donor_share + members + government_share * ownership)


_LEVEL_FACTOR = np.array([2.0, 1.0, 0.5])  # national, intermediate, local meetings


def monthly_cost(
    meets: np.ndarray, platform_level: np.ndarray, case_studies: np.ndarray,
    meeting_cost: float, case_study_cost: float,
) -> float:
    """Spending this month: meetings (national x2, community x0.5) and case studies."""
    level_factor = _LEVEL_FACTOR[platform_level]
    return float(meeting_cost * (meets * level_factor).sum() + case_study_cost * case_studies.sum())


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
    per_platform = meeting_cost * meets * _LEVEL_FACTOR[platform_level] + case_study_cost * case_studies
    n = per_platform.shape[0]
    shares = np.stack([np.broadcast_to(np.asarray(x, dtype=float), (n,))
                       for x in (donor_share, members, government)])
    total = shares.sum(axis=0)
    unpaid = total <= 0
    shares[1, unpaid] = 1.0
    shares /= np.where(unpaid, 1.0, total)
    return shares @ per_platform
