"""The engine against vectorbt, the self-financing scale, look-ahead, closed markets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq

from rwafolio.backtest import run, self_financing_scale
from rwafolio.backtest.execution import fees_paid, held_weights
from rwafolio.exceptions import ConfigError
from rwafolio.strategies import (
    BuyAndHold,
    Decision,
    DynamicLambdaStrategy,
    EqualWeight,
    FixedMix,
    Strategy,
)
from tests.backtest.conftest import make_panel


def test_self_financing_scale_matches_root_finder() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 8))
        target = rng.dirichlet(np.ones(n)) * rng.uniform(0.5, 1.0)
        held = rng.dirichlet(np.ones(n)) * rng.uniform(0.0, 1.0)
        cash = rng.uniform(0, 0.3)
        costs = rng.uniform(0, 0.05, n)
        budget = cash + held.sum()

        def f(k: float, t=target, c=costs, w=held, b=budget) -> float:  # type: ignore[no-untyped-def]
            return k * t.sum() + c @ np.abs(k * t - w) - b

        expected = brentq(f, 0.0, 100.0, xtol=1e-15)
        np.testing.assert_allclose(
            self_financing_scale(target, held, cash, costs), expected, rtol=1e-12, atol=1e-14
        )


@pytest.mark.parametrize("fee", [0.0, 0.01])
def test_vectorbt_holds_the_engines_weights(fee: float) -> None:
    panel = make_panel(costs={"BTC-USD": fee, "ETH-USD": fee / 2, "VNQ": 2 * fee})
    res = run(EqualWeight(), panel, init_cash=1000.0)
    pf = res.portfolio
    vbt_after = held_weights(pf).to_numpy()
    np.testing.assert_allclose(vbt_after, res.weights.to_numpy(), atol=1e-9)
    # Before each trade: vectorbt's holdings at the previous close, drifted by today's prices,
    # equal the engine's drifted weights.
    asset_value = pf.asset_value(group_by=False).to_numpy()
    prices = panel.prices.to_numpy()
    prev_units = asset_value[:-1] / prices[:-1]
    drift_val = prev_units * prices[1:]
    total = drift_val.sum(axis=1) + pf.cash().to_numpy()[:-1]
    np.testing.assert_allclose(
        drift_val / total[:, None], res.weights_before.to_numpy()[1:], atol=1e-9
    )
    # Portfolio value: engine and vectorbt agree.
    np.testing.assert_allclose(pf.value().to_numpy(), res.value.to_numpy(), rtol=1e-9)
    assert np.nanmax(res.decisions["execution_gap"].to_numpy()) < 1e-9


def test_fees_equal_the_cost_model() -> None:
    panel = make_panel(costs={"BTC-USD": 0.001, "ETH-USD": 0.002, "VNQ": 0.01})
    res = run(EqualWeight(), panel, init_cash=1.0)
    charged = fees_paid(res.portfolio).to_numpy()
    # sum_i C_i |trade_i| in value, from vectorbt's holdings: units traded times price.
    prices = panel.prices.to_numpy()
    units = res.portfolio.asset_value(group_by=False).to_numpy() / prices
    traded_units = np.diff(np.vstack([np.zeros(3), units]), axis=0)
    model_fees = np.abs(traded_units * prices) @ panel.universe.costs
    np.testing.assert_allclose(charged, model_fees, rtol=1e-9, atol=1e-15)
    # The engine's cost fraction times the value before trading equals vectorbt's fee.
    v_pre = res.value.to_numpy() / (1 - res.fees.to_numpy())
    np.testing.assert_allclose(res.fees.to_numpy() * v_pre, charged, rtol=1e-8, atol=1e-15)


class Peeker(Strategy):
    def decide(self, view):  # type: ignore[no-untyped-def]
        _ = view.returns[view.t + 1]  # tomorrow: must not exist
        return None


class Writer(Strategy):
    def decide(self, view):  # type: ignore[no-untyped-def]
        view.returns[-1, 0] = 1.0
        return None


def test_a_strategy_cannot_read_ahead(panel) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IndexError):
        run(Peeker(), panel, execute=False)


def test_a_strategy_cannot_write_the_past(panel) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="read-only"):
        run(Writer(), panel, execute=False)


def test_view_ends_at_decision_date() -> None:
    panel = make_panel(n_days=40)
    seen: list[tuple[pd.Timestamp, int]] = []

    class Recorder(Strategy):
        def decide(self, view):  # type: ignore[no-untyped-def]
            seen.append((view.date, view.returns.shape[0]))
            expected = panel.prices.iloc[: view.t + 1].pct_change().fillna(0.0).to_numpy()
            np.testing.assert_allclose(view.returns, expected, atol=1e-15)
            return None

    run(Recorder(), panel, execute=False)
    assert [s[1] for s in seen] == list(range(1, 41))


def test_ordering_a_closed_market_is_refused(panel) -> None:  # type: ignore[no-untyped-def]
    class Eager(Strategy):
        def decide(self, view):  # type: ignore[no-untyped-def]
            return Decision(target=np.array([0.3, 0.3, 0.4]))

    with pytest.raises(ConfigError, match="market is closed"):
        run(Eager(), panel, execute=False)


def test_no_trade_on_closed_market_equal_weight(panel) -> None:  # type: ignore[no-untyped-def]
    res = run(EqualWeight(), panel)
    closed = ~panel.tradable.to_numpy()
    assert np.all(np.isnan(res.targets.to_numpy()[closed]))
    orders = res.portfolio.orders.records_readable
    for _, row in orders.iterrows():
        assert panel.tradable.loc[row["Timestamp"], row["Column"]]


def test_rwa_weekly_schedule_trades_once_a_week(panel) -> None:  # type: ignore[no-untyped-def]
    res = run(EqualWeight(), panel, execute=False)
    vnq = res.targets["VNQ"].dropna()
    weeks = vnq.index.isocalendar().week.to_numpy() + 100 * vnq.index.isocalendar().year.to_numpy()
    assert len(np.unique(weeks)) == len(weeks)
    assert res.targets["BTC-USD"].notna().sum() == len(panel.dates)


def test_buy_and_hold_trades_once_and_drifts(panel) -> None:  # type: ignore[no-untyped-def]
    res = run(BuyAndHold(), panel)
    assert (res.turnover > 0).sum() == 1
    t0 = int(np.flatnonzero(res.turnover.to_numpy() > 0)[0])
    units = res.weights.iloc[t0].to_numpy() * res.value.iloc[t0] / panel.prices.iloc[t0].to_numpy()
    later = units * panel.prices.iloc[-1].to_numpy() / res.value.iloc[-1]
    np.testing.assert_allclose(later, res.weights.iloc[-1].to_numpy(), atol=1e-12)


def test_fixed_mix_validates_weights(panel) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="`weights`"):
        run(FixedMix({"BTC-USD": 0.5, "VNQ": 0.6}), panel, execute=False)
    with pytest.raises(ConfigError, match="not in the universe"):
        run(FixedMix({"XYZ": 1.0}), panel, execute=False)


def test_initial_weights_are_carried_without_a_free_reset() -> None:
    panel = make_panel(costs={"BTC-USD": 0.001, "ETH-USD": 0.001, "VNQ": 0.01})
    w0 = np.array([0.5, 0.2, 0.3])
    res = run(EqualWeight(), panel, first_decision=10, initial_weights=w0, init_cash=5.0)
    np.testing.assert_allclose(res.weights.iloc[9].to_numpy(), w0, atol=1e-12)
    assert res.fees.iloc[9] == 0.0 and res.fees.iloc[10] > 0  # first trade pays its fees
    # vectorbt's portfolio starts at the row where the carried book is established.
    assert res.portfolio.wrapper.index[0] == panel.dates[9]
    np.testing.assert_allclose(
        held_weights(res.portfolio).to_numpy(), res.weights.to_numpy()[9:], atol=1e-9
    )
    np.testing.assert_allclose(
        res.portfolio.value().to_numpy(), res.value.to_numpy()[9:], rtol=1e-9
    )
    with pytest.raises(ConfigError, match="initial_weights"):
        run(EqualWeight(), panel, first_decision=10, initial_weights=np.array([0.9, 0.9, 0.0]))


def test_scale_kernel_and_twin_agree() -> None:
    from rwafolio.backtest.book import _scale_nb, scale_py

    rng = np.random.default_rng(11)
    for _ in range(300):
        n = int(rng.integers(1, 12))
        target = rng.dirichlet(np.ones(n))
        held = rng.dirichlet(np.ones(n)) * rng.uniform(0.2, 1.0)
        held[rng.random(n) < 0.3] = 0.0
        costs = rng.uniform(0, 0.05, n)
        cash = 1.0 - held.sum()
        a, b = scale_py(target, held, cash, costs), _scale_nb(target, held, cash, costs)
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


def test_memory_behind_the_view_holds_no_future() -> None:
    panel = make_panel(n_days=60)
    leaks: list[float] = []

    class Cheat(Strategy):
        def decide(self, view):  # type: ignore[no-untyped-def]
            base = view.returns
            while getattr(base, "base", None) is not None:
                base = base.base
            future = np.asarray(base)[view.t + 1 :]
            leaks.append(float(np.abs(future).max()) if future.size else 0.0)
            if view.vix is not None:
                vbase = view.vix
                while getattr(vbase, "base", None) is not None:
                    vbase = vbase.base
                fut = np.asarray(vbase)[view.t + 1 :]
                leaks.append(float(np.abs(fut).max()) if fut.size else 0.0)
            return None

    run(Cheat(), panel, execute=False)
    assert len(leaks) > 100 and max(leaks) == 0.0


def test_a_target_that_keeps_cash_keeps_it() -> None:
    panel = make_panel(n_days=30, costs={"BTC-USD": 0.01, "ETH-USD": 0.01, "VNQ": 0.01})

    class HalfCash(Strategy):
        def decide(self, view):  # type: ignore[no-untyped-def]
            return Decision(target=np.array([0.25, 0.25, np.nan]))

    res = run(HalfCash(), panel, first_decision=5)
    w = res.weights.iloc[5].to_numpy()
    # From cash, 0.5 of value pays for the buys and their 1% fee: k (0.5 + 0.01 * 0.5) = 0.5, so
    # each buy is 0.25 / 1.01 of the value before, and the value after is 1 - 0.005 / 1.01.
    np.testing.assert_allclose(w[:2], (0.25 / 1.01) / (1 - 0.005 / 1.01), rtol=1e-9)
    assert 0.49 < 1 - w.sum() < 0.51
    np.testing.assert_allclose(held_weights(res.portfolio).iloc[0].to_numpy(), w, atol=1e-9)

    class Levered(Strategy):
        def decide(self, view):  # type: ignore[no-untyped-def]
            return Decision(target=np.array([0.7, 0.7, np.nan]))

    with pytest.raises(ConfigError, match="sum to"):
        run(Levered(), panel, execute=False)


def test_first_decision_must_leave_the_warmup() -> None:
    from rwafolio.strategies import DynamicLambdaStrategy

    with pytest.raises(ConfigError, match="first_decision"):
        run(DynamicLambdaStrategy(window=20), make_panel(n_days=60), first_decision=5)


def test_buy_and_hold_does_not_rebuy_a_carried_book() -> None:
    panel = make_panel(n_days=60)
    res = run(BuyAndHold(), panel, first_decision=10, initial_weights=np.array([0.2, 0.3, 0.5]))
    assert res.turnover.sum() == 0.0


def test_signal_lag_hides_the_decision_dates_own_data() -> None:
    panel = make_panel(n_days=50)
    seen: list[tuple[int, int, float]] = []

    class Recorder(Strategy):
        def decide(self, view):  # type: ignore[no-untyped-def]
            seen.append((view.t, view.returns.shape[0], float(view.vix[-1])))
            assert len(view.dates) == view.returns.shape[0]
            return None

    run(Recorder(), panel, execute=False, signal_lag=1)
    assert seen[0][0] == 1
    vix = panel.vix.to_numpy()
    for t, rows, last_vix in seen:
        assert rows == t  # returns through t - 1
        assert last_vix == vix[t - 1]
    with pytest.raises(ConfigError, match="signal_lag"):
        run(Recorder(), panel, execute=False, signal_lag=-1)
    from rwafolio.strategies import DynamicLambdaStrategy

    with pytest.raises(ConfigError, match="signal lag"):
        run(DynamicLambdaStrategy(window=20), panel, first_decision=20, signal_lag=1)
    res = run(DynamicLambdaStrategy(window=20), panel, signal_lag=1, execute=False)
    assert res.decisions.index[0] == panel.dates[21]


def test_held_weights_equal_vectorbt_accessors(panel) -> None:  # type: ignore[no-untyped-def]
    """The weights read from vectorbt's fills are its own ``asset_value / value`` (up to its
    snapping of a cash balance within 1e-12 of zero to zero: ~1e-13 here)."""
    from rwafolio.backtest.execution import held_weights

    for strat, kw in [
        (DynamicLambdaStrategy(window=20), {}),
        (DynamicLambdaStrategy(window=20), {"initial_weights": np.array([0.3, 0.3, 0.3]),
                                            "first_decision": 40, "init_cash": 7.0}),
    ]:  # fmt: skip
        pf = run(strat, panel, **kw).portfolio
        reference = pf.asset_value(group_by=False).div(pf.value(), axis=0)
        got = held_weights(pf)
        assert got.index.equals(reference.index) and list(got.columns) == list(reference.columns)
        np.testing.assert_allclose(got.to_numpy(), reference.to_numpy(), rtol=0, atol=1e-11)
