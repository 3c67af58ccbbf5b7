"""The one-date optimization model as data: validation, objective, subgradient and KKT residual.

The model (a maximisation)::

    maximize  U(w) = w'R - lam * w'Sigma w - sum_i C_i |w_i - w_prev_i|
    s.t.      sum_i w_i = 1,  lo_i <= w_i <= hi_i        (default lo = 0, hi = 1)

Units: by default R (expected return) and Sigma (covariance) are ANNUALIZED and C_i is a one-off
cost per unit of weight traded (0.001 = 10 bp), see ARCHITECTURE.md "Units matter because of C".
Our ``lam`` multiplies ``w'Sigma w`` directly, with **no 1/2** in front (PyPortfolioOpt and others
write ``lam/2 w'Sigma w``; their ``lam`` is twice ours).

Everything here is computed from the formulas, independently of any solver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rwafolio.exceptions import ConfigError, DataError, describe
from rwafolio.optimize._checks import OK, PSD_TOL, check_problem_nb, psd_ok_nb
from rwafolio.optimize._entry_kernels import objective_nb

__all__ = [
    "FactorCovariance",
    "ProblemArrays",
    "check_psd",
    "kkt_residual",
    "objective",
    "project_feasible",
    "subgradient",
    "validate_problem",
]


@dataclass(frozen=True)
class FactorCovariance:
    """A covariance in factor form ``Sigma = B F B' + diag(d)``.

    Attributes
    ----------
    B : ndarray of shape (n_assets, n_factors)
        Loadings.
    F : ndarray of shape (n_factors, n_factors)
        Factor covariance (symmetric PSD), in the units of R (annualized by default).
    d : ndarray of shape (n_assets,)
        Idiosyncratic variances, >= 0, same units.
    """

    B: np.ndarray
    F: np.ndarray
    d: np.ndarray

    def dense(self) -> np.ndarray:
        """The dense covariance, an ndarray of shape (n_assets, n_assets)."""
        B = np.asarray(self.B, dtype=float)
        S = B @ np.asarray(self.F, dtype=float) @ B.T + np.diag(np.asarray(self.d, dtype=float))
        return np.ascontiguousarray(0.5 * (S + S.T))

    def sqrt_factor(self) -> np.ndarray:
        """A matrix G of shape (n_assets, k) with ``G G' = Sigma`` (F's negative eigenvalues clipped)."""
        ev, V = np.linalg.eigh(0.5 * (self.F + np.asarray(self.F).T))
        root = V * np.sqrt(np.clip(ev, 0.0, None))
        return np.hstack([np.asarray(self.B, dtype=float) @ root, np.diag(np.sqrt(self.d))])


@dataclass(frozen=True)
class ProblemArrays:
    """Validated, contiguous float64 arrays of one problem (see the module docstring for units)."""

    R: np.ndarray
    Sigma: np.ndarray
    C: np.ndarray
    w_prev: np.ndarray
    lam: float
    lo: np.ndarray
    hi: np.ndarray


def _vector(name: str, value: Any, n: int | None, err: type[Exception]) -> np.ndarray:
    try:
        arr = np.array(value, dtype=float).reshape(-1) if np.ndim(value) <= 1 else None
    except (TypeError, ValueError) as exc:
        raise err(f"`{name}` must be a 1D array of floats, got {describe(value)}") from exc
    if arr is None:
        raise err(f"`{name}` must be a 1D array, got a {np.ndim(value)}D array")
    if np.ndim(value) == 0 and n is not None:
        arr = np.full(n, float(arr[0]))
    if n is not None and arr.shape[0] != n:
        raise err(f"`{name}` must have length {n} (the number of assets), got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise err(f"`{name}` must be finite, got {int(np.sum(~np.isfinite(arr)))} NaN/inf value(s)")
    return np.ascontiguousarray(arr)


_NO_WARM = np.empty(0)


def fast_arrays(
    R: object,
    Sigma: object,
    costs: object,
    w_prev: object,
    lam: object,
    lo: object = None,
    hi: object = None,
    warm_start: object = None,
    *,
    sym_tol: float = 1e-10,
    psd_tol: float = PSD_TOL,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, np.ndarray, np.ndarray] | None:
    """The compiled one-pass check for plain float64 C-contiguous arrays.

    Returns ``(R, Sigma, costs, w_prev, lam, lo, hi)`` (Sigma symmetrized into a new array, the
    others as given or the default bounds) when every check of :func:`validate_problem` passes
    (and ``warm_start``, if given, has length n and is finite); None when the inputs are of
    another type (the kernel's one signature refuses them) or a check fails: the descriptive
    checks of :func:`validate_problem` then name the argument.
    """
    if type(R) is not np.ndarray or type(Sigma) is not np.ndarray or R.ndim != 1:
        return None
    if isinstance(lam, bool) or not isinstance(lam, int | float | np.floating | np.integer):
        return None
    n = R.shape[0]
    lov = np.zeros(n) if lo is None else lo
    hiv = np.ones(n) if hi is None else hi
    warm = _NO_WARM if warm_start is None else warm_start
    lam_f = float(lam)
    S = np.empty((n, n))
    kernel: Any = check_problem_nb  # one float64 signature; numba refuses other types
    try:
        code = kernel(R, Sigma, costs, w_prev, lam_f, lov, hiv, warm, sym_tol, psd_tol, S)
    except (TypeError, ValueError):  # not float64 C-contiguous arrays
        return None
    if code != OK:
        return None
    return R, S, costs, w_prev, lam_f, lov, hiv  # type: ignore[return-value]


def check_psd(S: np.ndarray, psd_tol: float = PSD_TOL) -> None:
    """Raise ``DataError`` naming ``Sigma`` unless the symmetric ``S`` is positive semi-definite
    to ``psd_tol`` (its smallest eigenvalue above ``-psd_tol * max_i S_ii``; module
    :mod:`rwafolio.optimize._checks`)."""
    if not psd_ok_nb(S, psd_tol):
        dmax = float(np.max(np.diag(S)))
        low = float(np.linalg.eigvalsh(S)[0])
        raise DataError(
            f"`Sigma` must be positive semi-definite (a covariance), got smallest eigenvalue "
            f"{low:.3g} < -{psd_tol:g} x the largest variance {dmax:.3g}"
        )


def validate_problem(
    R: object,
    Sigma: object,
    costs: object,
    w_prev: object,
    lam: object,
    lo: object = None,
    hi: object = None,
    *,
    sym_tol: float = 1e-10,
    psd_tol: float = PSD_TOL,
) -> ProblemArrays:
    """Check and convert one problem; raise a typed error naming the offending argument.

    Plain float64 arrays are checked in one compiled pass
    (:func:`rwafolio.optimize._checks.check_problem_nb`, a few microseconds); anything else, and
    any problem that pass finds, goes through the descriptive checks below, which raise.

    Parameters
    ----------
    R : array-like of shape (n_assets,)
        Expected returns (annualized by default). Market data, so errors are ``DataError``.
    Sigma : array-like of shape (n_assets, n_assets) or FactorCovariance
        Covariance, same units as R; must be symmetric to ``sym_tol * max|Sigma|`` and positive
        semi-definite: its smallest eigenvalue must be >= ``-psd_tol * max_i Sigma_ii`` (checked
        by a Cholesky factorization of ``Sigma + psd_tol * max_i Sigma_ii * I``).
    costs : float or array-like of shape (n_assets,)
        One-off cost per unit of weight traded, >= 0 (``ConfigError``).
    w_prev : array-like of shape (n_assets,)
        Drifted weights; may be off-budget or out of bounds.
    lam : float
        Risk aversion >= 0 (``ConfigError``).
    lo, hi : float, array-like of shape (n_assets,) or None
        Bounds (default 0 and 1); need ``lo <= hi`` and ``sum lo <= 1 <= sum hi``.

    Returns
    -------
    ProblemArrays

    Raises
    ------
    DataError
        ``R``, ``Sigma`` (shape, finiteness, symmetry, negative variance, indefinite) or
        ``w_prev``.
    ConfigError
        ``costs``, ``lam``, ``lo``/``hi`` (order, feasibility).
    """
    fast = fast_arrays(R, Sigma, costs, w_prev, lam, lo, hi, sym_tol=sym_tol, psd_tol=psd_tol)
    if fast is not None:
        return ProblemArrays(*fast)
    Rv = _vector("R", R, None, DataError)
    n = Rv.shape[0]
    if n == 0:
        raise DataError("`R` must have at least one asset, got length 0")
    if isinstance(Sigma, FactorCovariance):
        S = Sigma.dense()
    else:
        S = np.array(Sigma, dtype=float)
    if S.ndim != 2 or S.shape != (n, n):
        raise DataError(f"`Sigma` must have shape ({n}, {n}), got {describe(S)}")
    if not np.all(np.isfinite(S)):
        raise DataError("`Sigma` must be finite, got NaN/inf entries")
    amax = float(np.max(np.abs(S))) if S.size else 0.0
    if np.max(np.abs(S - S.T)) > sym_tol * max(amax, 1e-300):
        raise DataError(
            f"`Sigma` must be symmetric, max |Sigma - Sigma'| = {np.max(np.abs(S - S.T)):.3g}"
        )
    if np.any(np.diag(S) < 0):
        raise DataError("`Sigma` must have a non-negative diagonal (variances)")
    S = np.ascontiguousarray(0.5 * (S + S.T))
    Cv = _vector("costs", costs, n, ConfigError)
    if np.any(Cv < 0):
        raise ConfigError(f"`costs` must be >= 0, got min {Cv.min():.3g}")
    pv = _vector("w_prev", w_prev, n, DataError)
    try:
        lam_f = float(lam)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"`lam` must be a float >= 0, got {describe(lam)}") from exc
    if not np.isfinite(lam_f) or lam_f < 0:
        raise ConfigError(f"`lam` must be a finite float >= 0, got {lam_f!r}")
    lov = np.zeros(n) if lo is None else _vector("lo", lo, n, ConfigError)
    hiv = np.ones(n) if hi is None else _vector("hi", hi, n, ConfigError)
    if np.any(lov > hiv):
        i = int(np.argmax(lov > hiv))
        raise ConfigError(f"`lo` must be <= `hi`, got lo[{i}]={lov[i]!r} > hi[{i}]={hiv[i]!r}")
    slack = 1e-12 * n
    if lov.sum() > 1.0 + slack:
        raise ConfigError(f"`lo` admits no feasible point: sum(lo) = {lov.sum()!r} > 1")
    if hiv.sum() < 1.0 - slack:
        raise ConfigError(f"`hi` admits no feasible point: sum(hi) = {hiv.sum()!r} < 1")
    check_psd(S, psd_tol)
    return ProblemArrays(Rv, S, Cv, pv, lam_f, lov, hiv)


def objective(
    w: np.ndarray, R: np.ndarray, Sigma: np.ndarray, C: np.ndarray, w_prev: np.ndarray, lam: float
) -> float:
    """U(w) = w'R - lam w'Sigma w - sum C|w - w_prev|, in the units of R (annualized by default).

    Computed by :func:`rwafolio.optimize._entry_kernels.objective_nb`, the one implementation the
    solver's entry points and the compiled decisions call too (same bits everywhere).
    """

    def vec(x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x, dtype=float)

    return float(objective_nb(vec(w), vec(R), vec(Sigma), vec(C), vec(w_prev), float(lam)))


def subgradient(
    w: np.ndarray, R: np.ndarray, Sigma: np.ndarray, C: np.ndarray, w_prev: np.ndarray, lam: float
) -> np.ndarray:
    """A supergradient of the concave U at w: ``R - 2 lam Sigma w - C sign(w - w_prev)``.

    At a kink (``w_i = w_prev_i``) the element with ``sign = 0`` is returned; the whole
    superdifferential there is ``[g_i - C_i, g_i + C_i]``.
    """
    w = np.asarray(w, dtype=float)
    return R - 2.0 * lam * (Sigma @ w) - C * np.sign(w - w_prev)


def kkt_residual(
    w: np.ndarray,
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    w_prev: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    active_tol: float = 1e-9,
) -> float:
    """Solver-independent optimality gap of a candidate ``w`` (0 exactly at the optimum).

    With ``h = R - 2 lam Sigma w``, the one-sided derivative of U for moving weight UP on asset i
    is ``a_i = h_i - C_i`` if ``w_i >= p_i`` (buying more) else ``h_i + C_i`` (undoing a sale),
    defined for ``w_i < hi_i``; for moving DOWN on j it is ``b_j = -h_j - C_j`` if ``w_j <= p_j``
    else ``-h_j + C_j``, defined for ``w_j > lo_j``.  Every feasible direction is a non-negative
    combination of pairwise transfers ``e_i - e_j`` that are conformal to it, and U's directional
    derivative is separable and positively homogeneous per coordinate, so ``w`` is optimal iff
    ``max_i a_i + max_j b_j <= 0``.  The residual is::

        max(0, max_i a_i + max_j b_j) + |sum w - 1| + sum_i (max(0, lo_i - w_i) + max(0, w_i - hi_i))

    It is in the units of R (a gain per unit of weight moved) and is absolute, not relative.
    ``active_tol`` treats ``|w_i - p_i| <= active_tol`` as at the kink (both one-sided costs are
    charged) and ``w_i <= lo_i + active_tol`` / ``w_i >= hi_i - active_tol`` as at the bound, so
    that interior-point answers (off by ~1e-9) are judged fairly.

    Parameters
    ----------
    w, R, C, w_prev, lo, hi : ndarray of shape (n_assets,)
    Sigma : ndarray of shape (n_assets, n_assets)
    lam : float
    active_tol : float, default 1e-9

    Returns
    -------
    float
    """
    w = np.asarray(w, dtype=float)
    h = R - 2.0 * lam * (Sigma @ w)
    up_ok = w < hi - active_tol
    dn_ok = w > lo + active_tol
    a = np.where(w >= w_prev - active_tol, h - C, h + C)
    b = np.where(w <= w_prev + active_tol, -h - C, -h + C)
    gap = 0.0
    if up_ok.any() and dn_ok.any():
        gap = max(0.0, float(a[up_ok].max() + b[dn_ok].max()))
    infeas = abs(float(w.sum()) - 1.0) + float(np.clip(lo - w, 0, None).sum())
    infeas += float(np.clip(w - hi, 0, None).sum())
    return gap + infeas


def project_feasible(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Euclidean projection of ``v`` onto ``{sum w = 1, lo <= w <= hi}`` (bisection on the shift).

    Needs ``sum lo <= 1 <= sum hi``. Returns an ndarray of shape (n_assets,).
    """
    v = np.asarray(v, dtype=float)
    a = float(np.min(v - hi)) - 1.0
    b = float(np.max(v - lo)) + 1.0
    for _ in range(200):
        mid = 0.5 * (a + b)
        if np.clip(v - mid, lo, hi).sum() > 1.0:
            a = mid
        else:
            b = mid
        if b - a <= 1e-16 * max(1.0, abs(mid)):
            break
    w = np.clip(v - 0.5 * (a + b), lo, hi)
    gap = 1.0 - w.sum()
    room = np.where(gap > 0, hi - w, w - lo)
    i = int(np.argmax(room))
    w[i] += gap
    return w
