"""Process 7: institutionalisation through policy change (seed 004)."""

from __future__ import annotations

import numpy as np


def policy_pressure(
    adopted: np.ndarray, influence: np.ndarray, policy_maker: np.ndarray
) -> float:
    """Influence-weighted share of adopters among national government and regulators.

    Zero when no policy maker takes part: without government involvement the
    policy cannot change (004: "scaling up requires involving (local) government").
    """
    w = influence * policy_maker
    total = w.sum()
    return float((w * adopted).sum() / total) if total > 0 else 0.0


def policy_changes(pressure: float, threshold: float, already: bool) -> bool:
    """Whether national policy changes this month (it changes once and stays)."""
    return already or pressure >= threshold


def threshold_multiplier(policy: bool, effect: float) -> float:
    """Factor on every adoption threshold: a changed regulation lowers them everywhere."""
    return 1.0 - effect if policy else 1.0
