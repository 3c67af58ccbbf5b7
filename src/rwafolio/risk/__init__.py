"""Monte Carlo risk: VaR/CVaR and drawdown-at-risk forecasts, multi-agent crowding, rolling
forecasts along a backtest, the latest portfolio's scenario view, and VaR backtests. Every
simulation checks its settings through one :class:`MonteCarlo` object (keywords or the object).

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
from rwafolio.risk.crowding import (
    CrowdingConfig,
    CrowdingResult,
    given_liquidity,
    impact_share,
    simulate_crowding,
)
from rwafolio.risk.crowding_surface import CrowdingSurface, crowding_surface
from rwafolio.risk.evaluation import (
    DEFAULT_EVALUATION,
    EvaluationSpec,
    HorizonEvaluation,
    RiskEvaluation,
    evaluate_risk,
    risk_tests,
)
from rwafolio.risk.forecast import (
    RiskForecast,
    covariance_from_vols,
    forecast,
    normal_var,
    per_period,
)
from rwafolio.risk.generators import ewma_covariance, fhs_filtered, fhs_history, fit_nu
from rwafolio.risk.latest import latest_scenarios
from rwafolio.risk.montecarlo import MonteCarlo
from rwafolio.risk.rolling import RollingForecasts, rolling_forecasts
from rwafolio.risk.shortfall import acerbi_szekely_z2
from rwafolio.risk.strategy_mc import strategy_forecast

__all__ = [
    "DEFAULT_EVALUATION",
    "BacktestSuite",
    "CrowdingConfig",
    "CrowdingResult",
    "CrowdingSurface",
    "EvaluationSpec",
    "HorizonEvaluation",
    "MonteCarlo",
    "RiskEvaluation",
    "RiskForecast",
    "RollingForecasts",
    "TestResult",
    "TrafficLight",
    "acerbi_szekely_z2",
    "christoffersen_independence",
    "conditional_coverage",
    "covariance_from_vols",
    "crowding_surface",
    "evaluate_risk",
    "ewma_covariance",
    "fhs_filtered",
    "fhs_history",
    "fit_nu",
    "forecast",
    "given_liquidity",
    "impact_share",
    "kupiec_pof",
    "latest_scenarios",
    "normal_var",
    "per_period",
    "risk_tests",
    "rolling_forecasts",
    "simulate_crowding",
    "strategy_forecast",
    "traffic_light",
]
