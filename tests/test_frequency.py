"""The sensitivity path along a backtest and the update-frequency study, on the small panel."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from rwafolio.backtest import run
from rwafolio.exceptions import ConfigError, DataError
from rwafolio.frequency import (
    _baseline,
    costs_risk_figure,
    frequency_report,
    frequency_study,
    schedule_grid,
    utility_loss,
)
from rwafolio.sensitivity_path import (
    regime_summary,
    sensitivity_at,
    sensitivity_path,
    sensitivity_report,
    tornado_figure,
)
from rwafolio.strategies.dynamic import MODEL_PRESET, DynamicLambdaStrategy
from tests.backtest.conftest import make_panel


def cvx_weights(R, Sigma, C, p, lam, lo, hi):
    """Independent reference: the model written directly in cvxpy."""
    import cvxpy as cp

    ev, V = np.linalg.eigh(0.5 * (Sigma + Sigma.T))
    G = V * np.sqrt(np.clip(ev, 0, None))
    w = cp.Variable(len(R))
    obj = R @ w - lam * cp.sum_squares(G.T @ w) - C @ cp.abs(w - p)
    cp.Problem(cp.Maximize(obj), [cp.sum(w) == 1, w >= lo, w <= hi]).solve(
        solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11
    )
    return np.asarray(w.value, dtype=float)


@pytest.fixture(scope="module")
def panel():
    return make_panel(160, seed=3)


@pytest.fixture(scope="module")
def result(panel):
    # The model preset: the hand derivations below use its sample mean and window amortization.
    return run(DynamicLambdaStrategy.model_preset(), panel, execute=False)


def test_sensitivity_at_rebuilds_the_strategy_problem(result) -> None:
    date = result.estimate_dates[40]
    sens, ranking = sensitivity_at(result, date)
    j = 40
    ppy = result.periods_per_year
    R, S = result.mu[j] * ppy, result.cov[j] * ppy
    # The strategy amortizes one-off costs over its window: C / (window / ppy) years.
    C = result.panel.universe.costs / (30 / ppy)
    p = result.weights_before.loc[date].to_numpy()
    lam = 2.0 * (1 + 0.05 * result.panel.vix.loc[date])
    assert sens.lam == pytest.approx(lam, rel=1e-12)
    w = cvx_weights(R, S, C, p, lam, np.zeros(3), np.ones(3))
    np.testing.assert_allclose(sens.weights.to_numpy(), w, atol=1e-6)
    # A typical move of R_i is sigma_i * sqrt(ppy / window), window 30.
    mean_rows = ranking.set_index("input").loc[[f"R[{s}]" for s in result.panel.symbols]]
    np.testing.assert_allclose(
        mean_rows["move"], np.sqrt(np.diag(S)) * np.sqrt(ppy / 30), rtol=1e-10
    )
    assert ranking.attrs["date"] == date
    # The derivative w.r.t. the first free asset's mean against a central difference by cvxpy.
    free = np.flatnonzero(sens.state.to_numpy() == "free")
    assert len(free) >= 2, sens.state
    i, h = int(free[0]), 1e-4
    e = np.eye(3)[i] * h
    fd = (cvx_weights(R + e, S, C, p, lam, 0, 1) - cvx_weights(R - e, S, C, p, lam, 0, 1)) / (2 * h)
    np.testing.assert_allclose(sens.jacobian.iloc[i].to_numpy(), fd, atol=1e-3)
    assert np.abs(fd).max() > 0.01


def test_sensitivity_at_errors(result) -> None:
    with pytest.raises(DataError, match="date"):
        sensitivity_at(result, "2000-01-01")
    with pytest.raises(ConfigError, match="freeze"):
        sensitivity_at(result, result.estimate_dates[5], freeze="sometimes")  # type: ignore[arg-type]


def test_freeze_schedule_freezes_closed_markets(result) -> None:
    weekend = next(d for d in result.estimate_dates if d.day_of_week == 5)
    sens, _ = sensitivity_at(result, weekend, freeze="schedule")
    assert sens.state["VNQ"] == "frozen"
    assert np.all(sens.jacobian["VNQ"].to_numpy() == 0.0)


def test_sensitivity_path_and_regimes(result) -> None:
    path = sensitivity_path(result, every=3)
    t = path.table
    n_inputs = 3 + 3 + 3 + 1
    assert len(t) + n_inputs * len(path.failed) == n_inputs * len(
        range(0, len(result.estimate_dates), 3)
    )
    assert set(t["regime"]) <= {"calm", "stress"}
    assert ((t["vix"] > 25) == (t["regime"] == "stress")).all()
    # ranks are 1..n_inputs on each date, in order of turnover
    for _, g in t.groupby("date"):
        assert sorted(g["rank"]) == list(range(1, n_inputs + 1))
        assert g.sort_values("rank")["turnover"].is_monotonic_decreasing
    kinds = regime_summary(path, "kind")
    shares = kinds.drop(columns="n_dates").sum(axis=1)
    np.testing.assert_allclose(shares, 1.0, atol=1e-12)
    by_input = regime_summary(path, "input")
    assert {"turnover_calm", "turnover_stress", "rank_stress", "top5_share_calm"} <= set(by_input)
    with pytest.raises(ConfigError, match="by"):
        regime_summary(path, "asset")  # type: ignore[arg-type]


def test_utility_loss_by_hand() -> None:
    rng = np.random.default_rng(0)
    T, n = 5, 3
    R = rng.normal(size=(T, n))
    A = rng.normal(size=(T, n, n))
    S = A @ A.transpose(0, 2, 1)
    lam = rng.uniform(1, 3, T)
    held, best = rng.dirichlet(np.ones(n), T), rng.dirichlet(np.ones(n), T)
    by_hand = [
        (best[t] @ R[t] - lam[t] * best[t] @ S[t] @ best[t])
        - (held[t] @ R[t] - lam[t] * held[t] @ S[t] @ held[t])
        for t in range(T)
    ]
    np.testing.assert_allclose(utility_loss(held, best, R, S, lam), by_hand, rtol=1e-12)


def test_baseline_optimum_is_the_zero_cost_optimum(panel) -> None:
    base = _baseline(panel, {})
    for t in (0, 30, len(base["lam"]) - 1):
        w = cvx_weights(
            base["R"][t], base["Sigma"][t], np.zeros(3), np.zeros(3), base["lam"][t], 0, 1
        )
        np.testing.assert_allclose(base["best"][t], w, atol=1e-6)


def test_zero_cost_daily_schedule_loses_no_utility() -> None:
    # Zero costs, every market open every day, no threshold: the strategy holds w*_t exactly.
    base = make_panel(120, seed=4, costs={"BTC-USD": 0.0, "ETH-USD": 0.0, "VNQ": 0.0})
    open_all = pd.DataFrame(True, index=base.tradable.index, columns=base.tradable.columns)
    free = dataclasses.replace(base, tradable=open_all)
    grid = [{"name": "all daily", "schedules": {"crypto": "daily", "rwa": "daily", "stable": "daily"},
             "stress_vix": None}]  # fmt: skip
    study = frequency_study(
        free, grid=grid, strategy_params={"threshold_mode": "none", "utility_threshold": None}, executor="serial",
        var_levels=(), rng=1,
    )  # fmt: skip
    row = study.table.iloc[0]
    assert abs(row["utility_lost"]) < 1e-9
    assert row["off_optimum_share"] == 0.0
    assert row["costs_paid"] == 0.0
    # ...while trading only weekly does lose utility on the same panel.
    grid[0] = {**grid[0], "name": "weekly", "schedules": {"crypto": "weekly", "rwa": "weekly"}}
    weekly = frequency_study(free, grid=grid, executor="serial", var_levels=(), rng=1)
    assert weekly.table.iloc[0]["utility_lost"] > 1e-4


def test_frequency_study_compares_schedules(panel) -> None:
    grid = schedule_grid(("daily", "weekly"), ("weekly",), (25.0, None))
    # The model preset trades often enough to tell the schedules apart.
    study = frequency_study(
        panel, grid=grid, executor="serial", n_scenarios=500, rng=7, strategy_params=MODEL_PRESET
    )
    t = study.table
    assert list(t.index) == [g["name"] for g in grid]
    # Independent re-run of one schedule reproduces the stats.
    g = grid[1]
    res = run(
        DynamicLambdaStrategy(**MODEL_PRESET, schedules=g["schedules"], stress_vix=None),
        panel,
        execute=False,
    )
    st = res.stats()
    for k in ("turnover_per_year", "costs_paid", "volatility", "sharpe", "max_drawdown"):
        assert t.loc[g["name"], k] == pytest.approx(st[k], rel=1e-12)
    # Updating crypto weekly trades on fewer dates than daily and loses more utility.
    daily, weekly = t[t["crypto"] == "daily"], t[t["crypto"] == "weekly"]
    assert (weekly["n_trades"].to_numpy() < daily["n_trades"].to_numpy()).all()
    assert (weekly["utility_lost"].to_numpy() > daily["utility_lost"].to_numpy()).all()
    assert t["var_forecasts"].nunique() == 1  # same forecast dates for every schedule
    assert (t["breaches_99"] <= t["breaches_95"]).all()
    assert study.params["seed"] is not None
    fig = costs_risk_figure(study)
    assert sum(len(tr.x) for tr in fig.data) == len(grid)


def test_frequency_study_validates(panel) -> None:
    with pytest.raises(ConfigError, match="strategy_params"):
        frequency_study(panel, strategy_params={"stress_vix": 30}, executor="serial")
    with pytest.raises(ConfigError, match="grid"):
        frequency_study(panel, grid=[], executor="serial")


def test_schedule_grid_default_has_18_schedules() -> None:
    grid = schedule_grid()
    assert len(grid) == 18
    assert len({g["name"] for g in grid}) == 18
    assert all(g["schedules"]["stable"] == g["schedules"]["crypto"] for g in grid)


def test_reports_sections(panel, result) -> None:
    ranking, sections = sensitivity_report(panel, date=result.estimate_dates[20], result=result)
    assert len(sections) == 2 and all(len(s) == 3 for s in sections)
    fig = tornado_figure(ranking, top=5)
    assert len(fig.data) == 2 and len(fig.data[0].y) == 5
    # rows are labelled "input  (turnover x%)", largest turnover on top
    assert [y.split("  (")[0] for y in fig.data[0].y][::-1] == list(ranking["input"].head(5))
    _, sections = sensitivity_report(panel, result=result, every=10)
    assert len(sections) == 3
    _, fsections = frequency_report(
        panel,
        grid=schedule_grid(("daily",), ("weekly",), (25.0,)),
        executor="serial",
        var_levels=(),
    )
    assert len(fsections) == 2
    try:
        from rwafolio.reports.sections import normalize_sections
    except ImportError:
        return
    assert len(normalize_sections(sections + fsections)) == 5
