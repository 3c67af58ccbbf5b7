"""Estimators of R (expected return) and Sigma (covariance) from a window of past returns.

Input: ``window_returns``, an ndarray (or DataFrame) of shape (n_obs, n_assets) of simple
returns per period.  Output: ``(mu, Sigma)`` per period, or annualized when ``annualize`` /
``periods_per_year`` is given (``mu * k``, ``Sigma * k``, e.g. k = 365 for crypto calendars, 252
for exchange days).  Every covariance goes through :func:`psd_repair` (eigenvalue clipping), so a
zero-variance stablecoin or a window shorter than the number of assets gives a valid PSD matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.optimize._estimator_kernels import lw_correlation_nb

__all__ = [
    "EWMAEstimator",
    "LedoitWolfEstimator",
    "SampleEstimator",
    "ewma",
    "ledoit_wolf",
    "psd_repair",
    "sample",
]


def _window(returns: object, min_obs: int = 1) -> np.ndarray:
    # A fresh copy: SIMD reductions can round differently with the memory alignment of a view,
    # and estimates must not depend on where in a larger array the window sits.
    X = np.array(returns, dtype=float, order="C")
    if X.ndim != 2:
        raise DataError(f"`window_returns` must be 2D (n_obs, n_assets), got {X.ndim}D")
    if X.shape[0] < min_obs or X.shape[1] == 0:
        raise DataError(
            f"`window_returns` needs >= {min_obs} observations and >= 1 asset, got {X.shape}"
        )
    if not np.all(np.isfinite(X)):
        raise DataError("`window_returns` must be finite (fill or drop NaN before estimating)")
    return X


def _scale(mu: np.ndarray, S: np.ndarray, annualize: int | None) -> tuple[np.ndarray, np.ndarray]:
    if annualize is None:
        return mu, S
    if isinstance(annualize, bool) or not annualize > 0:
        raise ConfigError(
            f"`annualize` must be a positive number of periods per year, got {annualize!r}"
        )
    return mu * annualize, S * annualize


def psd_repair(Sigma: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Symmetrise and clip eigenvalues below ``floor`` (shape (n, n) in, same units out).

    The matrix is returned unchanged (only symmetrised) when its smallest eigenvalue is >= floor.
    """
    S = 0.5 * (Sigma + Sigma.T)
    ev, V = np.linalg.eigh(S)
    if ev[0] >= floor:
        return np.ascontiguousarray(S)
    S = (V * np.maximum(ev, floor)) @ V.T
    return np.ascontiguousarray(0.5 * (S + S.T))


def sample(returns: object, annualize: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean and unbiased (ddof = 1) covariance; needs >= 2 observations."""
    X = _window(returns, 2)
    mu = X.mean(axis=0)
    D = X - mu
    S = D.T @ D / (X.shape[0] - 1)
    return _scale(mu, psd_repair(S), annualize)


def ewma(
    returns: object, halflife: float, annualize: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exponentially weighted mean and covariance, weights ``0.5 ** (age / halflife)``.

    The newest observation has age 0.  The covariance is bias-corrected by ``1 / (1 - sum w^2)``
    with normalised weights ``w`` (equal to the sample covariance when ``halflife = inf``).
    """
    if not halflife > 0:
        raise ConfigError(f"`halflife` must be > 0, got {halflife!r}")
    X = _window(returns, 2)
    age = np.arange(X.shape[0] - 1, -1, -1, dtype=float)
    w = 0.5 ** (age / halflife)
    w /= w.sum()
    mu = w @ X
    D = X - mu
    S = (D * w[:, None]).T @ D / (1.0 - w @ w)
    return _scale(mu, psd_repair(S), annualize)


LedoitWolfTarget = Literal["correlation", "scaled_identity"]


def _lw_shrinkage(D: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(ddof = 0 covariance S, shrinkage towards m I, m = tr(S)/n) of centred data, as sklearn."""
    T, n = D.shape
    S = D.T @ D / T
    m = np.trace(S) / n
    delta = (np.sum(S * S) - 2.0 * m * np.trace(S) + n * m * m) / n
    row2 = np.sum(D * D, axis=1)
    beta = (np.sum(row2 * row2) / T - np.sum(S * S)) / (n * T)
    beta = min(beta, delta)
    shrink = 0.0 if beta <= 0.0 or delta <= 0.0 else beta / delta
    return S, float(shrink), float(m)


def ledoit_wolf(
    returns: object, annualize: int | None = None, target: LedoitWolfTarget = "correlation"
) -> tuple[np.ndarray, np.ndarray]:
    """Ledoit-Wolf (2004) shrinkage of the (ddof = 0) covariance; the mean is the sample mean.

    ``target="scaled_identity"`` shrinks S towards ``m I`` with ``m = tr(S)/n``, shrinkage
    ``min(beta, delta) / delta``, ``delta = ||S - m I||_F^2 / n``,
    ``beta = (sum_t ||x_t x_t' - S||_F^2) / (n T^2)`` on centred data, exactly as
    ``sklearn.covariance.ledoit_wolf``. In a universe that mixes crypto (vol ~70%) with T-bills
    (vol ~0.3%) that target pulls every variance towards the average, giving T-bills a crypto-like
    risk. ``target="correlation"`` (the default) therefore applies the same shrinkage to the
    standardized returns: the correlation matrix shrinks towards the identity and every variance
    is kept as estimated. Zero-variance assets (a pegged stablecoin) keep zero rows.
    """
    X = _window(returns, 1)
    if target == "scaled_identity":
        n = X.shape[1]
        mu = X.mean(axis=0)
        D = X - mu
        S, shrink, m = _lw_shrinkage(D)
        S = (1.0 - shrink) * S
        S[np.diag_indices(n)] += shrink * m
        if shrink > 0.0 and m > 0.0:
            # (1 - s) S + s m I with S = D'D / T PSD: every eigenvalue is >= s m > 0, so the
            # eigen-repair (the costliest step at every date of a backtest) is not needed.
            return _scale(mu, np.ascontiguousarray(0.5 * (S + S.T)), annualize)
        return _scale(mu, psd_repair(S), annualize)
    if target != "correlation":
        raise ConfigError(f"`target` must be 'correlation' or 'scaled_identity', got {target!r}")
    # One implementation, compiled: the engine's Python path and the compiled loops share its bits
    # (its numpy twin is ``_twins.lw_correlation_py``).
    mu, cov = lw_correlation_nb(X)
    return _scale(mu, cov, annualize)


@dataclass(frozen=True)
class SampleEstimator:
    """Sample mean and covariance (see :func:`sample`)."""

    def estimate(
        self, window_returns: object, periods_per_year: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(mu, Sigma)`` of shapes (n,), (n, n); annualized when ``periods_per_year`` is set."""
        return sample(window_returns, periods_per_year)


@dataclass(frozen=True)
class EWMAEstimator:
    """Exponentially weighted mean and covariance (see :func:`ewma`); ``halflife`` in periods."""

    halflife: float = 10.0

    def estimate(
        self, window_returns: object, periods_per_year: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(mu, Sigma)`` of shapes (n,), (n, n); annualized when ``periods_per_year`` is set."""
        return ewma(window_returns, self.halflife, periods_per_year)


@dataclass(frozen=True)
class LedoitWolfEstimator:
    """Sample mean and Ledoit-Wolf shrunk covariance (see :func:`ledoit_wolf`).

    ``target="correlation"`` (default) shrinks correlations and keeps every variance;
    ``"scaled_identity"`` is sklearn's classic form.
    """

    target: LedoitWolfTarget = "correlation"

    def estimate(
        self, window_returns: object, periods_per_year: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(mu, Sigma)`` of shapes (n,), (n, n); annualized when ``periods_per_year`` is set."""
        return ledoit_wolf(window_returns, periods_per_year, self.target)
