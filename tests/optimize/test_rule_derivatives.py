"""d lam / d VIX of the risk-aversion rules against central differences of the rules themselves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwafolio.optimize.risk_aversion import Callable, Constant, VixLinear


def central(f, x: float, h: float = 1e-4) -> float:  # type: ignore[no-untyped-def]
    return (f(x + h) - f(x - h)) / (2 * h)


def test_linear_rule_closed_form() -> None:
    rule = VixLinear(lam0=2.0, eta=0.05)
    assert rule.dlam_dvix(20.0) == pytest.approx(0.1, rel=1e-15)
    assert rule.dlam_dvix(20.0) == pytest.approx(central(rule, 20.0), rel=1e-8)


def test_clip_and_floor_zero_the_derivative() -> None:
    rule = VixLinear(lam0=2.0, eta=0.05, clip=(0.0, 3.0))
    assert rule.dlam_dvix(40.0) == 0.0 == central(rule, 40.0)  # clipped at 3
    assert rule.dlam_dvix(5.0) == pytest.approx(central(rule, 5.0), rel=1e-8)
    negative = VixLinear(lam0=2.0, eta=-0.05)
    assert negative.dlam_dvix(30.0) == 0.0  # lam0 (1 - 1.5) < 0: floored at 0


def test_smoothed_rule_weights_todays_level() -> None:
    rule = VixLinear(lam0=2.0, eta=0.05, smoothing=5.0)
    path = np.array([18.0, 22.0, np.nan, 30.0, 25.0, 27.0])

    def lam_today(v: float) -> float:
        p = path.copy()
        p[-1] = v
        return float(rule.path(p)[-1])

    assert rule.dlam_dvix(path) == pytest.approx(central(lam_today, path[-1]), rel=1e-7)
    # pandas' EWMA of the same path is what `path` smooths with.
    ewm = pd.Series(path).ewm(halflife=5.0, ignore_na=True).mean().iloc[-1]
    assert rule.path(path)[-1] == pytest.approx(2.0 * (1 + 0.05 * ewm), rel=1e-14)


def test_constant_and_callable() -> None:
    assert Constant(3.0).dlam_dvix(25.0) == 0.0
    rule = Callable(lambda v: 1.0 + 0.002 * v**2)
    assert rule.dlam_dvix(20.0) == pytest.approx(0.004 * 20.0, rel=1e-8)
