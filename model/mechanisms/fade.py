"""Process 10: adopters abandon the practice after funding ends (seed 003; Banks and Furey 2016)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..kinds import Stage

_ADOPTED, _AWARE = int(Stage.ADOPTED), int(Stage.AWARE)


def weibull_hazard(months_since: float, scale: float, shape: float) -> float:
    """Monthly abandonment hazard ``months_since`` months after support ended.

    From the Weibull survival S(t) = exp(-(t/scale)^shape); with the defaults
    (988, 0.41) about 15% fail within a year and 25% within four (P11).
    """
    if months_since < 0:
        return 0.0
    t0 = (months_since / scale) ** shape
    t1 = ((months_since + 1) / scale) ** shape
    return 1.0 - math.exp(t0 - t1)  # math.exp of a float: the same number as np.exp, a tenth of the call


@njit(cache=True)
def fade(
    stage: np.ndarray, knowledge: np.ndarray, abandoned: np.ndarray, hazard: float,
    protection: np.ndarray, u: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stages, knowledge and abandonment flags after unsupported adopters give up.

    Institutionalised adopters do not fade; ``protection`` (0..1 per
    organisation: district government backing, ownership of a platform that
    still meets) cuts the hazard for the rest. Those who abandon go back to
    "aware" with half their know-how and are marked: a broken scheme makes an
    organisation slow to try again (the model raises its threshold by
    ``abandonment_penalty``, process 6). ``u``: one uniform draw per organisation.
    """
    s, k, ab = stage.copy(), knowledge.copy(), abandoned.copy()
    fade_into(s, k, ab, hazard, protection, u)
    return s, k, ab


@njit(cache=True)
def fade_into(
    stage: np.ndarray, knowledge: np.ndarray, abandoned: np.ndarray, hazard: float,
    protection: np.ndarray, u: np.ndarray,
) -> None:
    """:func:`fade` updating its three arrays in place (each row reads only itself)."""
    for i in range(stage.shape[0]):
        if stage[i] == _ADOPTED and abandons(hazard, protection[i], u[i]):
            stage[i] = _AWARE
            knowledge[i] = 0.5 * knowledge[i]
            abandoned[i] = True


@njit(cache=True)
def abandons(hazard: float, protection: float, u: float) -> bool:
    """Whether an unsupported adopter gives up this month (:func:`fade` of one organisation)."""
    return u < hazard * (1.0 - protection)
