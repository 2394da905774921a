"""When an ABC-SMC calibration stops: the rules and their defaults (no pyabc needed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Default stopping rules (see :func:`calibrate` and docs/calibration.md).
MAX_GENERATIONS = 20
MIN_EPS_DROP = 0.05
MIN_ACCEPTANCE = 0.02
#: An epsilon rule stops only once the last generation's effective sample size is at least
#: this share of its particles: the threshold at which adaptive ABC-SMC resamples (Del
#: Moral, Doucet and Jasra 2012, Statistics and Computing 22: 1009-1020).
MIN_ESS = 0.5


def stop_reason(
    rows: Sequence[dict[str, Any]],
    *,
    min_epsilon: float,
    min_eps_drop: float,
    min_acceptance: float,
    min_ess: float = 0.0,
) -> str | None:
    """Why a calibration with these finished generations should stop, or ``None``.

    Stops when the last generation's epsilon is at most ``min_epsilon``, when
    epsilon fell by less than ``min_eps_drop`` (a share of the previous one)
    from the generation before, or when the last generation accepted less than
    ``min_acceptance`` of its proposals. The two epsilon rules wait while the last
    generation's effective sample size (``ess``, Kish's ``1 / sum(w^2)`` of its
    normalised weights) is below ``min_ess`` of its ``accepted`` particles: at epsilon 0
    a particle can meet every target by the luck of its few replications, and a lucky
    particle in a corner the proposal rarely visits carries a large weight. Further
    generations at the same epsilon test its region again with fresh seeds and spread
    the weight.
    """
    if not rows:
        return None
    last = rows[-1]
    if last["acceptance_rate"] < min_acceptance:
        return (
            f"acceptance rate {last['acceptance_rate']:.2%} < --min-acceptance {min_acceptance:.2%}"
        )
    if "ess" in last and last.get("accepted") and last["ess"] < min_ess * last["accepted"]:
        return None
    if last["epsilon"] <= min_epsilon:
        if min_epsilon == 0:
            return "epsilon reached 0: every accepted particle meets every target"
        return f"epsilon {last['epsilon']:.4g} <= --min-epsilon {min_epsilon:g}"
    if len(rows) >= 2 and min_eps_drop > 0:
        prev = rows[-2]["epsilon"]
        drop = (prev - last["epsilon"]) / prev if prev > 0 else 0.0
        if drop < min_eps_drop:
            return f"epsilon fell by {drop:.1%} (< --min-eps-drop {min_eps_drop:.0%}): converged"
    return None
