"""Detection of suspicious points and the opt-in repair."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import ConfigError
from rwafolio.loaders.cleaning import clean, detect, robust_jump_scores
from rwafolio.loaders.frames import PriceData


def frame(
    close: np.ndarray, volume: np.ndarray | None = None, flat: tuple[int, ...] = ()
) -> pd.DataFrame:
    n = len(close)
    idx = pd.date_range("2020-01-01", periods=n, name="date")
    f = pd.DataFrame(
        {
            "open": close * 0.99,
            "high": close * 1.02,
            "low": close * 0.98,
            "close": close,
            "volume": np.full(n, 1e6) if volume is None else volume,
        },
        index=idx,
    )
    for i in flat:
        f.iloc[i, :4] = close[i]
    return f


def walk(n: int = 200, seed: int = 0, vol: float = 0.01) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(rng.normal(0, vol, n)))


def test_robust_scores_match_hand_computation() -> None:
    p = walk(80)
    z = robust_jump_scores(p, window=20)
    a = np.abs(np.diff(np.log(p)))
    t = 50  # return index t -> price index t + 1
    expected = a[t] / (1.4826 * np.median(a[t - 20 : t]))
    np.testing.assert_allclose(z[t + 1], expected, rtol=1e-12)
    assert np.isnan(z[:11]).all()


def test_spike_jump_flat_zero_volume_stale_detected() -> None:
    p = walk()
    p[100] *= 1.5  # bad print: up then back down
    p[150:] *= 0.7  # level shift
    p[60:72] = p[59]  # 12 identical prices
    vol = np.full(len(p), 1e6)
    vol[30] = 0
    data = PriceData("X", frame(p, vol, flat=(40,)), "ohlc")
    found = detect(data)
    kinds = {(f.kind, f.date.strftime("%Y-%m-%d")) for f in found}
    d = pd.date_range("2020-01-01", periods=len(p))
    assert ("spike", f"{d[100]:%Y-%m-%d}") in kinds
    assert ("jump", f"{d[150]:%Y-%m-%d}") in kinds
    assert ("flat_bar", f"{d[40]:%Y-%m-%d}") in kinds
    assert ("zero_volume", f"{d[30]:%Y-%m-%d}") in kinds
    assert ("stale", f"{d[71]:%Y-%m-%d}") in kinds
    assert sum(f.kind in ("jump", "spike") for f in found) == 2  # nothing else in a calm walk


def test_peg_break_only_for_stablecoins() -> None:
    p = 1 + np.random.default_rng(1).normal(0, 0.001, 100)
    p[50] = 0.9715
    data = PriceData("USDC-USD", frame(p), "ohlc")
    pegs = [f for f in detect(data, asset_class="stable") if f.kind == "peg_break"]
    assert [f.date for f in pegs] == [data.frame.index[50]]
    assert not [f for f in detect(data, asset_class="crypto") if f.kind == "peg_break"]


def test_suspect_last_row_low_volume_and_range() -> None:
    p = walk(100)
    f = frame(p)
    f.iloc[-1, f.columns.get_loc("volume")] = 3e5
    f.iloc[-1, f.columns.get_loc("high")] = p[-1] * 1.002
    f.iloc[-1, f.columns.get_loc("low")] = p[-1] * 0.998
    found = detect(PriceData("X", f, "ohlc"))
    assert [x.kind for x in found] == ["suspect_last_row"]
    assert not detect(PriceData("X", frame(p), "ohlc"))


def test_invalid_rows_removed_and_reported() -> None:
    p = walk(50)
    p[10] = np.nan
    p[20] = -1.0
    price, found = clean(PriceData("X", frame(p), "ohlc"))
    assert len(price) == 48
    assert [f.kind for f in found] == ["invalid", "invalid"]


def test_repair_is_opt_in_and_marks_findings() -> None:
    p = walk()
    p[100] *= 1.5
    data = PriceData("X", frame(p), "ohlc")
    before = data.frame.copy()
    price, found = clean(data)
    assert len(price) == len(p) and not any(f.repaired for f in found)
    pd.testing.assert_frame_equal(data.frame, before)
    price2, found2 = clean(data, repair="drop_flagged")
    assert len(price2) == len(p) - 1
    assert data.frame.index[100] not in price2.index
    assert [f.repaired for f in found2 if f.kind == "spike"] == [True]
    with pytest.raises(ConfigError, match="repair"):
        clean(data, repair="fix")  # type: ignore[arg-type]
