"""Strategy-aware Monte Carlo: the compiled kernel replays the engine on a real future, its
estimator twin matches the Python estimator, and forecasts are seeded and calibrated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numba import njit

from rwafolio.backtest import run
from rwafolio.backtest.book import drift_nb, trade_nb
from rwafolio.exceptions import ConfigError, DataError
from rwafolio.optimize._twins import lw_correlation_py
from rwafolio.optimize.returns import BlackLitterman
from rwafolio.risk._strategy_kernels import strategy_paths_nb
from rwafolio.risk.strategy_mc import (
    calendar_ahead,
    strategy_args,
    strategy_forecast,
    strategy_kernel_inputs,
)
from rwafolio.strategies import DynamicLambdaStrategy
from rwafolio.strategies._decide_kernels import decide_nb, lw_correlation_nb
from tests.backtest.conftest import make_panel


def AS_THEY_WERE(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's ``mean`` and ``filters`` that draw the pool's rows unchanged."""
    return np.zeros(n), np.ascontiguousarray(np.array([[0.0], [0.0], [1.0], [1.0]]) * np.ones(n))


def test_lw_twin() -> None:
    gen = np.random.default_rng(0)
    x = gen.normal(0, 0.02, (30, 4))
    x[:, 3] = 0.0  # a flat stablecoin keeps zero rows
    mu, cov = lw_correlation_nb(x)
    ref_mu, ref_cov = lw_correlation_py(x)  # numpy twin (ledoit_wolf calls the kernel)
    np.testing.assert_allclose(mu, ref_mu, rtol=1e-12)
    np.testing.assert_allclose(cov, ref_cov, rtol=1e-10, atol=1e-18)


MEANS = {
    "default": {},  # Black-Litterman, prior worth 365 observations, equal-weight reference
    "window": {"mean_estimator": None},
    "bl-fixed": {
        "mean_estimator": BlackLitterman(
            prior_obs=100.0, reference={"BTC-USD": 0.5, "ETH-USD": 0.3, "VNQ": 0.2}, lam=3.0
        )
    },
}


@pytest.mark.parametrize("mean", list(MEANS))
@pytest.mark.parametrize("mode", ["per_asset", "portfolio", "none"])
def test_kernel_replays_the_engine_on_the_real_future(mode: str, mean: str) -> None:
    panel = make_panel(n_days=160, seed=3)
    strat = DynamicLambdaStrategy(
        threshold=0.02, threshold_mode=mode, stress_vix=25.0, **MEANS[mean]
    )
    res = run(strat, panel, execute=False, progress=False)
    pos, h = 90, 40
    k = strategy_kernel_inputs(res, pos, h)
    a = k["arrays"]
    # one "simulated" path: the rows that really followed, with the index's real log changes
    pool = np.ascontiguousarray(a.returns[pos + 1 : pos + h + 1])
    dlv = np.log(a.vix[pos + 1 : pos + h + 1] / a.vix[pos : pos + h])
    out, mdd, paid = np.empty(1), np.empty(1), np.empty(1)
    strategy_paths_nb(
        pool, *AS_THEY_WERE(pool.shape[1]), dlv, np.arange(h, dtype=np.int64), k["window0"],
        float(a.vix[pos]), k["w0"], k["w0"], k["scheduled"], k["tradable"], *strategy_args(a),
        out, mdd, paid,
    )  # fmt: skip
    v = res.value.to_numpy()
    seg = v[pos : pos + h + 1] / v[pos]
    assert out[0] == pytest.approx(seg[-1] - 1, abs=1e-8)
    assert mdd[0] == pytest.approx((seg / np.maximum.accumulate(seg) - 1).min(), abs=1e-8)
    # fees in units of the starting value: fee fraction x value before that trade
    c = res.fees.to_numpy()[pos + 1 : pos + h + 1]
    assert paid[0] == pytest.approx(np.sum(c * seg[1:] / (1 - c)), abs=1e-10)
    assert paid[0] > 0


def test_forecast_seeded_and_fees_counted() -> None:
    panel = make_panel(n_days=200, seed=1)
    res = run(DynamicLambdaStrategy(), panel, execute=False, progress=False)
    f = strategy_forecast(res, 150, horizon=10, n_scenarios=600, seed=4, workers=2)
    g = strategy_forecast(res, 150, horizon=10, n_scenarios=600, seed=4, workers=1)
    np.testing.assert_array_equal(f.outcomes, g.outcomes)
    assert f.mean_cost > 0 and f.cvar[0] <= f.var[0] < 0
    assert f.distribution == "strategy-fhs"


def test_calendar_ahead_repeats_weeks_past_the_end() -> None:
    m = np.arange(20)[:, None] % 7 == 0
    got = calendar_ahead(m, 17, 5)  # rows 18, 19, then 20 -> 13, 21 -> 14, 22 -> 15
    np.testing.assert_array_equal(got[:, 0], m[[18, 19, 13, 14, 15], 0])


def test_unsupported_strategies_are_named() -> None:
    from rwafolio.optimize import SampleEstimator

    panel = make_panel(n_days=120)
    res = run(
        DynamicLambdaStrategy(estimator=SampleEstimator()), panel, execute=False, progress=False
    )
    with pytest.raises(ConfigError, match="estimator"):
        strategy_forecast(res, 80, horizon=5, n_scenarios=10)


def test_rolling_and_evaluation_use_the_strategy_target() -> None:
    from rwafolio.risk import rolling_forecasts
    from rwafolio.risk.evaluation import EvaluationSpec, evaluate_risk
    from rwafolio.risk.rolling import date_seed

    panel = make_panel(n_days=200, seed=2)
    res = run(DynamicLambdaStrategy(), panel, execute=False, progress=False)
    rf = rolling_forecasts(
        res, horizon=10, every=40, n_scenarios=300, levels=(0.95,), rng=5, target="strategy"
    )
    row = rf.table.iloc[1]
    f = strategy_forecast(
        res, int(row["position"]), horizon=10, n_scenarios=300, levels=(0.95,),
        seed=date_seed(5, 40),
    )  # fmt: skip
    assert row["var_95"] == f.var[0] and row["cvar_95"] == f.cvar[0]
    ev = evaluate_risk(res, (EvaluationSpec(10, 0.95, "strategy", 200),), rng=1)
    assert ev.target == "strategy" and ev.notes == ()
    assert ev.risk_tests()[0]["target"] == "strategy"


@njit(cache=True)
def _paths_one_pass(pool, dlogvix, idx, window0, vix0, w0, sched, trad, a_args, out):  # type: ignore[no-untyped-def]
    """The kernel's loop before the rolling sums: ``decide_nb`` on the whole window each day."""
    stress_vix, lam0, eta, opt_costs, rates, box_lo, box_hi, ppy, tau, mode, po, w_ref, rl = a_args
    horizon, n = sched.shape
    win = window0.shape[0]
    buf = np.empty((win + horizon, n))
    buf[:win] = window0
    filled = np.zeros(n)
    for m in range(out.shape[0]):
        w, warm, vix, level = w0.copy(), w0.copy(), vix0, 1.0
        cash = 1.0 - w.sum()
        for t in range(horizon):
            src = idx[m * horizon + t]
            r = pool[src].copy()
            for i in range(n):
                if not trad[t, i]:
                    r[i] = 0.0
            vix = vix * np.exp(dlogvix[src])
            buf[win + t] = r
            w, cash, growth = drift_nb(w, cash, r)
            level *= growth
            may = (sched[t] | (vix > stress_vix)) & trad[t]
            if may.any():
                target, warm = decide_nb(
                    buf[t + 1 : t + 1 + win], vix, w, may, lam0, eta, opt_costs, box_lo,
                    box_hi, ppy, tau, mode, warm, po, w_ref, rl,
                )  # fmt: skip
                traded = ~np.isnan(target) & trad[t]
                if traded.any():
                    for i in range(n):
                        filled[i] = target[i] if traded[i] else 0.0
                    w, cash, post, _f, _t, _s = trade_nb(w, cash, filled, traded, rates)
                    level *= post
        out[m] = level - 1.0


@pytest.mark.parametrize("case", ["fhs", "flat"])
def test_rolling_estimates_change_no_path(case: str) -> None:
    """The kernel (estimates from rolling sums) against the same loop estimating from the whole
    window each day, on 300 bootstrapped 30-day paths: the same net values."""
    panel = make_panel(n_days=200, seed=5)
    res = run(DynamicLambdaStrategy(stress_vix=27.0), panel, execute=False, progress=False)
    pos, h, m = 150, 30, 300
    k = strategy_kernel_inputs(res, pos, h)
    a = k["arrays"]
    gen = np.random.default_rng(9)
    pool = np.ascontiguousarray(a.returns[60 : pos + 1] - a.returns[60 : pos + 1].mean(axis=0))
    dlv = np.log(a.vix[60 : pos + 1] / a.vix[59:pos])
    window0 = k["window0"].copy()
    if case == "flat":  # a flat asset: every window falls back to the one-pass estimator
        pool[:, 2] = 0.0
        window0[:, 2] = 0.0
    idx = gen.integers(0, pool.shape[0], m * h).astype(np.int64)
    a_args = strategy_args(a)
    out, mdd, paid = np.empty(m), np.empty(m), np.empty(m)
    strategy_paths_nb(
        pool, *AS_THEY_WERE(pool.shape[1]), dlv, idx, window0, float(a.vix[pos]), k["w0"],
        k["w0"], k["scheduled"], k["tradable"], *a_args, out, mdd, paid,
    )  # fmt: skip
    ref = np.empty(m)
    _paths_one_pass(
        pool, dlv, idx, window0, float(a.vix[pos]), k["w0"], k["scheduled"], k["tradable"],
        a_args, ref,
    )  # fmt: skip
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-11)
    assert np.std(out) > 0.01  # the paths differ, and trade
    assert np.mean(paid > 0) > 0.5


def test_rolling_strategy_forecasts_do_not_depend_on_threads() -> None:
    """One chunk per date: the dates run on threads, each with its own seed."""
    from rwafolio.risk import rolling_forecasts

    panel = make_panel(n_days=200, seed=2)
    res = run(DynamicLambdaStrategy(), panel, execute=False, progress=False)
    kw = {"horizon": 10, "every": 20, "n_scenarios": 200, "rng": 5, "target": "strategy"}
    one = rolling_forecasts(res, workers=1, **kw).table
    two = rolling_forecasts(res, workers=2, **kw).table
    assert one["forecast_ok"].sum() >= 5
    pd.testing.assert_frame_equal(one, two)


@pytest.mark.parametrize("innovations", ["fhs", "fhs-static", "bootstrap"])
def test_paths_carry_the_filtered_volatility_forward(innovations: str) -> None:
    """With nothing allowed to trade, each path's value is the held book drifting on its
    simulated returns: recompute those from the same bootstrap rows with an independent numpy
    loop of the variance recursion (FHS carries it forward over open days, static FHS holds it,
    the bootstrap draws the rows as they were) and compare every path."""
    from rwafolio.risk.generators import fhs_filtered
    from rwafolio.risk.scenarios import bootstrap_indices

    panel = make_panel(n_days=200, seed=6)
    res = run(DynamicLambdaStrategy(), panel, execute=False, progress=False)
    pos, h, m = 150, 12, 400
    k = strategy_kernel_inputs(res, pos, h)
    a = k["arrays"]
    hist = a.returns[1 : pos + 1]
    mu = np.full(hist.shape[1], 2e-4)
    if innovations == "bootstrap":
        e, filters = (
            hist - hist.mean(axis=0),
            np.array([[0.0], [0.0], [1.0], [1.0]]) * np.ones(len(mu)),
        )
    else:
        e, filters = fhs_filtered(hist)
        if innovations == "fhs-static":
            filters[:3] = [[0.0], [0.0], [1.0]]
    e, filters = np.ascontiguousarray(e), np.ascontiguousarray(filters)
    idx = bootstrap_indices(np.random.default_rng(3), m, h, e.shape[0], 5)
    never = np.zeros_like(k["scheduled"])
    trad = k["tradable"]
    out, mdd, paid = np.empty(m), np.empty(m), np.empty(m)
    strategy_paths_nb(
        e, mu, filters, np.zeros(e.shape[0]), idx, k["window0"], 20.0, k["w0"], k["w0"], never,
        trad, np.inf, *strategy_args(a)[1:], out, mdd, paid,
    )  # fmt: skip
    z = e[idx.reshape(m, h)]  # (m, h, n)
    var = np.broadcast_to(filters[3], (m, e.shape[1])).copy()
    growth = np.ones((m, e.shape[1]))
    for t in range(h):
        shock = np.where(trad[t], np.sqrt(var) * z[:, t], 0.0)
        growth *= 1.0 + np.where(trad[t], mu + shock, 0.0)
        var = np.where(trad[t], filters[0] + filters[1] * shock**2 + filters[2] * var, var)
    w0 = k["w0"]
    expect = growth @ w0 + (1.0 - w0.sum()) - 1.0
    np.testing.assert_allclose(out, expect, rtol=0, atol=1e-12)
    assert np.all(paid == 0.0)
    spread = np.std(out)
    assert spread > 0.005
    if innovations == "fhs":  # the variance moved along the paths: not the static paths
        static = filters.copy()
        static[:3] = [[0.0], [0.0], [1.0]]
        out2 = np.empty(m)
        strategy_paths_nb(
            e, mu, static, np.zeros(e.shape[0]), idx, k["window0"], 20.0, k["w0"], k["w0"],
            never, trad, np.inf, *strategy_args(a)[1:], out2, mdd, paid,
        )  # fmt: skip
        assert np.max(np.abs(out - out2)) > 1e-4


def test_the_filter_reaches_the_strategy_target() -> None:
    """``filter`` and ``ewma_lambda`` choose the strategy-aware FHS's variance filter (they
    reached only the top-down forecast before); a bad one is a typed error naming it."""
    panel = make_panel(n_days=200, seed=1)
    res = run(DynamicLambdaStrategy(), panel, execute=False, progress=False)
    kw = {"horizon": 10, "n_scenarios": 300, "seed": 4}
    base = strategy_forecast(res, 150, **kw)  # type: ignore[arg-type]
    fast = strategy_forecast(res, 150, ewma_lambda=0.8, **kw)  # type: ignore[arg-type]
    static = strategy_forecast(res, 150, innovations="fhs-static", **kw)  # type: ignore[arg-type]
    assert not np.array_equal(base.outcomes, fast.outcomes)
    assert not np.array_equal(base.outcomes, static.outcomes)
    with pytest.raises(ConfigError, match="filter"):
        strategy_forecast(res, 150, filter="arima", **kw)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="innovations"):
        strategy_forecast(res, 150, innovations="normal", **kw)  # type: ignore[arg-type]


def _calendar_rows_loop(idx, horizon, block, n_hist, hist_open, sim_open):  # type: ignore[no-untyped-def]
    """calendar_rows written as the plain loop over paths, blocks and days."""
    out = np.empty(idx.shape[0], dtype=np.int64)
    for m in range(idx.shape[0] // horizon):
        for t in range(horizon):
            b0 = (t // block) * block
            u = idx[m * horizon + b0]
            same = [r for r in range(n_hist) if np.array_equal(hist_open[r], sim_open[t])]
            if len(same) < block:
                same = [r for r in range(n_hist) if np.all(hist_open[r] | ~sim_open[t])]
            before = sum(np.array_equal(sim_open[s], sim_open[t]) for s in range(b0, t))
            out[m * horizon + t] = same[(u * len(same) // n_hist + before) % len(same)]
    return out


def test_calendar_rows_draw_days_of_the_same_calendar() -> None:
    from rwafolio.risk.scenarios import bootstrap_indices
    from rwafolio.risk.strategy_mc import calendar_rows

    n_hist, horizon, block, m = 300, 12, 5, 400
    days = np.arange(n_hist)
    etf = (days % 7) < 5  # weekdays
    etf[[40, 41, 200]] = False  # holidays
    hist_open = np.column_stack([np.ones(n_hist, dtype=bool), etf, etf])
    sim_days = np.arange(horizon) + 3  # starts on a Thursday-like day
    sim_open = np.column_stack([np.ones(horizon, dtype=bool), sim_days % 7 < 5, sim_days % 7 < 5])
    sim_open[7, 2] = False  # a pattern the history never had: crypto and one ETF open
    idx = bootstrap_indices(np.random.default_rng(2), m, horizon, n_hist, block)
    rows = calendar_rows(idx, horizon, block, n_hist, hist_open, sim_open)
    np.testing.assert_array_equal(
        rows, _calendar_rows_loop(idx, horizon, block, n_hist, hist_open, sim_open)
    )
    grid = rows.reshape(m, horizon)
    for t in range(horizon):
        drawn = hist_open[grid[:, t]]
        if t == 7:  # unseen: days on which at least its open markets were open
            assert np.all(drawn[:, :2])
        else:  # an open market never draws a closed day
            assert np.all(drawn == sim_open[t])
    # weekdays of a block are consecutive past weekdays; block starts are spread over the history
    weekdays = np.flatnonzero(np.all(hist_open, axis=1))
    pos = np.searchsorted(weekdays, grid[:, 0])
    assert np.all(np.isin(np.searchsorted(weekdays, grid[:, 1]) - pos, [1, 1 - len(weekdays)]))
    counts = np.bincount(grid[:, 0], minlength=n_hist)[weekdays]
    assert counts.sum() == m and counts.max() <= 8  # about 2 each: no day drawn many times
    # one calendar for every day: the rows are the bootstrap's own
    every = np.ones((n_hist, 3), dtype=bool)
    np.testing.assert_array_equal(
        calendar_rows(idx, horizon, block, n_hist, every, np.ones((horizon, 3), dtype=bool)), idx
    )


def test_fhs_filters_each_asset_on_its_open_days() -> None:
    """With ``open_days``, an asset's residuals and filter are those of its open days alone (the
    unmasked FHS on the days it traded), and its closed days get zero residuals."""
    from rwafolio.risk.generators import fhs_filtered

    gen = np.random.default_rng(8)
    x = gen.standard_t(4, (400, 3)) * np.array([0.04, 0.01, 0.002])
    open_days = np.ones_like(x, dtype=bool)
    open_days[:, 1] = np.arange(400) % 7 < 5
    x[~open_days] = 0.0  # a closed market's return, as the panel has it
    e, filters = fhs_filtered(x, open_days=open_days)
    for i in range(3):
        alone_e, alone_f = fhs_filtered(x[open_days[:, i], i : i + 1])
        np.testing.assert_array_equal(e[open_days[:, i], i], alone_e[:, 0])
        np.testing.assert_array_equal(filters[:, i], alone_f[:, 0])
        assert np.all(e[~open_days[:, i], i] == 0.0)
    with pytest.raises(DataError, match="open_days"):
        fhs_filtered(x, open_days=open_days[:10])


def test_strategy_target_records_the_innovations_it_ran() -> None:
    """The strategy target has no normal draws: asked for "normal" it runs FHS and its label
    says FHS (it said "ewma-normal")."""
    from rwafolio.risk import rolling_forecasts

    panel = make_panel(n_days=200, seed=2)
    res = run(DynamicLambdaStrategy(), panel, execute=False, progress=False)
    kw = {"horizon": 10, "every": 60, "n_scenarios": 200, "rng": 5, "target": "strategy"}
    normal = rolling_forecasts(res, innovations="normal", **kw)  # type: ignore[arg-type]
    fhs = rolling_forecasts(res, **kw)  # type: ignore[arg-type]
    assert normal.distribution == fhs.distribution == "ewma-fhs"
    np.testing.assert_array_equal(normal.table["var_95"], fhs.table["var_95"])
