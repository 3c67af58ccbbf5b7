"""The yfinance loader with the network call replaced by frames shaped like yfinance's output."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import DataUnavailableError
from rwafolio.loaders import fetch, load_yahoo
from rwafolio.loaders.cache import ENV_VAR, cache_file, read_cache, resolve_cache_dir, write_cache
from rwafolio.loaders.yahoo import download, frames_from_yfinance

FIELDS_RAW = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]


def yf_frame(
    symbols: list[str],
    start: pd.Timestamp,
    end_excl: pd.Timestamp,
    *,
    auto_adjust: bool = False,
    tz: str | None = None,
) -> pd.DataFrame:
    """A frame laid out like ``yfinance.download(..., group_by='column')`` (1.x)."""
    fields = [f for f in FIELDS_RAW if not (auto_adjust and f == "Adj Close")]
    days = pd.date_range(start, end_excl - pd.Timedelta(days=1), freq="D")
    out = {}
    for s in symbols:
        dates = days if s.endswith("-USD") else days[days.day_of_week < 5]
        base = pd.Series(100.0 + (dates - pd.Timestamp("2020-01-01")).days, index=dates)
        for f in fields:
            v = base * (0.5 if f == "Adj Close" else 1.0) if f != "Volume" else base * 0 + 1e6
            out[(f, s)] = v
    frame = pd.DataFrame(out).reindex(
        days if any(s.endswith("-USD") for s in symbols) else days[days.day_of_week < 5]
    )
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["Price", "Ticker"])
    frame = frame.sort_index(axis=1, level=0)
    frame.index.name = "Date"
    if tz:
        frame.index = frame.index.tz_localize(tz)
    return frame


class FakeYF:
    """Records calls; answers like yfinance (online) or like yfinance offline (empty frame)."""

    def __init__(self, online: bool = True, fail_first: int = 0, **kw: object) -> None:
        self.online, self.fail_first, self.kw, self.calls = online, fail_first, kw, []

    def __call__(self, symbols: list[str], start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        self.calls.append((list(symbols), start, end))
        if not self.online or len(self.calls) <= self.fail_first:
            return pd.DataFrame(
                columns=pd.MultiIndex.from_product([FIELDS_RAW, symbols], names=["Price", "Ticker"])
            )
        return yf_frame(symbols, start, end, **self.kw)  # type: ignore[arg-type]


def test_frames_from_yfinance_variants() -> None:
    s, e = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08")
    for kw in ({}, {"auto_adjust": True}, {"tz": "America/New_York"}):
        raw = yf_frame(["BTC-USD", "VNQ"], s, e, **kw)  # type: ignore[arg-type]
        frames = frames_from_yfinance(raw, ["BTC-USD", "VNQ"])
        assert set(frames) == {"BTC-USD", "VNQ"}
        assert len(frames["BTC-USD"]) == 7 and len(frames["VNQ"]) == 5  # NaN rows dropped
        assert frames["VNQ"].index.tz is None
        assert frames["VNQ"].index[0] == pd.Timestamp("2024-01-01")
        assert ("adj_close" in frames["VNQ"].columns) == ("auto_adjust" not in kw)
    # group_by="ticker" layout: (Ticker, Price)
    raw = yf_frame(["VNQ"], s, e).swaplevel(axis=1)
    assert list(frames_from_yfinance(raw, ["VNQ"])) == ["VNQ"]
    assert frames_from_yfinance(pd.DataFrame(), ["VNQ"]) == {}


def test_download_caches_then_fetches_only_the_tail(tmp_path: Path) -> None:
    fake = FakeYF()
    r1 = download(
        ["BTC-USD"],
        "2024-01-01",
        "2024-01-10",
        cache_dir=tmp_path,
        downloader=fake,
        today="2024-02-01",
    )
    assert r1.origin == {"BTC-USD": "yfinance"}
    assert cache_file("BTC-USD", tmp_path).is_file()
    assert len(r1.data["BTC-USD"].frame) == 10
    assert r1.data["BTC-USD"].price_field == "Adj Close"
    # end is inclusive for us, exclusive for yfinance
    assert fake.calls[0][2] == pd.Timestamp("2024-01-11")
    r2 = download(
        ["BTC-USD"],
        "2024-01-01",
        "2024-01-20",
        cache_dir=tmp_path,
        downloader=fake,
        today="2024-02-01",
    )
    assert fake.calls[1][1] == pd.Timestamp("2024-01-10")  # tail from the last cached date
    assert len(r2.data["BTC-USD"].frame) == 20 and r2.origin["BTC-USD"] == "yfinance+cache"
    download(
        ["BTC-USD"],
        "2024-01-05",
        "2024-01-20",
        cache_dir=tmp_path,
        downloader=fake,
        today="2024-02-01",
    )
    assert len(fake.calls) == 2  # fully cached: no call
    assert not list(tmp_path.glob("*.tmp"))  # atomic write leaves no temp files


def test_offline_with_cache_warns_staleness(tmp_path: Path) -> None:
    download(
        ["VNQ"],
        "2024-01-01",
        "2024-01-10",
        cache_dir=tmp_path,
        downloader=FakeYF(),
        today="2024-01-11",
    )
    sleeps: list[float] = []
    with pytest.warns(UserWarning, match=r"last date 2024-01-10 is 20 day\(s\)"):
        res = download(
            ["VNQ"],
            "2024-01-01",
            "2024-01-31",
            cache_dir=tmp_path,
            downloader=FakeYF(online=False),
            sleep=sleeps.append,
            today="2024-01-30",
        )
    assert res.origin["VNQ"] == "cache (stale)"
    assert sleeps == [1.0, 2.0]  # 3 attempts, exponential backoff


def test_offline_without_cache_raises_naming_symbols_and_path(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError) as err:
        download(
            ["VNQ", "BTC-USD"],
            "2024-01-01",
            "2024-01-10",
            cache_dir=tmp_path,
            downloader=FakeYF(online=False),
            sleep=lambda _s: None,
            today="2024-02-01",
        )
    msg = str(err.value)
    assert "VNQ" in msg and "BTC-USD" in msg and str(tmp_path) in msg


def test_retry_recovers_and_exceptions_are_retried(tmp_path: Path) -> None:
    fake = FakeYF(fail_first=1)
    res = download(
        ["GLD"],
        "2024-01-01",
        "2024-01-05",
        cache_dir=tmp_path,
        downloader=fake,
        sleep=lambda _s: None,
        today="2024-02-01",
    )
    assert len(fake.calls) == 2 and res.origin["GLD"] == "yfinance"

    calls = []

    def boom(symbols: list[str], start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("no route")
        return yf_frame(symbols, start, end)

    res = download(
        ["IEF"],
        "2024-01-01",
        "2024-01-05",
        cache_dir=tmp_path,
        downloader=boom,
        sleep=lambda _s: None,
        today="2024-02-01",
    )
    assert len(calls) == 3 and "IEF" in res.data


def test_cache_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert resolve_cache_dir() == tmp_path / "env"
    assert resolve_cache_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv(ENV_VAR)
    import platformdirs

    assert resolve_cache_dir() == Path(platformdirs.user_cache_dir("rwafolio"))
    assert cache_file("^VIX", tmp_path).name == "%5EVIX.parquet"


def test_cache_roundtrip_is_parquet(tmp_path: Path) -> None:
    f = pd.DataFrame({"close": [1.0, 2.0]}, index=pd.DatetimeIndex(["2024-01-01", "2024-01-02"]))
    path = write_cache("A", f, tmp_path, {"start": "2024-01-01"})
    assert path.read_bytes()[:4] == b"PAR1"
    entry = read_cache("A", tmp_path)
    assert entry is not None and entry.meta["start"] == "2024-01-01"
    np.testing.assert_allclose(entry.frame["close"].to_numpy(), [1.0, 2.0])


def test_load_yahoo_panel_and_fetch_summary(tmp_path: Path) -> None:
    fake = FakeYF()
    panel = load_yahoo(
        ["BTC-USD", "VNQ"],
        start="2024-01-02",
        end="2024-01-31",
        cache_dir=tmp_path,
        downloader=fake,
        today="2024-03-01",
    )
    assert panel.source == "yfinance" and panel.policy == "all_days"
    assert panel.price_fields == {"BTC-USD": "Adj Close", "VNQ": "Adj Close"}
    # The fake has rows Mon-Fri; NYSE was closed on 2024-01-15 (MLK day): an off-calendar row.
    assert [f.date for f in panel.findings if f.kind == "off_calendar"] == [
        pd.Timestamp("2024-01-15")
    ]
    # January 2024 has 21 NYSE sessions after New Year (counted by hand: 23 weekdays - 2 holidays)
    assert int(panel.tradable["VNQ"].sum()) == 21
    offline = FakeYF(online=False)
    summary = fetch(["BTC-USD", "VNQ"], "2024-01-02", "2024-01-31", tmp_path, downloader=offline)
    assert offline.calls == []  # the cache covers the range: no network call
    assert list(summary["origin"]) == ["cache", "cache"]
    assert summary.loc["BTC-USD", "rows"] == 30
    assert os.path.basename(summary.loc["VNQ", "cache"]) == "VNQ.parquet"


def test_yfinance_log_lines_are_held_back(monkeypatch, capsys, caplog) -> None:  # type: ignore[no-untyped-def]
    """Offline, yfinance logged "1 Failed download: ..." on stderr before rwafolio's own one-line
    error: its logger is held back for the call (and restored after, also on an error)."""
    import logging

    import yfinance

    from rwafolio.loaders.yahoo import yfinance_download

    log = logging.getLogger("yfinance")
    log.addHandler(logging.StreamHandler())  # as yfinance may print on its own

    def fake(*args, fail=False, **kwargs):  # type: ignore[no-untyped-def]
        log.error("\n1 Failed download:")
        log.error("['BTC-USD']: possibly delisted; no timezone found")
        if fail:
            raise RuntimeError("network")
        return pd.DataFrame()

    monkeypatch.setattr(yfinance, "download", fake)
    t0, t1 = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")
    with caplog.at_level(logging.DEBUG):
        assert yfinance_download(["BTC-USD"], t0, t1).empty
        monkeypatch.setattr(yfinance, "download", lambda *a, **k: fake(fail=True))
        with pytest.raises(RuntimeError):
            yfinance_download(["BTC-USD"], t0, t1)
    assert "Failed download" not in capsys.readouterr().err and not caplog.records
    assert log.disabled is False
    log.error("after the call")  # the logger works again
    assert caplog.records
    log.handlers.pop()
