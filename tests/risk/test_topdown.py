"""Top-down P&L forecasts: the filter and path kernels against their twins, scipy and arch, and
the 1-day VaR against its closed form."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter
from scipy.stats import norm

from rwafolio.risk.topdown import (
    filter_variance_nb,
    filter_variance_np,
    fit_filter,
    pnl_history,
    pnl_paths_nb,
    pnl_paths_np,
    residuals,
    simulate_pnl,
)


def _returns(n: int = 600, seed: int = 0) -> np.ndarray:
    gen = np.random.default_rng(seed)
    vol = np.where(np.arange(n) < n // 2, 0.01, 0.03)  # a volatility regime change
    return vol * gen.standard_t(6, size=n) / np.sqrt(1.5)


def test_ewma_filter_twins_and_scipy() -> None:
    x = _returns(200)
    omega, a, b, s0 = fit_filter(x, "ewma", 0.94)
    assert (omega, a, b) == (0.0, pytest.approx(0.06), 0.94)
    assert s0 == pytest.approx(np.mean(x[:30] ** 2))
    got = filter_variance_nb(x, omega, a, b, s0)
    np.testing.assert_allclose(got, filter_variance_np(x, omega, a, b, s0), rtol=1e-12)
    ref = lfilter([a], [1.0, -b], x**2, zi=[b * s0])[0]  # IIR form of the recursion
    np.testing.assert_allclose(got[1:], ref, rtol=1e-12)
    assert got[0] == s0


def test_garch_filter_reproduces_arch() -> None:
    from arch import arch_model

    x = _returns(800, seed=3)
    omega, a, b, s0 = fit_filter(x, "garch")
    res = arch_model(100 * x, mean="Zero", vol="GARCH", p=1, q=1).fit(disp="off")
    s2 = filter_variance_nb(x, omega, a, b, s0)
    np.testing.assert_allclose(s2[:-1], res.conditional_volatility**2 / 1e4, rtol=1e-8)
    one_ahead = res.forecast(horizon=1).variance.to_numpy()[-1, 0] / 1e4
    assert s2[-1] == pytest.approx(one_ahead, rel=1e-8)


def test_path_kernel_twin() -> None:
    x = _returns(300)
    omega, a, b, s0 = fit_filter(x, "ewma", 0.94)
    s2 = filter_variance_nb(x, omega, a, b, s0)
    pool = residuals(x, s2)
    gen = np.random.default_rng(1)
    m, h = 500, 12
    idx = gen.integers(0, pool.shape[0], size=m * h).astype(np.int64)
    out, mdd = np.empty(m), np.empty(m)
    pnl_paths_nb(pool, idx, s2[-1], omega, a, b, 1e-4, h, out, mdd)
    ref_out, ref_mdd = pnl_paths_np(pool[idx].reshape(m, h), s2[-1], omega, a, b, 1e-4)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mdd, ref_mdd, rtol=1e-12, atol=1e-15)
    assert np.all(mdd <= 0)


def test_one_day_var_closed_forms() -> None:
    x = _returns()
    s2 = filter_variance_np(x, *fit_filter(x, "ewma", 0.94))
    sd = np.sqrt(s2[-1])
    m = 200_000
    out, _ = simulate_pnl(x, horizon=1, n_scenarios=m, seed=4, innovations="normal")
    q = np.quantile(out, 0.01)
    se = np.sqrt(0.01 * 0.99 / m) / norm.pdf(norm.ppf(0.01))  # quantile standard error
    assert q == pytest.approx(sd * norm.ppf(0.01), abs=4 * se * sd)
    out, _ = simulate_pnl(x, horizon=1, n_scenarios=m, seed=4, innovations="fhs")
    pool = residuals(x, s2)
    assert np.quantile(out, 0.01) == pytest.approx(sd * np.quantile(pool, 0.01), rel=0.05)


def test_pnl_history_live_and_pseudo() -> None:
    asset_r = np.array([[0, 0], [0.01, 0.02], [0.03, -0.01], [0.0, 0.05], [0.02, 0.02]])
    values = np.array([1.0, 1.0, 0.99, 1.01, 1.02])
    weights = np.array([[0, 0], [0, 0], [0.5, 0.5], [0.4, 0.6], [0.25, 0.75]])
    h = pnl_history(values, weights, asset_r, pos=3, first_live=2, length=10)
    # rows 1..3: rows 1, 2 pseudo with weights[3]; row 3 live
    np.testing.assert_allclose(
        h, [0.4 * 0.01 + 0.6 * 0.02, 0.4 * 0.03 - 0.6 * 0.01, 1.01 / 0.99 - 1]
    )
    assert pnl_history(values, weights, asset_r, pos=3, first_live=2, length=2).shape == (2,)


def test_garch_filtered_pnl_paths() -> None:
    x = _returns(800, seed=3)
    out, mdd = simulate_pnl(x, horizon=10, n_scenarios=2000, seed=1, filter="garch")
    omega, a, b, s0 = fit_filter(x, "garch")
    s2 = filter_variance_nb(x, omega, a, b, s0)
    assert np.isfinite(out).all() and np.all(mdd <= 0)
    # 10 days of GARCH variance from s2[-1]: the spread is of the order of the summed forecast
    ahead = [s2[-1]]
    for _ in range(9):
        ahead.append(omega + (a + b) * ahead[-1])
    assert np.std(out) == pytest.approx(np.sqrt(np.sum(ahead)), rel=0.15)
