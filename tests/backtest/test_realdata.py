"""End to end on ../shared/data: BTC, ETH, USDT, VNQ, BIL, GLD and CBOE's VIX, 2018-01..2024-11."""

from __future__ import annotations

import numpy as np
import pytest

from rwafolio.backtest import run
from rwafolio.backtest.execution import fees_paid
from rwafolio.loaders import load
from rwafolio.optimize import kkt_residual
from rwafolio.strategies import DynamicLambdaStrategy

SYMBOLS = ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"]

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(scope="module", params=["all_days", "exchange_days"])
def real_result(request, shared_data):  # type: ignore[no-untyped-def]
    panel = load(
        "files",
        SYMBOLS,
        data_dirs=[
            shared_data / "Alexshch09__Stocks-prices",
            shared_data / "jmlestevez-source__taa-dashboard",
        ],
        vix=str(shared_data / "datasets__finance-vix" / "vix-daily.csv"),
        start="2018-01-01",
        end="2024-11-30",
        policy=request.param,
    )
    # The model preset: these tests check the mechanics on a strategy that trades daily.
    strategy = DynamicLambdaStrategy.model_preset()
    return panel, run(strategy, panel), strategy


def test_no_trade_on_a_closed_market(real_result) -> None:  # type: ignore[no-untyped-def]
    panel, res, _ = real_result
    orders = res.portfolio.orders.records_readable
    assert len(orders) > 100
    open_at = panel.tradable.stack()
    keys = list(zip(orders["Timestamp"], orders["Column"]))
    assert all(bool(open_at[k]) for k in keys)
    if panel.policy == "all_days":
        # Weekends exist in the panel and no ETF order falls on one.
        etf = orders[orders["Column"].isin(["VNQ", "BIL", "GLD"])]
        assert (etf["Timestamp"].dt.day_of_week < 5).all()
        assert (~panel.tradable["VNQ"]).sum() > 700


def test_fees_equal_the_cost_model(real_result) -> None:  # type: ignore[no-untyped-def]
    panel, res, _ = real_result
    orders = res.portfolio.orders.records_readable
    cost = orders["Column"].map(dict(zip(panel.symbols, panel.universe.costs)))
    np.testing.assert_allclose(
        orders["Fees"].to_numpy(), (cost * orders["Size"] * orders["Price"]).to_numpy(), rtol=1e-10
    )
    # ...and the engine's own cost books agree with what vectorbt charged.
    live = res.portfolio.wrapper.index  # the portfolio starts at the first decision
    fees = res.fees.loc[live].to_numpy()
    v_pre = res.value.loc[live].to_numpy() / (1 - fees)
    np.testing.assert_allclose(
        fees_paid(res.portfolio).to_numpy(), fees * v_pre, rtol=1e-7, atol=1e-12
    )
    assert np.nanmax(res.decisions["execution_gap"].to_numpy()) < 1e-8


def test_every_solved_date_is_kkt_optimal(real_result) -> None:  # type: ignore[no-untyped-def]
    panel, res, strategy = real_result
    d = res.decisions
    assert len(d) > 1500
    assert d["kkt_residual"].max() <= 1e-8
    assert (d["status"] == "optimal").all()
    # Independently of what the solver reports: rebuild each traded date's problem from the
    # stored estimates and check the KKT residual of the weights actually sent to vectorbt.
    ppy = panel.periods_per_year
    C = panel.universe.costs / (strategy.window / ppy)
    n_checked = 0
    for j, date in enumerate(res.estimate_dates):
        sent = res.targets.loc[date].to_numpy()
        traded = ~np.isnan(sent)
        if not traded.any():
            continue
        held = res.weights_before.loc[date].to_numpy()
        free = 1.0 - held[~traded].sum()
        w = held.copy()
        w[traded] = sent[traded] * free / sent[traded].sum()  # undo the fee scaling k
        lo, hi = np.zeros_like(w), np.ones_like(w)
        lo[~traded] = hi[~traded] = held[~traded]
        R, Sigma = res.mu[j] * ppy, res.cov[j] * ppy
        resid = kkt_residual(w, R, Sigma, C, held, float(d.loc[date, "lam"]), lo, hi)
        assert resid <= 1e-8, (date, resid)
        n_checked += 1
    assert n_checked > 500


def test_risk_falls_after_the_march_2020_vix_spike(real_result) -> None:  # type: ignore[no-untyped-def]
    _, res, _ = real_result
    crypto = res.weights[["BTC-USD", "ETH-USD"]].sum(axis=1)
    before = crypto["2020-02-01":"2020-02-28"].mean()
    after = crypto["2020-03-16":"2020-04-15"].mean()
    assert after < before - 0.2
    lam = res.decisions["lam"]
    assert lam["2020-03-16"] > 2 * lam["2020-02-03"]


def test_default_meets_the_practitioner_limits(real_result) -> None:  # type: ignore[no-untyped-def]
    """The defaults on the README's run: turnover <= 12x a year, fees <= 10% of wealth."""
    panel, _, _ = real_result
    s = run(DynamicLambdaStrategy(), panel, execute=False).stats()
    assert s["turnover_per_year"] <= 12.0
    assert s["costs_paid"] <= 0.10
