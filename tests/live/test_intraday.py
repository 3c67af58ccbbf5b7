"""Hourly panels on the real hourly files: sessions, no look-ahead, annualization, live parity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwafolio.backtest import run
from rwafolio.exceptions import DataError
from rwafolio.live import LiveRebalancer, panel_bars
from rwafolio.loaders.intraday import load_intraday, read_bars
from rwafolio.optimize.costs import CostModel
from rwafolio.strategies import DynamicLambdaStrategy
from rwafolio.strategies.dynamic import MODEL_PRESET
from rwafolio.universe import Universe, make_asset

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

#: The model's own parameters (sample mean, no utility rule) over 48 hourly bars: it trades the
#: gold ETFs in this period, so the session checks below have orders to check.
PRESET48 = {**MODEL_PRESET, "window": 48}


def _files(shared):  # type: ignore[no-untyped-def]
    hop = shared / "hopeffy__economics-project-algorithmic-trading-algorithms"
    gold = shared / "waikit1986__gold-price-live"
    return {
        "BTC": hop / "BTCUSDT_1h.csv",
        "ETH": hop / "ETHUSDT_1h.csv",
        "PAXG": shared / "yanniedog__binance-historical-OHLCV-data" / "PAXGUSDT_1h.csv",
        "GLD": gold / "gld_hourly.csv",
        "IAU": gold / "iau_hourly.csv",
        "VNQ": shared / "jmlestevez-source__taa-dashboard" / "VNQ.csv",  # daily only
    }


def _universe() -> Universe:
    crypto = [make_asset(s, asset_class="crypto", calendar="24/7") for s in ("BTC", "ETH", "PAXG")]
    etfs = [
        make_asset(s, asset_class="rwa", calendar="XNYS", proxies="gold") for s in ("GLD", "IAU")
    ]
    proxy = [make_asset("VNQ", asset_class="rwa", calendar="XNYS", proxies="real estate")]
    return Universe(tuple(crypto + etfs + proxy))


@pytest.fixture(scope="module")
def hourly(shared_data):  # type: ignore[no-untyped-def]
    return load_intraday(
        _files(shared_data),
        _universe(),
        vix=shared_data / "datasets__finance-vix" / "vix-daily.csv",
        vix_daily=True,
        start="2023-03-01",
        end="2023-04-30",
        missing="ffill",
        daily=["VNQ"],
    )


def _xnys():  # type: ignore[no-untyped-def]
    import exchange_calendars as xcals

    return xcals.get_calendar("XNYS", start="2022-01-01", end="2025-12-31")


def test_no_bar_sees_a_later_close(hourly, shared_data) -> None:  # type: ignore[no-untyped-def]
    files = _files(shared_data)
    # Crypto: Binance labels a bar by its open; the close at grid time g is the row opened at g - 1h
    # (or an earlier one across the outage), never the row opened at g.
    btc = pd.read_csv(files["BTC"], parse_dates=["timestamp"]).set_index("timestamp")["close"]
    grid = hourly.dates
    for g in grid[hourly.tradable["BTC"].to_numpy()]:
        assert hourly.prices.at[g, "BTC"] == btc.at[g - pd.Timedelta(hours=1)]
    # GLD: yfinance's 3-line header, Close not first; a bar started at s ends at min(s + 1h, the
    # session's close) and is seen at the first grid time at or after that end.
    raw = pd.read_csv(files["GLD"], skiprows=[1, 2])
    starts = pd.to_datetime(raw["Price"], utc=True).dt.tz_localize(None)
    cal = _xnys()
    session_close = {
        d.date(): c.tz_convert("UTC").tz_localize(None) for d, c in cal.schedule["close"].items()
    }
    ends = [min(s + pd.Timedelta(hours=1), session_close[s.date()]) for s in starts]
    closes = pd.Series(raw["Close"].to_numpy(), index=pd.DatetimeIndex(ends))
    for g in grid[::7]:
        seen = closes[closes.index <= g]
        assert hourly.prices.at[g, "GLD"] == seen.iloc[-1]
    # The daily VIX is known at 16:15 New York time: 20:00 UTC on 2023-03-23 (EDT) still shows
    # the 22nd's close, 21:00 UTC the 23rd's.
    vix = pd.read_csv(
        shared_data / "datasets__finance-vix" / "vix-daily.csv", index_col=0, parse_dates=True
    )["CLOSE"]
    assert hourly.vix.at[pd.Timestamp("2023-03-23 20:00")] == vix.at[pd.Timestamp("2023-03-22")]
    assert hourly.vix.at[pd.Timestamp("2023-03-23 21:00")] == vix.at[pd.Timestamp("2023-03-23")]


def test_daily_proxy_known_at_its_close_only(hourly, shared_data) -> None:  # type: ignore[no-untyped-def]
    cal = _xnys()
    names = ["date", "adj_close", "close", "high", "low", "open", "volume"]  # its 4-line header
    vnq = pd.read_csv(
        _files(shared_data)["VNQ"], skiprows=4, names=names, index_col=0, parse_dates=True
    )
    when = hourly.dates[hourly.tradable["VNQ"].to_numpy()]
    closes = [c.tz_convert("UTC").tz_localize(None) for c in cal.schedule["close"]]
    assert set(when) <= set(closes)  # once a session, at its close (early closes included)
    assert len(when) == len(cal.sessions_in_range("2023-03-01", "2023-04-28"))
    # Between two closes the price is the last close's: at 15:00 UTC on 2023-03-24 that of the 23rd.
    assert hourly.price_fields["VNQ"] == "Adj Close"
    col = "adj_close"
    assert hourly.prices.at[pd.Timestamp("2023-03-24 15:00"), "VNQ"] == pytest.approx(
        vnq.at[pd.Timestamp("2023-03-23"), col], rel=1e-12
    )


def test_proxies_trade_only_in_session(hourly) -> None:  # type: ignore[no-untyped-def]
    cal = _xnys()
    for s in ("GLD", "IAU", "VNQ"):
        when = hourly.dates[hourly.tradable[s].to_numpy()]
        assert len(when) > 30
        assert all(cal.is_open_on_minute(g - pd.Timedelta(minutes=1)) for g in when)
    weekend = hourly.dates.day_of_week >= 5
    assert not hourly.tradable.loc[weekend, ["GLD", "IAU"]].to_numpy().any()
    assert hourly.tradable.loc[weekend, ["BTC", "ETH", "PAXG"]].to_numpy().all()
    # The 2023-03-24 Binance outage: no 13:00 bar, so 14:00 is not tradable for any crypto.
    assert not hourly.tradable.loc[pd.Timestamp("2023-03-24 14:00"), ["BTC", "ETH", "PAXG"]].any()
    res = run(DynamicLambdaStrategy(**PRESET48), hourly, execute=False)
    sent = res.targets[["GLD", "IAU"]].notna().to_numpy()
    assert sent.any() and not (sent & ~hourly.tradable[["GLD", "IAU"]].to_numpy()).any()


def test_annualization_follows_the_bar(hourly) -> None:  # type: ignore[no-untyped-def]
    assert hourly.periods_per_year == 24 * 365
    strategy = DynamicLambdaStrategy(**PRESET48)
    res = run(strategy, hourly, execute=False)
    assert strategy.ppy_ == 8760
    r = res.returns.to_numpy()[48:]
    stats = res.stats()
    assert stats["volatility"] == pytest.approx(np.std(r, ddof=1) * np.sqrt(8760), rel=1e-9)


def test_hourly_live_replay_equals_hourly_backtest(hourly) -> None:  # type: ignore[no-untyped-def]
    res = run(DynamicLambdaStrategy(**PRESET48), hourly, execute=False)
    reb = LiveRebalancer(
        DynamicLambdaStrategy(**PRESET48),
        hourly.symbols,
        hourly.universe.classes,
        CostModel.from_universe(hourly.universe),
        hourly.periods_per_year,
        True,
    )
    out = [reb.step(b) for b in panel_bars(hourly)]
    after = np.array([d.weights_after for d in out])
    np.testing.assert_allclose(after, res.weights.to_numpy(), rtol=0, atol=1e-12)
    trades = np.array([d.trades for d in out])
    gold = [hourly.symbols.index(s) for s in ("GLD", "IAU")]
    assert np.any(trades[:, gold] != 0)
    assert not np.any((trades[:, gold] != 0) & ~hourly.tradable[["GLD", "IAU"]].to_numpy())


def test_gaps_partial_bars_and_coarser_files(shared_data) -> None:  # type: ignore[no-untyped-def]
    files = _files(shared_data)
    with pytest.raises(DataError, match=r"BTC: 1 missing bar.*2023-03-24 14:00"):
        load_intraday(files, _universe(), start="2023-03-20", end="2023-03-28", daily=["VNQ"])
    p = load_intraday(
        {"BTC": files["BTC"]},
        Universe((make_asset("BTC", asset_class="crypto", calendar="24/7"),)),
        start="2025-11-01",
    )
    last_row = read_bars(files["BTC"])["start"].iloc[-1]
    assert p.dates[-1] == last_row  # the partial last bar (opened there) is not in the panel
    assert any(f.kind == "partial_last_bar" for f in p.findings)
    daily = shared_data / "Alexshch09__Stocks-prices" / "BTC-USD.csv"
    with pytest.raises(DataError, match="coarser"):
        load_intraday(
            {"BTC": daily}, Universe((make_asset("BTC", asset_class="crypto", calendar="24/7"),))
        )


def test_dvol_layout_as_the_index(shared_data) -> None:  # type: ignore[no-untyped-def]
    dvol = shared_data / "lrud__THESIS" / "bitcoin_dvol_hourly_complete.csv"
    bars = read_bars(dvol)
    assert bars.attrs["layout"] == "deribit-dvol"
    raw = pd.read_csv(dvol)
    assert bars["close"].iloc[5] == raw["dvol_close"].iloc[5]
    files = _files(shared_data)
    p = load_intraday(
        {"BTC": files["BTC"]},
        Universe((make_asset("BTC", asset_class="crypto", calendar="24/7"),)),
        vix=dvol,
        start="2023-01-01",
        end="2023-03-15",
    )
    # Each level is the close of the DVOL bar that ended at or before the grid time.
    at = pd.Timestamp("2023-02-01 12:00")
    opened = pd.to_datetime(raw["timestamp"], unit="ms")
    assert p.vix.at[at] == raw["dvol_close"][opened <= at - pd.Timedelta(hours=1)].iloc[-1]


def test_intraday_schedules(hourly) -> None:  # type: ignore[no-untyped-def]
    from rwafolio.strategies.schedules import schedule_mask

    dates = hourly.dates
    btc = hourly.tradable["BTC"].to_numpy()
    m4 = schedule_mask(dates, btc, "every4bars")
    hours = dates.to_numpy().astype("datetime64[h]").astype(np.int64)
    blocks = pd.Series(m4).groupby(hours // 4).sum()
    assert blocks.max() == 1 and m4.sum() >= btc.sum() // 4 - 1
    gld = hourly.tradable["GLD"].to_numpy()
    at = schedule_mask(dates, gld, "daily@17:00")
    chosen = dates[at]
    assert (chosen.hour >= 17).all() and not chosen.normalize().duplicated().any()
    assert len(chosen) == pd.Index(dates[gld & (dates.hour >= 17)].normalize()).nunique()
    once = schedule_mask(dates, btc, "daily")
    assert not dates[once].normalize().duplicated().any()
    # The live clock agrees with the panel's schedule on these names.
    params = {**PRESET48, "schedules": {"crypto": "every4bars", "rwa": "daily@17:00"}}
    res = run(DynamicLambdaStrategy(**params), hourly, execute=False)
    reb = LiveRebalancer(
        DynamicLambdaStrategy(**params),
        hourly.symbols,
        hourly.universe.classes,
        CostModel.from_universe(hourly.universe),
        hourly.periods_per_year,
        True,
    )
    after = np.array([reb.step(b).weights_after for b in panel_bars(hourly)])
    np.testing.assert_allclose(after, res.weights.to_numpy(), rtol=0, atol=1e-12)


def test_finer_file_resampled_and_hourly_vix(shared_data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    files = _files(shared_data)
    hourly = pd.read_csv(files["BTC"], parse_dates=["timestamp"]).set_index("timestamp")
    part = hourly.loc["2024-01-01":"2024-01-10"]
    # A 30-minute file: each hour split in two bars, the first closing at a made-up mid price.
    first = part.copy()
    first["close"] = (part["open"] + part["close"]) / 2
    second = part.copy()
    second.index = second.index + pd.Timedelta(minutes=30)
    half = pd.concat([first, second]).sort_index()
    half.index.name = "timestamp"
    path = tmp_path / "BTC30.csv"
    half.to_csv(path)
    one = Universe((make_asset("BTC", asset_class="crypto", calendar="24/7"),))
    p = load_intraday({"BTC": path}, one, vix=files["GLD"].parent / "vix_hourly.csv")
    # At grid time g the price is the close of the 30-minute bar that opened at g - 30 min,
    # i.e. the hourly bar's close: the last close in the hour.
    common = p.dates[p.dates <= part.index[-1]]
    expected = part["close"].reindex(common - pd.Timedelta(hours=1)).to_numpy()
    np.testing.assert_array_equal(p.prices["BTC"].loc[common].to_numpy(), expected)
    # ^VIX hourly (yfinance layout, bars on the hour): the level at g is the bar opened at g - 1h.
    raw = pd.read_csv(files["GLD"].parent / "vix_hourly.csv", skiprows=[1, 2])
    opened = pd.to_datetime(raw["Price"], utc=True).dt.tz_localize(None)
    vix = pd.Series(raw["Close"].to_numpy(), index=opened)
    g = pd.Timestamp("2024-01-04 16:00")
    assert p.vix.at[g] == vix[vix.index <= g - pd.Timedelta(hours=1)].iloc[-1]


def test_saved_hourly_run_keeps_its_bar(hourly, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rwafolio.reports import load_run, save_run

    res = run(DynamicLambdaStrategy(**PRESET48), hourly.slice(None, "2023-03-10"))
    path = save_run(tmp_path / "h.zip", res, None)
    back = load_run(path).rebuild_panel()
    assert back.bar == "1h" and back.periods_per_year == 8760
