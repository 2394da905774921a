"""Process 10: adopters abandon the practice after funding ends (seed 003; Banks and Furey 2016)."""

from __future__ import annotations

import numpy as np

from ..kinds import Stage


def weibull_hazard(months_since: float, scale: float, shape: float) -> float:
    """Monthly abandonment hazard ``months_since`` months after support ended.

    From the Weibull survival S(t) = exp(-(t/scale)^shape); with the defaults
    (988, 0.41) about 15% fail within a year and 25% within four (P11).
    """
    if months_since < 0:
        return 0.0
    t0 = (months_since / scale) ** shape
    t1 = ((months_since + 1) / scale) ** shape
    return 1.0 - float(np.exp(t0 - t1))


def fade(
    stage: np.ndarray, knowledge: np.ndarray, abandoned: np.ndarray, hazard: float,
    protection: np.ndarray, rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stages, knowledge and abandonment flags after unsupported adopters give up.

    Institutionalised adopters do not fade; ``protection`` (0..1 per
    organisation: district government backing, ownership of a platform that
    still meets) cuts the hazard for the rest. Those who abandon go back to
    "aware" with half their know-how and are marked: a broken scheme makes an
    organisation slow to try again (the model raises its threshold by
    ``abandonment_penalty``, process 6).
    """
    at_risk = stage == int(Stage.ADOPTED)  # a plain int compares faster than the IntEnum member
    drop = at_risk & (rng.random(stage.shape[0]) < hazard * (1.0 - protection))
    new_stage = np.where(drop, Stage.AWARE, stage).astype(stage.dtype)
    return new_stage, np.where(drop, 0.5 * knowledge, knowledge), abandoned | drop
