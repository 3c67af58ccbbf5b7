"""Our statistics against vectorbt's own, under both annualization factors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import vectorbt  # noqa: F401  (registers the .vbt accessor used below)

from rwafolio.backtest import performance, run, stats_table
from rwafolio.backtest.stats import max_drawdown
from rwafolio.strategies import EqualWeight
from tests.backtest.conftest import make_panel


@pytest.mark.parametrize("ann", [365, 252])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_performance_matches_vectorbt(ann: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    r = pd.Series(
        rng.standard_t(4, 700) * 0.02 + 0.0005, index=pd.date_range("2020-01-01", periods=700)
    )
    acc = r.vbt.returns(freq="1D", year_freq=f"{ann}D")
    ours = performance(r.to_numpy(), ann)
    np.testing.assert_allclose(ours["total_return"], acc.total(), rtol=1e-12)
    np.testing.assert_allclose(ours["cagr"], acc.annualized(), rtol=1e-10)
    np.testing.assert_allclose(ours["volatility"], acc.annualized_volatility(), rtol=1e-10)
    np.testing.assert_allclose(ours["sharpe"], acc.sharpe_ratio(), rtol=1e-10)
    np.testing.assert_allclose(ours["sortino"], acc.sortino_ratio(), rtol=1e-10)
    np.testing.assert_allclose(ours["max_drawdown"], acc.max_drawdown(), rtol=1e-10)
    np.testing.assert_allclose(ours["calmar"], acc.calmar_ratio(), rtol=1e-10)


def test_max_drawdown_by_hand() -> None:
    assert max_drawdown(np.array([1.0, 2.0, 1.0, 3.0, 1.5])) == pytest.approx(-0.5)
    assert max_drawdown(np.array([1.0, 1.1, 1.2])) == 0.0


def test_result_stats_match_vectorbt_portfolio() -> None:
    panel = make_panel(n_days=300, costs={"BTC-USD": 0.001, "ETH-USD": 0.001, "VNQ": 0.01})
    res = run(EqualWeight(warmup_periods=20), panel)
    s = res.stats()
    live = res.portfolio.returns()  # the portfolio starts at the first decision (row 20)
    assert live.index[0] == panel.dates[20]
    acc = live.vbt.returns(freq="1D", year_freq="365D")
    np.testing.assert_allclose(s["sharpe"], acc.sharpe_ratio(), rtol=1e-8)
    np.testing.assert_allclose(s["max_drawdown"], acc.max_drawdown(), rtol=1e-8)
    np.testing.assert_allclose(s["total_return"], acc.total(), rtol=1e-8)
    fees = res.portfolio.orders.records_readable["Fees"].sum()
    assert s["costs_paid"] > 0 and fees > 0
    table = stats_table({"a": res, "b": res})
    assert list(table.columns) == ["a", "b"] and "calmar" in table.index


@pytest.mark.parametrize("policy", ["all_days", "exchange_days"])
def test_vectorbt_portfolio_stats_agree_with_result_stats(policy: str) -> None:
    """vectorbt's own ``stats()`` annualizes by the calendar policy and starts at the first
    decision (issue 11: ``freq="1D"`` gave an exchange_days Sharpe annualized with 365)."""
    from rwafolio.loaders import load
    from rwafolio.strategies import DynamicLambdaStrategy

    panel = load("synthetic", start="2019-01-01", end="2020-06-30", policy=policy)
    res = run(DynamicLambdaStrategy(), panel, progress=False)
    ours, theirs = res.stats(), res.portfolio.stats()
    assert theirs["Start"] == pd.Timestamp(res.params["first_decision"])
    np.testing.assert_allclose(theirs["Sharpe Ratio"], ours["sharpe"], rtol=1e-8)
    np.testing.assert_allclose(theirs["Sortino Ratio"], ours["sortino"], rtol=1e-8)
    np.testing.assert_allclose(theirs["Calmar Ratio"], ours["calmar"], rtol=1e-8)
    np.testing.assert_allclose(theirs["Total Return [%]"] / 100, ours["total_return"], rtol=1e-8)
    np.testing.assert_allclose(theirs["Max Drawdown [%]"] / 100, -ours["max_drawdown"], rtol=1e-8)
