"""Scenario generators: Student-t mixed per path or block, FHS, EWMA covariance and the fitted
nu, each against a closed form or an independent implementation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter
from scipy.stats import t as student_t

from rwafolio.exceptions import ConfigError
from rwafolio.risk import forecast
from rwafolio.risk._kernels import simulate_paths_np
from rwafolio.risk.generators import ewma_covariance, fhs_history, fit_nu
from rwafolio.risk.scenarios import draw_asset_returns, simulate

W = np.array([0.5, 0.3, 0.2])
MU = np.array([4e-4, 2e-4, 1e-4])
VOL = np.array([0.03, 0.01, 0.002])
SIG = np.outer(VOL, VOL) * np.array([[1, 0.3, 0.1], [0.3, 1, 0.2], [0.1, 0.2, 1]])


@pytest.mark.parametrize("mixing", ["path", "block"])
def test_mixing_kernel_equals_twin(mixing: str) -> None:
    kw = dict(seed=3, horizon=12, n_scenarios=2100, distribution="student_t", nu=4.0, block=5)
    sims = simulate(W, MU, SIG, every=1, costs=np.full(3, 0.001), mixing=mixing, **kw)
    x = draw_asset_returns(MU, SIG, mixing=mixing, **kw)
    o, d, _ = simulate_paths_np(x, W, np.full(3, 0.001), 12, 1, False)
    np.testing.assert_allclose(sims.outcomes, o, atol=1e-12)
    np.testing.assert_allclose(sims.max_drawdowns, d, atol=1e-12)
    # block = horizon is path mixing, draw for draw
    if mixing == "block":
        k2 = {**kw, "block": 12}
        a = draw_asset_returns(MU, SIG, mixing="block", **k2)
        b = draw_asset_returns(MU, SIG, mixing="path", **k2)
        np.testing.assert_array_equal(a, b)


def test_path_mixing_keeps_the_student_t_tail_over_the_horizon() -> None:
    # Per-path mixing: the H-period SUM (rebalanced daily, no costs) is exactly
    # H w'mu + sqrt(H w'Sigma w) sqrt((nu - 2) / nu) T_nu.
    h, nu, m = 30, 4.0, 200_000
    f = forecast(
        W, MU, SIG, horizon=h, n_scenarios=m, distribution="student_t", nu=nu,
        levels=(0.99,), rebalance=1, aggregation="sum", mixing="path", rng=0,
    )  # fmt: skip
    sp = np.sqrt(h * W @ SIG @ W)
    closed = h * W @ MU + sp * np.sqrt((nu - 2) / nu) * student_t.ppf(0.01, nu)
    assert f.var[0] == pytest.approx(closed, rel=0.02)
    assert f.mixing == "path"
    per_period = forecast(
        W, MU, SIG, horizon=h, n_scenarios=m, distribution="student_t", nu=nu,
        levels=(0.99,), rebalance=1, aggregation="sum", rng=0,
    )  # fmt: skip
    assert per_period.var[0] > f.var[0] + 0.1 * sp  # per-period mixing thins the tail
    with pytest.raises(ConfigError, match="mixing"):
        forecast(W, MU, SIG, distribution="student_t", mixing="day")  # type: ignore[arg-type]


def test_fit_nu_against_scipy() -> None:
    x = 0.02 * student_t.rvs(5, size=20_000, random_state=1)
    ours = fit_nu(x)
    ref = student_t.fit(x, floc=0)[0]
    assert ours == pytest.approx(ref, rel=0.02)
    assert ours == pytest.approx(5.0, abs=0.5)
    hist = 0.01 * student_t.rvs(4, size=(3000, 3), random_state=2)
    f = forecast(W, MU, SIG, distribution="student_t", nu="fit", history=hist, n_scenarios=500)
    assert f.nu == pytest.approx(fit_nu(hist @ W))


def test_ewma_covariance_closed_form() -> None:
    x = np.random.default_rng(0).normal(0, 0.01, (120, 3))
    lam = 0.94
    s0 = x[:30].T @ x[:30] / 30
    t = x.shape[0]
    ref = lam**t * s0 + (1 - lam) * sum(lam ** (t - 1 - s) * np.outer(x[s], x[s]) for s in range(t))
    np.testing.assert_allclose(ewma_covariance(x, lam), ref, rtol=1e-12)


def test_fhs_history_by_scipy_filter_and_one_day_var() -> None:
    gen = np.random.default_rng(5)
    vol = np.r_[np.full(200, 0.01), np.full(100, 0.03)]
    x = np.column_stack([vol * gen.standard_t(5, 300), np.zeros(300)])
    out = fhs_history(x, np.array([1e-4, 0.0]))
    xi = x[:, 0]
    s0 = np.mean(xi[:30] ** 2)
    s2 = np.r_[s0, lfilter([0.06], [1, -0.94], xi**2, zi=[0.94 * s0])[0]]
    e = xi / np.sqrt(s2[:-1])
    np.testing.assert_allclose(out[:, 0], 1e-4 + np.sqrt(s2[-1]) * (e - e.mean()), rtol=1e-10)
    assert np.all(out[:, 1] == 0.0)  # a flat asset keeps zero shocks
    f = forecast(
        [1.0, 0.0], [1e-4, 0.0], None, horizon=1, n_scenarios=100_000, distribution="fhs",
        history=x, levels=(0.95,), rng=1,
    )  # fmt: skip
    assert f.var[0] == pytest.approx(np.quantile(out[:, 0], 0.05), rel=0.05)
    g = fhs_history(x, filter="garch")
    assert g.shape == x.shape and np.isfinite(g).all()
