"""The utility rule: a trade happens only when it raises the model's utility by more than kappa."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rwafolio.optimize import solve
from rwafolio.strategies.threshold import apply_utility_threshold, utility_gain


def _u(w, R, S, C, held, lam):
    """Independent U: written out term by term, not through the optimizer's objective."""
    risk = sum(w[i] * S[i, j] * w[j] for i in range(len(w)) for j in range(len(w)))
    return float(np.dot(w, R) - lam * risk - sum(C[i] * abs(w[i] - held[i]) for i in range(len(w))))


@st.composite
def cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(2, 8))
    X = rng.normal(size=(40, n)) * rng.uniform(0.005, 0.05, n)
    S = np.cov(X.T) * 365
    R = rng.normal(0.05, 0.3, n)
    C = rng.uniform(0, 0.2, n)
    held = rng.dirichlet(np.ones(n))
    lam = float(draw(st.sampled_from([0.5, 2.0, 8.0])))
    w = solve(R, S, C, held, lam).weights
    partial = draw(st.booleans())
    target = np.where(rng.uniform(size=n) < 0.5, np.nan, w) if partial else w.copy()
    level = float(draw(st.floats(0.0, 0.2)))
    return R, S, C, held, lam, target, level


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases())
def test_never_trades_when_the_gain_is_below_the_level(case) -> None:
    R, S, C, held, lam, target, level = case
    out, skipped, gain = apply_utility_threshold(
        target, held, R, S, C, lam, level, list("abcdefgh")
    )
    w = np.where(np.isnan(target), held, target)
    ref_gain = _u(w, R, S, C, held, lam) - _u(held, R, S, C, held, lam)
    if np.isnan(target).all():
        assert np.isnan(out).all() and skipped == []
        return
    np.testing.assert_allclose(gain, ref_gain, rtol=1e-9, atol=1e-12)
    if ref_gain <= level - 1e-12:
        assert np.isnan(out).all()
        assert all(r.startswith("utility") for _, _, r in skipped)
        assert len(skipped) == int(np.sum(~np.isnan(target) & (w != held)))
    if not np.isnan(out).all():
        assert gain > level
        np.testing.assert_array_equal(out, target)


def test_gain_of_the_optimum_is_nonnegative() -> None:
    rng = np.random.default_rng(0)
    S = np.cov(rng.normal(size=(50, 4)).T) * 0.01
    R, C, held = rng.normal(0.1, 0.2, 4), np.full(4, 0.01), np.full(4, 0.25)
    w = solve(R, S, C, held, 2.0).weights
    assert utility_gain(w, held, R, S, C, 2.0) >= -1e-12


def test_entry_from_cash_always_trades() -> None:
    """Cash is outside the budget constraint: the first trade is not held back."""
    R, S, C = np.array([0.01, 0.02]), np.eye(2) * 0.04, np.array([5.0, 5.0])
    held = np.zeros(2)
    target = np.array([0.5, 0.5])
    out, skipped, gain = apply_utility_threshold(target, held, R, S, C, 2.0, 0.01, ["a", "b"])
    assert gain < 0.01 and skipped == []
    np.testing.assert_array_equal(out, target)
