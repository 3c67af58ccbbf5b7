"""The scenario view at the latest date (moved from reports/ into risk/): the strategy's own last
estimates and the weights it held, both distributions on one seed."""

from __future__ import annotations

import numpy as np
import pytest

from rwafolio.backtest import run
from rwafolio.exceptions import DataError
from rwafolio.risk import forecast, latest_scenarios
from rwafolio.risk.scenarios import resolve_seed
from rwafolio.strategies import DynamicLambdaStrategy, EqualWeight
from tests.backtest.conftest import make_panel


def test_latest_scenarios_forecast_the_last_held_book() -> None:
    panel = make_panel(120, seed=4)
    result = run(DynamicLambdaStrategy(window=20), panel, execute=False, progress=False)
    views = latest_scenarios(result, horizon=5, n_scenarios=2000, rng=3)
    last = result.estimate_dates[-1]
    w = result.weights.loc[last].to_numpy()
    seed = resolve_seed(3)
    for dist in ("normal", "student_t"):
        direct = forecast(w, result.mu[-1], result.cov[-1], horizon=5, n_scenarios=2000,
                          distribution=dist, costs=panel.universe.costs, rng=seed)  # fmt: skip
        np.testing.assert_array_equal(views[dist].var, direct.var)
        np.testing.assert_array_equal(views[dist].cvar, direct.cvar)
    assert views["normal"].seed == views["student_t"].seed == seed


def test_latest_scenarios_need_estimates() -> None:
    result = run(EqualWeight(), make_panel(60, seed=1), execute=False, progress=False)
    with pytest.raises(DataError, match="no estimate dates"):
        latest_scenarios(result)
