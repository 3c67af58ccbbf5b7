"""Excess Sharpe/Sortino against quantstats; fees by class against the ledger; holding period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from rwafolio.backtest import run
from rwafolio.backtest.stats import (
    cash_returns,
    cost_breakdown,
    excess_ratios,
    fees_by_asset,
    live_slice,
    stats,
)
from rwafolio.exceptions import ConfigError
from rwafolio.loaders import load
from rwafolio.strategies import DynamicLambdaStrategy, EqualWeight
from tests.backtest.conftest import make_panel


@pytest.fixture(scope="module")
def synthetic_run():
    panel = load("synthetic", start="2021-01-01", end="2021-12-31")
    return run(DynamicLambdaStrategy(window=30), panel, progress=False)


@pytest.mark.parametrize("ann", [365, 252])
def test_excess_ratios_match_quantstats(ann: int) -> None:
    rng = np.random.default_rng(ann)
    idx = pd.date_range("2020-01-01", periods=500)
    r = pd.Series(rng.standard_t(4, 500) * 0.01 + 0.0004, index=idx)
    rf = 0.045
    cash = np.full(500, (1 + rf) ** (1 / ann) - 1)
    ours = excess_ratios(r.to_numpy(), cash, ann)
    np.testing.assert_allclose(
        ours["excess_sharpe"], qs.stats.sharpe(r, rf=rf, periods=ann), rtol=1e-10
    )
    np.testing.assert_allclose(
        ours["excess_sortino"], qs.stats.sortino(r, rf=rf, periods=ann), rtol=1e-10
    )


def test_cash_asset_is_the_tbill_proxy(synthetic_run) -> None:
    res = synthetic_run
    cash, label = cash_returns(res)
    assert label == "BIL"
    bil = res.panel.prices["BIL"].pct_change().fillna(0.0).to_numpy()
    np.testing.assert_allclose(cash, bil, rtol=1e-12, atol=1e-15)
    s = stats(res)
    sl = live_slice(res)
    excess = pd.Series(res.returns.to_numpy()[sl] - bil[sl], index=res.returns.index[sl])
    np.testing.assert_allclose(s["excess_sharpe"], qs.stats.sharpe(excess, periods=365), rtol=1e-10)
    np.testing.assert_allclose(
        s["sharpe"], qs.stats.sharpe(excess + bil[sl], periods=365), rtol=1e-10
    )


def test_rate_when_no_cash_asset() -> None:
    res = run(EqualWeight(warmup_periods=20), make_panel(n_days=200), progress=False)
    _, label = cash_returns(res, 0.03)
    assert label == "rate:0.03"
    live = res.returns.iloc[live_slice(res)]
    s = stats(res, risk_free=0.03)
    np.testing.assert_allclose(
        s["excess_sharpe"], qs.stats.sharpe(live, rf=0.03, periods=365), rtol=1e-10
    )
    assert stats(res)["excess_sharpe"] == pytest.approx(stats(res)["sharpe"], rel=1e-12)
    with pytest.raises(ConfigError, match="risk_free"):
        stats(res, risk_free=float("nan"))


def test_fees_by_asset_sum_to_the_ledger(synthetic_run) -> None:
    res = synthetic_run
    fees = fees_by_asset(res)
    np.testing.assert_allclose(
        fees.sum(axis=1).to_numpy(), res.fees.to_numpy(), rtol=1e-12, atol=1e-15
    )
    br = cost_breakdown(res)
    total = sum(br["costs_by_class"].values())
    np.testing.assert_allclose(total, stats(res)["costs_paid"], rtol=1e-12)
    assert set(br["costs_by_class"]) == set(res.panel.universe.classes)
    # Hand check: the RWA share equals the RWA columns' share of the summed fee fractions.
    sl = live_slice(res)
    f = fees.to_numpy()[sl]
    rwa = [j for j, c in enumerate(res.panel.universe.classes) if c == "rwa"]
    np.testing.assert_allclose(
        br["costs_by_class"]["rwa"], total * f[:, rwa].sum() / f.sum(), rtol=1e-12
    )


def test_holding_period_against_cost_horizon(synthetic_run) -> None:
    br = cost_breakdown(synthetic_run)
    assert br["holding_period_years"] == pytest.approx(
        2 / stats(synthetic_run)["turnover_per_year"]
    )
    assert br["cost_horizon_years"] == pytest.approx(30 / 365)  # the window
    gamma1 = run(DynamicLambdaStrategy(trade_aversion=1.0), synthetic_run.panel, progress=False)
    assert cost_breakdown(gamma1)["cost_horizon_years"] == pytest.approx(1 / 365)  # one day
