"""The strategy states each date's problem once: decide solves it, the replay restates it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rwafolio.backtest import run
from rwafolio.backtest.replay import problems
from rwafolio.exceptions import ConfigError
from rwafolio.optimize import kkt_residual
from rwafolio.optimize.problem import Problem
from rwafolio.sensitivity_path import sensitivity_path
from rwafolio.strategies import DynamicLambdaStrategy, EqualWeight
from rwafolio.strategies.base import MarketView
from tests.backtest.conftest import make_panel


class Recording(DynamicLambdaStrategy):
    """Records the problem ``decide`` solved at each date (for the test only)."""

    def problem(self, view: MarketView, may_trade: Any = None) -> Problem:
        prob = super().problem(view, may_trade)
        self.seen_.append((view.t, prob))
        return prob

    def prepare(self, setup: Any) -> None:
        super().prepare(setup)
        self.seen_: list[tuple[int, Problem]] = []


@pytest.mark.parametrize("lag", [0, 1])
def test_replayed_problems_are_the_ones_decide_solved(lag: int) -> None:
    panel = make_panel(n_days=160, costs={"BTC-USD": 0.001, "ETH-USD": 0.001, "VNQ": 0.01})
    # A stress level the index crosses often, so the override (seen through the lag) matters.
    strat = Recording(window=20, stress_vix=26.0)
    res = run(strat, panel, execute=False, signal_lag=lag)
    solved = dict(strat.seen_)
    replayed = list(problems(res))
    assert len(replayed) == len(solved) == len(res.estimate_dates)
    overrides = 0
    for date, prob in replayed:
        t = int(panel.dates.get_loc(date))
        orig = solved[t]
        for name in ("R", "Sigma", "costs", "lo", "hi", "held", "may_trade", "box_lo", "box_hi"):
            np.testing.assert_array_equal(getattr(prob, name), getattr(orig, name), err_msg=name)
        assert (prob.lam, prob.vix, prob.dlam_dvix) == (orig.lam, orig.vix, orig.dlam_dvix)
        overrides += bool(prob.may_trade[2] and not strat.scheduled_[t, 2])
    assert overrides > 0  # the stress override was exercised
    # The sensitivity path's schedule freeze is that same freeze.
    path = sensitivity_path(res, freeze="schedule")
    assert path.failed.empty and not path.table.empty


def test_decide_solves_the_stated_problem() -> None:
    panel = make_panel(n_days=120)
    strat = Recording(window=20)
    res = run(strat, panel, execute=False)
    t, prob = strat.seen_[-1]
    w = res.weights.iloc[t].to_numpy()
    sol = prob.solve()
    assert (
        kkt_residual(
            sol.weights, prob.R, prob.Sigma, prob.costs, prob.held, prob.lam, prob.lo, prob.hi
        )
        < 1e-9
    )
    np.testing.assert_allclose(prob.R, res.mu[-1] * panel.periods_per_year, rtol=0)
    assert prob.n_obs == 20 and prob.periods_per_year == panel.periods_per_year
    assert prob.dlam_dvix == pytest.approx(2.0 * 0.05)
    assert np.isfinite(w).all()


def test_result_keeps_an_unprepared_copy_of_its_strategy() -> None:
    strat = DynamicLambdaStrategy(window=20, lam0=3.0)
    res = run(strat, make_panel(n_days=60), execute=False)
    assert isinstance(res.strategy, DynamicLambdaStrategy) and res.strategy is not strat
    assert res.strategy.get_params() == strat.get_params()
    assert not hasattr(res.strategy, "rule_")
    other = run(EqualWeight(), make_panel(n_days=60), execute=False)
    with pytest.raises(ConfigError, match="problem"):
        next(problems(other))
