"""When an ABC-SMC calibration stops: the rules and their defaults (no pyabc needed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Default stopping rules (see :func:`calibrate` and docs/calibration.md).
MAX_GENERATIONS = 20
MIN_EPS_DROP = 0.05
MIN_ACCEPTANCE = 0.02


def stop_reason(
    rows: Sequence[dict[str, Any]],
    *,
    min_epsilon: float,
    min_eps_drop: float,
    min_acceptance: float,
) -> str | None:
    """Why a calibration with these finished generations should stop, or ``None``.

    Stops when the last generation's epsilon is at most ``min_epsilon``, when
    epsilon fell by less than ``min_eps_drop`` (a share of the previous one)
    from the generation before, or when the last generation accepted less than
    ``min_acceptance`` of its proposals.
    """
    if not rows:
        return None
    last = rows[-1]
    if last["epsilon"] <= min_epsilon:
        if min_epsilon == 0:
            return "epsilon reached 0: every accepted particle meets every target"
        return f"epsilon {last['epsilon']:.4g} <= --min-epsilon {min_epsilon:g}"
    if len(rows) >= 2 and min_eps_drop > 0:
        prev = rows[-2]["epsilon"]
        drop = (prev - last["epsilon"]) / prev if prev > 0 else 0.0
        if drop < min_eps_drop:
            return f"epsilon fell by {drop:.1%} (< --min-eps-drop {min_eps_drop:.0%}): converged"
    if last["acceptance_rate"] < min_acceptance:
        return (
            f"acceptance rate {last['acceptance_rate']:.2%} < --min-acceptance {min_acceptance:.2%}"
        )
    return None
