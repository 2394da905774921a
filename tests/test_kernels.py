"""Each compiled (numba) kernel equals a plain numpy reference on random inputs.

The references are the array expressions the kernels replaced (issue 10): bincounts
over seats and masked updates. The kernels add in the same order, so most results
agree to the last bit; they are compared at 1e-12 so a reordering of sums would
still pass while any change of formula fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from model.draws import ATTEND, stream_np, uniforms_np
from model.kinds import Stage
from model.mechanisms import (
    action_research,
    adoption,
    fade,
    funding,
    learning,
    meetings,
    membership,
    paid_response,
    turnover,
    vertical,
)

ROOTS = (1, 2, 3)
_TINY = 1e-12


def _world(seed: int):
    g = np.random.default_rng(seed)
    n, n_p, n_s = 400, 15, 1100
    w = {
        "g": g, "n": n, "n_p": n_p, "n_s": n_s,
        "ea": g.integers(0, n, n_s), "ep": g.integers(0, n_p, n_s),
        "att": g.random(n_s) < 0.3, "k": g.random(n), "trust": g.random(n), "cap": g.random(n),
        "infl": g.random(n), "fac": g.random(n_p), "target": g.random(n_p),
    }
    return w


def _ratio(num, den):
    return num / np.maximum(den, _TINY)


@pytest.mark.parametrize("seed", ROOTS)
def test_seat_learning_kernels_equal_their_numpy_references(seed):
    w = _world(seed)
    ea, ep, att, k, trust, cap, fac, target, n, n_p = (w[x] for x in
                                                       ("ea", "ep", "att", "k", "trust", "cap", "fac", "target", "n",
                                                        "n_p"))
    a, p = ea[att], ep[att]
    g = w["g"]

    weight = g.random(ea.shape[0])
    ref = _ratio(np.bincount(ep, weight * k[ea], n_p), np.bincount(ep, weight, n_p))
    np.testing.assert_allclose(learning.platform_pool(k, weight, ea, ep, n_p), ref, rtol=1e-12, atol=0)

    gain = 0.4 * fac[p] * (0.3 + 0.7 * trust[a]) * cap[a] * np.maximum(target[p] - k[a], 0.0)
    ref = np.minimum(1.0, k + np.bincount(a, gain, n))
    got = learning.horizontal_learning(k, trust, cap, target, att, ea, ep, fac, 0.4)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)

    div = g.random(n_p)
    tgt = np.clip(0.2 + fac - 0.6 * div * (1.0 - fac), 0.0, 1.0)
    step = _ratio(np.bincount(a, tgt[p] - trust[a], n), np.bincount(a, minlength=n))
    ref = np.clip(trust + 0.12 * step, 0.0, 1.0)
    np.testing.assert_allclose(learning.update_trust(trust, att, ea, ep, fac, div, 0.6, 0.12, 0.2), ref,
                               rtol=1e-12, atol=0)

    ref = np.minimum(1.0, k + np.bincount(a, 0.3 * cap[a] * np.maximum(target[p] - k[a], 0.0), n))
    np.testing.assert_allclose(vertical.vertical_learning(k, cap, target, att, ea, ep, 0.3), ref, rtol=1e-12, atol=0)

    results, cases = g.normal(0, 0.5, n_p), g.random(n_p) < 0.5
    lesson = np.where(results >= 0, 1.0, 0.4) * cases
    ref = np.minimum(1.0, k + np.bincount(a, 0.3 * lesson[p] * cap[a] * (1.0 - k[a]), n))
    got = action_research.action_research_learning(k, cap, att, ea, ep, results, cases, 0.4, 0.3)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)

    adopted, support, infl = g.random(n) < 0.3, g.random(n), w["infl"]
    share = _ratio(np.bincount(p, infl[a] * adopted[a], n_p), np.bincount(p, infl[a], n_p))
    seats = np.bincount(a, minlength=n)
    ref = np.where(seats > 0, _ratio(np.bincount(a, share[p], n), seats), support * 0.8)
    got = adoption.peer_support(support, adopted, infl, att, ea, ep, n_p, 0.8)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", ROOTS)
def test_attendance_kernel_equals_probability_then_draw(seed):
    w = _world(seed)
    g, ea, ep, n_s, n_p = w["g"], w["ea"], w["ep"], w["n_s"], w["n_p"]
    active, met = g.random(n_s) < 0.8, g.random(n_p) < 0.6
    eng, gov, hard, fac_s = g.random(n_s), g.random(n_s) < 0.2, g.random(n_s) < 0.3, g.random(n_s)
    u = g.random(n_s)
    prob = meetings.attendance_probability(eng, w["trust"][ea], np.where(gov, 0.7, 1.0), hard, fac_s, 0.6, 0.4)
    ref = meetings.attend(prob, active, met[ep], u)
    got = meetings.attend_seats(active, met, ea, ep, eng, w["trust"], gov, 0.7, hard, fac_s, 0.6, 0.4, u)
    np.testing.assert_array_equal(got, ref)
    assert ref.any() and not ref.all()  # the comparison is not vacuous

    # the compiled month's version draws seat s's uniform from its stream where a seat can attend
    seed = stream_np(int(g.integers(2**62)), 7, ATTEND)
    ref = meetings.attend(prob, active, met[ep], uniforms_np(seed, n_s))
    got = np.ones(n_s, dtype=bool)  # every value overwritten, the seats that cannot attend too
    infl, champ = g.random(n_s), g.random(n_s) < 0.3
    came = np.empty(n_s, dtype=ea.dtype), np.empty(n_s, dtype=ep.dtype), np.empty(n_s), np.empty(n_s, dtype=bool)
    k = meetings.attend_seats_drawn(got, active, met, ea, ep, eng, w["trust"], gov, 0.7, hard, fac_s, 0.6, 0.4, seed,
                                    infl, champ, *came)
    np.testing.assert_array_equal(got, ref)
    assert ref.any() and not ref.all()
    # the attended seats listed in order, for the learning kernels
    assert k == ref.sum()
    for listed, of_seat in zip(came, (ea, ep, infl, champ), strict=True):
        np.testing.assert_array_equal(listed[:k], of_seat[ref])


@pytest.mark.parametrize("seed", ROOTS)
def test_platform_meetings_kernel_equals_its_reference(seed):
    g = np.random.default_rng(seed)
    n_p = 500
    last, funds, u = g.integers(-6, 12, n_p), g.random(n_p), g.random(n_p)
    for width in (0.0, 0.05):
        ref = ((12 - last) >= 3) & (u < funds * paid_response(funds, 0.25, width))
        np.testing.assert_array_equal(meetings.platform_meets(12, last, 3, funds, u, 0.25, width), ref)


@pytest.mark.parametrize("seed", ROOTS)
def test_organisation_kernels_equal_their_numpy_references(seed):
    g = np.random.default_rng(seed)
    n, n_d = 2000, 7
    k, sup, cap, u = g.random(n), g.random(n) * (g.random(n) < 0.5), g.random(n), g.random(n)
    member, district = g.random(n) < 0.5, g.integers(-1, n_d, n)
    exposure, extra = g.random(n_d), g.random(n) * 0.1

    i = (~member & (district >= 0)).nonzero()[0]
    e = exposure[district[i]]
    rk, rs = k.copy(), sup.copy()
    rk[i] = np.minimum(1.0, k[i] + (0.3 * e + extra[i]) * cap[i] * (1.0 - k[i]))
    rs[i] = np.maximum(sup[i], e)
    nk, ns = adoption.outreach(k, sup, cap, member, district, exposure, 0.3, extra)
    np.testing.assert_allclose(nk, rk, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(ns, rs)

    stage = g.integers(0, 5, n).astype(np.int8)
    ready, inst = g.random(n) < 0.5, g.random(n) < 0.3
    s = stage.copy()
    s[(s == Stage.UNAWARE) & ((k > 0.05) | (sup > 0) | ready)] = Stage.AWARE
    s[(s == Stage.AWARE) & ready] = Stage.TRIALLING
    s[(s == Stage.TRIALLING) & ~ready] = Stage.AWARE
    s[(s == Stage.TRIALLING) & (u < 1.0 - np.exp(-(0.02 + 0.5 * sup)))] = Stage.ADOPTED
    s[(s == Stage.ADOPTED) & inst] = Stage.INSTITUTIONALISED
    got = adoption.adopt(stage, ready, k, sup, 0.02, 0.5, inst, u)
    np.testing.assert_array_equal(got, s)
    assert got.dtype == stage.dtype

    change, dm = g.random(n) < 0.1, g.random(n) < 0.3
    tenure, rep, base = g.integers(0, 24, n), g.random(n), g.random(n) * 0.5
    rk, rt, rten, rdm = k.copy(), sup.copy(), tenure + 1, dm.copy()
    rk[change] *= 0.4
    rt[change] *= 0.5
    rten[change] = 0
    rdm[change] = (u < base + (1.0 - base) * rep)[change]
    for got_, ref_ in zip(turnover.turnover(k, sup, tenure, dm, change, 0.4, rep, base, u), (rk, rt, rten, rdm),
                          strict=True):
        np.testing.assert_allclose(got_, ref_, rtol=1e-12, atol=0)

    prot, abandoned = g.random(n), g.random(n) < 0.1
    drop = (stage == Stage.ADOPTED) & (u < 0.3 * (1.0 - prot))
    s2, k2, ab2 = fade.fade(stage, k, abandoned, 0.3, prot, u)
    np.testing.assert_array_equal(s2, np.where(drop, Stage.AWARE, stage))
    np.testing.assert_allclose(k2, np.where(drop, 0.5 * k, k), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(ab2, abandoned | drop)
    assert drop.any()


@pytest.mark.parametrize("seed", ROOTS)
def test_payers_kernel_equals_its_numpy_reference(seed):
    """The compiled split of spending by payer equals the numpy expression it replaced (main's, issue 12)."""
    g = np.random.default_rng(seed)
    n_p = 400
    meets, cases = g.random(n_p) < 0.5, g.random(n_p) < 0.3
    level = g.integers(0, 3, n_p).astype(np.int8)
    members = np.where(g.random(n_p) < 0.2, 0.0, g.random(n_p))
    gov = np.where(g.random(n_p) < 0.5, 0.0, g.random(n_p))
    for donor in (0.0, 0.6):
        per_platform = 3.0 * meets * np.array([2.0, 1.0, 0.5])[level] + 7.0 * cases
        shares = np.stack([np.full(n_p, donor), members, gov])
        total = shares.sum(axis=0)
        unpaid = total <= 0
        shares[1, unpaid] = 1.0
        shares /= np.where(unpaid, 1.0, total)
        want = shares @ per_platform
        got = funding.cost_by_payer(meets, level, cases, 3.0, 7.0, donor, members, gov)
        np.testing.assert_allclose(got, want, rtol=1e-12)
        assert got.sum() == pytest.approx(funding.monthly_cost(meets, level, cases, 3.0, 7.0), rel=1e-12)
        assert (got >= 0).all() and got[1] > 0


@pytest.mark.parametrize("seed", ROOTS)
def test_one_organisations_readiness_is_the_array_rule(seed):
    g = np.random.default_rng(seed)
    n = 5000
    k, fit, thr, scale = g.random(n), g.random(n), 0.2 + g.random(n), 0.5 + g.random(n)
    want = adoption.readiness(k, fit, 0.6, thr, scale)
    got = np.array([adoption.is_ready(k[i], fit[i], 0.6, thr[i], scale[i]) for i in range(n)])
    np.testing.assert_array_equal(got, want)
    assert 0 < want.sum() < n


@pytest.mark.parametrize("seed", ROOTS)
def test_membership_kernel_equals_its_numpy_reference(seed):
    g = np.random.default_rng(seed)
    n, n_p, n_s = 300, 12, 900
    ea, ep = g.integers(0, n, n_s), g.integers(0, n_p, n_s)
    active, linking, met, idle = g.random(n_s) < 0.7, g.random(n_s) < 0.1, g.random(n_p) < 0.5, g.random(n_p) < 0.3
    attr, eng, trust, u = g.random(n_p), g.random(n), g.random(n), g.random(n_s)
    join, leave = 0.5 + g.random(n_s), 0.5 + g.random(n_s)  # the lead organisation's allocation, per seat
    rec = ~active & met[ep]
    stay = active & ~linking
    burden = (0.5 + 0.3) * (1.0 - trust[ea]) * np.where(idle[ep], 3.0, 1.0)
    ref = active.copy()
    ref[rec] = (u < 0.5 * attr[ep] * eng[ea] * join)[rec]
    ref[stay] = ~(u < 0.2 * burden * leave)[stay]
    got = membership.update_seats(active, linking, ea, ep, met, attr, eng, trust, idle, 0.3, 0.5, 0.2, u, join, leave)
    np.testing.assert_array_equal(got, ref)
    assert (got != active).any()


@pytest.mark.parametrize("seed", ROOTS)
@pytest.mark.parametrize("allocating", [True, False])
def test_compiled_seats_keep_members_who_left_away_as_the_numpy_kernels_do(seed, allocating):
    g = np.random.default_rng(seed)
    n, n_p, n_s = 300, 12, 900
    ea, ep = g.integers(0, n, n_s), g.integers(0, n_p, n_s)
    active, linking, met, idle = g.random(n_s) < 0.7, g.random(n_s) < 0.1, g.random(n_p) < 0.8, g.random(n_p) < 0.3
    attr, eng, trust, u = g.random(n_p), g.random(n), g.random(n), g.random(n_s)
    join, leave = 0.5 + g.random(n_s), 0.5 + g.random(n_s)
    away = g.random(n_s) < 0.2
    seats = membership.update_seats(active, linking, ea, ep, met, attr, eng, trust, idle, 0.3, 0.5, 0.2, u, join,
                                    leave, away)
    ref_away = membership.stayed_away(away, active, seats, join, leave, allocating)
    got, got_away = active.copy(), away.copy()
    membership.update_seats_into(got, linking, ea, ep, met, attr, eng, trust, idle, 0.3, 0.5, 0.2, u, join, leave,
                                 got_away, allocating)
    np.testing.assert_array_equal(got, seats)
    np.testing.assert_array_equal(got_away, ref_away)
    assert not seats[away & ~active].any()  # seats kept away are not refilled
    assert got_away.any() == allocating


@pytest.mark.parametrize("seed", ROOTS)
def test_link_kernels_equal_their_scipy_references(seed):
    """mix_linked, vertical_targets and update_fit on CSR arrays equal the sparse-matrix expressions they replaced."""
    import scipy.sparse as sp

    g = np.random.default_rng(seed)
    n_p, n_d = 60, 9
    links = sp.random_array((n_p, n_p), density=0.1, random_state=seed, format="csr")
    links = (links + links.T).tocsr()
    pool, met = g.random(n_p), g.random(n_p) < 0.5
    metf = met.astype(float)
    ref = pool + 0.3 * np.maximum(_ratio(links @ (pool * metf), links @ metf) - pool, 0.0)
    np.testing.assert_allclose(learning.mix_linked(pool, links, met, 0.3), ref, rtol=1e-12, atol=0)
    np.testing.assert_allclose(vertical.vertical_targets(pool, links, met), _ratio(links @ (pool * metf), links @ metf),
                               rtol=1e-12, atol=0)

    fit, plat_d = g.random(n_d), g.integers(-1, n_d, n_p)
    results, cases = g.normal(0, 0.5, n_p), g.random(n_p) < 0.4
    local = plat_d >= 0
    effect = np.where(results >= 0, 1.0, 0.3) * (cases & local) * 0.1 * (1.0 - 0.5 * 0.4)
    effect = effect + 0.5 * (links @ effect) * local
    ref = np.minimum(1.0, fit + np.bincount(plat_d[local], effect[local], n_d) * (1.0 - fit))
    got = action_research.update_fit(fit, plat_d, results, cases, 0.1, 0.4, links, 0.5)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", ROOTS)
def test_group_kernels_equal_their_bincount_references(seed):
    """diversity, district exposure and pressure, communities reached and centralisation equal their numpy forms."""
    from model.mechanisms import institutions

    w = _world(seed)
    g, ea, ep, att, n, n_p = w["g"], w["ea"], w["ep"], w["att"], w["n"], w["n_p"]
    kind = g.integers(0, 10, n)
    a, p = ea[att], ep[att]
    counts = np.bincount(p * 10 + kind[a], minlength=n_p * 10).reshape(n_p, 10)
    shares = _ratio(counts, counts.sum(axis=1)[:, None])
    np.testing.assert_allclose(learning.diversity(kind, att, ea, ep, n_p, 10), 1.0 - (shares**2).sum(axis=1),
                               rtol=1e-12, atol=1e-15)

    n_d = 6
    district, adopted, infl = g.integers(-1, n_d, n), g.random(n) < 0.4, w["infl"]
    inside = district >= 0
    ref = _ratio(np.bincount(district[inside & adopted], infl[inside & adopted], n_d),
                 np.bincount(district[inside], infl[inside], n_d))
    np.testing.assert_allclose(adoption.district_exposure(adopted, infl, district, n_d), ref, rtol=1e-12, atol=0)

    gov = g.random(n) < 0.2
    gov[district == 2] = False  # a district without local government: NaN
    sel = gov & inside
    total = np.bincount(district[sel], infl[sel], n_d)
    done = np.bincount(district[sel & adopted], infl[sel & adopted], n_d)
    ref = np.where(total > 0, done / np.maximum(total, 1e-300), np.nan)
    got = institutions.district_pressure(adopted, infl, gov, district, n_d)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)
    assert np.isnan(got[2])

    reach, comm = g.random(n) * 5, g.integers(1, 40, n_d).astype(float)
    ref = np.minimum(np.bincount(district[inside & adopted], reach[inside & adopted], n_d), comm)
    np.testing.assert_allclose(adoption.communities_reached(adopted, reach, district, comm), ref, rtol=1e-12, atol=0)

    active = g.random(ea.shape[0]) < 0.5
    sp_, sa = ep[active], ea[active]
    k = np.bincount(sp_, minlength=n_p).astype(float)
    degree = np.bincount(sa, weights=k[sp_] - 1.0, minlength=n)
    lead = int(degree.argmax())
    on_leads = np.zeros(n_p, dtype=bool)
    on_leads[sp_[sa == lead]] = True
    tied = np.zeros(n, dtype=bool)
    tied[sa[on_leads[sp_]]] = True
    ref = (np.count_nonzero(tied) - 1) / (np.unique(sa).shape[0] - 1)
    assert membership.centralisation(active, ea, ep, n, n_p) == pytest.approx(ref, rel=1e-12)


def test_seat_index_lists_each_rows_seats_in_order():
    rng = np.random.default_rng(4)
    rows = rng.integers(0, 7, 50)
    indptr, seats = membership.seat_index(rows, 9)  # rows 7 and 8 hold no seat
    assert indptr[0] == 0 and indptr[-1] == rows.size
    for r in range(9):
        np.testing.assert_array_equal(seats[indptr[r]:indptr[r + 1]], np.flatnonzero(rows == r))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tree_hops_are_scipys_shortest_paths_on_a_forest(seed):
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import shortest_path

    rng = np.random.default_rng(seed)
    n = 60
    parent = np.array([-1 if j in (0, 40) or rng.random() < 0.05 else rng.integers(0, j) for j in range(n)])
    sources = rng.choice(40, size=3, replace=False)  # none in the tree rooted at 40
    child = np.flatnonzero(parent >= 0)
    tree = csr_array((np.ones(child.size), (child, parent[child])), shape=(n, n))
    want = shortest_path(tree, directed=False, unweighted=True, indices=sources).min(axis=0)
    got = membership.tree_hops(parent, sources).astype(float)
    got[got < 0] = np.inf
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", ROOTS)
def test_heard_support_sets_only_the_attendees_and_hands_the_work_arrays_back_zero(seed):
    w = _world(seed)
    g, ea, ep, n, n_p = w["g"], w["ea"], w["ep"], w["n"], w["n_p"]
    att = g.random(ea.shape[0]) < 0.4
    adopted, support, infl = g.random(n) < 0.3, g.random(n), w["infl"]
    heard, seats = np.zeros(n), np.zeros(n)
    adoption.peer_heard_into(heard, seats, adopted, infl, att, ea, ep, n_p)
    expected = np.where(seats > 0, heard / np.maximum(seats, 1.0), support)
    expected_seats = seats.copy()
    got = support.copy()
    marked = np.zeros(n, dtype=bool)
    adoption.heard_support_into(got, heard, seats, att, ea, 0.8, marked)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(marked, expected_seats > 0)
    assert not heard.any() and not seats.any()
    assert np.any(got != support) and np.any(got == support)  # some attended, some did not
