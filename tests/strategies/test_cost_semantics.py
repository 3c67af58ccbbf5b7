"""Trade aversion: the cvxportfolio convention, exactly the old cost horizon, and the new knobs
of DynamicLambdaStrategy (mean estimator, utility rule, per-class indexes) on the engine."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from rwafolio.backtest import run
from rwafolio.exceptions import ConfigError
from rwafolio.optimize.returns import BlackLitterman
from rwafolio.strategies import DynamicLambdaStrategy
from tests.backtest.conftest import make_panel


@pytest.mark.parametrize("gamma", [1.0, 1 / 30, 0.25])
def test_trade_aversion_equals_cost_horizon(gamma: float) -> None:
    """gamma against per-period utility == amortizing over 1 / (gamma * ppy) years, to 1e-12."""
    panel = make_panel(n_days=160, costs={"VNQ": 0.01})
    a = run(DynamicLambdaStrategy(trade_aversion=gamma), panel, progress=False, execute=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        b = run(
            DynamicLambdaStrategy(cost_horizon=1.0 / (gamma * 365)),
            panel,
            progress=False,
            execute=False,
        )
    np.testing.assert_allclose(a.weights.to_numpy(), b.weights.to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.value.to_numpy(), b.value.to_numpy(), rtol=1e-12)


def test_cost_horizon_warns_and_conflicts() -> None:
    panel = make_panel(n_days=60)
    with pytest.warns(DeprecationWarning, match="trade_aversion"):
        run(DynamicLambdaStrategy(cost_horizon=0.1), panel, progress=False, execute=False)
    with pytest.raises(ConfigError, match="not both"):
        DynamicLambdaStrategy(cost_horizon=0.1, trade_aversion=1.0).prepare(_setup(panel))
    with pytest.raises(ConfigError, match="trade_aversion"):
        DynamicLambdaStrategy(trade_aversion=0.0).prepare(_setup(panel))


def _setup(panel):
    from rwafolio.strategies.base import Setup

    return Setup(
        panel.dates, panel.tradable.to_numpy(), panel.symbols, panel.universe.classes,
        panel.universe.costs, panel.periods_per_year, panel.vix is not None,
    )  # fmt: skip


def test_utility_threshold_holds_every_small_gain() -> None:
    panel = make_panel(n_days=200, costs={"VNQ": 0.01})
    kappa = 0.02
    res = run(DynamicLambdaStrategy(utility_threshold=kappa), panel, progress=False, execute=False)
    base = run(DynamicLambdaStrategy(), panel, progress=False, execute=False)
    assert res.turnover.sum() < base.turnover.sum()
    assert any("utility" in r for r in res.skipped["reason"])


def test_mean_estimator_is_used() -> None:
    """With the prior worth everything, BL is the equal-weight equilibrium: no trade away from 1/n."""
    panel = make_panel(n_days=120, costs={"BTC-USD": 0.0, "ETH-USD": 0.0, "VNQ": 0.0})
    res = run(
        DynamicLambdaStrategy(mean_estimator=BlackLitterman(prior_obs=1e12), threshold=0.0),
        panel, progress=False, execute=False,
    )  # fmt: skip
    traded = res.targets.dropna(how="all")
    full = traded[traded.notna().all(axis=1)]
    np.testing.assert_allclose(full.iloc[0].to_numpy(), np.full(3, 1 / 3), atol=1e-6)


def test_class_indexes_use_no_future() -> None:
    """Decisions up to a date do not change when everything after it changes."""
    a = make_panel(n_days=200, seed=3)
    b = make_panel(n_days=200, seed=3)
    cut = 150
    pb = b.prices.copy()
    pb.iloc[cut + 1 :] *= np.linspace(1, 3, 200 - cut - 1)[:, None]
    vb = b.vix.copy()
    vb.iloc[cut + 1 :] = 80.0
    from dataclasses import replace

    b = replace(b, prices=pb, vix=vb)
    spec = {"crypto": ["realized:BTC-USD", 30.0], "rwa": "vix"}
    ra = run(DynamicLambdaStrategy(class_indexes=spec), a, progress=False, execute=False)
    rb = run(DynamicLambdaStrategy(class_indexes=spec), b, progress=False, execute=False)
    da, db = ra.decisions.iloc[: cut - 30], rb.decisions.iloc[: cut - 30]
    assert da.index[-1] <= a.dates[cut]
    np.testing.assert_array_equal(da["lam"].to_numpy(), db["lam"].to_numpy())
    np.testing.assert_array_equal(
        ra.weights.iloc[: cut + 1].to_numpy(), rb.weights.iloc[: cut + 1].to_numpy()
    )
