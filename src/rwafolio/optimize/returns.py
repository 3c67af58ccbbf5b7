"""Estimators of R (expected return) that compose with the covariance estimators.

A covariance estimator (:mod:`rwafolio.optimize.estimators`) gives ``(mu, Sigma)`` from a window;
a return estimator here replaces ``mu``. Every one has

    estimate_mean(window_returns, cov, lam) -> mu

with ``window_returns`` of shape (n_obs, n_assets) in simple returns **per period**, ``cov`` of
shape (n_assets, n_assets) **per period** (the covariance the optimizer will use), ``lam`` the
risk aversion of the decision (unit-free; ours multiplies w'Sigma w with no 1/2; a float, or one
lam per asset when each asset class has its own, the risk term then being
``w' L^1/2 Sigma L^1/2 w`` with ``L = diag(lam)``), and ``mu`` of shape (n_assets,) **per
period**. The strategy annualizes ``mu`` and ``cov`` with the same factor,
so every identity below holds in either unit.

- :class:`SampleMean`: the window mean (the model's own estimate).
- :class:`ZeroMean`: ``mu = 0`` (the optimizer then trades risk against cost only).
- :class:`EWMAMean`: exponentially weighted mean, weights ``0.5 ** (age / halflife)``.
- :class:`Equilibrium`: the returns under which a reference mix is optimal,
  ``pi = 2 lam Sigma w_ref`` (no 1/2, our convention; skfolio's ``EquilibriumMu`` with
  ``risk_aversion = 2 lam``). Fed alone to the optimizer, it makes ``w_ref`` the cost-free optimum
  whatever lam is: the first-order condition ``pi - 2 lam Sigma w - nu 1 = 0`` holds at
  ``w = w_ref`` with ``nu = 0``.
- :class:`BlackLitterman`: the equilibrium prior with the window mean as the view on every asset.
- :class:`JamesStein`, :class:`BayesStein`: shrinkage of the window mean towards a common mean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.optimize._returns_kernels import implied_returns_nb
from rwafolio.optimize.estimators import _window

__all__ = [
    "BayesStein",
    "BlackLitterman",
    "EWMAMean",
    "Equilibrium",
    "JamesStein",
    "MeanEstimator",
    "SampleMean",
    "ZeroMean",
    "reference_weights",
]


class MeanEstimator(Protocol):
    """``estimate_mean(window_returns, cov, lam, symbols=None) -> mu`` (per period, shape (n,))."""

    def estimate_mean(
        self,
        window_returns: object,
        cov: np.ndarray,
        lam: float | np.ndarray,
        symbols: Sequence[str] | None = None,
    ) -> np.ndarray: ...


def _cov(cov: object, n: int) -> np.ndarray:
    S = np.asarray(cov, dtype=float)
    if S.shape != (n, n) or not np.all(np.isfinite(S)):
        raise DataError(f"`cov` must be a finite ({n}, {n}) matrix, got shape {S.shape}")
    return S


def reference_weights(
    reference: Mapping[str, float] | Sequence[float] | None,
    n: int,
    symbols: Sequence[str] | None = None,
) -> np.ndarray:
    """The reference mix as an array of shape (n,): equal weight when None.

    A mapping names symbols (missing symbols get 0); a sequence is in the universe's order. The
    weights must be finite, >= 0 and sum to 1 (they are a portfolio, not a signal).
    """
    if reference is None:
        return np.full(n, 1.0 / n)
    if isinstance(reference, Mapping):
        if symbols is None:
            raise ConfigError("`reference` given by symbol needs the universe's symbols")
        unknown = sorted(set(reference) - set(symbols))
        if unknown:
            raise ConfigError(f"`reference` names {unknown}, which are not in the universe")
        w = np.array([float(reference.get(s, 0.0)) for s in symbols])
    else:
        w = np.asarray(reference, dtype=float)
        if w.shape != (n,):
            raise ConfigError(f"`reference` must have {n} weights, got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or abs(w.sum() - 1.0) > 1e-9:
        raise ConfigError(f"`reference` must be weights >= 0 summing to 1, got {w.tolist()}")
    return w


@dataclass(frozen=True)
class SampleMean:
    """The window's arithmetic mean, per period (the model's own R before annualizing)."""

    def estimate_mean(
        self,
        window_returns: object,
        cov: np.ndarray,
        lam: float | np.ndarray,
        symbols: Sequence[str] | None = None,
    ) -> np.ndarray:
        return _window(window_returns, 1).mean(axis=0)


@dataclass(frozen=True)
class ZeroMean:
    """``mu = 0`` for every asset (a pure risk-and-cost optimizer; minimum variance with costs)."""

    def estimate_mean(
        self,
        window_returns: object,
        cov: np.ndarray,
        lam: float | np.ndarray,
        symbols: Sequence[str] | None = None,
    ) -> np.ndarray:
        return np.zeros(_window(window_returns, 1).shape[1])


@dataclass(frozen=True)
class EWMAMean:
    """Exponentially weighted window mean, per period.

    Weights ``0.5 ** (age / halflife)`` normalised to sum to 1, the newest observation has age 0
    (pandas' ``ewm(halflife=..., adjust=True).mean()`` on the window's last row).
    """

    halflife: float = 10.0

    def estimate_mean(
        self,
        window_returns: object,
        cov: np.ndarray,
        lam: float | np.ndarray,
        symbols: Sequence[str] | None = None,
    ) -> np.ndarray:
        if not (np.isfinite(self.halflife) and self.halflife > 0):
            raise ConfigError(f"`halflife` must be a finite number > 0, got {self.halflife!r}")
        X = _window(window_returns, 1)
        age = np.arange(X.shape[0] - 1, -1, -1, dtype=float)
        w = 0.5 ** (age / self.halflife)
        return (w / w.sum()) @ X


@dataclass(frozen=True)
class Equilibrium:
    """Equilibrium (implied) returns of a reference mix: ``pi = 2 lam cov w_ref``, per period.

    With one lam per asset, ``pi = 2 L^1/2 cov L^1/2 w_ref`` (``L = diag(lam)``): the reference
    mix is then optimal for the per-class objective in the same way.

    Parameters
    ----------
    reference : mapping symbol -> weight, sequence of shape (n,), or None
        The strategic mix the market is assumed to hold; None is equal weight.
    lam : float or None
        The risk aversion the reference is priced at. None: the decision's own lam, so lam
        cancels and the prior alone always gives ``w_ref``. A fixed lam (e.g. the dynamic rule
        at the VIX's long-run level) keeps the dynamic lam's effect: when lam_t rises above it,
        the optimizer holds less risk than the reference.
    """

    reference: Mapping[str, float] | Sequence[float] | None = None
    lam: float | None = None

    def estimate_mean(
        self,
        window_returns: object,
        cov: np.ndarray,
        lam: float | np.ndarray,
        symbols: Sequence[str] | None = None,
    ) -> np.ndarray:
        n = _window(window_returns, 1).shape[1]
        w = reference_weights(self.reference, n, symbols)
        lam_a = np.asarray(lam if self.lam is None else self.lam, dtype=float)
        if lam_a.shape not in ((), (n,)) or not np.all(np.isfinite(lam_a)) or np.any(lam_a < 0):
            raise ConfigError(f"`lam` must be finite >= 0, a float or one per asset, got {lam!r}")
        if lam_a.ndim == 0:  # the compiled decision's kernel (same bits on both paths)
            S = np.ascontiguousarray(_cov(cov, n))
            return implied_returns_nb(S, np.ascontiguousarray(w, dtype=float), float(lam_a))
        d = np.sqrt(lam_a)
        return 2.0 * d * (_cov(cov, n) @ (d * w))


@dataclass(frozen=True)
class BlackLitterman:
    """Black-Litterman posterior mean with the window mean as the view on every asset.

    Prior ``mu ~ N(pi, cov / prior_obs)`` (``pi`` the :class:`Equilibrium` returns, i.e.
    ``tau = 1 / prior_obs``), view ``xbar ~ N(mu, cov / T)`` (the window mean of T observations,
    ``P = I``, ``Omega = cov / T``). Both covariances are proportional to ``cov``, so the
    textbook posterior ``[(tau cov)^-1 + Omega^-1]^-1 [(tau cov)^-1 pi + Omega^-1 xbar]``
    reduces exactly to the precision-weighted average

        mu = (prior_obs * pi + T * xbar) / (prior_obs + T),

    which needs no inverse (so a zero-variance stablecoin is fine). ``prior_obs`` is the prior's
    weight in observations of the window's period: 365 daily observations on an all-days calendar
    say the prior is worth a year of data; 0 gives the window mean. ``reference`` and ``lam`` as
    in :class:`Equilibrium`.
    """

    prior_obs: float = 365.0
    reference: Mapping[str, float] | Sequence[float] | None = None
    lam: float | None = None

    def estimate_mean(
        self,
        window_returns: object,
        cov: np.ndarray,
        lam: float | np.ndarray,
        symbols: Sequence[str] | None = None,
    ) -> np.ndarray:
        if not (np.isfinite(self.prior_obs) and self.prior_obs >= 0):
            raise ConfigError(f"`prior_obs` must be a finite number >= 0, got {self.prior_obs!r}")
        X = _window(window_returns, 1)
        T = X.shape[0]
        pi = Equilibrium(self.reference, self.lam).estimate_mean(X, cov, lam, symbols)
        return (self.prior_obs * pi + T * X.mean(axis=0)) / (self.prior_obs + T)


def _shrink(xbar: np.ndarray, target: np.ndarray, beta: float) -> np.ndarray:
    beta = float(np.clip(beta, 0.0, 1.0))
    return (1.0 - beta) * xbar + beta * target


@dataclass(frozen=True)
class JamesStein:
    """James-Stein shrinkage of the window mean towards its grand mean, per period.

    ``mu = (1 - beta) xbar + beta m 1`` with ``m = mean(xbar)`` and
    ``beta = (tr(cov) - 2 lambda_max(cov)) / (T ||xbar - m 1||^2)``, clipped to [0, 1] (the
    positive-part estimator; skfolio's ``ShrunkMu(method=JAMES_STEIN)`` without the clip).
    """

    def estimate_mean(
        self,
        window_returns: object,
        cov: np.ndarray,
        lam: float | np.ndarray,
        symbols: Sequence[str] | None = None,
    ) -> np.ndarray:
        X = _window(window_returns, 1)
        T, n = X.shape
        S = _cov(cov, n)
        xbar = X.mean(axis=0)
        target = np.full(n, xbar.mean())
        spread = float(np.sum((xbar - target) ** 2))
        if spread == 0.0:
            return xbar
        ev = np.linalg.eigvalsh(0.5 * (S + S.T))
        return _shrink(xbar, target, (ev.sum() - 2.0 * ev[-1]) / (T * spread))


@dataclass(frozen=True)
class BayesStein:
    """Jorion's (1986) Bayes-Stein shrinkage towards the minimum-variance portfolio's mean.

    ``mu = (1 - beta) xbar + beta m0 1`` with ``m0 = 1'cov^+ xbar / 1'cov^+ 1`` (the mean return
    of the minimum-variance portfolio) and
    ``beta = (n + 2) / ((n + 2) + T (xbar - m0 1)' cov^+ (xbar - m0 1))``. ``cov^+`` is the
    pseudo-inverse, equal to the inverse when ``cov`` is positive definite (then this is skfolio's
    ``ShrunkMu(method=BAYES_STEIN, vol_weighted_target=True)``). Jorion scales the sample
    covariance by ``(T - 1) / (T - n - 2)``; here ``cov`` is used as given (the strategy's own
    covariance estimate).
    """

    def estimate_mean(
        self,
        window_returns: object,
        cov: np.ndarray,
        lam: float | np.ndarray,
        symbols: Sequence[str] | None = None,
    ) -> np.ndarray:
        X = _window(window_returns, 1)
        T, n = X.shape
        S = _cov(cov, n)
        xbar = X.mean(axis=0)
        P = np.linalg.pinv(0.5 * (S + S.T), hermitian=True)
        ones = np.ones(n)
        denom = float(ones @ P @ ones)
        if denom <= 0.0:  # cov == 0: no risk information to shrink with
            return xbar
        target = np.full(n, float(ones @ P @ xbar) / denom)
        d = xbar - target
        return _shrink(xbar, target, (n + 2) / ((n + 2) + T * float(d @ P @ d)))
