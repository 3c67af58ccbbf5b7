"""Calendar policies, NYSE sessions, and missing data days versus closed markets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.loaders.calendar import align, nyse_sessions
from rwafolio.universe import Universe

U = Universe.from_symbols(["BTC-USD", "VNQ"])


def crypto(start: str, end: str) -> pd.Series:
    idx = pd.date_range(start, end)
    return pd.Series(np.arange(1.0, len(idx) + 1.0), index=idx)


def etf(dates: list[str]) -> pd.Series:
    return pd.Series(np.arange(10.0, 10.0 + len(dates)), index=pd.DatetimeIndex(dates))


def test_nyse_sessions_known_closures() -> None:
    s = nyse_sessions("2018-12-01", "2018-12-10")
    # 2018-12-05: market closed for President Bush's funeral.
    assert list(s.strftime("%m-%d")) == ["12-03", "12-04", "12-06", "12-07", "12-10"]
    assert pd.Timestamp("2012-10-29") not in nyse_sessions("2012-10-26", "2012-11-01")
    assert len(nyse_sessions("2001-09-10", "2001-09-17")) == 2  # 10th and 17th


def test_all_days_marks_closed_days_and_carries_price() -> None:
    vnq = etf(["2023-12-29", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])
    btc = crypto("2023-12-25", "2024-01-07")
    prices, tradable, findings = align(
        {"BTC-USD": btc, "VNQ": vnq}, U, "all_days", "2024-01-01", "2024-01-07"
    )
    assert len(prices) == 7 and findings == ()
    assert tradable["BTC-USD"].all()
    assert list(tradable["VNQ"]) == [False, True, True, True, True, False, False]
    # Jan 1 (holiday) carries Dec 29's close; the weekend carries Friday's.
    np.testing.assert_allclose(prices["VNQ"].to_numpy(), [10, 11, 12, 13, 14, 14, 14])
    np.testing.assert_allclose(prices["BTC-USD"].to_numpy(), btc.loc["2024-01-01":].to_numpy())


def test_exchange_days_samples_crypto_and_compounds() -> None:
    vnq = etf(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"])
    btc = crypto("2024-01-01", "2024-01-08")
    prices, tradable, _ = align({"BTC-USD": btc, "VNQ": vnq}, U, "exchange_days")
    assert list(prices.index.strftime("%m-%d")) == ["01-02", "01-03", "01-04", "01-05", "01-08"]
    assert tradable.to_numpy().all()
    r = prices["BTC-USD"].pct_change().iloc[-1]
    # Friday -> Monday return equals the compounded Fri->Sat->Sun->Mon daily returns.
    daily = btc.pct_change().loc["2024-01-06":"2024-01-08"]
    np.testing.assert_allclose(r, np.prod(1 + daily.to_numpy()) - 1)


def test_missing_day_is_a_gap_not_a_closed_market() -> None:
    vnq = etf(["2024-01-02", "2024-01-04", "2024-01-05"])  # session 01-03 missing
    btc = crypto("2024-01-01", "2024-01-07").drop(pd.Timestamp("2024-01-06"))  # Saturday missing
    series = {"BTC-USD": btc, "VNQ": vnq}
    with pytest.raises(DataError, match="missing data day") as err:
        align(series, U, "all_days", "2024-01-02", "2024-01-07")
    assert "VNQ 2024-01-03" in str(err.value) and "BTC-USD 2024-01-06" in str(err.value)
    prices, tradable, findings = align(
        series, U, "all_days", "2024-01-02", "2024-01-07", missing="ffill"
    )
    gaps = {(f.symbol, f.date.strftime("%m-%d")) for f in findings if f.kind == "gap"}
    assert gaps == {("VNQ", "01-03"), ("BTC-USD", "01-06")}
    assert all(f.repaired for f in findings if f.kind == "gap")
    assert not tradable.loc["2024-01-03", "VNQ"] and not tradable.loc["2024-01-06", "BTC-USD"]
    assert prices.loc["2024-01-03", "VNQ"] == prices.loc["2024-01-02", "VNQ"]
    dropped, _, _ = align(series, U, "all_days", "2024-01-02", "2024-01-07", missing="drop")
    assert pd.Timestamp("2024-01-03") not in dropped.index
    assert pd.Timestamp("2024-01-06") not in dropped.index
    assert len(dropped) == 4


def test_weekend_gap_in_crypto_is_invisible_under_exchange_days() -> None:
    vnq = etf(["2024-01-05", "2024-01-08"])
    btc = crypto("2024-01-05", "2024-01-08").drop(pd.Timestamp("2024-01-06"))
    prices, _, findings = align({"BTC-USD": btc, "VNQ": vnq}, U, "exchange_days")
    assert len(prices) == 2 and findings == ()


def test_off_calendar_rows_ignored_and_reported() -> None:
    vnq = etf(["2024-01-05", "2024-01-06", "2024-01-08"])  # a Saturday row
    btc = crypto("2024-01-05", "2024-01-08")
    prices, tradable, findings = align({"BTC-USD": btc, "VNQ": vnq}, U, "all_days")
    assert [f.kind for f in findings] == ["off_calendar"]
    assert not tradable.loc["2024-01-06", "VNQ"]
    assert prices.loc["2024-01-06", "VNQ"] == 10.0  # Friday's, not the off-calendar row


def test_coverage_errors() -> None:
    vnq = etf(["2024-01-02", "2024-01-03"])
    btc = crypto("2024-01-01", "2024-01-10")
    with pytest.raises(DataError, match="no price at or before"):
        align({"BTC-USD": btc, "VNQ": vnq}, U, "all_days", "2024-01-01", "2024-01-03")
    with pytest.raises(DataError, match="data ends"):
        align({"BTC-USD": btc, "VNQ": vnq}, U, "all_days", "2024-01-02", "2024-01-08")
    with pytest.raises(ConfigError, match="policy"):
        align({"BTC-USD": btc, "VNQ": vnq}, U, "weekly")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="missing"):
        align({"BTC-USD": btc, "VNQ": vnq}, U, missing="zero")  # type: ignore[arg-type]
