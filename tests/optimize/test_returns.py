"""Return estimators against independent references: skfolio, pandas, textbook formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import ConfigError
from rwafolio.optimize import solve
from rwafolio.optimize.returns import (
    BayesStein,
    BlackLitterman,
    Equilibrium,
    EWMAMean,
    JamesStein,
    SampleMean,
    ZeroMean,
    reference_weights,
)


@pytest.fixture
def window() -> np.ndarray:
    rng = np.random.default_rng(3)
    mix = rng.normal(size=(5, 5)) * 0.01
    return rng.normal(0.001, 1.0, size=(60, 5)) @ mix + np.linspace(-0.004, 0.006, 5)


def _sk_cov(X: np.ndarray) -> np.ndarray:
    from skfolio.moments import EmpiricalCovariance

    return EmpiricalCovariance().fit(X).covariance_


def test_sample_and_zero(window):
    cov = np.cov(window.T)
    np.testing.assert_allclose(SampleMean().estimate_mean(window, cov, 2.0), window.mean(0))
    assert np.array_equal(ZeroMean().estimate_mean(window, cov, 2.0), np.zeros(5))


def test_ewma_mean_matches_pandas(window):
    got = EWMAMean(halflife=7.0).estimate_mean(window, np.cov(window.T), 2.0)
    ref = pd.DataFrame(window).ewm(halflife=7.0, adjust=True).mean().iloc[-1].to_numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-12)


@pytest.mark.parametrize("lam", [0.5, 2.0, 7.3])
def test_equilibrium_matches_skfolio_with_twice_lam(window, lam):
    from skfolio.moments import EquilibriumMu

    ref_w = np.array([0.1, 0.2, 0.3, 0.15, 0.25])
    cov = _sk_cov(window)
    ours = Equilibrium(reference=ref_w).estimate_mean(window, cov, lam)
    sk = EquilibriumMu(risk_aversion=2 * lam, weights=ref_w).fit(window).mu_
    np.testing.assert_allclose(ours, sk, rtol=1e-12)
    eq = Equilibrium().estimate_mean(window, cov, lam)
    sk_eq = EquilibriumMu(risk_aversion=2 * lam).fit(window).mu_  # skfolio's default is 1/N
    np.testing.assert_allclose(eq, sk_eq, rtol=1e-12)


@pytest.mark.parametrize("lam", [0.3, 2.0, 11.0])
def test_equilibrium_makes_the_reference_optimal(window, lam):
    """Fed to our optimizer without costs, the equilibrium returns give back w_ref (any lam)."""
    ref = {"a": 0.4, "c": 0.35, "e": 0.25}
    syms = ["a", "b", "c", "d", "e"]
    cov = np.cov(window.T)
    pi = Equilibrium(reference=ref).estimate_mean(window, cov, lam, syms)
    sol = solve(pi * 365, cov * 365, np.zeros(5), np.full(5, 0.2), lam)
    np.testing.assert_allclose(sol.weights, [0.4, 0.0, 0.35, 0.0, 0.25], atol=1e-7)


@pytest.mark.parametrize("prior_obs", [0.0, 30.0, 365.0])
def test_black_litterman_matches_the_textbook_posterior(window, prior_obs):
    """[(tau S)^-1 + P'Omega^-1 P]^-1 [(tau S)^-1 pi + P'Omega^-1 q], P = I, Omega = S / T."""
    lam, T = 2.5, window.shape[0]
    S = np.cov(window.T)
    w = np.full(5, 0.2)
    pi = 2 * lam * S @ w
    q = window.mean(0)
    ours = BlackLitterman(prior_obs=prior_obs).estimate_mean(window, S, lam)
    if prior_obs == 0.0:
        np.testing.assert_allclose(ours, q, rtol=1e-12)
        return
    prior_prec = np.linalg.inv(S / prior_obs)
    view_prec = np.linalg.inv(S / T)
    ref = np.linalg.solve(prior_prec + view_prec, prior_prec @ pi + view_prec @ q)
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-15)


def test_black_litterman_hand_case():
    """Two assets, diagonal S: each posterior is a weighted average, computed by hand."""
    X = np.array([[0.01, 0.0], [0.03, 0.02]])  # means 0.02, 0.01; T = 2
    S = np.diag([0.04, 0.01])
    # pi = 2 * 1 * S @ (0.5, 0.5) = (0.04, 0.01); prior worth 2 obs: (2 pi + 2 q) / 4
    got = BlackLitterman(prior_obs=2.0).estimate_mean(X, S, 1.0)
    np.testing.assert_allclose(got, [0.03, 0.01], rtol=1e-14)


def test_james_stein_matches_skfolio():
    from skfolio.moments import ShrunkMu, ShrunkMuMethods

    rng = np.random.default_rng(4)  # near-equal eigenvalues: tr - 2 max > 0
    window = rng.normal(0, 0.02, size=(60, 5)) + np.linspace(-0.006, 0.006, 5)
    sk = ShrunkMu(method=ShrunkMuMethods.JAMES_STEIN).fit(window)
    assert 0 < sk.beta_ < 1  # inside the clip, so the two definitions coincide
    ours = JamesStein().estimate_mean(window, sk.covariance_estimator_.covariance_, 2.0)
    np.testing.assert_allclose(ours, sk.mu_, rtol=1e-12)


def test_james_stein_is_clipped_to_the_target():
    """A spread far below its noise shrinks fully to the grand mean (positive part)."""
    X = np.random.default_rng(1).normal(0, 0.05, size=(10, 4))
    out = JamesStein().estimate_mean(X, np.eye(4), 2.0)  # tr - 2 max = 2: beta >> 1
    np.testing.assert_allclose(out, np.full(4, X.mean()), rtol=1e-12)


def test_bayes_stein_matches_skfolio(window):
    from skfolio.moments import ShrunkMu, ShrunkMuMethods

    sk = ShrunkMu(method=ShrunkMuMethods.BAYES_STEIN, vol_weighted_target=True).fit(window)
    ours = BayesStein().estimate_mean(window, sk.covariance_estimator_.covariance_, 2.0)
    np.testing.assert_allclose(ours, sk.mu_, rtol=1e-10)


def test_bayes_stein_target_is_min_variance_mean():
    """Hand case: diagonal S, so the minimum-variance mix is inverse-variance weighted."""
    X = np.array([[0.02, 0.0], [0.04, 0.01]])  # means 0.03, 0.005; T = 2
    S = np.diag([0.04, 0.01])
    m0 = (0.03 / 0.04 + 0.005 / 0.01) / (1 / 0.04 + 1 / 0.01)  # = 0.01
    d = np.array([0.03, 0.005]) - m0
    beta = 4 / (4 + 2 * (d[0] ** 2 / 0.04 + d[1] ** 2 / 0.01))
    got = BayesStein().estimate_mean(X, S, 1.0)
    np.testing.assert_allclose(got, (1 - beta) * np.array([0.03, 0.005]) + beta * m0, rtol=1e-12)


def test_singular_cov_is_handled(window):
    X = window.copy()
    X[:, 2] = 0.0001  # a pegged stablecoin: zero variance
    S = np.cov(X.T)
    for est in (BayesStein(), JamesStein(), BlackLitterman(), Equilibrium()):
        assert np.all(np.isfinite(est.estimate_mean(X, S, 2.0)))


def test_bad_reference_and_parameters_are_named():
    with pytest.raises(ConfigError, match="reference"):
        reference_weights([0.5, 0.6], 2)
    with pytest.raises(ConfigError, match="reference"):
        reference_weights({"ZZZ": 1.0}, 2, ["a", "b"])
    X = np.zeros((5, 2))
    with pytest.raises(ConfigError, match="prior_obs"):
        BlackLitterman(prior_obs=-1).estimate_mean(X, np.eye(2), 1.0)
    with pytest.raises(ConfigError, match="halflife"):
        EWMAMean(halflife=0).estimate_mean(X, np.eye(2), 1.0)


def test_equilibrium_per_asset_lam_makes_the_reference_optimal(window):
    """One lam per asset: the risk term is w' L^1/2 S L^1/2 w; the reference stays optimal."""
    lam = np.array([1.0, 1.0, 4.0, 4.0, 9.0])
    cov = np.cov(window.T)
    pi = Equilibrium().estimate_mean(window, cov, lam)
    d = np.sqrt(lam)
    scaled = d[:, None] * cov * d[None, :]
    sol = solve(pi * 365, scaled * 365, np.zeros(5), np.full(5, 0.1), 1.0)
    np.testing.assert_allclose(sol.weights, np.full(5, 0.2), atol=1e-7)
    # equal lams reduce to the scalar form
    np.testing.assert_allclose(
        Equilibrium().estimate_mean(window, cov, np.full(5, 3.0)),
        Equilibrium().estimate_mean(window, cov, 3.0),
        rtol=1e-12,
    )
