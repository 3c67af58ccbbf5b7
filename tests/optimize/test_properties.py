"""Property tests: random hard problems solved by ``solve`` against an independent cvxpy model."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rwafolio.optimize import kkt_residual, objective, solve

KINDS = ["generic", "dup", "stable", "pd"]


@st.composite
def problems(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, 60))
    kind = draw(st.sampled_from(KINDS))
    rng = np.random.default_rng(seed)
    from tests.optimize.conftest import random_problem

    prob = random_problem(rng, n, kind)
    case = draw(
        st.sampled_from(
            ["plain", "lam0", "huge", "nocost", "prohibitive", "frozen", "caps", "offbudget"]
        )
    )
    if case == "lam0":
        prob["lam"] = 0.0
    elif case == "huge":
        prob["lam"] = 1e5
    elif case == "nocost":
        prob["C"] = np.zeros(n)
    elif case == "prohibitive":
        prob["C"] = np.full(n, 50.0)
    elif case == "frozen" and n > 1:
        k = draw(st.integers(1, n - 1))
        frozen = rng.choice(n, k, replace=False)
        val = np.clip(prob["w_prev"][frozen], 0, 1.0 / n)
        prob["lo"][frozen] = prob["hi"][frozen] = val
    elif case == "caps":
        prob["hi"] = np.full(n, min(1.0, max(1.3 / n, 0.2)))
        prob["lo"] = np.full(n, 0.1 / n)
    elif case == "offbudget":
        prob["w_prev"] = rng.uniform(-0.3, 1.5, n)
    return prob


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(problems())
def test_random_problems_match_cvxpy(cvx_solve, prob):
    R, S, C, p, lam, lo, hi = (prob[k] for k in ("R", "Sigma", "C", "w_prev", "lam", "lo", "hi"))
    sol = solve(R, S, C, p, lam, lo=lo, hi=hi)
    w = sol.weights
    assert sol.solver == "fast", sol.fallback_reason
    assert abs(w.sum() - 1.0) <= 1e-10
    assert np.all(w >= lo - 1e-10) and np.all(w <= hi + 1e-10)
    assert kkt_residual(w, R, S, C, p, lam, lo, hi, active_tol=0.0) <= 1e-8
    wr = cvx_solve(R, S, C, p, lam, lo, hi)
    u, ur = objective(w, R, S, C, p, lam), objective(wr, R, S, C, p, lam)
    assert u >= ur - 1e-9 * (1 + abs(u))


def test_prohibitive_costs_on_a_singular_covariance(cvx_solve) -> None:  # type: ignore[no-untyped-def]
    """Found by the property test: prohibitive costs, a large lam and a zero-variance asset make
    the active set's step tiny against a large gradient; the least-squares end of the polish
    needs one step of iterative refinement to meet the tolerance (before: 20,402 iterations,
    status max_iter, handed to cvxpy). Reference: the closed form of the two-asset optimum (sell
    the risky asset until its marginal risk pays both costs net of the other's return) and cvxpy."""
    R = np.array([-0.35462161, 0.38089747])
    S = np.array([[0.32487873, 0.0], [0.0, 0.0]])
    C = np.array([50.0, 50.0])
    p = np.array([0.91468283, 0.08387231])  # off budget: it must trade
    lam = 1000.0
    lo, hi = np.zeros(2), np.ones(2)
    sol = solve(R, S, C, p, lam, lo=lo, hi=hi)
    assert sol.solver == "fast" and sol.status == "optimal", sol.fallback_reason
    w1 = (C[0] + C[1] - R[1] + R[0]) / (2.0 * lam * S[0, 0])
    np.testing.assert_allclose(sol.weights, [w1, 1.0 - w1], rtol=0, atol=1e-13)
    wr = cvx_solve(R, S, C, p, lam, lo, hi)
    assert objective(sol.weights, R, S, C, p, lam) >= objective(wr, R, S, C, p, lam) - 1e-9
