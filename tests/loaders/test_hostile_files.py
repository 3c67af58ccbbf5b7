"""Hostile files and folders: each case is a real file in a temp folder, as a user would have it.

Every case must end in one of two ways: the load works and reports what it did not read, or a
typed one-line error (``RwafolioError``) names the file and the real cause. Never a hang, a
traceback from a library, or data silently dropped.
"""

from __future__ import annotations

import builtins
import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import ConfigError, DataError, RwafolioError
from rwafolio.loaders import CLEAN_POLICIES, load_files, read_file
from rwafolio.loaders.frames import parse_dates
from rwafolio.loaders.locate import locate, scan_folder


def write_prices(path: Path, n: int = 60, start: str = "2024-01-02", scale: float = 100.0) -> None:
    """A plain daily ``date,close`` file: a deterministic random walk."""
    rng = np.random.default_rng(0)
    dates = pd.date_range(start, periods=n, freq="D")
    close = scale * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "close": close}).to_csv(path, index=False)


class Watchdog:
    """Unblocks a reader stuck on a FIFO after ``seconds`` (so a regression fails, not hangs)."""

    def __init__(self, fifo: Path, seconds: float = 10.0) -> None:
        self.fifo, self.done, self.fired = fifo, threading.Event(), False
        self.thread = threading.Thread(target=self._run, args=(seconds,), daemon=True)
        self.thread.start()

    def _run(self, seconds: float) -> None:
        if self.done.wait(seconds):
            return
        self.fired = True
        for _ in range(100):
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader yet
                self.done.wait(0.05)
                continue
            os.close(fd)
            return

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


# ------------------------------------------------------------------------- folder scans
def test_fifo_named_like_a_price_file_is_skipped_and_reported(tmp_path: Path) -> None:
    write_prices(tmp_path / "AAA.csv")
    fifo = tmp_path / "sub" / "BBB.csv"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    dog = Watchdog(fifo)
    try:
        panel = load_files(["AAA"], [tmp_path], missing="raise")
        with pytest.raises(DataError, match=r"BBB.*FIFO"):
            load_files(["BBB"], [tmp_path])
    finally:
        dog.stop()
    assert not dog.fired, "the loader opened the FIFO"
    skipped = [f for f in panel.findings if f.kind == "skipped_file"]
    assert len(skipped) == 1 and skipped[0].severe and "FIFO" in skipped[0].detail
    assert str(fifo) in skipped[0].detail


def test_symlinks_out_of_the_tree_or_to_a_fifo_are_skipped(tmp_path: Path) -> None:
    data, outside = tmp_path / "data", tmp_path / "outside"
    write_prices(data / "AAA.csv")
    write_prices(outside / "REAL.csv")
    write_prices(data / "inner" / "TARGET.csv")
    os.mkfifo(outside / "pipe.csv")
    os.symlink(outside / "REAL.csv", data / "OUT.csv")  # regular file, but outside the tree
    os.symlink(outside / "pipe.csv", data / "PIPE.csv")  # a FIFO behind a link
    os.symlink(data / "nowhere.csv", data / "DANGLING.csv")
    os.symlink(data / "inner" / "TARGET.csv", data / "LINKED.csv")  # inside: allowed
    dog = Watchdog(outside / "pipe.csv")
    try:
        files, skipped = scan_folder(data)
    finally:
        dog.stop()
    assert not dog.fired
    assert sorted(p.name for p in files) == ["AAA.csv", "LINKED.csv", "TARGET.csv"]
    reasons = {p.name: why for p, why in skipped}
    assert set(reasons) == {"OUT.csv", "PIPE.csv", "DANGLING.csv"}
    assert "out of the data folder" in reasons["OUT.csv"]
    assert "FIFO" in reasons["PIPE.csv"]
    assert "missing target" in reasons["DANGLING.csv"]
    with pytest.raises(DataError, match=r"no file for symbol.*OUT\.csv.*out of the data folder"):
        locate(["OUT"], [data])
    # A link inside the tree is read like the file it points to.
    a = load_files(["LINKED"], [data]).prices["LINKED"]
    b = load_files(["TARGET"], [data / "inner"]).prices["TARGET"]
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_vix_path_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "vix.csv")
    os.symlink(tmp_path / "vix.csv", tmp_path / "link.csv")
    write_prices(tmp_path / "AAA-USD.csv")
    dog = Watchdog(tmp_path / "vix.csv")
    try:
        for spec in ("vix.csv", "link.csv"):
            with pytest.raises(ConfigError, match=r"`vix`.*not a regular file"):
                load_files(["AAA-USD"], [tmp_path], vix=str(tmp_path / spec))
    finally:
        dog.stop()
    assert not dog.fired


def test_a_data_dir_that_is_a_fifo_or_a_file_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    write_prices(tmp_path / "AAA.csv")
    for path in (tmp_path / "pipe", tmp_path / "AAA.csv"):
        with pytest.raises(ConfigError, match=r"`data_dirs` names paths that are not folders"):
            load_files(["AAA"], [path])


def test_unlistable_folder_is_named_as_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_prices(tmp_path / "locked" / "AAA.csv")
    real_scandir = os.scandir

    def scandir(path: object) -> object:
        if Path(str(path)).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(DataError, match=r"no file for.*locked.*permission denied"):
        load_files(["AAA"], [tmp_path])


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_and_folder_by_mode(tmp_path: Path) -> None:
    write_prices(tmp_path / "AAA.csv")
    (tmp_path / "AAA.csv").chmod(0)
    with pytest.raises(DataError, match=r"AAA\.csv.*permission denied"):
        load_files(["AAA"], [tmp_path])
    write_prices(tmp_path / "sub" / "BBB.csv")
    (tmp_path / "sub").chmod(0)
    try:
        with pytest.raises(DataError, match=r"sub.*permission denied"):
            load_files(["BBB"], [tmp_path])
    finally:
        (tmp_path / "sub").chmod(0o755)


def test_permission_denied_on_open_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_prices(tmp_path / "AAA.csv")
    real_open = builtins.open

    def deny(file: object, *args: object, **kw: object) -> object:
        if str(file).endswith("AAA.csv"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "open", deny)
    with pytest.raises(DataError, match=r"cannot read .*AAA\.csv: permission denied"):
        load_files(["AAA"], [tmp_path])


def test_symbol_in_two_wide_files_of_one_folder_names_both(tmp_path: Path) -> None:
    dates = pd.date_range("2024-01-02", periods=20).strftime("%Y-%m-%d")
    pd.DataFrame({"date": dates, "XXX": 1.0 + np.arange(20), "YYY": 2.0}).to_csv(
        tmp_path / "wide_a.csv", index=False
    )
    pd.DataFrame({"date": dates, "XXX": 5.0 + np.arange(20)}).to_csv(
        tmp_path / "wide_b.csv", index=False
    )
    with pytest.raises(DataError, match=r"XXX.*wide_a\.csv.*wide_b\.csv"):
        load_files(["XXX"], [tmp_path])
    assert load_files(["YYY"], [tmp_path], vix="none").prices["YYY"].iloc[0] == 2.0
    # In two folders the first still wins, as for per-symbol files.
    (tmp_path / "second").mkdir()
    (tmp_path / "wide_b.csv").rename(tmp_path / "second" / "wide_b.csv")
    (tmp_path / "first").mkdir()
    (tmp_path / "wide_a.csv").rename(tmp_path / "first" / "wide_a.csv")
    p = load_files(["XXX"], [tmp_path / "second", tmp_path / "first"])
    assert p.prices["XXX"].iloc[0] == 5.0


# ------------------------------------------------------------------------- timestamps
@pytest.mark.parametrize(
    "stamps",
    [
        ["Mon 01 Jan 2024 00:00 +0900", "Tue 02 Jan 2024 00:00 +0900"],
        ["2024-01-01T00:00:00+09:00", "2024-01-02T00:00:00+09:00"],
        ["2024-01-01 00:00:00-05:00", "2024-01-02 00:00:00-05:00"],
        ["Mon, 01 Jan 2024 23:30:00 -1100", "Tue, 02 Jan 2024 23:30:00 -1100"],
        ["01 Jan 2024 00:00 UTC", "02 Jan 2024 00:00 GMT"],
    ],
)
def test_offsets_give_the_date_written_at_their_own_offset(stamps: list[str]) -> None:
    got = parse_dates(pd.Series(stamps))
    assert list(got) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02")]


def test_offset_dates_in_a_file_do_not_land_a_day_early(tmp_path: Path) -> None:
    days = pd.date_range("2024-01-01", periods=40)
    text = [d.strftime("%a %d %b %Y 00:00 +0900") for d in days]
    pd.DataFrame({"date": text, "close": 100 + np.arange(40.0)}).to_csv(
        tmp_path / "TOK.csv", index=False
    )
    frame = read_file(tmp_path / "TOK.csv")["TOK"].frame
    assert frame.index[0] == pd.Timestamp("2024-01-01") and frame["close"].iloc[0] == 100.0
    # A daylight-saving change inside a column is read row by row.
    mixed = pd.Series(["Sun 10 Mar 2024 00:00 -0500", "Mon 11 Mar 2024 00:00 -0400"])
    assert list(parse_dates(mixed).day) == [10, 11]


# ------------------------------------------------------------------------- file contents
CONTENTS: dict[str, bytes] = {
    "blank_lines.csv": b"\n\n\n",
    "empty.csv": b"",
    "header_only.csv": b"Date,Close\n",
    "binary.csv": bytes(range(256)) * 4,
    "semicolons.csv": b"Date;Close\n2024-01-01;1,5\n2024-01-02;1,6\n",
    "bad_date.csv": b"Date,Close\nyesterday,1.0\ntoday,2.0\n",
    "empty.parquet": b"",
    "garbage.parquet": b"PAR1 this is not parquet",
    "truncated.parquet": b"",  # filled below with half of a real parquet file
    "zero_rows.parquet": b"",  # filled below with a table that has columns and no rows
    "no_date.parquet": b"",  # filled below with a table without dates
    "two_closes.csv": b"Date,Close,Close\n2024-01-02,1,2\n2024-01-03,1,2\n",
    "year_zero.csv": b"Date,Close\n0000-01-01,1\n0000-01-02,2\n",
    "nul_byte.csv": b"Date,Close\n2024-01-02,1\x00\n2024-01-03,2\n",
    "utf16.csv": "Date,Close\n2024-01-02,1\n".encode("utf-16"),
    "open_quote.csv": b'Date,Close\n"2024-01-02,1\n2024-01-03,2\n',
    "mixed_formats.csv": b"Date,Close\n2024-01-02,1\n01/03/2024,2\n",
    "epoch_overflow.csv": b"open_time,open,high,low,close,volume\n"
    + b"1"
    + b"0" * 20
    + b",1,1,1,1,1\n",
}


@pytest.mark.parametrize("name", sorted(CONTENTS))
def test_unreadable_contents_are_one_typed_error_naming_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name == "truncated.parquet":
        frame = pd.DataFrame(
            {"close": np.arange(1.0, 50.0)}, index=pd.date_range("2024", periods=49)
        )
        frame.to_parquet(tmp_path / "whole.parquet")
        whole = (tmp_path / "whole.parquet").read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    elif name == "zero_rows.parquet":
        pd.DataFrame({"date": pd.to_datetime([]), "close": pd.Series([], dtype=float)}).to_parquet(
            path
        )
    elif name == "no_date.parquet":
        pd.DataFrame({"close": np.arange(1.0, 41.0)}).to_parquet(path)
    else:
        path.write_bytes(CONTENTS[name])
    with pytest.raises(RwafolioError) as info:
        read_file(path)
    message = str(info.value)
    assert str(path) in message
    assert "Traceback" not in message


def test_blank_lines_around_a_good_table_are_fine(tmp_path: Path) -> None:
    (tmp_path / "A.csv").write_text("\n\nDate,Close\n2024-01-01,1.5\n\n2024-01-02,1.6\n")
    assert read_file(tmp_path / "A.csv")["A"].frame["close"].tolist() == [1.5, 1.6]


def test_decimal_commas_are_named_not_an_empty_series(tmp_path: Path) -> None:
    (tmp_path / "EU.csv").write_text('Date,Close\n2024-01-01,"1,5"\n2024-01-02,"1,6"\n')
    with pytest.raises(DataError, match=r"EU\.csv.*'close'.*'1,5'.*decimal comma"):
        read_file(tmp_path / "EU.csv")
    # Yahoo's "null" cells stay missing values (reported as invalid rows), not errors.
    (tmp_path / "Y.csv").write_text("Date,Close\n2024-01-01,1.5\n2024-01-02,null\n")
    assert read_file(tmp_path / "Y.csv")["Y"].frame["close"].isna().tolist() == [False, True]


def test_every_row_invalid_says_so(tmp_path: Path) -> None:
    (tmp_path / "Z.csv").write_text("Date,Close\n2024-01-01,0\n2024-01-02,-1\n")
    with pytest.raises(DataError, match=r"Z: none of its 2 row\(s\) in .*Z\.csv has a usable"):
        load_files(["Z"], [tmp_path])


def test_corrupt_shadowed_copy_does_not_abort_the_load(tmp_path: Path) -> None:
    write_prices(tmp_path / "a" / "AAA.csv")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "AAA.parquet").write_bytes(b"PAR1 broken")
    panel = load_files(["AAA"], [tmp_path / "a", tmp_path / "b"])
    note = [f for f in panel.findings if f.kind == "shadowed_unreadable"]
    assert len(note) == 1 and "AAA.parquet" in note[0].detail
    clean = load_files(["AAA"], [tmp_path / "a"])
    pd.testing.assert_frame_equal(panel.prices, clean.prices)


def test_corrupt_file_met_while_looking_for_wide_columns_is_reported(tmp_path: Path) -> None:
    dates = pd.date_range("2024-01-02", periods=20).strftime("%Y-%m-%d")
    pd.DataFrame({"date": dates, "XXX": 1.0 + np.arange(20)}).to_csv(
        tmp_path / "wide.csv", index=False
    )
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    panel = load_files(["XXX"], [tmp_path])
    bad = [f for f in panel.findings if f.kind == "unreadable_file"]
    assert len(bad) == 1 and "junk.parquet" in bad[0].detail and bad[0].severe


# ------------------------------------------------------------------------- sparse Adj Close
def test_sparse_adjusted_close_is_a_finding_naming_symbol_column_and_rows(tmp_path: Path) -> None:
    days = pd.bdate_range("2023-06-01", "2023-08-31")
    close = 80 + np.arange(len(days)) * 0.1
    adj = np.where(days >= pd.Timestamp("2023-07-05"), close * 0.9, np.nan)
    pd.DataFrame(
        {
            "Date": days.strftime("%Y-%m-%d"),
            "Open": close,
            "High": close + 1,
            "Low": close - 1,
            "Close": close,
            "Adj Close": adj,
            "Volume": 1e6,
        }
    ).to_csv(tmp_path / "VNQ.csv", index=False)
    panel = load_files(["VNQ"], [tmp_path], policy="exchange_days")
    assert panel.dates[0] == pd.Timestamp("2023-07-05")  # the cut happens...
    found = [f for f in panel.findings if f.kind == "sparse_price_field"]
    assert len(found) == 1 and found[0].severe  # ...and is said, with the rows it cost
    n_cut = int((days < pd.Timestamp("2023-07-05")).sum())
    detail = found[0].detail
    assert found[0].symbol == "VNQ" and "'Adj Close'" in detail and f"{n_cut} row(s)" in detail
    assert "2023-06-01..2023-07-04" in detail and "history before 2023-07-05 is cut" in detail


def test_an_adjusted_close_missing_on_the_last_rows_says_the_end_is_cut(tmp_path: Path) -> None:
    days = pd.date_range("2024-01-01", periods=60)
    close = 50 + np.arange(60.0)
    adj = np.where(days <= pd.Timestamp("2024-02-19"), close, np.nan)  # last 10 rows empty
    frame = {"Date": days.strftime("%Y-%m-%d"), "Open": close, "High": close, "Low": close}
    frame |= {"Close": close, "Adj Close": adj, "Volume": 1.0}
    pd.DataFrame(frame).to_csv(tmp_path / "TOK-USD.csv", index=False)
    panel = load_files(["TOK-USD"], [tmp_path])
    assert panel.dates[-1] == pd.Timestamp("2024-02-19")
    (found,) = [f for f in panel.findings if f.kind == "sparse_price_field"]
    assert "10 row(s)" in found.detail
    assert "history after 2024-02-19 is cut (rows 2024-02-20..2024-02-29)" in found.detail


def _yahoo(path: Path, n: int = 60, **edits: object) -> None:
    """A classic Yahoo daily file (Adj Close = 0.9 x Close) with ``column=(row, value)`` edits."""
    days = pd.bdate_range("2024-01-02", periods=n)
    close = 50 + np.arange(float(n))
    frame = pd.DataFrame({"Date": days.strftime("%Y-%m-%d"), "Open": close, "High": close,
                          "Low": close, "Close": close, "Adj Close": 0.9 * close,
                          "Volume": 1e6})  # fmt: skip
    for column, edit in edits.items():
        if edit is None:
            frame[column.replace("_", " ")] = np.nan
        else:
            row, value = edit  # type: ignore[misc]
            frame[column.replace("_", " ")] = frame[column.replace("_", " ")].astype(object)
            frame.loc[row, column.replace("_", " ")] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def test_an_adjusted_close_empty_on_every_row_is_said(tmp_path: Path) -> None:
    """It silently became Close (not adjusted for dividends) with no finding; one empty row is
    a severe finding, so every row empty must be one too."""
    _yahoo(tmp_path / "VNQ.csv", Adj_Close=None)
    panel = load_files(["VNQ"], [tmp_path])
    (found,) = [f for f in panel.findings if f.kind == "sparse_price_field"]
    assert found.severe and "'Adj Close'" in found.detail and "every row" in found.detail
    assert str(tmp_path / "VNQ.csv") in found.detail and "Close" in found.detail


@pytest.mark.parametrize(
    "edits, words",
    [
        # said "dates must be sorted": the empty cell had become NaT
        ({"Date": (20, "")}, ["D.csv", "date", "row 21", "empty"]),
        # quoted the first (good) value and printed pandas' four-line hint
        ({"Date": (20, "2024-02-30")}, ["D.csv", "'2024-02-30'", "row 21"]),
        # "`volume` must be non-negative": no file, no column, no row
        ({"Volume": (20, -5.0)}, ["D.csv", "'Volume'", "-5", "2024-01-30"]),
        ({"Close": (20, -1.0)}, ["D.csv", "'Close'", "-1", "2024-01-30"]),
    ],
)
def test_a_bad_cell_is_named_with_its_file_column_and_row(
    tmp_path: Path, edits: dict[str, object], words: list[str]
) -> None:
    _yahoo(tmp_path / "D.csv", **edits)
    with pytest.raises(RwafolioError) as info:
        load_files(["D"], [tmp_path])
    message = str(info.value)
    assert "\n" not in message, message
    for word in words:
        assert word in message, message


def test_a_price_no_book_can_follow_is_named_with_its_dates(tmp_path: Path) -> None:
    """A close of 1e308 between closes near 50: the return back rounds to exactly -100%, a book
    holding it is worth 0, and the backtest died of a ZeroDivisionError in its compiled loop.
    The panel refuses it, naming symbol, dates and the cleaning policy that repairs it."""
    _yahoo(tmp_path / "D.csv", Adj_Close=(20, 1e308))
    with pytest.raises(DataError) as info:
        load_files(["D"], [tmp_path])
    message = str(info.value)
    assert "\n" not in message
    for word in ("D:", "2024-01-30", "2024-01-31", "-100%", "--clean repair"):
        assert word in message, message
    repaired = load_files(["D"], [tmp_path], repair=CLEAN_POLICIES["repair"])
    assert np.isfinite(repaired.returns().to_numpy()).all()
    # Said as a factor (it was 300 digits of percent): 1e308 over row 19's 0.9 x (50 + 19).
    (spike,) = [f for f in repaired.findings if f.kind == "spike"]
    assert spike.detail.startswith(f"x{1e308 / (0.9 * 69):.3g} then -100.0%"), spike.detail


@pytest.mark.parametrize(
    "content, words",
    [
        (b"Date;Close\n2024-01-02;1.5\n2024-01-03;1.6\n", ["';'", "comma-separated"]),
        (b"Date\tClose\n2024-01-02\t1.5\n2024-01-03\t1.6\n", ["'\\t'", "comma-separated"]),
        (b"Date,Open,High,Low,Close,Adj Close,Volume\n", ["no data rows"]),
    ],
)
def test_an_unknown_layout_is_one_line(tmp_path: Path, content: bytes, words: list[str]) -> None:
    """The error listed every known layout on eight more lines; the CLI prints errors as one."""
    (tmp_path / "L.csv").write_bytes(content)
    with pytest.raises(RwafolioError) as info:
        read_file(tmp_path / "L.csv")
    message = str(info.value)
    assert "\n" not in message and "L.csv" in message and "yahoo_classic" in message, message
    for word in words:
        assert word in message, message
