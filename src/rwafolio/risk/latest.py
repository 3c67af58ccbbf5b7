"""The scenario view's inputs: Monte Carlo forecasts of the latest portfolio, normal and
Student-t, from the strategy's own estimates at its last estimate date."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from rwafolio.exceptions import DataError


def latest_scenarios(
    result: Any,
    *,
    horizon: int = 30,
    n_scenarios: int = 10_000,
    nu: float = 5.0,
    levels: tuple[float, ...] = (0.95, 0.99),
    rng: np.random.Generator | int | None = None,
) -> dict[str, Any]:
    """Forecast the portfolio held at the last estimate date, with normal and Student-t shocks.

    Parameters
    ----------
    result : BacktestResult
        Uses its last ``estimate_dates`` entry, ``mu``/``cov`` there (PER PERIOD), the weights
        held after trading on that date and the universe's costs.
    horizon, n_scenarios, nu, levels
        As in :func:`rwafolio.risk.forecast`.
    rng : Generator, int or None
        One seed, resolved once and used for both distributions (common random numbers make
        the comparison sharper).

    Returns
    -------
    dict
        ``{"normal": RiskForecast, "student_t": RiskForecast}``.

    Raises
    ------
    DataError
        If the result has no estimate dates (a strategy that does not estimate R and Sigma).
    """
    from rwafolio.risk.forecast import forecast
    from rwafolio.risk.montecarlo import resolve_settings

    mc = resolve_settings(
        None, rng, horizon=horizon, n_scenarios=n_scenarios, nu=nu, levels=levels
    )  # checked before anything runs
    mc.require("latest_scenarios", distributions=("normal", "student_t"))
    if len(result.estimate_dates) == 0:
        raise DataError(
            "`result` has no estimate dates (its strategy does not estimate R and Sigma), so "
            "there is nothing to simulate"
        )
    date = result.estimate_dates[-1]
    w = result.weights.loc[date].to_numpy(dtype=float)
    costs = result.panel.universe.costs
    return {
        dist: forecast(
            w, result.mu[-1], result.cov[-1], costs=costs, settings=replace(mc, distribution=dist)
        )
        for dist in ("normal", "student_t")
    }
