"""Closed forms, twins, validation, fallbacks and the KKT residual itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numba import njit

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.optimize import kkt_residual, objective, solve, solve_arrays, solve_nb
from rwafolio.optimize._kernels import kkt_residual_nb, lp_nb, prox_nb
from rwafolio.optimize._twins import lp_py, prox_py, solve_py
from rwafolio.optimize.model import FactorCovariance
from tests.optimize.conftest import random_problem


def _pd(n, rng):
    A = rng.normal(size=(n, n)) * 0.1
    return A @ A.T + 0.02 * np.eye(n)


def test_closed_form_budget_only():
    rng = np.random.default_rng(1)
    n = 6
    S, R, lam = _pd(n, rng), rng.normal(0.1, 0.02, n), 3.0
    Si = np.linalg.inv(S)
    one = np.ones(n)
    nu = (one @ Si @ R - 2 * lam) / (one @ Si @ one)  # from 1'w = 1
    w_star = Si @ (R - nu * one) / (2 * lam)
    sol = solve(R, S, 0.0, np.full(n, 1 / n), lam, lo=-10.0, hi=10.0)
    np.testing.assert_allclose(sol.weights, w_star, atol=1e-10)


def test_huge_lam_is_min_variance():
    rng = np.random.default_rng(2)
    n = 5
    S = _pd(n, rng)
    w_mv = np.linalg.solve(S, np.ones(n))
    w_mv /= w_mv.sum()
    sol = solve(rng.normal(0.1, 0.1, n), S, 0.0, np.full(n, 0.2), 1e9, lo=-5.0, hi=5.0)
    np.testing.assert_allclose(sol.weights, w_mv, atol=1e-7)


def test_prohibitive_costs_hold():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(8))
    sol = solve(rng.normal(0, 0.3, 8), _pd(8, rng), 10.0, p, 2.0)
    np.testing.assert_allclose(sol.weights, p, atol=1e-14)


@pytest.mark.parametrize("n", [200, 500])
def test_large_deterministic(n, cvx_solve):
    prob = random_problem(np.random.default_rng(n), n, "generic")
    prob["lam"], prob["C"] = 2.0, np.full(n, 0.002)
    args = [prob[k] for k in ("R", "Sigma", "C", "w_prev", "lam", "lo", "hi")]
    sol = solve(*args[:5], lo=args[5], hi=args[6])
    assert sol.solver == "fast" and sol.kkt_residual <= 1e-8
    wr = cvx_solve(*args)
    u, ur = objective(sol.weights, *args[:5]), objective(wr, *args[:5])
    assert u >= ur - 1e-9 * (1 + abs(u))


@pytest.mark.parametrize("seed", range(40))
def test_kernel_matches_numpy_twin(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 15))
    prob = random_problem(rng, n, "pd")
    if seed % 5 == 0:
        prob["lam"] = 0.0
        prob["R"] = prob["R"] + 1e-3 * np.arange(n)  # break LP ties: unique optimum
    args = [prob[k] for k in ("R", "Sigma", "C", "w_prev", "lam", "lo", "hi")]
    w1, _, s1 = solve_nb(*args, args[3].copy(), 1e-10, 20000)
    w2, _, s2 = solve_py(*args, args[3].copy(), 1e-10, 20000)
    assert s1 == 0 and s2 == 0
    np.testing.assert_allclose(w1, w2, atol=1e-8)


@pytest.mark.parametrize("seed", range(20))
def test_prox_and_lp_twins(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 12))
    v, C, p = rng.normal(0.2, 0.5, n), rng.uniform(0, 0.3, n), rng.uniform(-0.1, 0.6, n)
    lo, hi = np.zeros(n), np.full(n, max(1.0, 2.0 / n))
    out = np.empty(n)
    prox_nb(v, 0.7, C, p, lo, hi, 0.0, out)
    w2, _ = prox_py(v, 0.7, C, p, lo, hi)
    np.testing.assert_allclose(out, w2, atol=1e-12)
    assert abs(out.sum() - 1) < 1e-13
    np.testing.assert_allclose(lp_nb(v, C, p, lo, hi), lp_py(v, C, p, lo, hi), atol=1e-14)


def test_kkt_residual_kernel_twin_and_meaning(cvx_solve):
    rng = np.random.default_rng(7)
    prob = random_problem(rng, 12, "pd")
    prob["C"] = np.full(12, 0.01)
    args = [prob[k] for k in ("R", "Sigma", "C", "w_prev", "lam", "lo", "hi")]
    wr = cvx_solve(*args)
    assert kkt_residual(wr, *args, active_tol=1e-7) <= 1e-6  # ~0 at cvxpy's optimum
    w_bad = 0.9 * wr + 0.1 * np.full(12, 1 / 12)
    assert kkt_residual(w_bad, *args) > 1e-3
    for w in (wr, w_bad, rng.uniform(-0.1, 0.3, 12)):
        assert (
            abs(kkt_residual(w, *args, active_tol=1e-9) - kkt_residual_nb(w, *args, 1e-9)) < 1e-12
        )


def test_fallback_recorded_and_labels_kept():
    idx = pd.Index(["BTC", "ETH", "USDC"])
    R = pd.Series([0.3, 0.2, 0.04], index=idx)
    S = pd.DataFrame(np.diag([0.4, 0.5, 0.0]) ** 2, index=idx, columns=idx)
    sol = solve(R, S, 0.001, np.array([0.3, 0.3, 0.3]), 2.0, max_iter=0)
    assert sol.solver == "reference" and "max_iter" in sol.fallback_reason
    assert list(sol.weights.index) == list(idx)
    fast = solve(R, S, 0.001, np.array([0.3, 0.3, 0.3]), 2.0)
    assert fast.solver == "fast" and fast.fallback_reason == ""
    np.testing.assert_allclose(sol.weights, fast.weights, atol=1e-8)


def test_factor_form_matches_dense():
    rng = np.random.default_rng(5)
    B, F, d = rng.normal(size=(20, 3)) * 0.1, np.eye(3), rng.uniform(0, 0.01, 20)
    fc = FactorCovariance(B, F, d)
    R, p = rng.normal(0.1, 0.1, 20), np.full(20, 0.05)
    a = solve(R, fc, 0.002, p, 2.0).weights
    b = solve(R, fc.dense(), 0.002, p, 2.0).weights
    np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "err", "name"),
    [
        ({"R": [0.1, np.nan]}, DataError, "`R`"),
        ({"Sigma": np.ones((2, 3))}, DataError, "`Sigma`"),
        ({"Sigma": np.array([[1.0, 0.5], [0.0, 1.0]])}, DataError, "`Sigma`"),
        ({"costs": [-0.1, 0.0]}, ConfigError, "`costs`"),
        ({"lam": -1.0}, ConfigError, "`lam`"),
        ({"lo": [0.6, 0.6]}, ConfigError, "`lo`"),
        ({"hi": [0.4, 0.4]}, ConfigError, "`hi`"),
        ({"lo": [0.5, 0.0], "hi": [0.4, 1.0]}, ConfigError, "`lo`"),
        ({"w_prev": [0.5]}, DataError, "`w_prev`"),
    ],
)
def test_validation_names_parameter(kwargs, err, name):
    args = {"R": [0.1, 0.2], "Sigma": np.eye(2), "costs": 0.0, "w_prev": [0.5, 0.5], "lam": 1.0}
    args.update(kwargs)
    lo, hi = args.pop("lo", None), args.pop("hi", None)
    with pytest.raises(err, match=name):
        solve(**args, lo=lo, hi=hi)


@njit(cache=False)
def _numba_caller(R, S, C, p, lo, hi):
    w, _it, st = solve_nb(R, S, C, p, 2.0, lo, hi, p, 1e-10, 1000)
    return w.sum(), st


def test_solve_nb_callable_from_numba():
    caller = _numba_caller
    n = 4
    total, status = caller(
        np.full(n, 0.1), np.eye(n) * 0.04, np.zeros(n), np.full(n, 0.25), np.zeros(n), np.ones(n)
    )
    assert status == 0 and abs(total - 1) < 1e-12


def test_solve_arrays_warm_start_hold_free_case():
    n = 3
    R, S, C = np.array([0.1, 0.2, 0.3]), np.eye(n) * 0.1, np.zeros(n)
    p, lo, hi = np.array([0.0, 0.0, 1.5]), np.zeros(n), np.ones(n)  # w_prev out of bounds
    sol = solve_arrays(R, S, C, p, 1.0, lo, hi, warm_start=np.full(n, 1 / 3))
    assert sol.ok and abs(sol.weights.sum() - 1) < 1e-12 and sol.weights.max() <= 1.0
