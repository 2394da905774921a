"""Process 6: adoption, peer support and outreach (seeds 002, 004; Bass 1969 in the limit)."""

from __future__ import annotations

import numpy as np

from ..kinds import Stage
from . import attending, ratio

# plain ints: numpy compares an array with them about twice as fast as with IntEnum members
_UNAWARE, _AWARE, _TRIALLING, _ADOPTED, _INSTITUTIONALISED = (int(s) for s in Stage)


def peer_support(
    support: np.ndarray, adopted: np.ndarray, influence: np.ndarray, attended: np.ndarray,
    edge_agent: np.ndarray, edge_platform: np.ndarray, n_platforms: int, memory: float,
) -> np.ndarray:
    """Each organisation's exposure to adopters: the influence-weighted share of
    adopters among the attendees of the meetings it attended this month.

    Organisations that met nobody this month keep a fading memory of it. On one
    fully mixed platform with full attendance this is the share adopted, the
    imitation term of the Bass model.
    """
    a, p = attending(attended, edge_agent, edge_platform)
    w = influence[a]
    num = np.bincount(p, w * adopted[a], n_platforms)
    den = np.bincount(p, w, n_platforms)
    share = ratio(num, den)
    seats = np.bincount(a, minlength=support.shape[0])
    heard = np.bincount(a, share[p], support.shape[0])
    return np.where(seats > 0, ratio(heard, seats),
                    support * memory)


def district_exposure(
    adopted: np.ndarray, influence: np.ndarray, district: np.ndarray, n_districts: int
) -> np.ndarray:
    """Influence-weighted share of ``adopted`` (those promoting it) among each district's organisations."""
    # national organisations (district -1) go to an extra first bin that is dropped:
    # cheaper than masking them out, and every district's sum adds the same terms in the same order
    i = np.asarray(adopted).nonzero()[0]  # only adopters add to the numerator
    num = np.bincount(district[i] + 1, influence[i], n_districts + 1)[1:]
    den = np.bincount(district + 1, influence, n_districts + 1)[1:]
    return ratio(num, den)


def outreach(
    knowledge: np.ndarray, support: np.ndarray, capacity: np.ndarray, is_member: np.ndarray,
    district: np.ndarray, exposure: np.ndarray, spillover: float, extra: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Knowledge and support of non-members after adopters' outreach in their district.

    ``exposure`` is the per-district adopter share (see :func:`district_exposure`),
    ``extra`` a per-organisation knowledge inflow from elsewhere (spill-over
    from the pilots and, after a policy change, government programmes).
    """
    # only non-members of a district are reached: compute for those rows alone
    i = (~is_member & (district >= 0)).nonzero()[0]
    e = exposure[district[i]]
    x = np.asarray(extra, dtype=float)
    gain = (spillover * e + (x[i] if x.ndim else x)) * capacity[i] * (1.0 - knowledge[i])
    new_k, new_s = knowledge.copy(), support.copy()
    new_k[i] = np.minimum(1.0, knowledge[i] + gain)
    new_s[i] = np.maximum(support[i], e)
    return new_k, new_s


def readiness(
    knowledge: np.ndarray, fit: np.ndarray, relative_advantage: float, threshold: np.ndarray,
    threshold_scale: float,
) -> np.ndarray:
    """Organisations for which the innovation clears their adoption threshold.

    What an organisation sees in the innovation grows with what it knows about
    making it work, the innovation's local fit and its relative advantage.
    """
    value = knowledge * (0.5 + 0.5 * fit) * (0.5 + 0.5 * relative_advantage)
    return value >= threshold * threshold_scale


def adopt(
    stage: np.ndarray, ready: np.ndarray, knowledge: np.ndarray, support: np.ndarray,
    external: float, imitation: float, institutional: np.ndarray, rng: np.random.Generator,
) -> np.ndarray:
    """Adoption stages after one month.

    Unaware organisations that learn something (or are ready) become aware; aware ones that
    are ready start trialling; trialling ones adopt with the Bass hazard
    ``1 - exp(-(p + q * support))``; ready adopters where policy backs the
    practice (``institutional``) become institutionalised.
    """
    s = stage.copy()
    s[(s == _UNAWARE) & ((knowledge > 0.05) | (support > 0) | ready)] = _AWARE
    s[(s == _AWARE) & ready] = _TRIALLING
    s[(s == _TRIALLING) & ~ready] = _AWARE
    hazard = 1.0 - np.exp(-(external + imitation * support))
    trial = s == _TRIALLING
    s[trial & (rng.random(s.shape[0]) < hazard)] = _ADOPTED
    s[(s == _ADOPTED) & institutional] = _INSTITUTIONALISED
    return s


def communities_reached(
    adopted: np.ndarray, reach: np.ndarray, district: np.ndarray, communities: np.ndarray
) -> np.ndarray:
    """Communities reached per district: adopters' reach, capped by the district's communities."""
    n = communities.shape[0]
    i = np.asarray(adopted).nonzero()[0]  # only adopters serve communities
    served = np.bincount(district[i] + 1, reach[i], n + 1)[1:]  # bin 0: national, no district
    return np.minimum(served, communities)
