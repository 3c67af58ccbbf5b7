"""The solver's exact no-trade certificate, against cvxpy and the KKT residual.

Problems are built around a feasible held book ``p`` (assets at ``lo``, at ``hi``, frozen and free)
with the gradient ``g = R - 2 lam Sigma p`` placed inside every asset's multiplier interval by a
margin (held is optimal) or one asset's interval pushed out by a margin (held is not optimal), so
the two cases are never decided by rounding. The independent verdict is cvxpy's optimal value
against ``U(p)``.
"""

from __future__ import annotations

import numpy as np
import pytest

from rwafolio.optimize import kkt_residual, objective, solve_nb
from rwafolio.optimize._kernels import held_optimal_nb, solve_full_nb
from rwafolio.optimize._twins import held_optimal_py

MARGIN = 0.05


def _held_problem(rng: np.random.Generator, optimal: bool) -> dict:
    """A problem whose feasible ``w_prev`` is (or is not) optimal by a margin."""
    n = int(rng.integers(2, 9))
    F = rng.normal(size=(n, int(rng.integers(1, n + 2)))) * rng.uniform(0.05, 0.5, n)[:, None]
    Sigma = F @ F.T
    lam = float(rng.choice([0.0, 0.5, 2.0, 10.0, 100.0]))
    C = rng.uniform(0.005, 0.05, n)
    p = rng.dirichlet(np.ones(n))
    zero = rng.random(n) < 0.3
    zero[int(rng.integers(n))] = False
    p[zero] = 0.0
    p /= p.sum()
    lo = np.zeros(n)
    hi = np.ones(n)
    state = np.where(p == 0.0, 0, 2)  # 0 at lo, 1 at hi, 2 free, 3 frozen
    for i in np.flatnonzero(p > 0.0):
        u = rng.random()
        if u < 0.25:
            hi[i], state[i] = p[i], 1
        elif u < 0.4:
            lo[i], hi[i], state[i] = p[i], p[i], 3
    nu = rng.normal(0.05, 0.1)
    g = np.empty(n)
    for i in range(n):
        if state[i] == 0:  # at lo (may only buy): nu >= g_i - C_i
            g[i] = nu + C[i] - MARGIN - rng.exponential(0.05)
        elif state[i] == 1:  # at hi (may only sell): nu <= g_i + C_i
            g[i] = nu - C[i] + MARGIN + rng.exponential(0.05)
        elif state[i] == 2:  # free: |g_i - nu| <= C_i, strictly inside
            g[i] = nu + rng.uniform(-0.8, 0.8) * C[i]
        else:
            g[i] = rng.normal(0.0, 1.0)
    if not optimal and not _break(g, C, state, rng):
        return _held_problem(rng, optimal)
    R = g + 2.0 * lam * (Sigma @ p)
    return {"R": R, "Sigma": Sigma, "C": C, "w_prev": p, "lam": lam, "lo": lo, "hi": hi}


def _break(g: np.ndarray, C: np.ndarray, state: np.ndarray, rng: np.random.Generator) -> bool:
    """Push one asset's multiplier interval clear of the others' (False: none can move)."""
    can_up = state % 2 == 0  # may buy (below hi): contributes g - C to the lower end
    can_down = state >= 1  # may sell (above lo): contributes g + C to the upper end
    can_down &= state != 3
    for j in rng.permutation(len(g)):
        up_other = np.flatnonzero(can_down & (np.arange(len(g)) != j))
        down_other = np.flatnonzero(can_up & (np.arange(len(g)) != j))
        if can_up[j] and up_other.size:
            g[j] = (g[up_other] + C[up_other]).min() + C[j] + MARGIN
            return True
        if can_down[j] and down_other.size:
            g[j] = (g[down_other] - C[down_other]).max() - C[j] - MARGIN
            return True
    return False


def _cases(seed: int, count: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    for k in range(count):
        optimal = k % 2 == 0
        yield optimal, _held_problem(rng, optimal)


def _args(prob: dict) -> tuple:
    return (prob["R"], prob["Sigma"], prob["C"], prob["w_prev"], prob["lam"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_certificate_agrees_with_cvxpy_and_the_kkt_residual(seed: int, cvx_solve) -> None:
    for optimal, prob in _cases(seed, 40):
        args = _args(prob)
        lo, hi, p = prob["lo"], prob["hi"], prob["w_prev"]
        cert = held_optimal_nb(*args, lo, hi, 1e-10)
        assert cert == held_optimal_py(*args, lo, hi, 1e-10)
        assert cert == optimal
        best = objective(cvx_solve(*args, lo, hi), *args)
        held = objective(p, *args)
        # objective is U (maximized): held is optimal iff cvxpy cannot beat it.
        if optimal:
            assert best - held <= 1e-8
            assert kkt_residual(p, *args, lo, hi, active_tol=0.0) <= 1e-12
        else:
            assert best - held > 1e-7
            assert kkt_residual(p, *args, lo, hi, active_tol=0.0) > 1e-3


@pytest.mark.parametrize("seed", [4, 5])
def test_solver_returns_held_exactly_when_certified_and_the_same_optimum_otherwise(
    seed: int, cvx_solve
) -> None:
    for optimal, prob in _cases(seed, 30):
        args = _args(prob)
        lo, hi, p = prob["lo"], prob["hi"], prob["w_prev"]
        warm = np.full(len(p), 1.0 / len(p))
        w, iters, status = solve_nb(*args, lo, hi, warm, 1e-10, 20000)
        assert status == 0
        if optimal:
            assert iters == 0
            assert np.array_equal(w, p)
            assert w is not p
            continue
        assert iters > 0
        # Where the certificate fails the solver runs as before: the same optimum as cvxpy, to
        # solver tolerance (the point itself when the problem is strictly convex).
        best = cvx_solve(*args, lo, hi)
        assert abs(objective(best, *args) - objective(w, *args)) <= 1e-8
        assert kkt_residual(w, *args, lo, hi, active_tol=0.0) <= 1e-9
        if prob["lam"] > 0 and np.linalg.eigvalsh(prob["Sigma"])[0] > 1e-6:
            np.testing.assert_allclose(w, best, atol=1e-5)


def test_certificate_needs_a_feasible_held_book() -> None:
    rng = np.random.default_rng(6)
    prob = _held_problem(rng, optimal=True)
    args = _args(prob)
    lo, hi, p = prob["lo"], prob["hi"], prob["w_prev"]
    assert held_optimal_nb(*args, lo, hi, 1e-10)
    # A cash guard of 1e-12 taken from a free asset is within the budget tolerance; 1e-6 is not,
    # and the solver then returns a fully invested portfolio.
    j = int(np.flatnonzero((p > lo + 1e-3) & (p < hi - 1e-3))[0])
    guarded = p.copy()
    guarded[j] -= 1e-12
    assert held_optimal_nb(args[0], args[1], args[2], guarded, args[4], lo, hi, 1e-10)
    short = p.copy()
    short[j] -= 1e-6
    assert not held_optimal_nb(args[0], args[1], args[2], short, args[4], lo, hi, 1e-10)
    w, iters, _res, _st = solve_full_nb(
        args[0], args[1], args[2], short, args[4], lo, hi, short, 1e-10, 20000
    )
    assert iters > 0
    assert abs(w.sum() - 1.0) <= 1e-10
    # Out of the box (below lo) is never certified.
    bad_lo = lo.copy()
    bad_lo[np.argmax(p)] = p.max() + 1e-3
    assert not held_optimal_nb(*args, bad_lo, np.maximum(hi, bad_lo), 1e-10)
