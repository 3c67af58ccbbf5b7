"""The cvxpy reference solver: compiled once per problem size, re-solved with new values.

This is the only module of rwafolio that imports cvxpy at module level.  The problem is built once
with ``cp.Parameter``s and is DPP-compliant: Sigma enters through a square-root factor ``G`` with
``G G' = Sigma`` as ``sum_squares(G' w)`` (never ``quad_form``, whose PSD check can fail on
singular matrices with an ARPACK no-convergence error).  ``G`` is taken from an eigendecomposition
with negative eigenvalues clipped to zero, padded to n columns so the compiled shape never changes.

Solver order: ``solver`` first (CLARABEL by default), then the remaining ones of
``DEFAULT_SOLVERS = ("CLARABEL", "OSQP", "SCS")`` that are installed.  A solve is accepted when
cvxpy reports ``optimal`` or ``optimal_inaccurate`` and the weights are finite.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cvxpy as cp
import numpy as np

from rwafolio.exceptions import OptimizationError
from rwafolio.optimize.costs import cvxpy_cost

__all__ = [
    "DEFAULT_SOLVERS",
    "ReferenceResult",
    "ReferenceSolver",
    "get_reference_solver",
    "sqrt_factor",
]

DEFAULT_SOLVERS: tuple[str, ...] = ("CLARABEL", "OSQP", "SCS")

# Tight tolerances so that the reference is a fair judge of the exact fast solver.
_SOLVER_OPTIONS: dict[str, dict[str, Any]] = {
    "CLARABEL": {"tol_gap_abs": 1e-11, "tol_gap_rel": 1e-11, "tol_feas": 1e-11, "max_iter": 500},
    "OSQP": {"eps_abs": 1e-10, "eps_rel": 1e-10, "max_iter": 200_000, "polishing": True},
    "SCS": {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000},
}


def sqrt_factor(Sigma: np.ndarray) -> np.ndarray:
    """G of shape (n, n) with ``G G' = Sigma`` up to clipping negative eigenvalues to 0."""
    ev, V = np.linalg.eigh(0.5 * (Sigma + Sigma.T))
    return np.ascontiguousarray(V * np.sqrt(np.clip(ev, 0.0, None)))


@dataclass(frozen=True)
class ReferenceResult:
    """Weights (ndarray of shape (n,)), cvxpy status, and the solver that answered."""

    weights: np.ndarray
    status: str
    solver: str
    iterations: int


class ReferenceSolver:
    """The model compiled once for ``n`` assets with ``cp.Parameter``s.

    Parameters
    ----------
    n : int
        Number of assets.
    solver : str, default "CLARABEL"
        First solver to try; the others of ``DEFAULT_SOLVERS`` follow in order.
    """

    def __init__(self, n: int, solver: str = "CLARABEL") -> None:
        self.n = n
        self.solver = solver
        self._R = cp.Parameter(n, name="R")
        self._G = cp.Parameter((n, n), name="G")
        self._C = cp.Parameter(n, nonneg=True, name="C")
        self._p = cp.Parameter(n, name="w_prev")
        self._lo = cp.Parameter(n, name="lo")
        self._hi = cp.Parameter(n, name="hi")
        self._w = cp.Variable(n, name="w")
        # lam * |G'w|^2 with both parameters is not DPP; sqrt(lam) * G is passed as one parameter.
        # The cost term is the cost model's cvxpy form (an epigraph, so it stays DPP).
        w = self._w
        cost, cost_cons = cvxpy_cost(w, self._p, self._C)
        obj = self._R @ w - cp.sum_squares(self._G.T @ w) - cost
        cons = [cp.sum(w) == 1, w >= self._lo, w <= self._hi, *cost_cons]
        self._problem = cp.Problem(cp.Maximize(obj), cons)
        if not self._problem.is_dcp(dpp=True):  # type: ignore[call-arg]
            raise OptimizationError("reference model is not DPP")
        installed = set(cp.installed_solvers())
        order = [solver] + [s for s in DEFAULT_SOLVERS if s != solver]
        self.solvers = tuple(s for s in order if s in installed)

    def solve(
        self,
        R: np.ndarray,
        Sigma: np.ndarray | None,
        C: np.ndarray,
        w_prev: np.ndarray,
        lam: float,
        lo: np.ndarray,
        hi: np.ndarray,
        *,
        factor: np.ndarray | None = None,
    ) -> ReferenceResult:
        """Solve with new values (R, Sigma annualized by default; C one-off cost fractions).

        ``factor`` (shape (n, k), k <= n, ``factor factor' = Sigma``) replaces ``Sigma`` when
        given. Raises ``OptimizationError`` when every solver fails.
        """
        if factor is None:
            if Sigma is None:
                raise OptimizationError("reference solve needs `Sigma` or `factor`")
            G = sqrt_factor(Sigma)
        else:
            G = np.asarray(factor, dtype=float)
        if G.shape[1] < self.n:
            G = np.hstack([G, np.zeros((self.n, self.n - G.shape[1]))])
        elif G.shape[1] > self.n:
            G = sqrt_factor(G @ G.T)
        self._R.value = np.asarray(R, dtype=float)
        self._G.value = np.sqrt(lam) * G
        self._C.value = np.asarray(C, dtype=float)
        self._p.value = np.asarray(w_prev, dtype=float)
        self._lo.value = np.asarray(lo, dtype=float)
        self._hi.value = np.asarray(hi, dtype=float)
        errors = []
        for name in self.solvers:
            try:
                self._problem.solve(solver=name, warm_start=True, **_SOLVER_OPTIONS.get(name, {}))
            except (cp.error.SolverError, ValueError, ArithmeticError) as exc:
                errors.append(f"{name}: {exc}")
                continue
            w = self._w.value
            status = str(self._problem.status)
            if (
                status in ("optimal", "optimal_inaccurate")
                and w is not None
                and np.all(np.isfinite(w))
            ):
                stats = self._problem.solver_stats
                iters = int(stats.num_iters) if stats and stats.num_iters is not None else 0
                return ReferenceResult(np.array(w, dtype=float), status, name, iters)
            errors.append(f"{name}: status {status}")
        raise OptimizationError("every reference solver failed: " + "; ".join(errors))


@lru_cache(maxsize=32)
def get_reference_solver(n: int, solver: str = "CLARABEL") -> ReferenceSolver:
    """The compiled :class:`ReferenceSolver` for ``n`` assets, cached per (n, solver)."""
    return ReferenceSolver(n, solver)
