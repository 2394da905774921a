"""Process 1: what money each platform has this month (seeds 002, 003, 004)."""

from __future__ import annotations

import numpy as np


def donor_active(month: int, project_months: int, gap_start: int, gap_months: int) -> bool:
    """Whether donor money flows this month: inside the project and outside the gap."""
    in_gap = gap_start <= month < gap_start + gap_months
    return month < project_months and not in_gap


def platform_funds(
    donor_share: float,
    cost_sharing: float,
    ownership: np.ndarray,
    government_share: float,
) -> np.ndarray:
    """Share of its running cost each platform can pay this month (0..1).

    Members pay their agreed share only in proportion to how much they own the
    alliance (002: membership is premised on joint sharing of costs), and
    government pays once policy has been institutionalised.
    """
    return np.minimum(1.0, donor_share + cost_sharing * ownership + government_share)


_LEVEL_FACTOR = np.array([2.0, 1.0, 0.5])  # national, intermediate, local meetings


def monthly_cost(
    meets: np.ndarray, platform_level: np.ndarray, case_studies: np.ndarray,
    meeting_cost: float, case_study_cost: float,
) -> float:
    """Spending this month: meetings (national x2, community x0.5) and case studies."""
    level_factor = _LEVEL_FACTOR[platform_level]
    return float(meeting_cost * (meets * level_factor).sum() + case_study_cost * case_studies.sum())
