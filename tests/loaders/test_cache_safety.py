"""The yfinance cache under hostile conditions: corrupt entries, concurrent fetches, staleness."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from rwafolio.cli import main
from rwafolio.exceptions import DataUnavailableError
from rwafolio.loaders import load_yahoo
from rwafolio.loaders.cache import cache_file, read_cache
from rwafolio.loaders.yahoo import download
from tests.loaders.test_yahoo import FakeYF, yf_frame


def fill(cache: Path, start: str = "2024-01-01", end: str = "2024-03-31") -> Path:
    download(["BTC-USD"], start, end, cache_dir=cache, downloader=FakeYF(), today=end)
    return cache_file("BTC-USD", cache)


def set_record(path: Path, raw: bytes) -> None:
    table = pq.read_table(path)
    meta = dict(table.schema.metadata or {})
    meta[b"rwafolio"] = raw
    pq.write_table(table.replace_schema_metadata(meta), path)


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2]", json.dumps({"start": "soon", "through": "2024-03-31"}).encode()],
)
def test_corrupt_record_is_a_reported_miss(tmp_path: Path, raw: bytes) -> None:
    set_record(fill(tmp_path), raw)
    with pytest.warns(UserWarning, match="treated as a miss"):
        panel = load_yahoo(
            ["BTC-USD"], start="2024-01-01", end="2024-03-31", cache_dir=tmp_path,
            downloader=FakeYF(), today="2024-03-31",
        )  # fmt: skip
    found = [f for f in panel.findings if f.kind == "corrupt_cache"]
    assert len(found) == 1 and found[0].severe and "treated as a miss" in found[0].detail
    assert panel.meta["origin"]["BTC-USD"] == "yfinance"  # refetched, and rewritten whole
    assert read_cache("BTC-USD", tmp_path) is not None


def test_corrupt_file_offline_is_one_typed_error_saying_so(tmp_path: Path) -> None:
    fill(tmp_path).write_bytes(b"PAR1 garbage")
    unavailable = pytest.raises(DataUnavailableError, match=r"BTC-USD.*unreadable.*as a miss")
    with unavailable, pytest.warns(UserWarning, match="treated as a miss"):
        download(
            ["BTC-USD"], "2024-01-01", "2024-03-31", cache_dir=tmp_path,
            downloader=FakeYF(online=False), sleep=lambda s: None, today="2024-03-31",
        )  # fmt: skip


def _fetch_child(cache: str, start: str, end: str, me: str, other: str) -> None:
    """Fetch one range; the downloader waits (up to 3 s) until the other process is inside its
    own downloader, so without a lock both read the empty cache before either writes."""
    flags = Path(cache) / "flags"

    def downloader(symbols: list[str], s: pd.Timestamp, e: pd.Timestamp) -> pd.DataFrame:
        (flags / me).touch()
        deadline = time.monotonic() + 3.0
        while not (flags / other).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return yf_frame(symbols, s, e)

    download(["BTC-USD"], start, end, cache_dir=cache, downloader=downloader, today="2024-06-30")


def test_concurrent_fetches_of_one_symbol_keep_both_ranges(tmp_path: Path) -> None:
    (tmp_path / "flags").mkdir()
    ctx = multiprocessing.get_context("fork")
    procs = [
        ctx.Process(target=_fetch_child, args=(str(tmp_path), "2024-01-01", "2024-03-31", "a", "b")),
        ctx.Process(target=_fetch_child, args=(str(tmp_path), "2024-04-01", "2024-06-30", "b", "a")),
    ]  # fmt: skip
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    frame = read_cache("BTC-USD", tmp_path).frame  # type: ignore[union-attr]
    expected = pd.date_range("2024-01-01", "2024-06-30", freq="D")
    assert frame.index.equals(pd.DatetimeIndex(expected, name="date"))


def test_stale_cache_is_one_line_of_our_own_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tmp_path)
    monkeypatch.setattr("rwafolio.loaders.yahoo.yfinance_download", FakeYF(online=False))
    monkeypatch.setattr("rwafolio.loaders.yahoo.time.sleep", lambda s: None)
    args = ["--symbols", "BTC-USD", "--cache-dir", str(tmp_path)]  # through today: stale
    assert main(["data", "--source", "yfinance", "--vix", "none", *args]) == 0
    err = capsys.readouterr().err.splitlines()
    stale = [ln for ln in err if "yfinance gave no data for BTC-USD" in ln]
    assert len(stale) == 1 and stale[0].startswith("rwafolio data: warning: ")
    assert "last date 2024-03-31" in stale[0]
    assert main(["fetch", *args]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [ln for ln in err if ln.startswith("rwafolio fetch: warning: yfinance gave no data")]


def test_unwritable_cache_warns_and_keeps_the_data(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    with pytest.warns(UserWarning, match=r"cannot write cache file .*; data used without caching"):
        res = download(
            ["BTC-USD"], "2024-01-01", "2024-01-31", cache_dir=blocker, downloader=FakeYF(),
            today="2024-01-31",
        )  # fmt: skip
    assert len(res.data["BTC-USD"].frame) == 31


def test_fifos_in_the_cache_folder_never_block(tmp_path: Path) -> None:
    import os

    path = cache_file("BTC-USD", tmp_path)
    os.mkfifo(path)  # where the entry should be
    os.mkfifo(tmp_path / f".{path.name}.lock")  # where the lock should be
    with pytest.warns(UserWarning, match=r"is a FIFO.*data used without caching"):
        res = download(
            ["BTC-USD"], "2024-01-01", "2024-01-31", cache_dir=tmp_path, downloader=FakeYF(),
            today="2024-01-31",
        )  # fmt: skip
    assert res.origin["BTC-USD"] == "yfinance" and len(res.data["BTC-USD"].frame) == 31
    assert not path.is_file()  # an output never replaces a FIFO; the data is still used


def test_offline_with_a_cache_path_that_is_a_file_says_so(tmp_path: Path) -> None:
    """Offline, a cache path that is a file was reported as "no cache for them in afile": the
    error now says the path is a file (online the data are still used, with a warning)."""
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    with pytest.raises(
        DataUnavailableError, match=r"`cache_dir` '.*afile' is a file, not a folder"
    ):
        download(
            ["BTC-USD"], "2024-01-01", "2024-01-31", cache_dir=blocker,
            downloader=FakeYF(online=False), today="2024-01-31",
        )  # fmt: skip
    assert blocker.read_text() == "not a folder"
