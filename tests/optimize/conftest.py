"""Helpers for the optimizer tests: random problems and an independent cvxpy solve."""

from __future__ import annotations

import numpy as np
import pytest


def random_problem(rng: np.random.Generator, n: int, kind: str = "generic") -> dict:
    """A random annualized problem of ``n`` assets; ``kind`` selects a difficult case."""
    T = int(rng.integers(2, 3 * n + 10)) if kind != "pd" else 4 * n + 20
    X = rng.normal(size=(T, n)) * rng.uniform(0.005, 0.05, n)
    if n > 2 and kind in ("generic", "dup"):
        X[:, 1] = X[:, 0]
    if kind in ("generic", "stable"):
        X[:, -1] = 0.0
    S = np.cov(X.T, ddof=0).reshape(n, n) * 252
    S = 0.5 * (S + S.T)
    R = rng.normal(0.05, 0.2, n)
    C = float(rng.choice([0.0, 0.001, 0.01, 0.05])) * rng.uniform(0, 1, n)
    p = rng.dirichlet(np.ones(n)) * rng.uniform(0.8, 1.2)
    lam = float(rng.choice([0.0, 0.3, 2.0, 10.0, 1e3]))
    lo, hi = np.zeros(n), np.ones(n)
    return {"R": R, "Sigma": S, "C": C, "w_prev": p, "lam": lam, "lo": lo, "hi": hi}


@pytest.fixture(scope="session")
def cvx_solve():
    """Independent cvxpy model (built here, not with ``reference.py``), tight CLARABEL."""
    import cvxpy as cp

    def _solve(R, Sigma, C, w_prev, lam, lo, hi):
        n = len(R)
        ev, V = np.linalg.eigh(Sigma)
        F = V * np.sqrt(np.clip(ev, 0, None))
        w = cp.Variable(n)
        obj = R @ w - lam * cp.sum_squares(F.T @ w) - C @ cp.abs(w - w_prev)
        prob = cp.Problem(cp.Maximize(obj), [cp.sum(w) == 1, w >= lo, w <= hi])
        prob.solve(solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
        return np.asarray(w.value, dtype=float)

    return _solve
