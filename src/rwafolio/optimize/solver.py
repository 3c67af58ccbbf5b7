"""The public entry point of the optimizer: :func:`solve` (validating) and :func:`solve_arrays` (lean).

Both solve, at one date::

    maximize  U(w) = w'R - lam * w'Sigma w - sum_i C_i |w_i - w_prev_i|
    s.t.      sum_i w_i = 1,  lo_i <= w_i <= hi_i

with R and Sigma annualized by default and C a one-off cost fraction (see ``model``); ``lam``
multiplies ``w'Sigma w`` with no 1/2.

Fallback chain (never raises for numerical trouble): the fast exact solver
(``_kernels.solve_full_nb``); if it does not report ``optimal`` (KKT residual <= tol), the cvxpy
reference (``reference.ReferenceSolver``, CLARABEL -> OSQP -> SCS); if every reference solver fails,
"hold": ``w_prev`` projected onto the feasible set.  The returned ``Solution`` records ``solver`` and
``fallback_reason``.

Cost: each entry makes one compiled call (:mod:`rwafolio.optimize._entry_kernels`): the lean
``solve_arrays`` solves and prices the answer; ``solve`` on plain float64 arrays checks (shape,
finiteness, symmetry, variances, costs, bounds, feasibility, positive semi-definiteness),
solves and prices in that one call. Any other input (pandas, lists, other dtypes) and any input a
check refuses goes through ``validate_problem``, which converts and names the argument.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError, OptimizationError
from rwafolio.optimize._checks import OK, PSD_TOL
from rwafolio.optimize._entry_kernels import check_solve_nb, solve_objective_nb
from rwafolio.optimize._kernels import kkt_residual_nb, polish_nb
from rwafolio.optimize.model import (
    FactorCovariance,
    kkt_residual,
    objective,
    project_feasible,
    validate_problem,
)
from rwafolio.optimize.solution import Solution, SolveStatus

__all__ = ["DEFAULT_MAX_ITER", "Method", "solve", "solve_arrays"]

Method = Literal["fast", "reference"]
DEFAULT_MAX_ITER = 20_000
_STATUS: dict[int, SolveStatus] = {0: "optimal", 1: "max_iter", 2: "failed"}


def _reference(
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    w_prev: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    tol: float,
    factor: np.ndarray | None,
) -> tuple[np.ndarray, SolveStatus, int, float]:
    from rwafolio.optimize.reference import get_reference_solver

    ref = get_reference_solver(R.shape[0]).solve(R, Sigma, C, w_prev, lam, lo, hi, factor=factor)
    w = np.clip(ref.weights, lo, hi)
    if abs(w.sum() - 1.0) > 1e-14:
        w = project_feasible(w, lo, hi)
    # Snap to kinks and bounds and try the exact active-set polish on the reference's pattern.
    snap = np.where(np.abs(w - w_prev) <= 1e-8, w_prev, w)
    snap = np.where(snap <= lo + 1e-8, lo, np.where(snap >= hi - 1e-8, hi, snap))
    snap = project_feasible(snap, lo, hi) if abs(snap.sum() - 1.0) > 1e-14 else snap
    wp, ok, _, _ = polish_nb(snap, R, Sigma, C, w_prev, lam, lo, hi, tol, 10)
    if ok:
        w = wp
    res = kkt_residual(w, R, Sigma, C, w_prev, lam, lo, hi, active_tol=1e-9)
    status: SolveStatus = "optimal" if res <= max(tol, 1e-7) else "optimal_inaccurate"
    return w, status, ref.iterations, res


def solve_arrays(
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    w_prev: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    warm_start: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = DEFAULT_MAX_ITER,
    method: Method = "fast",
    factor: np.ndarray | None = None,
) -> Solution:
    """Lean entry point for hot loops: NO validation, plain arrays in, ``Solution`` out.

    Parameters
    ----------
    R, C, w_prev, lo, hi : ndarray of shape (n_assets,), float64, C-contiguous
        As in :func:`solve`; the caller guarantees validity (e.g. via ``validate_problem``).
    Sigma : ndarray of shape (n_assets, n_assets), float64, C-contiguous, symmetric PSD
    lam : float
    warm_start : ndarray of shape (n_assets,) or None
        Previous solution (default: ``w_prev``).
    tol : float
        Accepted KKT residual (absolute, units of R; floored at rounding level).
    max_iter : int
        Proximal-gradient iteration cap of the fast solver.
    method : {"fast", "reference"}
    factor : ndarray of shape (n_assets, k) or None
        Optional square-root factor of Sigma for the reference solver.

    Returns
    -------
    Solution
        ``weights`` is an ndarray of shape (n_assets,).
    """
    if method != "fast":
        return _fallback(R, Sigma, C, w_prev, lam, lo, hi, tol, factor, "")
    w0 = w_prev if warm_start is None else warm_start
    w, iters, code, res, obj = solve_objective_nb(
        R, Sigma, C, w_prev, lam, lo, hi, w0, tol, max_iter
    )
    if code == 0:
        return Solution(w, obj, res, iters, "optimal", "fast")
    return _fallback(R, Sigma, C, w_prev, lam, lo, hi, tol, factor, _why(code, iters, res))


def _why(code: int, iters: int, res: float) -> str:
    """The fallback reason of a fast solve that did not report ``optimal``."""
    return f"fast solver status {_STATUS[code]!r} after {iters} iterations, KKT residual {res:.3g}"


def _fallback(
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    w_prev: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    tol: float,
    factor: np.ndarray | None,
    reason: str,
) -> Solution:
    """The cvxpy reference's answer, else "hold" (``w_prev`` projected); ``reason`` says why
    the fast solver's answer is not the one returned (empty when the reference was asked for)."""
    try:
        w, status, iters, res = _reference(R, Sigma, C, w_prev, lam, lo, hi, tol, factor)
        return Solution(
            w, objective(w, R, Sigma, C, w_prev, lam), res, iters, status, "reference", reason
        )
    except (OptimizationError, ArithmeticError, ValueError) as exc:
        reason = (reason + "; " if reason else "") + f"reference failed: {exc}"
    w = project_feasible(w_prev, lo, hi)
    res = float(kkt_residual_nb(w, R, Sigma, C, w_prev, lam, lo, hi, 0.0))
    return Solution(w, objective(w, R, Sigma, C, w_prev, lam), res, 0, "failed", "hold", reason)


_NO_WARM = np.empty(0)


@lru_cache(maxsize=64)
def _default_bounds(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``lo = 0`` and ``hi = 1`` of length n, made once per n (the kernels only read them)."""
    return np.zeros(n), np.ones(n)


def _solve_plain(
    R: np.ndarray,
    Sigma: np.ndarray,
    costs: np.ndarray,
    w_prev: np.ndarray,
    lam: object,
    lo: np.ndarray | None,
    hi: np.ndarray | None,
    warm_start: np.ndarray | None,
    tol: float,
    max_iter: int,
) -> Solution | None:
    """Every check, the solve and the objective in one compiled call
    (:func:`~rwafolio.optimize._entry_kernels.check_solve_nb`) on ndarrays.

    None when the kernel's one signature refuses an array (another dtype, read-only, strided,
    another number of dimensions) or a check fails: :func:`solve` then converts or
    :func:`validate_problem` names the argument.
    """
    if isinstance(lam, bool) or not isinstance(lam, int | float | np.floating | np.integer):
        return None
    if lo is None or hi is None:
        zeros, ones = _default_bounds(R.shape[0] if R.ndim == 1 else 0)
        lo = zeros if lo is None else lo
        hi = ones if hi is None else hi
    if warm_start is None:
        warm_start = _NO_WARM
    elif warm_start.size == 0:  # the kernel reads an empty warm start as "none"
        return None
    lam_f = float(lam)
    kernel: Any = check_solve_nb  # one float64 signature; numba refuses other types
    try:
        code, w, iters, status, res, obj, S = kernel(
            R, Sigma, costs, w_prev, lam_f, lo, hi, warm_start, tol, max_iter, 1e-10, PSD_TOL
        )
    except (TypeError, ValueError):  # not float64 C-contiguous writeable arrays
        return None
    if code != OK:
        return None
    if status == 0:
        return Solution(w, obj, res, iters, "optimal", "fast")
    return _fallback(R, S, costs, w_prev, lam_f, lo, hi, tol, None, _why(status, iters, res))


def _all_arrays(
    R: object, Sigma: object, costs: object, w_prev: object, lo: object, hi: object, warm: object
) -> bool:
    """Whether the inputs are ndarrays (bounds and warm start may be None): the hot path, which
    hands them to the kernel as they are."""
    nd = np.ndarray
    return (
        type(R) is nd and type(Sigma) is nd and type(costs) is nd and type(w_prev) is nd
        and (lo is None or type(lo) is nd) and (hi is None or type(hi) is nd)
        and (warm is None or type(warm) is nd)
    )  # fmt: skip


def _floats(x: object) -> np.ndarray:
    """A float64 C-contiguous copy of an array-like (pandas read through ``to_numpy``: numpy's
    generic conversion probes a pandas object attribute by attribute)."""
    if isinstance(x, pd.Series | pd.DataFrame):
        x = x.to_numpy(dtype=float)
    return np.array(x, dtype=float, order="C")


def _converted(
    R: object, Sigma: object, costs: object, w_prev: object, *optional: object
) -> tuple[Any, ...] | None:
    """Float64 C-contiguous copies of array-likes (pandas objects, lists, other dtypes,
    read-only or strided arrays) for :func:`_solve_plain`, a scalar cost or bound spread over
    the assets; ``optional`` is ``lo, hi, warm_start`` (None stays None).

    None for anything else (a FactorCovariance, text, other dimensions): :func:`validate_problem`
    then converts it or names it. The values are those ``validate_problem`` would take.
    """
    if isinstance(Sigma, FactorCovariance):
        return None
    try:
        Rv, S = _floats(R), _floats(Sigma)
        rest = [None if x is None else _floats(x) for x in (costs, w_prev, *optional)]
    except (TypeError, ValueError):
        return None
    if Rv.ndim != 1 or S.ndim != 2 or any(x is not None and x.ndim > 1 for x in rest):
        return None
    n = Rv.shape[0]
    spread = [x if x is None or x.ndim == 1 else np.full(n, float(x)) for x in rest]
    return (Rv, S, *spread)


def _labels(*objs: object) -> pd.Index | None:
    if not any(isinstance(o, pd.Series | pd.DataFrame) for o in objs):
        return None
    labels: pd.Index | None = None
    for name, obj in zip(("R", "Sigma", "costs", "w_prev", "lo", "hi", "warm_start"), objs):
        idx = None
        if isinstance(obj, pd.Series):
            idx = obj.index
        elif isinstance(obj, pd.DataFrame):
            if not obj.index.equals(obj.columns):
                raise DataError("`Sigma` must have the same labels on its index and columns")
            idx = obj.columns
        if idx is None:
            continue
        if labels is None:
            labels = idx
        elif not labels.equals(idx):
            raise DataError(f"`{name}` labels differ from those of the other inputs")
    return labels


def solve(
    R: object,
    Sigma: object,
    costs: object,
    w_prev: object,
    lam: float,
    *,
    lo: object = None,
    hi: object = None,
    warm_start: object = None,
    tol: float = 1e-10,
    max_iter: int = DEFAULT_MAX_ITER,
    method: Method = "fast",
) -> Solution:
    """Solve the one-date cost-aware mean-variance problem exactly.

    maximize ``w'R - lam w'Sigma w - sum C_i |w_i - w_prev_i|`` s.t. ``sum w = 1``,
    ``lo <= w <= hi``.

    Parameters
    ----------
    R : ndarray or Series of shape (n_assets,)
        Expected returns, annualized by default (same horizon as Sigma).
    Sigma : ndarray or DataFrame of shape (n_assets, n_assets), or FactorCovariance
        Covariance (``B F B' + diag(d)`` in factor form), same units as R; symmetric, may be
        singular.
    costs : float, ndarray or Series of shape (n_assets,)
        One-off cost per unit of weight traded (0.001 = 10 bp), >= 0.
    w_prev : ndarray or Series of shape (n_assets,)
        Drifted current weights; may be off-budget (cash) or outside the bounds.
    lam : float
        Risk aversion >= 0; multiplies ``w'Sigma w`` with NO 1/2.
    lo, hi : float, ndarray or Series of shape (n_assets,), optional
        Bounds, default 0 and 1.  ``lo_i = hi_i`` freezes asset i.
    warm_start : ndarray or Series of shape (n_assets,), optional
        A previous solution; defaults to ``w_prev``.
    tol : float, default 1e-10
        Accepted KKT residual (absolute, units of R; see ``model.kkt_residual``).
    max_iter : int, default 20000
        Iteration cap of the fast solver; 0 forces the fallback.
    method : {"fast", "reference"}
        ``"reference"`` goes straight to cvxpy.

    Returns
    -------
    Solution
        Weights as a Series when any input was a pandas object (labels kept), else an ndarray.

    Raises
    ------
    DataError, ConfigError
        Invalid input, naming the argument. Numerical trouble never raises: see ``fallback_reason``.
    """
    if method not in ("fast", "reference"):
        raise ConfigError(f"`method` must be 'fast' or 'reference', got {method!r}")
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise ConfigError(f"`tol` must be a positive float, got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 0:
        raise ConfigError(f"`max_iter` must be an int >= 0, got {max_iter!r}")
    tol_f, iter_cap = float(tol), int(max_iter)
    if method == "fast" and _all_arrays(R, Sigma, costs, w_prev, lo, hi, warm_start):
        sol = _solve_plain(R, Sigma, costs, w_prev, lam, lo, hi, warm_start, tol_f, iter_cap)  # type: ignore[arg-type]
        if sol is not None:
            return sol
    labels = _labels(R, Sigma, costs, w_prev, lo, hi, warm_start)
    plain = _converted(R, Sigma, costs, w_prev, lo, hi, warm_start) if method == "fast" else None
    if plain is not None:
        Rv, S, Cv, pv, lov, hiv, w0v = plain
        sol = _solve_plain(Rv, S, Cv, pv, lam, lov, hiv, w0v, tol_f, iter_cap)
        if sol is not None:
            return sol if labels is None else _labelled(sol, labels)
    prob = validate_problem(R, Sigma, costs, w_prev, lam, lo, hi)
    w0 = None
    if warm_start is not None:
        w0 = np.ascontiguousarray(np.array(warm_start, dtype=float).reshape(-1))
        if w0.shape != prob.R.shape or not np.all(np.isfinite(w0)):
            raise DataError(
                f"`warm_start` must be a finite vector of length {prob.R.shape[0]}, got {w0.shape}"
            )
    factor = Sigma.sqrt_factor() if isinstance(Sigma, FactorCovariance) else None
    sol = solve_arrays(
        prob.R, prob.Sigma, prob.C, prob.w_prev, prob.lam, prob.lo, prob.hi,
        warm_start=w0, tol=float(tol), max_iter=int(max_iter), method=method, factor=factor,
    )  # fmt: skip
    return sol if labels is None else _labelled(sol, labels)


def _labelled(sol: Solution, labels: pd.Index) -> Solution:
    """``sol`` with its weights as a Series over ``labels``."""
    weights = pd.Series(sol.weights, index=labels, name="weight")
    return Solution(
        weights, sol.objective, sol.kkt_residual, sol.iterations, sol.status, sol.solver,
        sol.fallback_reason,
    )  # fmt: skip
