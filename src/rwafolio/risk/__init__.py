"""Monte Carlo risk: VaR/CVaR and drawdown-at-risk forecasts, multi-agent crowding, rolling
forecasts along a backtest, the latest portfolio's scenario view, and VaR backtests.

Sign convention everywhere: risk numbers are horizon RETURNS, negative = loss (a 95% VaR of
-0.12 means a 5% chance of losing more than 12%). ``mu``/``Sigma`` are PER PERIOD; see
:func:`per_period` to convert annual figures.
"""

from __future__ import annotations

from rwafolio.risk.backtests import (
    BacktestSuite,
    TestResult,
    TrafficLight,
    christoffersen_independence,
    conditional_coverage,
    kupiec_pof,
    traffic_light,
)
from rwafolio.risk.crowding import CrowdingConfig, CrowdingResult, simulate_crowding
from rwafolio.risk.forecast import (
    RiskForecast,
    covariance_from_vols,
    forecast,
    normal_var,
    per_period,
)
from rwafolio.risk.latest import latest_scenarios
from rwafolio.risk.rolling import RollingForecasts, rolling_forecasts

__all__ = [
    "BacktestSuite",
    "CrowdingConfig",
    "CrowdingResult",
    "RiskForecast",
    "RollingForecasts",
    "TestResult",
    "TrafficLight",
    "christoffersen_independence",
    "conditional_coverage",
    "covariance_from_vols",
    "forecast",
    "kupiec_pof",
    "latest_scenarios",
    "normal_var",
    "per_period",
    "rolling_forecasts",
    "simulate_crowding",
    "traffic_light",
]
