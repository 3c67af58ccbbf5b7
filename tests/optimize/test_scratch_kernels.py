"""The solver's allocation-free hot path computes the bits its array expressions computed.

``solve_full_nb`` works in one scratch buffer per solve (:func:`polish_into`) and replaces numpy
array expressions by loops (``_gradient_into``, ``_max_abs``, ``_max_abs_2d``, ``_max``, ``_sum``),
each claimed to do the same floating-point operations in the same order. Each loop is checked here
against the expression it replaced, compiled by numba as it was before (the expression is the
independent reference: numba's own reduction), on random and edge-case arrays (negative zeros,
NaN, huge and tiny values); and :func:`polish_into` must not depend on what its scratch held
(the scratch is reused between calls), nor on ``w`` being ``x``; nor :func:`solve_into` on its
buffers, with ``out`` the warm start. The solver's outputs as a whole
are pinned by ``test_kernels_pinned.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from rwafolio.optimize._kernels import solve_full_nb, solve_into, solve_work_size
from rwafolio.optimize._polish_kernels import polish_into, polish_nb, polish_work_size
from rwafolio.optimize._prox_kernels import (
    _gradient_into,
    _matvec,
    _max,
    _max_abs,
    _max_abs_2d,
    _sum,
    prox_nb,
)

from .test_kernels_pinned import _problems


@njit(cache=True)
def _expressions(
    R: np.ndarray, Sigma: np.ndarray, w: np.ndarray, lam: float
) -> tuple[np.ndarray, float, float, float, float]:
    """The array expressions the loops replaced, as the solver wrote them before."""
    h = R - 2.0 * lam * _matvec(Sigma, w)
    return h, np.max(np.abs(R)), np.max(np.abs(Sigma)), np.max(R), w.sum()


@njit(cache=True)
def _loops(
    R: np.ndarray, Sigma: np.ndarray, w: np.ndarray, lam: float
) -> tuple[np.ndarray, float, float, float, float]:
    h = np.empty(R.shape[0])
    _gradient_into(R, Sigma, w, lam, h)
    return h, _max_abs(R), _max_abs_2d(Sigma), _max(R), _sum(w)


def _same(a: object, b: object) -> bool:
    return np.asarray(a, dtype=float).tobytes() == np.asarray(b, dtype=float).tobytes()


def _arrays(rng: np.random.Generator, n: int, case: str) -> tuple[np.ndarray, ...]:
    scale = {"plain": 1.0, "huge": 1e150, "tiny": 1e-160}.get(case, 1.0)
    R = rng.normal(0.0, 1.0, n) * scale
    Sigma = rng.normal(0.0, 1.0, (n, n)) * scale
    w = rng.normal(0.0, 1.0, n) * scale
    if case == "zeros":
        R[::2] = -0.0
        Sigma[:, ::2] = -0.0
        w[::3] = -0.0
    if case == "nan":
        R[rng.integers(n)] = np.nan
        Sigma[rng.integers(n), rng.integers(n)] = np.nan
    return R, Sigma, w


@pytest.mark.parametrize("case", ["plain", "huge", "tiny", "zeros", "nan"])
def test_loops_equal_the_expressions_they_replaced(case: str) -> None:
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 6, 9, 17, 50, 70):
        for lam in (0.0, 0.37, 2.0, 1e5):
            R, Sigma, w = _arrays(rng, n, case)
            got, want = _loops(R, Sigma, w, lam), _expressions(R, Sigma, w, lam)
            assert all(_same(a, b) for a, b in zip(got, want, strict=True)), (n, lam)


def test_the_sum_loop_is_left_to_right_unlike_numpy_pairwise() -> None:
    """The reference above is numba's ``sum`` (sequential), not numpy's (pairwise): they differ."""
    a = np.array([1.0] + [1e-16] * 8 + [1.0] + [1e-16] * 8)
    sequential = 0.0
    for v in a:
        sequential += v
    assert sequential == 2.0  # every 1e-16 is below half an ulp of the running total
    assert np.sum(a) != sequential  # numpy's eight partial sums keep them
    assert _sum(a) == sequential
    assert _expressions(a, np.eye(a.size), a, 0.0)[4] == sequential


@pytest.mark.parametrize("fill", [np.nan, 1e300, -7.0])
def test_polish_into_does_not_depend_on_its_scratch(fill: float) -> None:
    """``polish_into`` with stale scratch, and in place (``w`` is ``x``), gives ``polish_nb``'s bits."""
    for prob, _warm, rng in _problems(12):
        n = prob["R"].shape[0]
        x = np.empty(n)
        prox_nb(
            rng.normal(1.0 / n, 0.3, n),
            0.5,
            prob["C"],
            prob["w_prev"],
            prob["lo"],
            prob["hi"],
            0.0,
            x,
        )
        args = (
            prob["R"],
            prob["Sigma"],
            prob["C"],
            prob["w_prev"],
            prob["lam"],
            prob["lo"],
            prob["hi"],
        )
        w_ref, ok_ref, steps_ref, res_ref = polish_nb(x, *args, 1e-10, 30)
        work = np.full(polish_work_size(n) + 3, fill)
        w = x.copy()
        ok, steps, res = polish_into(w, *args, 1e-10, 30, w, work)
        assert _same(w, w_ref) and (ok, steps) == (ok_ref, steps_ref) and _same(res, res_ref)


@pytest.mark.parametrize("fill", [np.nan, -7.0])
def test_solve_into_gives_solve_full_nb_bits_with_stale_buffers(fill: float) -> None:
    """``solve_into`` with reused scratch and ``out`` = the warm start, as a hot loop would call it."""
    for prob, warm, _rng in _problems(11):
        n = prob["R"].shape[0]
        args = (prob["R"], prob["Sigma"], prob["C"], prob["w_prev"], prob["lam"])
        for max_iter in (20000, 3, 0):
            w_ref, *rest_ref = solve_full_nb(*args, prob["lo"], prob["hi"], warm, 1e-10, max_iter)
            work = np.full(solve_work_size(n) + 5, fill)
            out = warm.copy()
            rest = solve_into(*args, prob["lo"], prob["hi"], out, 1e-10, max_iter, out, work)
            assert _same(out, w_ref) and tuple(rest) == tuple(rest_ref), (n, max_iter)
