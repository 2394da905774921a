"""The monthly processes of the model, one module each, as pure functions over arrays.

Every function takes arrays (and, where it draws, a ``numpy.random.Generator``)
and returns new arrays; none touches the model object, so each is tested alone
(tests/test_mechanisms.py) and documented in docs/ODD.md under its process number.
"""

import numpy as np
import scipy.sparse as sp
from numba import njit

from ..compile_guard import install as _hold_ctrl_c_while_compiling

_hold_ctrl_c_while_compiling()

_TINY = 1e-12

#: Every named mechanism a scenario can switch off (``[mechanisms]``, ``--off``): name -> meaning.
#: The number is the ODD process (docs/ODD.md, section 3) the mechanism belongs to. Switched
#: off, a mechanism is bypassed: the state stays as the mechanism would leave it if it did nothing.
MECHANISMS: dict[str, str] = {
    "funding": "1: money limits what platforms can do (off: every platform is fully paid every month)",
    "meetings": "2: platforms meet and members attend (off: no platform ever meets)",
    "horizontal_learning": "3: attendees learn from their platform's pool of knowledge",
    "trust": "3: trust moves towards what facilitation allows at meetings and erodes on idle platforms",
    "exchange_visits": "3: linked platforms share knowledge (exchange visits, electronic platform)",
    "champions": "3: champions start knowing more and lift facilitation when they attend",
    "action_research": "4: joint case studies teach participants and improve the innovation's local fit",
    "documentation": "4, 8: documented lessons teach from failures, survive turnover and travel to other districts",
    "vertical_learning": "5: linking members carry evidence and policy signals between levels",
    "adoption": "6: organisations move from unaware to adopted (off: nobody adopts)",
    "peer_support": "6: adopters met at meetings make adoption more likely (the Bass imitation term)",
    "spillover": "6: adopters' outreach reaches non-members of their district; pilots' success reaches other districts",
    "national_institutionalisation": "7: national policy changes once national government and regulators adopt",
    "district_institutionalisation": "7: a district's local government puts the practice in its own plans and budget",
    "government_programmes": "7: after institutionalisation, government programmes carry the practice to districts",
    "turnover": "8: representatives change and take undocumented knowledge with them",
    "membership": "9: platforms recruit new members and members drop out",
    "lead_allocation": (
        "9: while the donor pays, members join where the lead organisation (which allocates the money) "
        "sits and leave far from it"
    ),
    "fade": "10: after donor funding ends, unsupported adopters abandon the practice",
    "ownership": "11: members who pay part of the cost come to own their platform",
    "donor_distortion": "11: donor money that pays what members could pay erodes their ownership",
}


def attending(attended: np.ndarray, edge_agent: np.ndarray, edge_platform: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Organisation and platform of each seat whose organisation attended (``attended`` is boolean per seat).

    About a fifth of seats attend in a month, so working on these alone is much
    cheaper; the sums come out bit for bit the same, since the seats left out
    would only have added zeros.
    """
    idx = np.asarray(attended).nonzero()[0]  # np.flatnonzero is a slower wrapper of this
    return edge_agent[idx], edge_platform[idx]


def paid_response(funds: np.ndarray, midpoint: float, width: float) -> np.ndarray:
    """How far each platform's money lets an activity go ahead: a logistic in its funds.

    Near 0 well below ``midpoint`` (the share of running costs at which half of what
    is due can be paid for), near 1 well above it; ``width`` sets how sharply it rises
    (0: the hard floor ``funds >= midpoint``). No source gives a floor, so the response
    is smooth (docs/decisions.md).
    """
    if width <= 0:
        return (funds >= midpoint).astype(float)
    return 1.0 / (1.0 + np.exp(-(funds - midpoint) / width))


@njit(cache=True)
def paid(funds: float, midpoint: float, width: float) -> float:
    """:func:`paid_response` of one platform's funds, for compiled kernels."""
    if width <= 0:
        return 1.0 if funds >= midpoint else 0.0
    return 1.0 / (1.0 + np.exp(-(funds - midpoint) / width))


@njit(cache=True)
def any_per_row(rows: np.ndarray, flags: np.ndarray, n: int) -> np.ndarray:
    """Per row (organisation or platform): whether any of its seats is flagged (``np.bincount(rows, flags, n) > 0``)."""
    out = np.zeros(n, dtype=np.bool_)
    for s in range(rows.shape[0]):
        if flags[s]:
            out[rows[s]] = True
    return out


@njit(cache=True)
def csr_matvec(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``A @ x`` for a sparse matrix ``A`` given by its CSR arrays (scipy's ``indptr``, ``indices``, ``data``)."""
    n = indptr.shape[0] - 1
    out = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            acc += data[k] * x[indices[k]]
        out[i] = acc
    return out


@njit(cache=True)
def met_links(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, values: np.ndarray, met: np.ndarray,
              row: int) -> tuple[float, float]:
    """Of one row of a platform x platform link matrix (CSR arrays): the links' weight to
    platforms that met and their weighted sum of ``values`` (row ``row`` of ``A @ met`` and of
    ``A @ (values * met)``, in csr_matvec's order, without making either array)."""
    weight = 0.0
    acc = 0.0
    for k in range(indptr[row], indptr[row + 1]):
        j = indices[k]
        m = 1.0 if met[j] else 0.0
        weight += data[k] * m
        acc += data[k] * (values[j] * m)
    return weight, acc


def csr_arrays(matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, indices, data)`` of a matrix (scipy sparse or dense), for the compiled kernels."""
    m = sp.csr_array(matrix)
    return m.indptr.astype(np.int64), m.indices.astype(np.int64), m.data.astype(np.float64)


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den`` is 0 (callers guarantee ``num`` is 0 there too).

    Cheaper than ``np.divide(..., where=...)`` on the small arrays of a default
    run, where per-call overhead, not arithmetic, is the cost.
    """
    return num / np.maximum(den, _TINY)
