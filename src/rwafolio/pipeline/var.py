"""The ``rwafolio var`` command as a function: Monte Carlo risk of a book at the latest date."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rwafolio.exceptions import ConfigError
from rwafolio.loaders.panel import Panel
from rwafolio.optimize import LedoitWolfEstimator
from rwafolio.risk import RiskForecast, forecast

__all__ = ["BookCrowding", "BookRisk", "book_crowding", "book_risk", "write_crowding_json"]


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
        if not np.all(np.isfinite(w)):
            raise ConfigError(f"`--weights` must be finite numbers, got {dict(weights)}")
        negative = {s: x for s, x in weights.items() if x < 0}
        if negative:
            sym, x = next(iter(negative.items()))
            raise ConfigError(f"`--weights` {sym} is {x:g}; weights must be >= 0 (long only)")
        if w.sum() > 1 + 1e-9:
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
            progress=None,
        )
        for dist in ("normal", "student_t")
    }
    return BookRisk(w, window, out, (mu, cov))


@dataclass(frozen=True)
class BookCrowding:
    """The crowding answer of ``var --crowding`` for one book.

    Attributes
    ----------
    liquidity : pandas.DataFrame
        Per symbol: ``daily_volume`` (quote currency), ``sigma_daily``, ``spread``, ``source``.
    config : CrowdingConfig
        The agents' settings (AUM each, fire sales, window).
    crowding : CrowdingResult
        With and without the agents.
    reference : CrowdingResult
        The strategy itself as the agent on the same paths (its turnover beside the agents').
    surface : CrowdingSurface
        VaR95 over agents x the thinnest asset's daily volume.
    """

    liquidity: Any
    config: Any
    crowding: Any
    reference: Any
    surface: Any


def book_crowding(
    panel: Panel,
    risk: BookRisk,
    *,
    horizon: int,
    n_scenarios: int,
    surface_scenarios: int,
    aum: float,
    fire_sale: str,
    daily_volume: Mapping[str, float] | None,
    seed: int,
    progress: Any = None,
) -> BookCrowding:
    """Run the multi-agent crowding model on ``risk``'s book and estimates, with the liquidity
    calibrated on ``panel`` (``daily_volume``: quote-currency volumes by symbol that win over the
    data's), and the VaR surface over agents and liquidity.

    ``progress``: a callable taking one line, for the surface's points (None: silent).
    """
    from rwafolio.risk import CrowdingConfig, crowding_surface, simulate_crowding
    from rwafolio.risk.crowding import strategy_as_agent
    from rwafolio.risk.impact import LiquidityProfile, calibrate

    mu, cov = risk.estimates
    returns = panel.returns().to_numpy()
    profile = LiquidityProfile(daily_volume=dict(daily_volume or {}))
    liq = calibrate(panel.universe, panel.liquidity(), profile)
    cfg = CrowdingConfig(window=max(5, risk.window), aum=aum, fire_sale=fire_sale)  # type: ignore[arg-type]
    common: dict[str, Any] = {"costs": panel.universe.costs, "horizon": horizon, "rng": seed,
              "agent_history": returns}  # fmt: skip
    c = simulate_crowding(risk.weights, mu, cov, liquidity=liq, n_scenarios=n_scenarios,
                          config=cfg, **common)  # fmt: skip
    ref = simulate_crowding(risk.weights, mu, cov, liquidity=liq, n_scenarios=n_scenarios,
                            config=strategy_as_agent(cfg), **common)  # fmt: skip
    surf = crowding_surface(
        risk.weights, mu, cov, liquidity=liq, config=cfg, n_scenarios=surface_scenarios,
        progress=progress, **common,
    )  # fmt: skip
    return BookCrowding(liq.table(), cfg, c, ref, surf)


def write_crowding_json(answer: BookCrowding, path: str | Path) -> Path:
    """Write the crowding answer (the surface's JSON) atomically to ``path`` (folder created)."""
    import json

    from rwafolio.outputs import atomic_write, ensure_parent

    text = json.dumps(answer.surface.to_dict(), indent=2).encode()
    return atomic_write(ensure_parent(path, "`--json`"), lambda fh: fh.write(text))
