"""Tearsheet statistics against quantstats (an independent implementation of the same figures)
and against hand-built paths."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from rwafolio.backtest import tearsheet_stats as ts
from rwafolio.exceptions import DataError

qs = pytest.importorskip("quantstats")

PPY = 365


@pytest.fixture(scope="module")
def paths() -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(3)
    idx = pd.date_range("2020-01-01", periods=900, freq="D")
    b = pd.Series(rng.standard_t(4, 900) * 0.02 + 0.0004, index=idx)
    r = 0.7 * b + pd.Series(rng.normal(0.0005, 0.01, 900), index=idx)
    r.iloc[10:14] = 0.0  # a frozen stretch: zero returns count neither way in the hit rate
    return r, b


def _qs(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def test_calendar_returns_match_quantstats(paths):
    r, _ = paths
    ours = ts.monthly_returns(r)
    theirs = _qs(qs.stats.monthly_returns, r, eoy=False, compounded=True, prepare_returns=False)
    have = np.isfinite(ours.to_numpy())
    assert have.sum() == len(pd.period_range(r.index[0], r.index[-1], freq="M"))
    np.testing.assert_allclose(
        ours.to_numpy()[have], theirs.to_numpy(dtype=float)[have], rtol=1e-12
    )
    years = ts.yearly_returns(r)
    expected = [np.prod(1 + r[str(y)]) - 1 for y in (2020, 2021, 2022)]
    np.testing.assert_allclose(years.to_numpy(), expected, rtol=1e-12)
    # a year compounds its months
    np.testing.assert_allclose(
        np.nanprod(1 + ours.to_numpy(), axis=1) - 1, years.to_numpy(), rtol=1e-12
    )


def test_rolling_figures_match_quantstats(paths):
    r, _ = paths
    sharpe = ts.rolling_sharpe(r, 90, PPY)
    vol = ts.rolling_volatility(r, 90, PPY)
    q_sh = _qs(
        qs.stats.rolling_sharpe, r, rolling_period=90, periods_per_year=PPY, prepare_returns=False
    )
    q_vol = _qs(
        qs.stats.rolling_volatility,
        r,
        rolling_period=90,
        periods_per_year=PPY,
        prepare_returns=False,
    )
    np.testing.assert_allclose(sharpe.to_numpy()[89:], q_sh.to_numpy()[89:], rtol=1e-10)
    np.testing.assert_allclose(vol.to_numpy()[89:], q_vol.to_numpy()[89:], rtol=1e-10)
    assert sharpe.iloc[:89].isna().all()


def test_distribution_and_extremes_match_quantstats(paths):
    r, _ = paths
    d = ts.return_distribution(r)
    np.testing.assert_allclose(d["skew"], _qs(qs.stats.skew, r, prepare_returns=False), rtol=1e-12)
    np.testing.assert_allclose(
        d["kurtosis"], _qs(qs.stats.kurtosis, r, prepare_returns=False), rtol=1e-12
    )
    # excess kurtosis: normal draws give about 0
    z = pd.Series(
        np.random.default_rng(0).normal(size=200_000),
        index=pd.date_range("2000", periods=200_000, freq="h"),
    )
    assert abs(ts.return_distribution(z)["kurtosis"]) < 0.05
    e = ts.extremes(r)
    np.testing.assert_allclose(
        e["hit_rate"], _qs(qs.stats.win_rate, r, prepare_returns=False), rtol=1e-12
    )
    np.testing.assert_allclose(e["best_day"], _qs(qs.stats.best, r, prepare_returns=False))
    np.testing.assert_allclose(e["worst_day"], _qs(qs.stats.worst, r, prepare_returns=False))
    np.testing.assert_allclose(
        e["best_month"], _qs(qs.stats.best, r, aggregate="ME", prepare_returns=False), rtol=1e-12
    )
    np.testing.assert_allclose(
        e["worst_month"], _qs(qs.stats.worst, r, aggregate="ME", prepare_returns=False), rtol=1e-12
    )


def test_relative_figures_match_quantstats(paths):
    r, b = paths
    rel = ts.relative_to(r, b, PPY)
    g = _qs(qs.stats.greeks, r, b, periods=PPY, prepare_returns=False)
    np.testing.assert_allclose(rel["beta"], g["beta"], rtol=1e-12)
    np.testing.assert_allclose(rel["alpha"], g["alpha"], rtol=1e-10)
    ir = _qs(qs.stats.information_ratio, r, b, prepare_returns=False)
    np.testing.assert_allclose(rel["information_ratio"], ir * np.sqrt(PPY), rtol=1e-12)
    np.testing.assert_allclose(rel["tracking_error"], (r - b).std() * np.sqrt(PPY), rtol=1e-12)
    # against itself: beta 1, nothing active
    same = ts.relative_to(b, b, PPY)
    assert same["beta"] == pytest.approx(1.0) and same["tracking_error"] == 0.0
    with pytest.raises(DataError, match="benchmark"):
        ts.relative_to(r, b.iloc[1:], PPY)


def test_drawdown_episodes_by_hand_and_against_quantstats(paths):
    idx = pd.date_range("2021-01-01", periods=9, freq="D")
    v = pd.Series([1.0, 1.2, 0.9, 1.0, 1.3, 1.1, 1.04, 1.2, 1.25], index=idx)
    ep = ts.drawdown_episodes(v, top=5)
    assert list(ep["peak"]) == [idx[1], idx[4]]
    assert list(ep["trough"]) == [idx[2], idx[6]]
    assert ep["recovery"].iloc[0] == idx[4] and pd.isna(ep["recovery"].iloc[1])
    np.testing.assert_allclose(ep["depth"], [0.9 / 1.2 - 1, 1.04 / 1.3 - 1])
    assert list(ep["days"]) == [3, 4] and list(ep["recovered"]) == [True, False]
    # quantstats on a long path: same depths and troughs of the deepest episodes
    r, _ = paths
    values = (1 + r).cumprod()
    ours = ts.drawdown_episodes(values, top=3)
    dd = values / values.cummax() - 1
    theirs = _qs(qs.stats.drawdown_details, dd).sort_values("max drawdown").head(3)
    np.testing.assert_allclose(
        ours["depth"].to_numpy(), theirs["max drawdown"].to_numpy(float) / 100, rtol=1e-10
    )
    assert [d.strftime("%Y-%m-%d") for d in ours["trough"]] == [
        str(d)[:10] for d in theirs["valley"]
    ]


def test_bad_input_is_named():
    with pytest.raises(DataError, match="returns"):
        ts.monthly_returns(pd.Series([0.1, np.nan], index=pd.date_range("2020", periods=2)))
    with pytest.raises(DataError, match="indexed by date"):
        ts.yearly_returns(pd.Series([0.1, 0.2]))
