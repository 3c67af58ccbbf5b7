"""The compiled decision of the built-in strategy as the forward-running loops call it.

:func:`decide_nb` (a window of returns) and :func:`choose_nb` (estimates however computed, e.g.
rolled forward in O(n^2) per day) return ``(target, final weights)``: the decision of
:func:`rwafolio.strategies._decide_record_kernels.record_nb`, the one implementation of the
strategy's step (Ledoit-Wolf estimates, the window or Black-Litterman mean, lam from the index,
freezes, the exact solve, the threshold rule), which the historical loop and the live rebalancer
call with their records. The strategy-aware Monte Carlo and the crowding agents call it here,
where the Python path's fallbacks that need Python are taken in the kernel: an iteration-capped
solve is used as it is; when holding the in-band assets leaves no fully invested portfolio the
whole-portfolio rule decides the day (as the Python path does); a freeze without a feasible
portfolio or a failed solve holds (no trade), like the strategy's ``hold`` fallback.

Conventions: returns per period; weights fractions of value; ``mode`` of the threshold rule is
0 none, 1 per_asset, 2 portfolio.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rwafolio.optimize._estimator_kernels import lw_correlation_nb
from rwafolio.strategies._decide_record_kernels import record_nb

__all__ = ["choose_nb", "decide_nb", "lw_correlation_nb"]


@njit(cache=True)
def decide_nb(
    window: np.ndarray,
    vix: float,
    held: np.ndarray,
    may: np.ndarray,
    lam0: float,
    eta: float,
    opt_costs: np.ndarray,
    box_lo: np.ndarray,
    box_hi: np.ndarray,
    ppy: float,
    tau: float,
    mode: int,
    warm: np.ndarray,
    prior_obs: float,
    w_ref: np.ndarray,
    ref_lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The strategy's decision at one date: ``(target, final weights)``.

    ``target`` holds NaN for every asset that does not trade (all NaN: no trade); the final
    weights are the last solution (the next date's warm start). Mirrors
    :meth:`DynamicLambdaStrategy.decide` with :func:`~rwafolio.strategies.threshold.apply_threshold`:
    the window's estimates (:func:`lw_correlation_nb`) handed to :func:`choose_nb`.
    """
    mu, cov = lw_correlation_nb(window)
    return choose_nb(
        mu, cov, float(window.shape[0]), vix, held, may, lam0, eta, opt_costs, box_lo, box_hi,
        ppy, tau, mode, warm, prior_obs, w_ref, ref_lam,
    )  # fmt: skip


@njit(cache=True)
def choose_nb(
    mu: np.ndarray,
    cov: np.ndarray,
    t_obs: float,
    vix: float,
    held: np.ndarray,
    may: np.ndarray,
    lam0: float,
    eta: float,
    opt_costs: np.ndarray,
    box_lo: np.ndarray,
    box_hi: np.ndarray,
    ppy: float,
    tau: float,
    mode: int,
    warm: np.ndarray,
    prior_obs: float,
    w_ref: np.ndarray,
    ref_lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The decision from given per-period estimates: ``(target, final weights)``.

    ``mu`` and ``cov`` are the window's mean and covariance over ``t_obs`` returns, however they
    were computed (in one pass, or updated as the window rolls). The mean is the window mean
    (``prior_obs = 0``) or the Black-Litterman posterior ``(prior_obs pi + T xbar) / (prior_obs + T)``
    with ``pi = 2 lam_ref cov w_ref`` and ``lam_ref = ref_lam`` (NaN: the date's lam), as
    :class:`~rwafolio.optimize.returns.BlackLitterman`.
    """
    n = held.shape[0]
    out = record_nb(
        mu, cov, t_obs, vix, held, may, warm, lam0, eta, opt_costs, box_lo, box_hi, ppy, tau,
        mode, prior_obs, w_ref, ref_lam, False,
    )  # fmt: skip
    if out[5] == 0:
        return out[0], out[1]
    if out[5] == -1 and mode == 1:
        # Holding the in-band assets left no fully invested portfolio: the portfolio rule today.
        again = record_nb(
            mu, cov, t_obs, vix, held, may, warm, lam0, eta, opt_costs, box_lo, box_hi, ppy, tau,
            2, prior_obs, w_ref, ref_lam, False,
        )  # fmt: skip
        if again[5] == 0:
            return again[0], again[1]
    return np.full(n, np.nan), out[1]
