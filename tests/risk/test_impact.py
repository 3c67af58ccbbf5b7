"""Square-root impact against hand-computed values, its decay against the closed form, and the
calibration rule that a proxy's ETF volume never stands in for the token's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import ConfigError
from rwafolio.loaders.volume import Liquidity
from rwafolio.risk.impact import (
    TOKEN_PROFILE,
    ImpactModel,
    LiquidityProfile,
    calibrate,
    propagate_nb,
    propagate_py,
)
from rwafolio.universe import Universe


def test_square_root_law_hand_computed() -> None:
    m = ImpactModel(y=0.5)
    # 4% of a day's volume at 2% daily vol: 0.5 * 0.02 * sqrt(0.04) = 0.002; selling is negative.
    out = m.impact(np.array([4e6, -4e6, 0.0]), np.array([1e8, 1e8, 1e8]), np.array([0.02] * 3))
    np.testing.assert_allclose(out, [0.002, -0.002, 0.0], rtol=1e-15, atol=0)
    # The example: a $50m one-day sale of VNQ at ADV $459m and sigma 1.46% moves it ~0.48%.
    np.testing.assert_allclose(
        ImpactModel().impact(np.array([-50e6]), np.array([459e6]), np.array([0.0146])),
        [-0.0146 * np.sqrt(50 / 459)],
        rtol=1e-14,
    )


def test_single_trade_decays_with_the_half_life() -> None:
    m = ImpactModel(y=1.0, permanent_share=0.6, half_life=3.0)
    flows = np.zeros((10, 1))
    flows[0, 0] = 1e6
    d = m.displacement(flows, np.array([1e8]), np.array([0.03]))
    peak = 0.03 * np.sqrt(0.01)
    t = np.arange(10)
    np.testing.assert_allclose(d[:, 0], 0.6 * peak * 2.0 ** (-t / 3.0), rtol=1e-13)
    np.testing.assert_allclose(d[3, 0] / d[0, 0], 0.5, rtol=1e-13)


def test_constant_flow_reaches_the_geometric_sum_and_permanent_is_linear() -> None:
    m = ImpactModel(y=1.0, permanent_share=0.5, half_life=2.0)
    flows = np.full((20, 1), -2.5e5)
    d = m.displacement(flows, np.array([1e7]), np.array([0.01]))
    i = -0.01 * np.sqrt(0.025)
    r = 2.0 ** (-1 / 2.0)
    t = np.arange(20)
    np.testing.assert_allclose(d[:, 0], 0.5 * i * (1 - r ** (t + 1)) / (1 - r), rtol=1e-12)
    perm = ImpactModel(y=1.0, permanent_share=1.0, half_life=np.inf)
    np.testing.assert_allclose(
        perm.displacement(flows, np.array([1e7]), np.array([0.01]))[:, 0], i * (t + 1), rtol=1e-12
    )


def test_kernel_matches_its_convolution_twin() -> None:
    rng = np.random.default_rng(3)
    flows = rng.normal(size=(40, 4)) * 1e6
    flows[rng.random(flows.shape) < 0.3] = 0.0
    vol, sig = rng.uniform(1e6, 1e9, 4), rng.uniform(0.001, 0.05, 4)
    np.testing.assert_allclose(
        propagate_nb(flows, vol, sig, 0.8, 0.7, 0.9),
        propagate_py(flows, vol, sig, 0.8, 0.7, 0.9),
        rtol=1e-12,
        atol=1e-18,
    )


@pytest.mark.parametrize(
    "kwargs", [{"y": -1.0}, {"permanent_share": 1.5}, {"half_life": 0.0}, {"y": np.nan}]
)
def test_bad_parameters_are_typed_errors(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match=next(iter(kwargs))):
        ImpactModel(**kwargs)


def _liq(symbols: list[str], adv: list[float]) -> Liquidity:
    idx = pd.Index(symbols)
    return Liquidity(
        adv=pd.Series(adv, index=idx),
        amihud=pd.Series(np.nan, index=idx),
        sigma_daily=pd.Series(0.01, index=idx),
        sessions=pd.Series(100, index=idx),
        start=pd.Timestamp("2020-01-01"),
        end=pd.Timestamp("2020-06-01"),
    )


def test_calibration_never_uses_an_etf_volume_for_its_token() -> None:
    u = Universe.from_symbols(["BTC-USD", "VNQ", "BIL", "PAXG-USD"])
    liq = _liq(u.symbols, [2e10, 4.6e8, 3.6e8, 1e8])
    cal = calibrate(u, liq)
    assert cal.daily_volume["BTC-USD"] == 2e10 and cal.source["BTC-USD"] == "panel ADV"
    assert cal.daily_volume["VNQ"] == TOKEN_PROFILE["tokenized real estate"]
    assert cal.daily_volume["BIL"] == TOKEN_PROFILE["tokenized T-bills"]
    assert cal.source["VNQ"].startswith("assumed token profile")
    # PAXG is itself the token (24/7): its own volume counts.
    assert cal.daily_volume["PAXG-USD"] == 1e8
    prof = LiquidityProfile(daily_volume={"VNQ": 5e5}, spread={"VNQ": 0.004})
    cal2 = calibrate(u, liq, prof)
    assert cal2.daily_volume["VNQ"] == 5e5 and cal2.spread["VNQ"] == 0.004
    assert cal2.source["VNQ"] == "profile"
    with pytest.raises(ConfigError, match="not in the universe"):
        calibrate(u, liq, LiquidityProfile(daily_volume={"XYZ": 1.0}))
    with pytest.raises(ConfigError, match="daily_volume"):
        LiquidityProfile(daily_volume={"VNQ": 0.0})
