"""Layouts of the files loader, symbol lookup across folders, currency conversion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import ConfigError, DataError, LayoutError
from rwafolio.loaders.files import (
    KNOWN_LAYOUTS,
    compare_sources,
    find_symbol_files,
    read_file,
    read_symbols,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_yahoo_classic_uses_adj_close(tmp_path: Path) -> None:
    p = write(
        tmp_path / "VNQ.csv",
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-01-02,10,11,9,10.5,5.25,100\n2024-01-03,10.5,11,10,11,5.5,200\n",
    )
    d = read_file(p)["VNQ"]
    assert d.layout == "yahoo_classic"
    assert d.price_field == "Adj Close"
    np.testing.assert_allclose(d.price.to_numpy(), [5.25, 5.5])
    assert list(d.frame.index.strftime("%Y-%m-%d")) == ["2024-01-02", "2024-01-03"]


def test_yfinance_history_tz_aware_keeps_local_date(tmp_path: Path) -> None:
    p = write(
        tmp_path / "spy.csv",
        "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n"
        "2020-03-06 00:00:00-05:00,1,1,1,2,5,0.0,0.0\n"
        "2020-03-09 00:00:00-04:00,1,1,1,3,5,0.0,0.0\n",
    )
    d = read_file(p)["spy"]
    assert d.layout == "yfinance_history" and d.price_field == "Close"
    assert d.frame.index.tz is None
    assert list(d.frame.index.strftime("%Y-%m-%d")) == ["2020-03-06", "2020-03-09"]


def test_yfinance_download_three_line_header(tmp_path: Path) -> None:
    p = write(
        tmp_path / "x.csv",
        "Price,Adj Close,Close,High,Low,Open,Volume\n"
        "Ticker,GLD,GLD,GLD,GLD,GLD,GLD\nDate,,,,,,\n"
        "2024-01-02,1.5,3,3.1,2.9,3,10\n2024-01-03,1.6,3.2,3.3,3.0,3.1,11\n",
    )
    d = read_file(p)["GLD"]
    assert d.layout == "yfinance_download" and d.price_field == "Adj Close"
    np.testing.assert_allclose(d.price.to_numpy(), [1.5, 1.6])
    np.testing.assert_allclose(d.frame["close"].to_numpy(), [3, 3.2])


def test_yfinance_download_mislabelled_four_line_header(tmp_path: Path) -> None:
    # The taa-dashboard quirk: the 2nd 'Price' column is really Adj Close.
    p = write(
        tmp_path / "VNQ.csv",
        "Price,Price,Close,High,Low,Open,Volume\n"
        "Ticker,VNQ,VNQ,VNQ,VNQ,VNQ,VNQ\nTicker,VNQ,VNQ,VNQ,VNQ,VNQ,VNQ\nDate,,,,,,\n"
        "2004-09-29 00:00:00,20.0593,49.8499,49.99,49.84,49.8499,205800\n"
        "2004-09-30 00:00:00,20.1,50.25,50.33,49.99,50.0,27900\n",
    )
    d = read_file(p)["VNQ"]
    assert d.price_field == "Adj Close"
    np.testing.assert_allclose(d.frame["adj_close"].to_numpy(), [20.0593, 20.1])
    np.testing.assert_allclose(d.frame["open"].to_numpy(), [49.8499, 50.0])


def test_yfinance_download_multi_ticker(tmp_path: Path) -> None:
    p = write(
        tmp_path / "both.csv",
        "Price,Close,Close,Volume,Volume\nTicker,AAA,BBB,AAA,BBB\n"
        "Date,,,,\n2024-01-02,1,2,5,6\n2024-01-03,1.1,2.2,5,6\n",
    )
    parts = read_file(p)
    assert set(parts) == {"AAA", "BBB"}
    np.testing.assert_allclose(parts["BBB"].price.to_numpy(), [2, 2.2])


def test_cboe_us_dates(tmp_path: Path) -> None:
    p = write(
        tmp_path / "vix.csv",
        "DATE,OPEN,HIGH,LOW,CLOSE\n01/02/1990,17.24,17.24,17.24,17.24\n"
        "01/03/1990,18.19,18.19,18.19,18.19\n",
    )
    d = read_file(p)["vix"]
    assert d.layout == "cboe"
    assert d.frame.index[1] == pd.Timestamp("1990-01-03")
    np.testing.assert_allclose(d.price.to_numpy(), [17.24, 18.19])


def test_date_close_descending_and_empty_columns(tmp_path: Path) -> None:
    p = write(
        tmp_path / "dvol.csv", "date,close,,\n2024-01-03,50,,\n2024-01-02,40,,\n2024-01-01,45,,\n"
    )
    d = read_file(p)["dvol"]
    assert d.layout == "date_close"
    assert d.frame.index.is_monotonic_increasing
    np.testing.assert_allclose(d.price.to_numpy(), [45, 40, 50])
    assert any("descending" in n for n in d.notes)


def test_kline_headerless_ms_epoch(tmp_path: Path) -> None:
    ms = [int(pd.Timestamp(d).timestamp() * 1000) for d in ("2024-01-01", "2024-01-02")]
    rows = [f"{t},1,2,0.5,{c},10,{t + 86399999},100,5,1,1,0" for t, c in zip(ms, (1.5, 1.7))]
    p = write(tmp_path / "BTCUSDT-1d.csv", "\n".join(rows) + "\n")
    d = read_file(p, symbol="BTC-USD")["BTC-USD"]
    assert d.layout == "kline"
    assert list(d.frame.index.strftime("%Y-%m-%d")) == ["2024-01-01", "2024-01-02"]
    np.testing.assert_allclose(d.price.to_numpy(), [1.5, 1.7])


def test_kline_with_header(tmp_path: Path) -> None:
    t = int(pd.Timestamp("2024-02-01").timestamp() * 1000)
    p = write(
        tmp_path / "ETH.csv",
        "open_time,open,high,low,close,volume,close_time\n"
        f"{t},1,2,0.5,1.2,3,{t + 1}\n{t + 86_400_000},1,2,0.5,1.3,3,{t + 2}\n",
    )
    d = read_file(p)["ETH"]
    assert d.layout == "kline"
    assert d.frame.index[0] == pd.Timestamp("2024-02-01")


def test_wide_file_and_symbol_lookup_by_column(tmp_path: Path) -> None:
    write(tmp_path / "prices.csv", "date,AAA,BBB\n2024-01-02,1,2\n2024-01-03,1.5,2.5\n")
    parts = read_file(tmp_path / "prices.csv")
    assert {k: v.layout for k, v in parts.items()} == {"AAA": "wide", "BBB": "wide"}
    data, matches = read_symbols(["bbb"], [tmp_path])
    assert matches["bbb"].column == "BBB"
    np.testing.assert_allclose(data["bbb"].price.to_numpy(), [2, 2.5])


def test_parquet_plain_and_multiindex(tmp_path: Path) -> None:
    idx = pd.DatetimeIndex(["2024-01-02", "2024-01-03"], name="Date")
    pd.DataFrame({"Close": [1.0, 2.0], "Adj Close": [0.5, 1.0]}, index=idx).to_parquet(
        tmp_path / "a.parquet"
    )
    d = read_file(tmp_path / "a.parquet")["a"]
    assert d.price_field == "Adj Close"
    np.testing.assert_allclose(d.price.to_numpy(), [0.5, 1.0])
    cols = pd.MultiIndex.from_product([["Close", "Volume"], ["X"]], names=["Price", "Ticker"])
    pd.DataFrame([[3.0, 1.0], [4.0, 1.0]], index=idx, columns=cols).to_parquet(
        tmp_path / "m.parquet"
    )
    m = read_file(tmp_path / "m.parquet")["X"]
    assert m.layout == "yfinance_download"
    np.testing.assert_allclose(m.price.to_numpy(), [3.0, 4.0])


def test_unknown_layout_lists_known_layouts(tmp_path: Path) -> None:
    p = write(tmp_path / "bad.csv", "foo,bar\nx,y\n")
    with pytest.raises(LayoutError) as err:
        read_file(p)
    for name in KNOWN_LAYOUTS:
        assert name in str(err.value)


def test_duplicate_dates_raise(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", "date,close\n2024-01-02,1\n2024-01-02,2\n")
    with pytest.raises(DataError, match="unique"):
        read_file(p)


def test_lookup_case_insensitive_recursive_and_preference(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write(a / "deep" / "btc-usd.CSV", "date,close\n2024-01-02,1\n2024-01-03,2\n")
    write(b / "BTC-USD.csv", "date,close\n2024-01-02,5\n2024-01-03,6\n")
    m = find_symbol_files(["BTC-USD"], [a, b])["BTC-USD"]
    assert m.path == a / "deep" / "btc-usd.CSV"
    assert m.shadowed == (b / "BTC-USD.csv",)
    m2 = find_symbol_files(["BTC-USD"], [b, a])["BTC-USD"]
    assert m2.path == b / "BTC-USD.csv"


def test_ambiguous_in_one_folder_names_both(tmp_path: Path) -> None:
    write(tmp_path / "x" / "VNQ.csv", "date,close\n2024-01-02,1\n")
    write(tmp_path / "y" / "vnq.parquet", "not really parquet")
    with pytest.raises(DataError) as err:
        find_symbol_files(["VNQ"], [tmp_path])
    assert "VNQ.csv" in str(err.value) and "vnq.parquet" in str(err.value)


def test_missing_symbol_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="ZZZ"):
        find_symbol_files(["ZZZ"], [tmp_path])
    with pytest.raises(ConfigError, match="data_dirs"):
        find_symbol_files(["ZZZ"], [tmp_path / "nope"])


def test_currency_conversion_uses_last_known_rate(tmp_path: Path) -> None:
    write(tmp_path / "EUREF.csv", "date,close\n2024-01-05,10\n2024-01-06,10\n2024-01-08,20\n")
    fx = pd.Series([1.1, 1.2], index=pd.DatetimeIndex(["2024-01-05", "2024-01-08"]))
    data, _ = read_symbols(["EUREF"], [tmp_path], currency={"EUREF": "EUR"}, fx={"EUR": fx})
    np.testing.assert_allclose(data["EUREF"].price.to_numpy(), [11.0, 11.0, 24.0])
    assert any("EUR" in n for n in data["EUREF"].notes)
    late = pd.Series([1.1], index=pd.DatetimeIndex(["2024-01-06"]))
    with pytest.raises(DataError, match="fx"):
        read_symbols(["EUREF"], [tmp_path], currency={"EUREF": "EUR"}, fx={"EUR": late})
    with pytest.raises(ConfigError, match="fx"):
        read_symbols(["EUREF"], [tmp_path], currency={"EUREF": "EUR"})


def test_compare_sources_flags_only_disagreeing_returns() -> None:
    idx = pd.date_range("2024-01-01", periods=4)
    a = pd.Series([100.0, 101.0, 102.0, 100.0], index=idx)
    b = pd.Series([50.0, 50.5, 51.0, 49.5], index=idx)  # same returns except the last
    bad = compare_sources(a, b)
    assert list(bad.index) == [idx[3]]
    np.testing.assert_allclose(bad["ret_b"].iloc[0], 49.5 / 51 - 1)
