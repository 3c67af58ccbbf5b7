"""One compiled call per solve: what makes :func:`~rwafolio.optimize.solve` and
:func:`~rwafolio.optimize.solve_arrays` cost what the kernel costs.

Calling a numba function from Python costs about a microsecond (typing each argument, boxing
the results), as much as a warm-started solve at n = 10. The entry points therefore make ONE
compiled call each:

* :func:`solve_objective_nb` (lean path): :func:`~rwafolio.optimize._kernels.solve_full_nb`, then
  the objective at the answer;
* :func:`check_solve_nb` (public path on plain float64 arrays): every check of
  :func:`~rwafolio.optimize._checks.check_problem_nb` (shape, finiteness, symmetry, variances,
  costs, bounds, feasibility, positive semi-definiteness), then the same solve and objective on
  the symmetrized Sigma. When a check fails it returns the failing code and solves nothing; the
  descriptive numpy checks of :func:`~rwafolio.optimize.model.validate_problem` then raise the
  typed error naming the argument.

Neither adds arithmetic: the solve is ``solve_full_nb`` itself, and :func:`objective_nb` is
the one objective (:func:`rwafolio.optimize.model.objective` calls it), so the numbers are those
of the separate calls (``tests/optimize/test_entry_kernels.py`` holds them equal bit for bit).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rwafolio.optimize._checks import OK, check_problem_nb
from rwafolio.optimize._kernels import solve_full_nb

__all__ = ["check_solve_nb", "objective_nb", "solve_objective_nb"]

#: The one signature of :func:`check_solve_nb`: float64 C-contiguous arrays (other types are
#: refused with a TypeError, and the caller takes its converting path).
_SIGNATURE = (
    "(float64[::1], float64[:, ::1], float64[::1], float64[::1], float64, float64[::1], "
    "float64[::1], float64[::1], float64, int64, float64, float64)"
)


@njit(cache=True)
def objective_nb(
    w: np.ndarray, R: np.ndarray, Sigma: np.ndarray, C: np.ndarray, w_prev: np.ndarray, lam: float
) -> float:
    """``U(w) = w'R - lam w'Sigma w - sum C |w - w_prev|`` in one loop (the one implementation:
    :func:`rwafolio.optimize.model.objective` calls it). Three BLAS products cost ~0.4 us at
    n = 6, the loop ~20 ns; ``tests/optimize/test_entry_kernels.py`` holds it to the numpy
    products."""
    n = w.shape[0]
    lin = 0.0
    quad = 0.0
    cost = 0.0
    for i in range(n):
        lin += w[i] * R[i]
        acc = 0.0
        for j in range(n):
            acc += Sigma[i, j] * w[j]
        quad += w[i] * acc
        cost += C[i] * abs(w[i] - w_prev[i])
    return lin - lam * quad - cost


@njit(cache=True)
def solve_objective_nb(
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    w_prev: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    w0: np.ndarray,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, int, int, float, float]:
    """``(w, iterations, status, residual, objective)``: :func:`solve_full_nb` (same arguments)
    and :func:`objective_nb` at its answer."""
    w, iters, status, res = solve_full_nb(R, Sigma, C, w_prev, lam, lo, hi, w0, tol, max_iter)
    return w, iters, status, res, objective_nb(w, R, Sigma, C, w_prev, lam)


@njit(_SIGNATURE, cache=True)
def check_solve_nb(
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    w_prev: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    warm: np.ndarray,
    tol: float,
    max_iter: int,
    sym_tol: float,
    psd_tol: float,
) -> tuple[int, np.ndarray, int, int, float, float, np.ndarray]:
    """Check one problem, then solve it: ``(code, w, iterations, status, residual, objective,
    Sigma_sym)``.

    ``warm`` is the warm start of shape (n,), or of shape (0,) for ``w_prev``. ``code`` is that
    of :func:`check_problem_nb` (0: valid); when it is not 0, nothing is solved and ``w`` is
    empty. ``Sigma_sym = 0.5 (Sigma + Sigma')`` is what was solved (the fallback needs it).
    """
    S = np.empty((Sigma.shape[0], Sigma.shape[0]))
    code = check_problem_nb(R, Sigma, C, w_prev, lam, lo, hi, warm, sym_tol, psd_tol, S)
    if code != OK:
        return code, np.empty(0), 0, 0, 0.0, 0.0, S
    w0 = w_prev if warm.shape[0] == 0 else warm
    w, iters, status, res = solve_full_nb(R, S, C, w_prev, lam, lo, hi, w0, tol, max_iter)
    return OK, w, iters, status, res, objective_nb(w, R, S, C, w_prev, lam), S
