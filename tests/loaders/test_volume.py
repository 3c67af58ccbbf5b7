"""Volume in the panel: units per layout, absent (not zero) without a volume column, liquidity.

References are independent: the raw CSV rows read with the ``csv`` module and numpy, never the
loader's own frames.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import DataError
from rwafolio.loaders import load
from rwafolio.loaders.files import read_file
from rwafolio.loaders.volume import align_volume, liquidity_arrays, quote_volume

DAYS = ("2024-01-02", "2024-01-03", "2024-01-04")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def layouts(tmp: Path) -> dict[str, tuple[Path, list[float] | None]]:
    """One tiny file per layout; expected quote volume (None: the layout has none)."""
    ms = [int(pd.Timestamp(d).timestamp() * 1000) for d in DAYS]
    kline = "\n".join(
        f"{t},1,2,0.5,{c},{v},{t + 86399999},0,5,1,1,0"
        for t, c, v in zip(ms, (2, 4, 5), (10, 20, 0))
    )
    return {
        # ETF shares x unadjusted close (not the adjusted close).
        "yahoo_classic": (
            write(
                tmp / "a" / "VNQ.csv",
                "Date,Open,High,Low,Close,Adj Close,Volume\n"
                + "".join(
                    f"{d},1,1,1,{c},{c / 2},{v}\n"
                    for d, c, v in zip(DAYS, (10, 11, 12), (100, 200, 300))
                ),
            ),
            [1000.0, 2200.0, 3600.0],
        ),
        # Yahoo crypto: volume already in USD.
        "yfinance_history": (
            write(
                tmp / "b" / "BTC-USD.csv",
                "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n"
                + "".join(
                    f"{d} 00:00:00+00:00,1,1,1,{c},{v},0.0,0.0\n"
                    for d, c, v in zip(DAYS, (5, 6, 7), (50, 60, 70))
                ),
            ),
            [50.0, 60.0, 70.0],
        ),
        "yfinance_download": (
            write(
                tmp / "c" / "GLD.csv",
                "Price,Adj Close,Close,High,Low,Open,Volume\nTicker,GLD,GLD,GLD,GLD,GLD,GLD\nDate,,,,,,\n"
                + "".join(f"{d},1,{c},1,1,1,{v}\n" for d, c, v in zip(DAYS, (3, 4, 5), (1, 2, 3))),
            ),
            [3.0, 8.0, 15.0],
        ),
        # Exchange kline: base units x close; a zero stays a zero.
        "kline": (write(tmp / "d" / "ETH-USD.csv", kline + "\n"), [20.0, 80.0, 0.0]),
        "cboe": (
            write(
                tmp / "e" / "VIXX.csv",
                "DATE,OPEN,HIGH,LOW,CLOSE\n"
                + "".join(f"{d},1,1,1,{c}\n" for d, c in zip(DAYS, (1, 2, 3))),
            ),
            None,
        ),
        "date_close": (
            write(tmp / "f" / "USDT-USD.csv", "date,close\n" + "".join(f"{d},1.0\n" for d in DAYS)),
            None,
        ),
    }


CLASSES = {
    "VNQ": "rwa",
    "BTC-USD": "crypto",
    "GLD": "rwa",
    "ETH-USD": "crypto",
    "VIXX": "rwa",
    "USDT-USD": "stable",
}


def test_volume_survives_every_layout_that_has_it_and_is_absent_otherwise(tmp_path: Path) -> None:
    for layout, (path, expected) in layouts(tmp_path).items():
        (data,) = read_file(path).values()
        assert data.layout == layout, path
        vol, rule = quote_volume(data, CLASSES[path.stem])
        if expected is None:
            assert vol is None and rule == "absent", layout
        else:
            assert vol is not None, layout
            np.testing.assert_allclose(vol.to_numpy(), expected, rtol=1e-15, err_msg=layout)


def test_panel_volume_nan_where_absent_never_zero(tmp_path: Path) -> None:
    files = layouts(tmp_path)
    dirs = [str(files[k][0].parent) for k in ("yfinance_history", "date_close")]
    panel = load(
        "files", ["BTC-USD", "USDT-USD"], data_dirs=dirs, vix="none", start=DAYS[0], end=DAYS[-1]
    )
    assert panel.volume is not None
    np.testing.assert_allclose(panel.volume["BTC-USD"].to_numpy(), [50.0, 60.0, 70.0])
    assert panel.volume["USDT-USD"].isna().all()
    assert panel.volume_rules == {
        "BTC-USD": "quote (Yahoo crypto volume is in USD)",
        "USDT-USD": "absent",
    }
    # Slicing keeps the volume aligned.
    sub = panel.slice(DAYS[1], DAYS[2])
    assert sub.volume is not None and list(sub.volume.index) == list(sub.prices.index)


def test_panel_without_any_volume_has_none(tmp_path: Path) -> None:
    files = layouts(tmp_path)
    panel = load("files", ["USDT-USD"], data_dirs=[str(files["date_close"][0].parent)], vix="none")
    assert panel.volume is None


def test_align_volume_matches_exact_dates_only() -> None:
    idx = pd.date_range("2024-01-01", periods=4, freq="D")
    vol = pd.Series([1.0, 3.0], index=pd.DatetimeIndex(["2024-01-02", "2024-01-04"]))
    out = align_volume({"A": vol, "B": None}, idx)
    np.testing.assert_array_equal(out["A"].to_numpy(), [np.nan, 1.0, np.nan, 3.0])
    assert out["B"].isna().all()


def test_panel_rejects_negative_volume() -> None:
    panel = load("synthetic", seed=1, start="2020-01-01", end="2020-03-01")
    bad = pd.DataFrame(-1.0, index=panel.prices.index, columns=panel.prices.columns)
    with pytest.raises(DataError, match="volume"):
        type(panel)(panel.prices, panel.tradable, panel.universe, panel.policy, volume=bad)


def _raw(path: Path, skip: int, date_col: int, close_col: int, vol_col: int) -> pd.DataFrame:
    with open(path, newline="") as fh:
        rows = [r for r in csv.reader(fh) if r][skip:]
    return pd.DataFrame(
        {
            "close": [float(r[close_col]) for r in rows],
            "volume": [float(r[vol_col]) for r in rows],
        },
        index=pd.DatetimeIndex([r[date_col][:10] for r in rows]),
    )


def test_liquidity_of_real_files_matches_numpy(shared_data: Path) -> None:
    start, end = "2019-01-01", "2021-12-31"
    panel = load(
        "files",
        ["BTC-USD", "VNQ"],
        data_dirs=[
            str(shared_data / "Alexshch09__Stocks-prices"),
            str(shared_data / "JoonmoAhn__quant_trading"),
        ],
        vix="none",
        start=start,
        end=end,
    )
    liq = panel.liquidity()
    # BTC: yfinance history, Close col 4, Volume col 5 (USD already).
    btc = _raw(shared_data / "Alexshch09__Stocks-prices" / "BTC-USD.csv", 1, 0, 4, 5).loc[start:end]
    # VNQ: classic Yahoo; the panel's price is Adj Close (col 5), volume is shares x Close (col 4).
    with open(shared_data / "JoonmoAhn__quant_trading" / "VNQ.csv", newline="") as fh:
        rows = [r for r in csv.reader(fh) if r][1:]
    vnq = pd.DataFrame(
        {
            "adj": [float(r[5]) for r in rows],
            "dollars": [float(r[4]) * float(r[6]) for r in rows],
        },
        index=pd.DatetimeIndex([r[0] for r in rows]),
    ).loc[start:end]
    for sym, price, dollars in (
        ("BTC-USD", btc["close"].to_numpy(), btc["volume"].to_numpy()),
        ("VNQ", vnq["adj"].to_numpy(), vnq["dollars"].to_numpy()),
    ):
        r = price[1:] / price[:-1] - 1
        np.testing.assert_allclose(liq.adv[sym], dollars.mean(), rtol=1e-12)
        np.testing.assert_allclose(
            liq.sigma_daily[sym], np.std(np.diff(np.log(price)), ddof=1), rtol=1e-10
        )
        ok = dollars[1:] > 0
        np.testing.assert_allclose(
            liq.amihud[sym], np.mean(np.abs(r[ok]) / dollars[1:][ok]), rtol=1e-10
        )
        assert liq.sessions[sym] == len(price)
    # Past only: a window ending earlier ignores later rows.
    early = panel.liquidity(end="2019-12-31")
    np.testing.assert_allclose(
        early.adv["BTC-USD"], btc.loc[:"2019-12-31", "volume"].mean(), rtol=1e-12
    )


def test_liquidity_arrays_skip_closed_days() -> None:
    prices = np.array([[1.0], [1.0], [2.0], [2.0]])
    volume = np.array([[10.0], [np.nan], [30.0], [np.nan]])
    session = np.array([[True], [False], [True], [False]])
    adv, amihud, sigma, count = liquidity_arrays(prices, volume, session)
    assert count[0] == 2 and adv[0] == 20.0
    np.testing.assert_allclose(amihud[0], 1.0 / 30.0)
    assert np.isnan(sigma[0])  # fewer than 3 sessions


def test_synthetic_market_has_volume_of_its_namesakes_order() -> None:
    from rwafolio.loaders.synthetic import ADV_USD

    panel = load("synthetic", seed=3)
    assert panel.volume is not None and not panel.volume.isna().all().any()
    adv = panel.liquidity().adv
    for sym, level in ADV_USD.items():
        # Lognormal noise with mean one around the level (x1.4/1.4 for the shock term).
        assert 0.7 * level < adv[sym] < 1.3 * level, sym
    # ETFs have volume on sessions only.
    closed = ~panel.tradable["VNQ"]
    assert panel.volume.loc[closed, "VNQ"].isna().all()
