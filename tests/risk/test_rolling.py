"""Rolling forecasts along a hand-built BacktestResult (simulated data, known truth)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwafolio.backtest.result import BacktestResult
from rwafolio.exceptions import ConfigError
from rwafolio.loaders.panel import Panel
from rwafolio.risk import rolling_forecasts
from rwafolio.risk.rolling import date_seed
from rwafolio.universe import Universe


def _result(n_days: int = 1500, step: int = 5, seed: int = 0) -> BacktestResult:
    rng = np.random.default_rng(seed)
    uni = Universe.from_symbols(["BTC-USD", "VNQ", "USDT-USD"])
    mu = np.array([0.08, 0.05, 0.02]) / 252
    vols = np.array([0.4, 0.15, 0.02]) / np.sqrt(252)
    corr = np.eye(3)
    corr[0, 1] = corr[1, 0] = 0.3
    cov = corr * np.outer(vols, vols)
    r = rng.multivariate_normal(mu, cov, size=n_days - 1)
    prices = 100 * np.vstack([np.ones(3), np.cumprod(1 + r, axis=0)])
    idx = pd.bdate_range("2015-01-01", periods=n_days)
    pframe = pd.DataFrame(prices, index=idx, columns=uni.symbols)
    panel = Panel(pframe, pframe.astype(bool) | True, uni, "exchange_days", source="synthetic")
    w = np.array([0.5, 0.3, 0.2])
    port = np.concatenate([[0.0], r @ w])  # rebalanced daily to w, no costs
    value = pd.Series(np.cumprod(1 + port), index=idx)
    weights = pd.DataFrame(np.tile(w, (n_days, 1)), index=idx, columns=uni.symbols)
    est = idx[30::step]
    k = len(est)
    return BacktestResult(
        name="fixed",
        panel=panel,
        portfolio=None,
        value=value,
        returns=pd.Series(port, index=idx),
        weights=weights,
        weights_before=weights,
        targets=weights,
        decisions=pd.DataFrame(),
        skipped=pd.DataFrame(),
        turnover=pd.Series(0.0, index=idx),
        fees=pd.Series(0.0, index=idx),
        estimate_dates=pd.DatetimeIndex(est),
        mu=np.tile(mu, (k, 1)),
        cov=np.tile(cov, (k, 1, 1)),
    )


def test_realized_outcomes_and_completeness() -> None:
    res = _result(n_days=400, step=20)
    rf = rolling_forecasts(res, horizon=30, n_scenarios=1000, rng=3)
    t = rf.table
    assert len(t) == len(res.estimate_dates)  # nothing dropped
    v = res.value.to_numpy()
    for date, row in t.iterrows():
        p = res.value.index.get_loc(date)
        assert row["position"] == p
        if p + 30 <= len(v) - 1:
            assert row["complete"]
            assert row["realized_return"] == pytest.approx(v[p + 30] / v[p] - 1, abs=1e-14)
            seg = v[p : p + 31] / v[p]
            assert row["realized_mdd"] == pytest.approx(
                (seg / np.maximum.accumulate(seg) - 1).min(), abs=1e-14
            )
        else:
            assert not row["complete"] and np.isnan(row["realized_return"])
    assert (~t["complete"]).sum() >= 1
    assert (t["cvar_95"] <= t["var_95"]).all() and (t["var_99"] <= t["var_95"]).all()
    # seeds derived per date, deterministic
    assert t["seed"].iloc[2] == date_seed(3, 2)
    again = rolling_forecasts(res, horizon=30, n_scenarios=1000, rng=3)
    pd.testing.assert_frame_equal(t, again.table)


def test_non_overlapping_sampling_and_calibrated_backtest() -> None:
    res = _result(n_days=3000, step=5, seed=1)
    rf = rolling_forecasts(
        res, horizon=5, n_scenarios=2000, rebalance=1, rng=11, target="book", mean="estimate"
    )
    mask = rf.sample_mask()
    pos = rf.table.loc[mask.to_numpy(), "position"].to_numpy()
    assert np.all(np.diff(pos) >= 5)
    suite = rf.backtest(0.95)
    assert "non-overlapping" in suite.sampling
    assert suite.kupiec.n_obs == mask.sum() > 500
    # correct model: the failure rate is near 5% and coverage is not rejected
    assert 0.03 < suite.kupiec.n_failures / suite.kupiec.n_obs < 0.07
    assert not suite.kupiec.reject
    assert suite.traffic.zone == "green"
    everything = rf.backtest(0.95, sampling="all")
    assert "overlapping" in everything.sampling
    dar = rf.backtest(0.95, kind="dar")
    assert dar.kupiec.n_obs == suite.kupiec.n_obs


def test_wrong_model_is_rejected() -> None:
    # Forecast with half the true covariance: breaches far above 5%.
    res = _result(n_days=3000, step=5, seed=2)
    res = BacktestResult(**{**res.__dict__, "cov": res.cov * 0.3})
    rf = rolling_forecasts(
        res, horizon=5, n_scenarios=2000, rebalance=1, rng=1, target="book", mean="estimate"
    )
    suite = rf.backtest(0.95)
    assert suite.kupiec.reject and suite.kupiec.n_failures / suite.kupiec.n_obs > 0.1


@pytest.mark.parametrize("distribution", ["student_t", "bootstrap"])
def test_other_distributions_run(distribution: str) -> None:
    res = _result(n_days=300, step=30)
    rf = rolling_forecasts(
        res, horizon=10, n_scenarios=500, distribution=distribution, rng=0, target="book"
    )
    assert rf.table["forecast_ok"].all()
    assert np.isfinite(rf.table["var_95"]).all()


def test_validation() -> None:
    res = _result(n_days=200, step=30)
    with pytest.raises(ConfigError, match="every"):
        rolling_forecasts(res, every=0)
    rf = rolling_forecasts(res, horizon=10, n_scenarios=200, rng=0)
    with pytest.raises(ConfigError, match="level"):
        rf.breaches(0.9)


def test_progress_counts_every_forecast_and_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    import rwafolio.risk.rolling as rolling

    seen: dict[str, object] = {}

    class Recorder:
        def __init__(self, total: int, desc: str, unit: str, *, enabled: bool | None) -> None:
            seen.update(total=total, enabled=enabled, updates=0, closed=False)

        def update(self, n: int = 1) -> None:
            seen["updates"] = int(seen["updates"]) + n  # type: ignore[call-overload]

        def close(self) -> None:
            seen["closed"] = True

    monkeypatch.setattr(rolling, "Progress", Recorder)
    fc = rolling_forecasts(_result(400), horizon=5, every=20, n_scenarios=200, rng=1)
    assert seen["total"] == len(fc.table) == seen["updates"]
    assert seen["closed"] is True and seen["enabled"] is None
