"""Estimators against sklearn / closed forms, and the risk-aversion rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.covariance import ledoit_wolf as sk_lw

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.optimize import (
    Callable,
    Constant,
    EWMAEstimator,
    LedoitWolfEstimator,
    SampleEstimator,
    VixLinear,
    psd_repair,
)


@pytest.fixture
def window():
    X = np.random.default_rng(0).normal(0.001, 0.02, size=(30, 10))
    X[:, -1] = 0.0001  # stablecoin: zero variance
    return X


def test_ledoit_wolf_matches_sklearn(window):
    mu, S = LedoitWolfEstimator(target="scaled_identity").estimate(window)
    np.testing.assert_allclose(S, sk_lw(window)[0], atol=1e-15)
    np.testing.assert_allclose(mu, window.mean(axis=0))


def test_ledoit_wolf_correlation_target_keeps_variances(window):
    """sklearn's shrinkage of the standardized returns, rescaled by the sample vols."""
    _mu, S = LedoitWolfEstimator().estimate(window)
    D = window - window.mean(axis=0)
    sd = np.sqrt((D * D).mean(axis=0))
    live = sd > 0
    np.testing.assert_allclose(np.diag(S)[live], sd[live] ** 2, rtol=1e-12)
    assert np.all(S[~live] == 0) and np.all(S[:, ~live] == 0)
    corr = sk_lw(D[:, live] / sd[live], assume_centered=True)[0]
    np.testing.assert_allclose(
        S[np.ix_(live, live)], corr * np.outer(sd[live], sd[live]), atol=1e-15
    )
    assert np.linalg.eigvalsh(S).min() > -1e-18


def test_sample_and_annualization(window):
    mu, S = SampleEstimator().estimate(window, periods_per_year=365)
    np.testing.assert_allclose(S, np.cov(window.T) * 365, atol=1e-15)
    np.testing.assert_allclose(mu, window.mean(axis=0) * 365)
    assert abs(S[-1, -1]) < 1e-30


def test_ewma_long_halflife_is_sample(window):
    _, S = EWMAEstimator(halflife=1e12).estimate(window)
    np.testing.assert_allclose(S, np.cov(window.T), atol=1e-12)
    mu, _ = EWMAEstimator(halflife=2.0).estimate(window)
    w = 0.5 ** (np.arange(29, -1, -1) / 2.0)
    np.testing.assert_allclose(mu, w @ window / w.sum())


def test_psd_repair_and_short_window():
    A = np.array([[1.0, 2.0], [2.0, 1.0]])
    assert np.linalg.eigvalsh(psd_repair(A)).min() >= -1e-15
    _, S = SampleEstimator().estimate(np.random.default_rng(1).normal(size=(5, 12)))
    assert np.linalg.eigvalsh(S).min() >= -1e-12
    with pytest.raises(DataError, match="window_returns"):
        SampleEstimator().estimate(np.ones((1, 3)))


def test_risk_aversion_rules():
    assert VixLinear()(20.0) == pytest.approx(2.0 * (1 + 0.05 * 20))
    assert VixLinear(clip=(1.0, 3.0))(80.0) == 3.0
    assert Constant(4.0)(99.0) == 4.0
    assert Callable(lambda v: v / 10)(30.0) == pytest.approx(3.0)
    vix = pd.Series([10.0, 20.0, np.nan], index=pd.date_range("2024-01-01", periods=3))
    path = VixLinear().path(vix)
    assert list(path.index) == list(vix.index) and path.iloc[1] == pytest.approx(4.0)
    smooth = VixLinear(smoothing=1.0).path(np.array([10.0, 30.0]))
    assert 3.0 < smooth[1] < 2.0 * (1 + 0.05 * 30)
    with pytest.raises(ConfigError, match="lam0"):
        VixLinear(lam0=-1.0)
    with pytest.raises(ConfigError, match="callable"):
        Callable(lambda v: -1.0)(10.0)
