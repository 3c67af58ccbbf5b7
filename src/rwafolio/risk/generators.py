"""Inputs of the scenario generators estimated from history: filtered historical simulation,
the RiskMetrics EWMA covariance, and Student-t degrees of freedom fitted by maximum likelihood.

Units: returns and covariances are PER PERIOD (simple returns), as everywhere in
:mod:`rwafolio.risk`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln

from rwafolio.exceptions import ConfigError, DataError, describe
from rwafolio.risk.topdown import Filter, filter_variance_nb, fit_filter


def _history(history: np.ndarray, name: str = "history") -> np.ndarray:
    h = np.asarray(history, dtype=float)
    if h.ndim != 2 or h.shape[0] < 2 or not np.all(np.isfinite(h)):
        raise DataError(
            f"`{name}` must be a finite (T >= 2, n) array of returns, got {describe(h)}"
        )
    return h


def fhs_filtered(
    history: np.ndarray,
    *,
    open_days: np.ndarray | None = None,
    filter: Filter = "ewma",
    lam: float = 0.94,
) -> tuple[np.ndarray, np.ndarray]:
    """The pieces of filtered historical simulation: standardized residuals and each filter.

    Each asset's returns are filtered (``s2_{s+1} = omega + a x_s^2 + b s2_s``, EWMA with
    ``lam`` or GARCH(1, 1) from ``arch``; see :mod:`rwafolio.risk.topdown`), standardized
    ``e_s = x_s / sqrt(s2_s)`` and de-meaned. An asset whose filtered variance is zero (a pegged
    stablecoin) keeps zero residuals and a zero filter. With ``open_days``, each asset is filtered on
    the days its market was open only (a closed day neither moves nor decays its variance) and
    its closed days get zero residuals, not to be drawn for an open day.

    Parameters
    ----------
    history : ndarray of shape (T, n)
        Per-period returns up to the forecast date.
    open_days : ndarray of bool, shape (T, n), or None
        Which markets were open on each day (None: all, every day).

    Returns
    -------
    e : ndarray of shape (T, n)
        The residuals; rows are kept whole, so a block bootstrap of them keeps each day's
        cross-asset dependence.
    filters : ndarray of shape (4, n)
        Rows ``omega``, ``a``, ``b`` and the forecast variance ``s2_{T+1}`` of each asset: a path
        starts at ``s2_{T+1}`` and, to carry the volatility forward as Barone-Adesi et al.'s FHS
        does, updates it with each simulated shock by the same recursion.
    """
    h = _history(history)
    e_all = np.zeros_like(h)
    filters = np.zeros((4, h.shape[1]))
    filters[2] = 1.0
    if open_days is not None and np.shape(open_days) != h.shape:
        raise DataError(
            f"`open_days` must have the shape of `history` {h.shape}, got {np.shape(open_days)}"
        )
    for i in range(h.shape[1]):
        rows = slice(None) if open_days is None else np.flatnonzero(open_days[:, i])
        x = np.ascontiguousarray(h[rows, i])
        if x.shape[0] < 2 or not np.any(x != 0.0):
            continue
        omega, a, b, s0 = fit_filter(x, filter, lam)
        s2 = filter_variance_nb(x, omega, a, b, s0)
        ok = s2[:-1] > 1e-18
        e = np.where(ok, x / np.sqrt(np.where(ok, s2[:-1], 1.0)), 0.0)
        e[ok] -= e[ok].mean()
        e_all[rows, i] = e
        filters[:, i] = omega, a, b, s2[-1]
    return e_all, filters


def fhs_history(
    history: np.ndarray,
    mu: np.ndarray | None = None,
    *,
    filter: Filter = "ewma",
    lam: float = 0.94,
) -> np.ndarray:
    """Filtered historical simulation with the volatility held at today's: past days re-scaled.

    The residuals of :func:`fhs_filtered`, re-scaled by each asset's forecast volatility
    ``sqrt(s2_{T+1})``, plus ``mu``. Exact for one period; over several periods it holds the
    volatility fixed (the strategy-aware forecast carries it forward instead).

    Parameters
    ----------
    history : ndarray of shape (T, n)
        Per-period returns up to the forecast date.
    mu : ndarray of shape (n,) or None
        Mean per period to add back (None = 0). The window mean is removed, never extrapolated.

    Returns
    -------
    ndarray of shape (T, n)
        ``mu + sqrt(s2_{T+1}) * (e_s - mean(e))``, to bootstrap in blocks.
    """
    e, filters = fhs_filtered(history, filter=filter, lam=lam)
    out = np.sqrt(filters[3]) * e
    return out + (0.0 if mu is None else np.asarray(mu, dtype=float))


def ewma_covariance(history: np.ndarray, lam: float = 0.94) -> np.ndarray:
    """RiskMetrics covariance forecast ``S_{T} = lam S_{T-1} + (1 - lam) x_T x_T'`` (zero mean).

    Started at the mean outer product of the first ``min(30, T)`` rows, like the variance filter.

    Returns
    -------
    ndarray of shape (n, n)
        Covariance per period for the next period.
    """
    h = _history(history)
    if not (0.0 < lam < 1.0):
        raise ConfigError(f"`lam` must be in (0, 1), got {lam!r}")
    k = min(30, h.shape[0])
    s = h[:k].T @ h[:k] / k
    for x in h:
        s = lam * s + (1.0 - lam) * np.outer(x, x)
    return 0.5 * (s + s.T)


def fit_nu(x: np.ndarray, *, bounds: tuple[float, float] = (2.05, 200.0)) -> float:
    """Degrees of freedom of a Student-t fitted by maximum likelihood (location 0, free scale).

    Parameters
    ----------
    x : ndarray of shape (T,)
        Returns (e.g. the portfolio's ``history @ w``), at least 30.

    Returns
    -------
    float
        nu in ``bounds``; a large value means the tails look normal.
    """
    v = np.asarray(x, dtype=float)
    if v.ndim != 1 or v.shape[0] < 30 or not np.all(np.isfinite(v)) or v.std() == 0:
        raise DataError(f"`x` must hold >= 30 finite, non-constant returns, got {describe(v)}")
    z = v / v.std()

    def nll(p: np.ndarray) -> float:
        nu, scale = np.exp(p[0]), np.exp(p[1])
        u = z / scale
        ll = (
            gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * np.log(nu * np.pi) - np.log(scale)
            - (nu + 1) / 2 * np.log1p(u * u / nu)
        )  # fmt: skip
        return -float(ll.sum())

    lo, hi = np.log(bounds[0]), np.log(bounds[1])
    res = minimize(
        nll, np.array([np.log(6.0), np.log(0.8)]), method="L-BFGS-B",
        bounds=[(lo, hi), (np.log(1e-3), np.log(1e3))],
    )  # fmt: skip
    return float(np.exp(res.x[0]))
