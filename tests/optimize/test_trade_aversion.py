"""Trade aversion's convention (cvxportfolio's): gamma * C against per-period utility."""

from __future__ import annotations

import numpy as np


def test_trade_aversion_is_the_per_period_problem(cvx_solve) -> None:
    """Ours on annualized R, Sigma with gamma * ppy * C == cvxpy on per-period mu, cov, gamma * C."""
    rng = np.random.default_rng(5)
    X = rng.normal(0.001, 0.02, size=(30, 4))
    mu, cov = X.mean(0), np.cov(X.T)
    C, held, lam, gamma, ppy = (
        np.array([0.001, 0.001, 0.01, 0.0005]),
        np.full(4, 0.25),
        3.0,
        0.2,
        365,
    )
    from rwafolio.optimize import solve

    ours = solve(mu * ppy, cov * ppy, gamma * ppy * C, held, lam).weights
    ref = cvx_solve(mu, cov, gamma * C, held, lam, np.zeros(4), np.ones(4))
    np.testing.assert_allclose(ours, ref, atol=1e-6)
