"""One decision date's problem, stated as plain arrays.

A strategy that optimizes states its problem once (:class:`Problem`); its own decision, the
sensitivity analysis along a backtest, the update-frequency study and any later re-run on
simulated paths all read that one statement instead of rebuilding it from parameters.

Units: ``R`` and ``Sigma`` annualized, ``costs`` the optimizer's effective cost per unit of
weight traded (one-off rates amortized, see :class:`~rwafolio.optimize.costs.CostModel`),
``lam`` multiplies ``w'Sigma w`` with no 1/2.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rwafolio.exceptions import OptimizationError
from rwafolio.optimize.solution import Solution

__all__ = ["Problem"]


@dataclass(frozen=True)
class Problem:
    """``maximize w'R - lam w'Sigma w - sum costs_i |w_i - held_i|`` s.t. ``sum w = 1``,
    ``lo <= w <= hi``, at one decision date.

    Attributes
    ----------
    R : ndarray of shape (n_assets,)
        Expected returns, annualized.
    Sigma : ndarray of shape (n_assets, n_assets)
        Covariance, annualized.
    costs : ndarray of shape (n_assets,)
        The optimizer's effective cost per unit of weight traded (annualized return units).
    lam : float
        Risk aversion (no 1/2).
    lo, hi : ndarray of shape (n_assets,)
        Bounds under today's freeze: an asset that may not trade has ``lo = hi = held``.
    held : ndarray of shape (n_assets,)
        The drifted book (w_prev; fractions of value, cash = 1 - sum).
    may_trade : ndarray of bool, shape (n_assets,)
        Which assets may trade today (market open and scheduled, or the stress override).
    box_lo, box_hi : ndarray of shape (n_assets,)
        The strategy's bounds before today's freeze.
    vix : float
        The index level lam was set from (NaN without an index).
    dlam_dvix : float
        d lam / d VIX at this date (the rule's derivative).
    mu, cov : ndarray of shape (n_assets,) and (n_assets, n_assets)
        The per-period estimates R and Sigma were annualized from.
    n_obs : int
        Number of per-period returns the estimates used (the estimation window).
    periods_per_year : int
        The factor that annualized them.
    """

    R: np.ndarray
    Sigma: np.ndarray
    costs: np.ndarray
    lam: float
    lo: np.ndarray
    hi: np.ndarray
    held: np.ndarray
    may_trade: np.ndarray
    box_lo: np.ndarray
    box_hi: np.ndarray
    vix: float = float("nan")
    dlam_dvix: float = 0.0
    mu: np.ndarray | None = None
    cov: np.ndarray | None = None
    n_obs: int = 0
    periods_per_year: int = 1

    @property
    def n_assets(self) -> int:
        return int(self.R.shape[0])

    def bounds(self, frozen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The box with the assets in ``frozen`` (bool mask) held at their drifted weight."""
        lo, hi = self.box_lo.copy(), self.box_hi.copy()
        lo[frozen] = self.held[frozen]
        hi[frozen] = self.held[frozen]
        return lo, hi

    def frozen(self, frozen: np.ndarray) -> Problem:
        """This problem with the assets in ``frozen`` held (and no other freeze)."""
        lo, hi = self.bounds(frozen)
        return replace(self, lo=lo, hi=hi, may_trade=self.may_trade & ~frozen)

    def unfrozen(self) -> Problem:
        """This problem with every asset free to move within the box (what the model wants)."""
        return replace(
            self,
            lo=self.box_lo.copy(),
            hi=self.box_hi.copy(),
            may_trade=np.ones_like(self.may_trade),
        )

    def solve(
        self, warm_start: np.ndarray | None = None, frozen: np.ndarray | None = None
    ) -> Solution:
        """Solve exactly with :func:`~rwafolio.optimize.solve_arrays`.

        Parameters
        ----------
        warm_start : ndarray of shape (n_assets,) or None
            Default: ``held``.
        frozen : ndarray of bool, shape (n_assets,), or None
            Solve :meth:`frozen` (``frozen``) instead, without building it.

        Raises
        ------
        OptimizationError
            No fully invested portfolio meets the bounds (e.g. user bounds under the freeze).
        """
        from rwafolio.optimize import solve_arrays  # looked up at call time (patchable)

        lo, hi = (self.lo, self.hi) if frozen is None else self.bounds(frozen)
        if lo.sum() > 1 + 1e-12 or hi.sum() < 1 - 1e-12:
            raise OptimizationError(
                f"no fully invested portfolio under today's freeze (sum lo {lo.sum():.6f}, "
                f"sum hi {hi.sum():.6f})"
            )
        warm = self.held if warm_start is None else warm_start
        return solve_arrays(
            self.R, self.Sigma, self.costs, self.held, self.lam, lo, hi, warm_start=warm
        )
