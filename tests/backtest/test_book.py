"""The book's one step: numpy kernels against their numba twins and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from rwafolio.backtest.book import CASH_GUARD, drift_nb, trade_nb
from rwafolio.backtest.book import drift_py as drift
from rwafolio.backtest.book import trade_py as trade
from rwafolio.optimize.costs import CostModel


def random_book(rng: np.random.Generator, n: int) -> tuple[np.ndarray, float]:
    w = rng.dirichlet(np.ones(n)) * rng.uniform(0.3, 1.0)
    w[rng.random(n) < 0.3] = 0.0
    return w, 1.0 - float(w.sum())


@pytest.mark.parametrize("seed", range(5))
def test_drift_and_its_twin_agree(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(50):
        n = int(rng.integers(1, 10))
        w, cash = random_book(rng, n)
        r = rng.normal(0, 0.05, n)
        a, b = drift(w, cash, r), drift_nb(w, cash, r)
        np.testing.assert_allclose(a[0], b[0], rtol=1e-14, atol=1e-16)
        assert a[1] == pytest.approx(b[1], rel=1e-14, abs=1e-16)
        assert a[2] == pytest.approx(b[2], rel=1e-14)


def test_drift_by_hand() -> None:
    # 0.5 in an asset that gains 10% and 0.5 cash: value 1.05, weight 0.55 / 1.05.
    w, cash, growth = drift(np.array([0.5]), 0.5, np.array([0.10]))
    assert growth == pytest.approx(1.05, rel=1e-15)
    assert w[0] == pytest.approx(0.55 / 1.05, rel=1e-15) and cash == pytest.approx(0.5 / 1.05)


@pytest.mark.parametrize("seed", range(5))
def test_trade_and_its_twin_agree(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    for _ in range(50):
        n = int(rng.integers(1, 10))
        w, cash = random_book(rng, n)
        traded = rng.random(n) < 0.7
        traded[int(rng.integers(n))] = True
        target = np.where(traded, rng.dirichlet(np.ones(n)) * rng.uniform(0.5, 1.0), np.nan)
        target[traded] *= min(1.0, (1.0 - w[~traded].sum()) / target[traded].sum())
        rates = rng.uniform(0, 0.02, n)
        a, b = trade(w, cash, target, traded, rates), trade_nb(w, cash, target, traded, rates)
        np.testing.assert_allclose(a.weights, b[0], rtol=1e-13, atol=1e-15)
        for x, y in zip(a[1:5], b[1:5]):
            assert x == pytest.approx(y, rel=1e-13, abs=1e-15)
        np.testing.assert_allclose(a.sent, b[5], rtol=1e-13, atol=1e-15)
        # The book stays whole: weights plus cash make 1, and the fee is the cost model's.
        assert a.weights.sum() + a.cash == pytest.approx(1.0, abs=1e-12)
        change = a.sent - w[traded]
        assert a.fee == CostModel(rates).fee(change, traded)
        assert a.growth == 1.0 - a.fee


def test_trade_from_cash_by_hand() -> None:
    # From cash, buy 1.0 of one asset at a 1% fee: k (1 + 0.01) = 1, fee 0.01 / 1.01.
    step = trade(np.zeros(1), 1.0, np.array([1.0]), np.array([True]), np.array([0.01]))
    k = (1.0 / 1.01) * (1.0 - CASH_GUARD)
    assert step.sent[0] == pytest.approx(k, rel=1e-15)
    assert step.fee == pytest.approx(0.01 * k, rel=1e-15)
    assert step.weights[0] == pytest.approx(k / (1 - 0.01 * k), rel=1e-15)
    assert step.cash == pytest.approx(0.0, abs=1e-11)
