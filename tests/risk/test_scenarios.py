"""Scenario engine: kernel vs numpy twin, factors, seeding, closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from scipy.stats import t as student_t

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.risk import covariance_from_vols, forecast, normal_var, per_period
from rwafolio.risk._kernels import max_drawdown_np, simulate_paths_nb, simulate_paths_np
from rwafolio.risk.scenarios import covariance_factor, draw_asset_returns, simulate


def _example() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = np.array([0.5, 0.3, 0.2])
    corr = np.eye(3)
    corr[0, 1] = corr[1, 0] = 0.3
    mu, sig = per_period([0.08, 0.05, 0.02], covariance_from_vols([0.4, 0.15, 0.02], corr))
    return w, mu, sig


@pytest.mark.parametrize("every", [0, 1, 7])
@pytest.mark.parametrize("additive", [False, True])
@pytest.mark.parametrize("cash", [0.0, 0.1])
def test_kernel_matches_numpy_twin(every: int, additive: bool, cash: float) -> None:
    rng = np.random.default_rng(0)
    n, m, h = 4, 300, 12
    a = rng.standard_normal((n, n))
    factor = np.linalg.cholesky(a @ a.T / n * 4e-4)
    mu = rng.normal(0, 1e-3, n)
    z = rng.standard_normal((m * h, n))
    scale = np.sqrt(3.0 / rng.chisquare(5.0, m * h))
    w = np.array([0.4, 0.3, 0.2, 0.1]) * (1 - cash)
    costs = np.array([0.001, 0.01, 0.0005, 0.002])
    out, mdd, paid = np.empty(m), np.empty(m), np.empty(m)
    simulate_paths_nb(
        z,
        factor,
        mu,
        scale,
        np.zeros((1, n)),
        np.zeros(0, np.int64),
        w,
        costs,
        h,
        every,
        additive,
        out,
        mdd,
        paid,
    )
    x = mu + scale[:, None] * (z @ factor.T)
    o2, d2, p2 = simulate_paths_np(x, w, costs, h, every, additive)
    np.testing.assert_allclose(out, o2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(mdd, d2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(paid, p2, rtol=0, atol=1e-14)
    assert np.all(mdd <= 0) and np.all(mdd <= np.minimum(out, 0) + 1e-15)
    if every == 0:
        assert np.all(paid == 0)


def test_twin_against_hand_path() -> None:
    # Two assets, buy and hold, compounding: value = sum_i w_i prod(1 + r_i).
    x = np.array([[0.10, 0.0], [-0.20, 0.05], [0.05, -0.05]])
    w = np.array([0.5, 0.5])
    out, mdd, _ = simulate_paths_np(x, w, np.zeros(2), 3, 0, False)
    v = 0.5 * np.cumprod(1 + x[:, 0]) + 0.5 * np.cumprod(1 + x[:, 1])
    assert out[0] == pytest.approx(v[-1] - 1, abs=1e-15)
    assert mdd[0] == pytest.approx(max_drawdown_np(v[None, :])[0], abs=1e-15)
    # Rebalancing each period with costs: hand-computed first trade.
    c = np.array([0.01, 0.0])
    out, _, paid = simulate_paths_np(x[:2], w, c, 2, 1, False)
    v1 = 0.5 * 1.1 + 0.5
    trade = abs(0.5 * v1 - 0.55)
    assert paid[0] == pytest.approx(0.01 * trade, abs=1e-15)
    v1n = v1 - 0.01 * trade
    assert out[0] == pytest.approx(v1n * (1 + 0.5 * -0.2 + 0.5 * 0.05) - 1, abs=1e-15)


@pytest.mark.parametrize("distribution", ["normal", "student_t", "bootstrap"])
def test_fused_engine_equals_twin_on_drawn_returns(distribution: str) -> None:
    w, mu, sig = _example()
    hist = np.random.default_rng(3).normal(0, 0.01, (60, 3))
    kw = dict(seed=11, horizon=10, n_scenarios=2500, distribution=distribution, nu=4.0)
    sims = simulate(w, mu, sig, every=3, costs=np.array([0.001, 0.01, 0.0005]), history=hist, **kw)
    x = draw_asset_returns(mu, sig, history=hist, **kw)
    o, d, p = simulate_paths_np(x, w, np.array([0.001, 0.01, 0.0005]), 10, 3, False)
    np.testing.assert_allclose(sims.outcomes, o, atol=1e-12)
    np.testing.assert_allclose(sims.max_drawdowns, d, atol=1e-12)
    np.testing.assert_allclose(sims.costs_paid, p, atol=1e-14)


def test_threads_do_not_change_numbers() -> None:
    w, mu, sig = _example()
    a = simulate(w, mu, sig, seed=5, n_scenarios=5000, workers=1)
    b = simulate(w, mu, sig, seed=5, n_scenarios=5000, workers=3)
    np.testing.assert_array_equal(a.outcomes, b.outcomes)


def test_singular_sigma_factor_and_moments() -> None:
    _, _, sig = _example()
    sig = sig.copy()
    sig[2, :] = sig[:, 2] = 0.0  # zero-vol stablecoin
    f = covariance_factor(sig)
    assert f.shape == (3, 2)
    np.testing.assert_allclose(f @ f.T, sig, atol=1e-18)
    x = draw_asset_returns(np.zeros(3), sig, seed=1, horizon=1, n_scenarios=200_000)
    assert np.all(x[:, 2] == 0.0)
    np.testing.assert_allclose(np.cov(x.T), sig, rtol=0.02, atol=1e-9)
    with pytest.raises(DataError, match="Sigma"):
        covariance_factor(np.array([[1.0, 2.0], [2.0, 1.0]]))


def test_student_t_covariance_is_sigma() -> None:
    _, mu, sig = _example()
    x = draw_asset_returns(
        mu, sig, seed=2, horizon=1, n_scenarios=400_000, distribution="student_t", nu=6.0
    )
    np.testing.assert_allclose(np.cov(x.T)[:2, :2], sig[:2, :2], rtol=0.03)


def test_normal_closed_form_daily_rebalanced_sum() -> None:
    # aggregation="sum", rebalance=1, no costs: the outcome is exactly N(H w'mu, H w'Sigma w).
    w, mu, sig = _example()
    f = forecast(w, mu, sig, rebalance=1, aggregation="sum", rng=123, n_scenarios=40_000)
    for k, level in enumerate(f.levels):
        exact = normal_var(w, mu, sig, 30, level)
        assert abs(f.var[k] - exact) < 4 * f.var_se[k], (level, f.var[k], exact, f.var_se[k])
        # closed-form CVaR of a normal: m - s * phi(z) / (1 - level)
        m, s = 30 * w @ mu, np.sqrt(30 * w @ sig @ w)
        cvar = m - s * norm.pdf(norm.ppf(1 - level)) / (1 - level)
        assert abs(f.cvar[k] - cvar) < 4 * f.cvar_se[k]
    assert f.std == pytest.approx(np.sqrt(30 * w @ sig @ w), rel=0.02)


def test_var_standard_error_matches_spread_over_seeds() -> None:
    w, mu, sig = _example()
    fs = [
        forecast(w, mu, sig, rebalance=1, aggregation="sum", rng=s, n_scenarios=4000, horizon=5)
        for s in range(40)
    ]
    spread = np.std([f.var[0] for f in fs])
    se = np.mean([f.var_se[0] for f in fs])
    assert 0.6 < se / spread < 1.6


def test_student_t_single_period_quantile() -> None:
    w, mu, sig = _example()
    nu = 5.0
    f = forecast(w, mu, sig, horizon=1, distribution="student_t", nu=nu, rng=9, n_scenarios=200_000)
    s = np.sqrt(w @ sig @ w)
    for k, level in enumerate(f.levels):
        exact = w @ mu + s * np.sqrt((nu - 2) / nu) * student_t.ppf(1 - level, nu)
        assert abs(f.var[k] - exact) < 4 * f.var_se[k]


def test_compounded_var_close_to_lognormal_approximation() -> None:
    # Compounding a daily-rebalanced normal portfolio: log V_H ~ N(H(m - s^2/2), H s^2) to first
    # order, so VaR = exp(H(m - s^2/2) + z sqrt(H) s) - 1 (error O(H s^3) ~ 1e-4 here).
    w, mu, sig = _example()
    f = forecast(w, mu, sig, rebalance=1, rng=4, n_scenarios=40_000)
    m, s2 = w @ mu, w @ sig @ w
    approx = np.expm1(30 * (m - s2 / 2) + norm.ppf(0.05) * np.sqrt(30 * s2))
    assert abs(f.var[0] - approx) < 4 * f.var_se[0] + 5e-4


def test_invariants_and_reproducibility() -> None:
    w, mu, sig = _example()
    f = forecast(
        w,
        mu,
        sig,
        levels=(0.9, 0.95, 0.99, 0.999),
        distribution="student_t",
        rng=77,
        n_scenarios=5000,
    )
    g = forecast(
        w,
        mu,
        sig,
        levels=(0.9, 0.95, 0.99, 0.999),
        distribution="student_t",
        rng=77,
        n_scenarios=5000,
    )
    np.testing.assert_array_equal(f.outcomes, g.outcomes)
    assert f.var == g.var and f.dar == g.dar and f.seed == 77
    assert all(c <= v for c, v in zip(f.cvar, f.var))
    assert all(np.diff(f.var) <= 0) and all(np.diff(f.dar) <= 0)
    assert all(d <= 0 for d in f.dar)
    assert not f.outcomes.flags.writeable
    h = forecast(w, mu, sig, rng=78, n_scenarios=5000)
    assert h.var != f.var
    gen = np.random.default_rng(5)
    k = forecast(w, mu, sig, rng=gen, n_scenarios=2000)
    assert forecast(w, mu, sig, rng=k.seed, n_scenarios=2000).var == k.var


def test_bootstrap_uses_history_blocks() -> None:
    hist = np.array([[0.01, 0.0], [0.02, 0.0], [-0.03, 0.0]])
    f = forecast(
        [1.0, 0.0],
        None,
        None,
        horizon=3,
        block=3,
        distribution="bootstrap",
        history=hist,
        rng=1,
        n_scenarios=500,
    )
    # every path is a rotation of the history: the same 3 returns compounded
    expect = np.prod(1 + hist[:, 0]) - 1
    np.testing.assert_allclose(f.outcomes, expect, atol=1e-15)


def test_validation_errors() -> None:
    w, mu, sig = _example()
    with pytest.raises(ConfigError, match="nu"):
        forecast(w, mu, sig, distribution="student_t", nu=2.0)
    with pytest.raises(ConfigError, match="rebalance"):
        forecast(w, mu, sig, rebalance=0)
    with pytest.raises(DataError, match="Sigma"):
        forecast(w, mu, sig[:2, :2])
    with pytest.raises(ConfigError, match="history"):
        forecast(w, mu, sig, distribution="bootstrap")
    with pytest.raises(ConfigError, match="levels"):
        forecast(w, mu, sig, levels=(1.0,))
    with pytest.raises(ConfigError, match="rng"):
        forecast(w, mu, sig, rng="abc")  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 5),
    horizon=st.integers(1, 8),
    every=st.integers(0, 4),
    additive=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_kernel_twin_and_invariants_property(
    n: int, horizon: int, every: int, additive: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    m = 64
    w = rng.dirichlet(np.ones(n)) * rng.uniform(0.5, 1.0)
    costs = rng.uniform(0, 0.02, n)
    x = rng.normal(0, 0.03, (m * horizon, n))
    o, d, p = simulate_paths_np(x, w, costs, horizon, every, additive)
    assert np.all(p >= 0)
    factor = np.eye(n)
    out, mdd, paid = np.empty(m), np.empty(m), np.empty(m)
    simulate_paths_nb(
        x,
        factor,
        np.zeros(n),
        np.zeros(0),
        np.zeros((1, n)),
        np.zeros(0, np.int64),
        w,
        costs,
        horizon,
        every,
        additive,
        out,
        mdd,
        paid,
    )
    np.testing.assert_allclose(out, o, atol=1e-12)
    np.testing.assert_allclose(mdd, d, atol=1e-12)
    assert np.all(mdd <= 0) and np.all(paid >= 0)
    assert np.all(mdd <= np.minimum(out, 0) + 1e-12)  # the final loss is a drawdown too


@pytest.mark.parametrize("distribution", ["normal", "student_t"])
def test_many_assets_equals_twin(distribution: str) -> None:
    n = 24
    rng = np.random.default_rng(8)
    a = rng.standard_normal((n, n + 3))
    sig = a @ a.T / (n + 3) * 1e-4
    mu = np.full(n, 1e-4)
    w = np.full(n, 1.0 / n)
    kw = dict(seed=4, horizon=7, n_scenarios=1500, distribution=distribution, nu=5.0)
    sims = simulate(w, mu, sig, every=2, costs=np.full(n, 0.002), **kw)
    x = draw_asset_returns(mu, sig, **kw)
    o, d, p = simulate_paths_np(x, w, np.full(n, 0.002), 7, 2, False)
    np.testing.assert_allclose(sims.outcomes, o, atol=1e-12)
    np.testing.assert_allclose(sims.max_drawdowns, d, atol=1e-12)
    np.testing.assert_allclose(sims.costs_paid, p, atol=1e-14)
