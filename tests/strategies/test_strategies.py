"""Schedules, the threshold rule, DynamicLambdaStrategy and the benchmarks on the engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rwafolio.backtest import run
from rwafolio.exceptions import ConfigError
from rwafolio.optimize import kkt_residual
from rwafolio.strategies import (
    DynamicLambdaStrategy,
    apply_threshold,
    benchmark_suite,
    schedule_mask,
)
from tests.backtest.conftest import make_panel


def test_schedule_masks_by_hand() -> None:
    dates = pd.date_range("2024-01-01", periods=40, freq="D")  # Monday
    open_ = np.asarray(dates.day_of_week < 5)
    weekly = schedule_mask(dates, open_, "weekly")
    assert list(dates[weekly].strftime("%Y-%m-%d")) == [
        "2024-01-01",
        "2024-01-08",
        "2024-01-15",
        "2024-01-22",
        "2024-01-29",
        "2024-02-05",
    ]
    open2 = open_.copy()
    open2[7] = False  # Monday holiday: the week's first open day is Tuesday
    assert dates[schedule_mask(dates, open2, "weekly")][1] == pd.Timestamp("2024-01-09")
    monthly = schedule_mask(dates, open_, "monthly")
    assert list(dates[monthly].strftime("%Y-%m-%d")) == ["2024-01-01", "2024-02-01"]
    every2 = schedule_mask(dates, open_, "every2")
    block = (dates - pd.Timestamp("1970-01-01")).days // 2
    expected = [
        i
        for i in range(40)
        if open_[i] and not any(open_[j] and block[j] == block[i] for j in range(i))
    ]
    assert np.flatnonzero(every2).tolist() == expected
    # A sub-panel (a walk-forward fold) trades on the same days as the whole panel.
    np.testing.assert_array_equal(schedule_mask(dates[13:], open_[13:], "every2"), every2[13:])
    assert not schedule_mask(dates, open_, "never").any()
    with pytest.raises(ConfigError, match="schedule"):
        schedule_mask(dates, open_, "hourly")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=2, max_size=8),
    st.lists(st.floats(0, 1), min_size=2, max_size=8),
    st.floats(0, 0.2),
)
def test_portfolio_mode_trades_all_or_nothing(a: list[float], b: list[float], tau: float) -> None:
    n = min(len(a), len(b))
    proposed, held = np.array(a[:n]), np.array(b[:n])
    movable = np.ones(n, dtype=bool)
    target, skipped, _ = apply_threshold(
        proposed, held, movable, tau, "portfolio", [f"s{i}" for i in range(n)], lambda f: proposed
    )
    if np.any(np.abs(proposed - held) > tau):
        np.testing.assert_array_equal(target, proposed)
        assert skipped == []
    else:
        assert np.all(np.isnan(target))
        assert len(skipped) == int(np.sum(proposed != held))


def test_per_asset_mode_holds_small_changes_and_resolves() -> None:
    held = np.array([0.30, 0.30, 0.40])
    proposed = np.array([0.305, 0.10, 0.595])
    calls: list[np.ndarray] = []

    def resolve(frozen: np.ndarray) -> np.ndarray:
        calls.append(frozen.copy())
        w = proposed.copy()
        w[frozen] = held[frozen]
        w[~frozen] += (1 - w.sum()) / (~frozen).sum()
        return w

    target, skipped, n = apply_threshold(
        proposed, held, np.ones(3, bool), 0.01, "per_asset", ["a", "b", "c"], resolve
    )
    assert n == 1 and calls[0].tolist() == [True, False, False]
    assert np.isnan(target[0]) and skipped[0][0] == "a"
    np.testing.assert_allclose(np.nansum(target) + held[0], 1.0)


def _solved_decisions(res):  # type: ignore[no-untyped-def]
    return res.decisions[res.decisions["solver"] != "none"]


@pytest.mark.parametrize("mode", ["per_asset", "portfolio", "none"])
def test_dynamic_strategy_is_feasible_and_optimal(mode: str) -> None:
    panel = make_panel(n_days=150, costs={"BTC-USD": 0.001, "ETH-USD": 0.001, "VNQ": 0.01})
    strat = DynamicLambdaStrategy(window=20, threshold_mode=mode)
    res = run(strat, panel)
    d = _solved_decisions(res)
    assert len(d) > 100
    assert d["kkt_residual"].max() <= 1e-8
    assert set(d["solver"]) <= {"fast", "reference"}
    # Long only, fully invested after the first trade.
    w = res.weights.to_numpy()[res.turnover.to_numpy().nonzero()[0][0] :]
    assert w.min() >= -1e-12
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-9)
    # No order where the market is closed.
    closed = ~panel.tradable.to_numpy()
    assert np.all(np.isnan(res.targets.to_numpy()[closed]))
    if mode == "per_asset":
        moved = np.abs(res.weights.to_numpy() - res.weights_before.to_numpy())
        traded = ~np.isnan(res.targets.to_numpy())
        # Traded assets moved past the band (up to the fee scaling of the self-financing step).
        assert np.all(moved[traded] > 0.01 - 2e-3)


def test_decision_is_exactly_optimal_under_the_freeze() -> None:
    """Re-derive one decision by hand: estimates, lam, freeze, then check KKT independently."""
    panel = make_panel(n_days=80)
    # The model preset: the hand derivation below uses the sample mean and window amortization.
    strat = DynamicLambdaStrategy.model_preset().set_params(
        window=25, threshold_mode="none", stress_vix=None
    )
    res = run(strat, panel, execute=False)
    date = res.decisions.index[30]
    t = panel.dates.get_loc(date)
    rets = panel.returns().to_numpy()[:t][-25:]
    mu, cov = strat.estimator_.estimate(rets)
    R, Sigma = mu * 365, cov * 365
    lam = 2.0 * (1 + 0.05 * panel.vix.iloc[t])
    np.testing.assert_allclose(res.decisions.loc[date, "lam"], lam)
    held = res.weights_before.loc[date].to_numpy()
    lo, hi = np.zeros(3), np.ones(3)
    frozen = ~(strat.scheduled_[t] & panel.tradable.to_numpy()[t])
    lo[frozen] = hi[frozen] = held[frozen]
    target = res.targets.loc[date].to_numpy()
    w = np.where(np.isnan(target), held, target)
    # Targets are scaled by the fee factor k; undo it on the traded assets before checking.
    traded = ~np.isnan(target)
    if traded.any():
        free = 1 - held[~traded].sum()
        w[traded] = target[traded] / target[traded].sum() * free
    np.testing.assert_allclose(strat.opt_costs_, panel.universe.costs / (25 / 365))
    assert kkt_residual(w, R, Sigma, strat.opt_costs_, held, lam, lo, hi) <= 1e-7


@pytest.mark.parametrize("mean", ["model", "fixed_lam_prior"])
def test_risk_falls_when_vix_rises(mean: str) -> None:
    """Same returns, two VIX paths: the high-VIX run holds a less risky book.

    For the model's sample mean, and for a Black-Litterman prior priced at a fixed lam (a prior
    priced at the decision's own lam, the default, moves with lam and leaves only the window's
    tilt to shrink)."""
    from rwafolio.optimize.returns import BlackLitterman

    panel = make_panel(n_days=200, seed=5)
    est = None if mean == "model" else BlackLitterman(prior_obs=365.0, lam=4.0)
    strat = DynamicLambdaStrategy.model_preset().set_params(
        threshold_mode="none", mean_estimator=est
    )
    calm = run(strat, panel, execute=False)
    import copy
    import dataclasses

    stressed_panel = dataclasses.replace(panel, vix=panel.vix * 4)
    stressed = run(copy.deepcopy(strat), stressed_panel, execute=False)
    rets = panel.returns().to_numpy()

    def realized_var(res):  # type: ignore[no-untyped-def]
        w = res.weights.to_numpy()[:-1]
        return float(np.var(np.sum(w * rets, axis=1)[40:]))

    assert realized_var(stressed) < realized_var(calm)
    assert stressed.decisions["lam"].mean() > calm.decisions["lam"].mean()


def test_strategy_needs_a_vix_unless_eta_is_zero() -> None:
    panel = make_panel(vix=False)
    with pytest.raises(ConfigError, match="volatility index"):
        run(DynamicLambdaStrategy(), panel, execute=False)
    res = run(DynamicLambdaStrategy(eta=0.0), panel, execute=False)
    np.testing.assert_allclose(res.decisions["lam"], 2.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"window": 1}, "window"),
        ({"lam0": -1.0}, "lam0"),
        ({"threshold": 2.0}, "threshold"),
        ({"threshold_mode": "sometimes"}, "threshold_mode"),
        ({"cost_mode": "free"}, "cost_mode"),
        ({"bounds": {"BTC-USD": (0.5, 0.2)}}, "bounds"),
        ({"bounds": {"XYZ": (0.0, 1.0)}}, "not in the universe"),
        ({"schedules": {"rwa": "hourly"}}, "schedules"),
        ({"cost_horizon": 0.0}, "cost_horizon"),
    ],
)
def test_bad_parameters_name_themselves(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        run(DynamicLambdaStrategy(**kwargs), make_panel(n_days=60), execute=False)


def test_sklearn_parameter_contract() -> None:
    s = DynamicLambdaStrategy(lam0=3.0, window=20)
    p = s.get_params()
    assert p["lam0"] == 3.0 and p["window"] == 20 and p["estimator"] is None
    s.set_params(eta=0.1)
    assert s.eta == 0.1
    with pytest.raises(ConfigError):
        s.set_params(nope=1)


def test_cost_blind_trades_more_and_pays_more() -> None:
    panel = make_panel(n_days=250, costs={"BTC-USD": 0.002, "ETH-USD": 0.002, "VNQ": 0.02})
    strat = DynamicLambdaStrategy(window=20, threshold=0.0, threshold_mode="none")
    suite = benchmark_suite(strat)
    aware = run(strat, panel, first_decision=20, execute=False)
    blind = run(suite["cost_blind"], panel, first_decision=20, execute=False)
    assert blind.turnover.sum() > aware.turnover.sum()
    assert blind.fees.sum() > aware.fees.sum()
    const = run(suite["constant_lambda"], panel, first_decision=20, execute=False)
    # lam0 (1 + eta * 20): the dynamic rule at the VIX's long-run average
    np.testing.assert_allclose(const.decisions["lam"].to_numpy(), 2.0 * (1 + 0.05 * 20))


def test_solver_failure_falls_back_and_never_kills_the_run(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import rwafolio.optimize.solver as solver_mod

    real = solver_mod.solve_arrays
    calls = {"n": 0}

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] % 7 == 0:
            kwargs["max_iter"] = 0  # the fast solver cannot finish: the reference answers
        return real(*args, **kwargs)

    monkeypatch.setattr("rwafolio.optimize.solver.solve_arrays", flaky)
    # The Python path's fallback chain (the compiled loop hands such dates to it).
    res = run(
        DynamicLambdaStrategy(window=20), make_panel(n_days=120), execute=False, loop="python"
    )
    assert (res.decisions["fallback_reason"] != "").any()
    assert res.decisions["kkt_residual"].max() <= 1e-7
    assert res.solver_stats()["fallbacks"] > 0


def test_hold_fallback_does_not_trade(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import rwafolio.optimize.solver as solver_mod

    real = solver_mod.solve_arrays

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        sol = real(*args, **kwargs)
        import dataclasses

        return dataclasses.replace(sol, solver="hold", status="failed", fallback_reason="forced")

    monkeypatch.setattr("rwafolio.optimize.solver.solve_arrays", failing)
    res = run(DynamicLambdaStrategy(window=20), make_panel(n_days=80), execute=False, loop="python")
    assert res.turnover.sum() == 0.0
    assert (res.decisions["solver"] == "hold").all()
    assert res.solver_stats()["fallbacks"] == len(res.decisions)


def test_infeasible_hold_under_caps_falls_back_without_killing_the_run() -> None:
    panel = make_panel(n_days=200, seed=0)
    caps = {"BTC-USD": (0.0, 0.4), "ETH-USD": (0.0, 0.4), "VNQ": (0.0, 0.4)}
    # The model preset trades daily, so drifted books hit the caps (the defaults rarely trade).
    strat = DynamicLambdaStrategy.model_preset().set_params(window=20, bounds=caps)
    res = run(strat, panel, execute=False)
    assert len(res.decisions) == 200 - 20
    reasons = res.decisions["fallback_reason"]
    assert reasons.str.contains("portfolio rule used").any()  # the per-asset hold was infeasible
    assert reasons.str.contains("no fully invested portfolio").any()  # frozen + caps < 1: hold
    held = res.decisions["solver"] == "hold"
    assert (res.turnover.loc[held[held].index] == 0).all()
    live = res.weights.to_numpy()[25:]
    np.testing.assert_allclose(live.sum(axis=1), 1.0, atol=1e-9)


def test_stress_override_lets_rwa_trade_daily() -> None:
    import dataclasses

    panel = make_panel(n_days=120)
    calm = dataclasses.replace(panel, vix=panel.vix * 0 + 15.0)
    stressed = dataclasses.replace(panel, vix=panel.vix * 0 + 40.0)
    kw = {"window": 20, "threshold_mode": "none", "eta": 0.0}
    # The model preset: the defaults' utility rule would hold back most daily trades.
    a = run(DynamicLambdaStrategy.model_preset().set_params(**kw), calm, execute=False)
    b = run(DynamicLambdaStrategy.model_preset().set_params(**kw), stressed, execute=False)
    vnq_open = panel.tradable["VNQ"].to_numpy()[20:]
    assert a.targets["VNQ"].notna().sum() < 0.3 * vnq_open.sum()  # weekly
    assert b.targets["VNQ"].notna().sum() == vnq_open.sum()  # every open day
    c = run(
        DynamicLambdaStrategy.model_preset().set_params(**kw, stress_vix=None),
        stressed,
        execute=False,
    )
    assert c.targets["VNQ"].notna().sum() == a.targets["VNQ"].notna().sum()


def test_risk_aversion_callables_are_checked_and_smoothing_is_used() -> None:
    from rwafolio.optimize import VixLinear

    panel = make_panel(n_days=60)
    with pytest.raises(Exception, match="risk-aversion"):
        run(DynamicLambdaStrategy(window=20, risk_aversion=lambda v: -1.0), panel, execute=False)
    smooth = VixLinear(lam0=2.0, eta=0.05, smoothing=5.0)
    res = run(DynamicLambdaStrategy(window=20, risk_aversion=smooth), panel, execute=False)
    t = panel.dates.get_loc(res.decisions.index[10])
    expected = smooth.path(panel.vix.to_numpy()[: t + 1])[-1]  # past-only path
    np.testing.assert_allclose(res.decisions["lam"].iloc[10], expected)
