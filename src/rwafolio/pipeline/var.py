"""The ``rwafolio var`` command as a function: Monte Carlo risk of a book at the latest date."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rwafolio.exceptions import ConfigError
from rwafolio.loaders.panel import Panel
from rwafolio.optimize import LedoitWolfEstimator
from rwafolio.risk import RiskForecast, forecast

__all__ = ["BookRisk", "book_risk"]


@dataclass(frozen=True)
class BookRisk:
    """Risk of one book at the panel's last date.

    Attributes
    ----------
    weights : ndarray of shape (n_assets,)
    window : int
        Estimation window (periods, Ledoit-Wolf).
    forecasts : mapping distribution -> RiskForecast
        ``"normal"`` and ``"student_t"``.
    estimates : (ndarray of shape (n_assets,), ndarray of shape (n_assets, n_assets))
        The per-period mean and covariance the forecasts used.
    """

    weights: np.ndarray
    window: int
    forecasts: Mapping[str, RiskForecast]
    estimates: tuple[np.ndarray, np.ndarray]


def book_risk(
    panel: Panel,
    weights: Mapping[str, float] | None = None,
    *,
    window: int = 30,
    horizon: int = 30,
    n_scenarios: int = 10_000,
    nu: float = 5.0,
    seed: int = 7,
) -> BookRisk:
    """VaR/CVaR/DaR of ``weights`` (default equal; the rest is cash) over ``horizon`` periods,
    from Ledoit-Wolf estimates over the last ``window`` periods; optionally the crowding model.
    """
    n = len(panel.symbols)
    if weights:
        unknown = sorted(set(weights) - set(panel.symbols))
        if unknown:
            raise ConfigError(f"`--weights` names symbols not loaded: {unknown}")
        w = np.array([float(weights.get(s, 0.0)) for s in panel.symbols])
        if np.any(w < 0) or w.sum() > 1 + 1e-9:
            raise ConfigError(
                f"`--weights` must be >= 0 and sum to at most 1 (the rest is cash), got sum "
                f"{w.sum():.4f}"
            )
    else:
        w = np.full(n, 1.0 / n)
    available = len(panel.dates) - 1
    if window > available or window < 2:
        raise ConfigError(f"`--window` must be in [2, {available}] periods here, got {window}")
    returns = panel.returns().to_numpy()[-window:]
    mu, cov = LedoitWolfEstimator().estimate(returns)
    costs = panel.universe.costs
    out = {
        dist: forecast(
            w,
            mu,
            cov,
            horizon=horizon,
            n_scenarios=n_scenarios,
            distribution=dist,
            nu=nu,
            costs=costs,
            rng=seed,
        )
        for dist in ("normal", "student_t")
    }
    return BookRisk(w, window, out, (mu, cov))
