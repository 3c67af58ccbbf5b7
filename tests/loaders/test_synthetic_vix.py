"""The synthetic market, the volatility-index options and the public `load` entry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import ConfigError
from rwafolio.loaders import load, load_files, load_synthetic, nyse_sessions
from rwafolio.loaders.synthetic import generate
from rwafolio.loaders.vix import align_vix, parse_spec, realized_vol_index


def ann_vol(p: pd.Series, ppy: int) -> float:
    return float(np.diff(np.log(p.to_numpy())).std() * np.sqrt(ppy))


def test_synthetic_is_seeded_and_labelled() -> None:
    # Its speed is measured in benchmarks/loaders.py, not asserted here.
    a = load_synthetic(seed=3)
    b = load_synthetic(seed=3)
    pd.testing.assert_frame_equal(a.prices, b.prices)
    assert not a.prices.equals(load_synthetic(seed=4).prices)
    assert a.source == "synthetic" and a.synthetic and a.meta["seed"] == 3
    assert a.meta["synthetic"] is True and a.vix_source == "synthetic"
    assert a.prices.index[0] == pd.Timestamp("2019-01-01")
    assert a.prices.index[-1] == pd.Timestamp("2024-12-31")


def test_synthetic_calendar_and_calibration() -> None:
    m = generate(7)
    sessions = nyse_sessions("2019-01-01", "2024-12-31")
    assert m.prices["VNQ"].index.equals(sessions)
    assert len(m.prices["BTC-USD"]) == len(pd.date_range("2019-01-01", "2024-12-31"))
    vols = [ann_vol(generate(s).prices["BTC-USD"], 365) for s in range(5)]
    assert 0.5 < np.mean(vols) < 0.9  # BTC 60-80% a year
    assert 0.12 < ann_vol(m.prices["VNQ"], 252) < 0.3
    assert 0.1 < ann_vol(m.prices["GLD"], 252) < 0.2
    bil = m.prices["BIL"]
    assert ann_vol(bil, 252) < 0.01 and bil.iloc[-1] > bil.iloc[0]
    assert 15 < m.vix.mean() < 25 and m.vix.max() > 30
    usdt = m.prices["USDT-USD"]
    breaks = (usdt - 1).abs() > 0.02
    assert 0 < breaks.sum() < 0.05 * len(usdt)  # rare depegs
    assert (usdt > 0).all()


def test_synthetic_correlation_rises_in_stress() -> None:
    calm, stress = [], []
    for seed in range(4):
        m = generate(seed)
        r = pd.DataFrame({s: np.log(m.prices[s]).diff() for s in ("BTC-USD", "VNQ")}).dropna()
        reg = m.regime.reindex(r.index)
        calm.append(r[reg == 0].corr().iloc[0, 1])
        stress.append(r[reg == 1].corr().iloc[0, 1])
    assert np.mean(stress) > np.mean(calm) + 0.2


def test_synthetic_panel_policies() -> None:
    a = load("synthetic")
    x = load("synthetic", policy="exchange_days")
    assert a.periods_per_year == 365 and x.periods_per_year == 252
    sessions = nyse_sessions("2019-01-01", "2024-12-31")
    assert int(a.tradable["VNQ"].sum()) == len(sessions) and a.tradable["BTC-USD"].all()
    assert x.prices.index.equals(sessions.rename("date"))
    # exchange_days samples the same crypto path on sessions
    np.testing.assert_allclose(
        x.prices["BTC-USD"].to_numpy(), a.prices["BTC-USD"].loc[sessions].to_numpy()
    )


def test_realized_vol_matches_hand_computation() -> None:
    rng = np.random.default_rng(0)
    idx = pd.date_range("2024-01-01", periods=60)
    p = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.02, 60))), index=idx)
    v = realized_vol_index(p, window=30, periods_per_year=365)
    assert v.index[0] == idx[30]
    r = np.diff(np.log(p.to_numpy()))
    np.testing.assert_allclose(v.iloc[-1], r[-30:].std(ddof=1) * np.sqrt(365) * 100)
    # no look-ahead: changing a later price leaves earlier values unchanged
    q = p.copy()
    q.iloc[-1] *= 2
    pd.testing.assert_series_equal(realized_vol_index(q).iloc[:-1], v.iloc[:-1])


def test_align_vix_carries_last_published_level() -> None:
    vix = pd.Series([20.0, 25.0], index=pd.DatetimeIndex(["2024-01-05", "2024-01-08"]))
    out = align_vix(vix, pd.date_range("2024-01-04", "2024-01-09"))
    np.testing.assert_array_equal(out.to_numpy(), [np.nan, 20, 20, 20, 25, 25])


def test_parse_spec(tmp_path: Path) -> None:
    f = tmp_path / "dvol.csv"
    f.write_text("date,close\n2024-01-01,50\n")
    assert parse_spec("none") == ("none", "")
    assert parse_spec("^VIX") == ("yahoo", "^VIX")
    assert parse_spec("realized:BTC-USD") == ("realized", "BTC-USD")
    assert parse_spec(str(f)) == ("file", str(f))
    assert parse_spec(f"file:{f}") == ("file", str(f))
    with pytest.raises(ConfigError, match="realized:SYMBOL"):
        parse_spec("nonsense")


def test_vix_from_file_and_realized_trim(tmp_path: Path) -> None:
    idx = pd.date_range("2024-01-01", periods=50)
    pd.DataFrame({"date": idx, "close": np.linspace(100, 150, 50)}).to_csv(
        tmp_path / "BTC-USD.csv", index=False
    )
    pd.DataFrame({"date": idx[5::2], "close": np.arange(len(idx[5::2])) + 40.0}).to_csv(
        tmp_path / "dvol.csv", index=False
    )
    p = load_files(["BTC-USD"], [tmp_path], vix=str(tmp_path / "dvol.csv"))
    assert p.vix_source == f"file:{tmp_path / 'dvol.csv'}"
    assert p.prices.index[0] == idx[5] and p.meta["vix_trimmed"] == 5
    assert p.vix.iloc[1] == 40.0 and p.vix.iloc[2] == 41.0  # carried, then the next level
    r = load_files(["BTC-USD"], [tmp_path], vix="realized:BTC-USD")
    assert r.vix_source == "realized:BTC-USD" and r.prices.index[0] == idx[30]
    with pytest.raises(ConfigError, match="outside"):
        load_files(["BTC-USD"], [tmp_path], vix="realized:ETH-USD")


def test_load_rejects_unknown_source() -> None:
    with pytest.raises(ConfigError, match="source"):
        load("csv")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="not synthetic"):
        load_synthetic(["SPY"])
