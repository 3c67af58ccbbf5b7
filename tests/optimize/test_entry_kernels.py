"""One compiled call per solve (issue 11, item 9): the fused entry kernels give, bit for bit, what
the separate calls they replace gave (check, then solve, then the numpy objective)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.optimize import solve, solve_arrays
from rwafolio.optimize._checks import OK, PSD_TOL, check_problem_nb
from rwafolio.optimize._entry_kernels import check_solve_nb, objective_nb, solve_objective_nb
from rwafolio.optimize._kernels import solve_full_nb
from rwafolio.optimize.model import objective, validate_problem
from rwafolio.optimize.solver import _default_bounds
from tests.optimize.conftest import random_problem

KINDS = ["generic", "pd", "dup", "stable"]


def _problems(seed: int, count: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    for i in range(count):
        n = int(rng.choice([1, 2, 3, 5, 10, 23, 50]))
        p = random_problem(rng, n, KINDS[i % len(KINDS)])
        p["C"] = np.asarray(p["C"] * np.ones(n))
        yield p, rng.dirichlet(np.ones(n))


def test_objective_nb_is_the_numpy_products() -> None:
    """Reference: the objective written as numpy's matrix products (the kernel loops; the
    products sum in another order, so they agree to rounding)."""
    for p, w in _problems(0, 300):
        R, Sigma, C, w_prev, lam = p["R"], p["Sigma"], p["C"], p["w_prev"], p["lam"]
        want = w @ R - lam * (w @ Sigma @ w) - C @ np.abs(w - w_prev)
        scale = abs(w @ R) + lam * abs(w) @ np.abs(Sigma) @ abs(w) + C @ np.abs(w - w_prev)
        got = objective_nb(w, R, Sigma, C, w_prev, lam)
        assert abs(got - want) <= 1e-14 * max(scale, 1e-300), (got, want)
        assert objective(w, R, Sigma, C, w_prev, lam) == got  # model.objective calls the kernel


@pytest.mark.parametrize("warm", [False, True])
def test_public_solve_is_the_three_calls_it_replaced(warm: bool) -> None:
    """Reference: validate_problem (the descriptive path's arrays), solve_full_nb and the numpy
    objective, called separately as solve() did before."""
    for p, w0 in _problems(1, 200):
        prob = validate_problem(p["R"], p["Sigma"], p["C"], p["w_prev"], p["lam"])
        start = w0 if warm else prob.w_prev
        w, iters, status, res = solve_full_nb(
            prob.R, prob.Sigma, prob.C, prob.w_prev, prob.lam, prob.lo, prob.hi, start, 1e-10,
            20_000,
        )  # fmt: skip
        sol = solve(p["R"], p["Sigma"], p["C"], p["w_prev"], p["lam"],
                    warm_start=w0 if warm else None)  # fmt: skip
        assert status == 0 and sol.solver == "fast" and sol.status == "optimal"
        np.testing.assert_array_equal(sol.weights, w)
        assert (sol.iterations, sol.kkt_residual) == (iters, res)
        assert sol.objective == objective(w, prob.R, prob.Sigma, prob.C, prob.w_prev, prob.lam)


def test_lean_path_is_the_kernel_and_the_objective() -> None:
    for p, _ in _problems(2, 100):
        n = p["R"].shape[0]
        lo, hi = np.zeros(n), np.ones(n)
        args = (p["R"], p["Sigma"], p["C"], p["w_prev"], p["lam"], lo, hi)
        w, iters, _status, res = solve_full_nb(*args, p["w_prev"], 1e-10, 20_000)
        sol = solve_arrays(*args)
        np.testing.assert_array_equal(sol.weights, w)
        assert (sol.iterations, sol.kkt_residual) == (iters, res)
        assert sol.objective == objective(w, *args[:5])
        fused = solve_objective_nb(*args, p["w_prev"], 1e-10, 20_000)
        np.testing.assert_array_equal(fused[0], w)


BAD = [
    ({"R": np.array([0.1, np.nan])}, DataError, "`R`"),
    ({"Sigma": np.array([[1.0, 0.5], [0.0, 1.0]])}, DataError, "`Sigma` must be symmetric"),
    ({"Sigma": np.array([[-1.0, 0.0], [0.0, 1.0]])}, DataError, "`Sigma`"),
    ({"Sigma": np.array([[1.0, 2.0], [2.0, 1.0]])}, DataError, "positive semi-definite"),
    ({"Sigma": np.eye(3)}, DataError, r"`Sigma` must have shape \(2, 2\)"),
    ({"costs": np.array([-0.1, 0.0])}, ConfigError, "`costs`"),
    ({"w_prev": np.array([0.5, np.nan])}, DataError, "`w_prev`"),
    ({"lam": -1.0}, ConfigError, "`lam`"),
    ({"lo": np.array([0.6, 0.6])}, ConfigError, "`lo`"),
    ({"hi": np.array([0.4, 0.4])}, ConfigError, "`hi`"),
    ({"lo": np.array([0.5, 0.0]), "hi": np.array([0.4, 1.0])}, ConfigError, "`lo` must be <="),
    ({"costs": np.array([0.1, 0.0, 0.0])}, ConfigError, "`costs` must have length 2"),
    ({"warm_start": np.array([0.5, np.nan])}, DataError, "`warm_start`"),
]


@pytest.mark.parametrize("change, err, match", BAD)
def test_fused_check_finds_what_check_problem_finds(change: dict, err: type, match: str) -> None:
    base = {
        "R": np.array([0.1, 0.2]),
        "Sigma": np.array([[0.04, 0.01], [0.01, 0.09]]),
        "costs": np.array([0.001, 0.002]),
        "w_prev": np.array([0.5, 0.5]),
        "lam": 2.0,
        "lo": np.zeros(2),
        "hi": np.ones(2),
        "warm_start": np.empty(0),
    }
    p = {**base, **change}
    order = ("R", "Sigma", "costs", "w_prev", "lam", "lo", "hi", "warm_start")
    args = [p[k] for k in order]
    n = p["Sigma"].shape[0]
    expected = check_problem_nb(*args, 1e-10, PSD_TOL, np.empty((n, n)))
    code = check_solve_nb(*args[:8], 1e-10, 20_000, 1e-10, PSD_TOL)[0]
    assert code == expected != OK
    warm = None if p["warm_start"].shape[0] == 0 else p["warm_start"]
    with pytest.raises(err, match=match):  # and the public solve names the argument
        solve(*args[:5], lo=p["lo"], hi=p["hi"], warm_start=warm)


def test_a_fallback_from_the_fused_path_is_the_lean_paths_fallback() -> None:
    """max_iter = 0 makes the fast solver stop: both paths then answer with the reference."""
    R, S = np.array([0.1, 0.2, 0.05]), np.diag([0.04, 0.09, 0.01])
    C, p = np.full(3, 0.001), np.full(3, 1 / 3)
    public = solve(R, S, C, p, 2.0, max_iter=0)
    lean = solve_arrays(R, S, C, p, 2.0, np.zeros(3), np.ones(3), max_iter=0)
    assert public.solver == lean.solver == "reference"
    assert public.fallback_reason == lean.fallback_reason != ""
    # the cached cvxpy problem warm-starts from its previous solve: equal to its tolerance
    np.testing.assert_allclose(public.weights, lean.weights, rtol=0, atol=1e-12)


def test_default_bounds_are_shared_but_never_changed() -> None:
    for p, _ in _problems(3, 50):
        solve(p["R"], p["Sigma"], p["C"], p["w_prev"], p["lam"], max_iter=int(p["lam"] > 0))
    for n in (1, 2, 3, 5, 10, 23, 50):
        lo, hi = _default_bounds(n)
        assert np.array_equal(lo, np.zeros(n)) and np.array_equal(hi, np.ones(n))


def _as(kind: str, x: np.ndarray, labels: list[str]) -> object:
    if kind == "pandas":
        return pd.Series(x, index=labels) if x.ndim == 1 else pd.DataFrame(x, labels, labels)
    if kind == "list":
        return x.tolist()
    if kind == "readonly":
        y = x.copy()
        y.flags.writeable = False
        return y
    if kind == "fortran":
        return np.asfortranarray(x) if x.ndim == 2 else x[::-1].copy()[::-1]  # strided view
    return x


@pytest.mark.parametrize("kind", ["pandas", "list", "readonly", "fortran"])
def test_converted_inputs_take_the_fused_path_with_the_same_answer(kind: str) -> None:
    """Pandas objects, lists, read-only and strided arrays are copied to plain arrays and
    solved like them (same bits), labels kept for pandas; reference: the plain-array call."""
    for p, w0 in _problems(4, 60):
        n = p["R"].shape[0]
        labels = [f"S{i}" for i in range(n)]
        args = [p["R"], p["Sigma"], p["C"], p["w_prev"]]
        ref = solve(*args, p["lam"], lo=np.zeros(n), hi=np.ones(n), warm_start=w0)
        conv = [_as(kind, a, labels) for a in (*args, np.zeros(n), np.ones(n), w0)]
        sol = solve(*conv[:4], p["lam"], lo=conv[4], hi=conv[5], warm_start=conv[6])
        got = sol.weights.to_numpy() if kind == "pandas" else sol.weights
        np.testing.assert_array_equal(got, ref.weights)
        assert (sol.objective, sol.iterations, sol.solver) == (
            ref.objective,
            ref.iterations,
            ref.solver,
        )
        if kind == "pandas":
            assert list(sol.weights.index) == labels


def test_scalar_costs_and_bounds_are_spread_like_validate_problem() -> None:
    R, S, p = np.array([0.1, 0.2, 0.05]), np.diag([0.04, 0.09, 0.01]), np.full(3, 1 / 3)
    a = solve(R, S, 0.002, p, 2.0, lo=0.1, hi=0.8)
    b = solve(R, S, np.full(3, 0.002), p, 2.0, lo=np.full(3, 0.1), hi=np.full(3, 0.8))
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.objective == b.objective


def test_an_empty_warm_start_is_refused_not_read_as_none() -> None:
    R, S, p = np.array([0.1, 0.2]), np.diag([0.04, 0.09]), np.full(2, 0.5)
    with pytest.raises(DataError, match="`warm_start`"):
        solve(R, S, np.zeros(2), p, 2.0, warm_start=np.empty(0))
