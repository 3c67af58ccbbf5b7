"""Intraday panels: hourly bars for 24/7 crypto and exchange-traded proxies in their sessions.

Time convention: every bar is labelled by its **end** (tz-naive UTC), the moment its close is
known. The panel's grid is every hour on the hour; at grid time g an asset's price is the close of
its latest bar that ended at or before g (never a later one), and it may trade only when a bar of
its own ended in (g - 1h, g] and, for an exchange calendar, g lies in a session (after the open,
up to and including the close, early closes included, from ``exchange_calendars``).

File layouts read (detected from the header):

- Binance klines ``timestamp,open,high,low,close,volume`` or ``date,...,ticker``: times are bar
  opens, naive UTC;
- yfinance's 3-line header (``Price,...`` / ``Ticker,...`` / ``Datetime,...``; columns in any
  order): times are bar starts with an offset (ETF bars start at :30 and the session's last bar is
  cut at the close);
- Deribit DVOL ``timestamp (ms),datetime_utc,...,dvol_close`` (an index: use it as ``vix``).

Quirks handled: the **last row of each file is dropped** (files captured while a bar was open end
with a partial bar; a finding records it); a missing hour (an exchange outage, a missing session
bar, including a session's closing bar whose absence would leave the previous bar's close) is a
gap: ``missing="raise"`` names it, ``"ffill"`` carries the price and freezes the asset there.
A file whose bars are finer than the panel's bar is resampled (last close in each bar); coarser
bars are refused, except for the symbols declared ``daily``: a daily proxy whose close is
known at its session's close (and tradable only at that grid time). A daily index (CBOE's VIX) is
known at 16:15 New York time and carried as last-known-before-the-bar.

Cleaning: each intraday file's bars pass the daily loaders' detector (jumps, spikes, stale runs,
peg breaks; :func:`rwafolio.loaders.cleaning.detect`) and its findings join the panel's. Hourly
panels are reported on, never repaired: the CLI refuses ``--clean repair|drop`` with ``--bar 1h``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError, LayoutError
from rwafolio.loaders.cleaning import detect
from rwafolio.loaders.frames import PriceData
from rwafolio.loaders.panel import Finding, Panel
from rwafolio.universe import Universe

__all__ = [
    "BARS",
    "bar_delta",
    "find_intraday_files",
    "load_intraday",
    "load_intraday_dirs",
    "read_bars",
    "session_table",
]

#: Bar names the CLI accepts and their length.
BARS: Mapping[str, pd.Timedelta] = {"1h": pd.Timedelta(hours=1), "1d": pd.Timedelta(days=1)}
PathLike = str | os.PathLike[str]


def bar_delta(bar: str) -> pd.Timedelta:
    if bar not in BARS:
        raise ConfigError(f"`bar` must be one of {sorted(BARS)}, got {bar!r}")
    return BARS[bar]


def _utc_naive(values: pd.Series) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(pd.to_datetime(values, utc=True))
    return idx.tz_convert("UTC").tz_localize(None)


def read_bars(path: PathLike) -> pd.DataFrame:
    """Read an intraday file: DataFrame with ``start`` (bar open, naive UTC) and ``close``.

    Sorted by ``start``, unique, positive closes; the layout is in ``frame.attrs["layout"]``.
    """
    path = Path(path)
    try:
        head = path.read_text(encoding="utf-8").splitlines()[:3]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read intraday file {str(path)!r}: {exc}") from None
    if not head:
        raise LayoutError(f"intraday file {str(path)!r} is empty")
    cols = [c.strip().lower() for c in head[0].split(",")]
    if cols[0] == "price" and len(head) >= 3 and head[1].lower().startswith("ticker"):
        raw = pd.read_csv(path, skiprows=[1, 2])
        raw.columns = [str(c).strip().lower() for c in raw.columns]
        start, close, layout = _utc_naive(raw["price"]), raw["close"], "yfinance-3-line"
    elif "dvol_close" in cols:
        raw = pd.read_csv(path)
        start = pd.DatetimeIndex(pd.to_datetime(raw["timestamp"], unit="ms"))
        close, layout = raw["dvol_close"], "deribit-dvol"
    elif "close" in cols and ("timestamp" in cols or "date" in cols):
        raw = pd.read_csv(path)
        raw.columns = [str(c).strip().lower() for c in raw.columns]
        start = _utc_naive(raw["timestamp" if "timestamp" in raw.columns else "date"])
        close, layout = raw["close"], "binance-klines"
    else:
        raise LayoutError(f"intraday file {str(path)!r}: unknown layout (header {head[0]!r})")
    start = pd.DatetimeIndex(start).as_unit("ns")
    frame = pd.DataFrame({"start": start, "close": pd.to_numeric(close, errors="coerce")})
    frame = frame.sort_values("start", kind="stable").reset_index(drop=True)
    if frame["start"].duplicated().any():
        raise DataError(f"intraday file {str(path)!r} has duplicate bar times")
    bad = ~(np.isfinite(frame["close"]) & (frame["close"] > 0))
    if bad.any():
        raise DataError(f"intraday file {str(path)!r}: {int(bad.sum())} closes are not > 0")
    frame.attrs["layout"] = layout
    return frame


def session_table(start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """NYSE sessions between two UTC times: ``open`` and ``close`` (naive UTC), early closes in."""
    from rwafolio.loaders.calendar import _xnys

    cal = _xnys()
    sessions = cal.sessions_in_range(start.normalize() - pd.Timedelta(days=1), end.normalize())
    opens = cal.schedule.loc[sessions, "open"].dt.tz_convert("UTC").dt.tz_localize(None)
    closes = cal.schedule.loc[sessions, "close"].dt.tz_convert("UTC").dt.tz_localize(None)
    return pd.DataFrame({"open": opens.to_numpy(), "close": closes.to_numpy()})


def _in_session(grid: pd.DatetimeIndex, sessions: pd.DataFrame) -> np.ndarray:
    """Whether each grid time lies in (open, close] of a session."""
    opens = sessions["open"].to_numpy()
    closes = sessions["close"].to_numpy()
    pos = np.searchsorted(opens, grid.to_numpy(), side="left") - 1
    ok = pos >= 0
    out = np.zeros(len(grid), dtype=bool)
    out[ok] = grid.to_numpy()[ok] <= closes[pos[ok]]
    return out


def _expected_xnys(
    grid: pd.DatetimeIndex, sessions: pd.DataFrame, bar_len: pd.Timedelta
) -> np.ndarray:
    """The latest session bar end in (g - 1h, g] for each grid time g (NaT where none): bars
    every ``bar_len`` from the open, the last cut at the close (early closes included)."""
    ends = []
    for o, c in zip(sessions["open"], sessions["close"]):
        k = pd.date_range(o + bar_len, c, freq=bar_len, inclusive="left")
        ends.append(k.to_numpy())
        ends.append(np.array([np.datetime64(c, "ns")]))
    at = np.sort(np.concatenate(ends).astype("datetime64[ns]"))
    g = grid.to_numpy()
    pos = np.searchsorted(at, g, side="right") - 1
    last = np.where(pos >= 0, at[np.maximum(pos, 0)], np.datetime64("NaT", "ns"))
    inside = (pos >= 0) & (last > g - np.timedelta64(1, "h"))
    return np.where(inside, last, np.datetime64("NaT", "ns"))


def _bar_ends(frame: pd.DataFrame, step: pd.Timedelta, calendar: str) -> pd.Series:
    """Closes indexed by bar end (start + the file's bar, cut at the session's close)."""
    starts = pd.DatetimeIndex(frame["start"]).as_unit("ns")
    diffs = np.diff(starts.asi8)
    own = pd.Timedelta(int(np.median(diffs))) if len(diffs) else step
    own = min(own, pd.Timedelta(hours=1)) if own < pd.Timedelta(hours=2) else own
    ends = starts + own
    if calendar == "XNYS":
        sessions = session_table(starts[0], starts[-1] + pd.Timedelta(days=1))
        closes = sessions["close"].to_numpy()
        # The session a bar belongs to: the first close after its start (a bar starting at a
        # close belongs to the next session, never ends at that close).
        pos = np.searchsorted(closes, starts.to_numpy(), side="right")
        pos = np.minimum(pos, len(closes) - 1)
        ends = pd.DatetimeIndex(np.minimum(ends.to_numpy(), closes[pos]))
    if not ends.is_monotonic_increasing:
        raise DataError("bars overlap once cut at the session close (a bar outside any session?)")
    s = pd.Series(frame["close"].to_numpy(), index=ends)
    s.attrs["bar"] = own
    return s


def _on_grid(
    closes: pd.Series, grid: pd.DatetimeIndex, step: pd.Timedelta
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Last close ended at or before each grid time, whether a bar ended in (g - step, g], and
    that last bar's end (NaT where none)."""
    ends = closes.index.to_numpy()
    pos = np.searchsorted(ends, grid.to_numpy(), side="right") - 1
    price = np.where(pos >= 0, closes.to_numpy()[np.maximum(pos, 0)], np.nan)
    last_end = np.where(pos >= 0, ends[np.maximum(pos, 0)], np.datetime64("NaT", "ns"))
    fresh = (pos >= 0) & (last_end > (grid - step).to_numpy())
    return price, fresh, last_end


def load_intraday(
    files: Mapping[str, PathLike],
    universe: Universe,
    *,
    bar: str = "1h",
    vix: PathLike | None = None,
    vix_daily: bool = False,
    start: object = None,
    end: object = None,
    missing: str = "raise",
    daily: Iterable[str] = (),
) -> Panel:
    """An hourly :class:`Panel` from one intraday file per symbol (see the module docs).

    Parameters
    ----------
    files : mapping symbol -> path
        One file per symbol of ``universe`` (its ``calendar`` decides the sessions).
    bar : {"1h"}
        The panel's bar.
    vix : path or None
        An index file: intraday (yfinance or DVOL layout) or, with ``vix_daily``, a daily
        ``DATE,...,CLOSE`` file known at 16:15 New York time.
    start, end : date-like, optional
        Range of grid times (default: where every series has data).
    missing : {"raise", "ffill"}
        A missing bar inside a market's open hours: an error naming it, or carry and freeze.
    daily : symbols
        Symbols whose file has daily bars (a daily proxy): tradable once a session, at its close.
    """
    step = bar_delta(bar)
    symbols = universe.symbols
    _check_intraday_args(files, symbols, bar, missing)
    daily = set(daily)
    classes = {s: universe[s].asset_class for s in symbols}
    frames, daily_closes, findings = _read_all(files, symbols, daily, step, classes)
    grid = _grid(frames, step, start, end)
    sessions = session_table(grid[0] - pd.Timedelta(days=7), grid[-1] + pd.Timedelta(days=1))
    open_now = _in_session(grid, sessions)
    prices, tradable = {}, {}
    for s in symbols:
        if s in daily:
            p, fresh, _ = _on_grid(daily_closes[s], grid, step)
            expected = fresh  # once a session, at its close
        else:
            p, fresh, expected = _place_bars(
                s, frames[s], universe[s].calendar, grid, step, bar, sessions, open_now
            )
        if np.isnan(p[0]):
            raise DataError(f"{s}: no bar ended at or before the panel's first time {grid[0]}")
        findings += _gap_findings(s, grid, expected & ~fresh, missing)
        prices[s], tradable[s] = p, expected & fresh
    vix_s = None
    if vix is not None:
        vix_s = pd.Series(_index_on_grid(vix, vix_daily, grid, step), index=grid)
    return Panel(
        prices=pd.DataFrame(prices, index=grid)[symbols],
        tradable=pd.DataFrame(tradable, index=grid)[symbols],
        universe=universe,
        policy="all_days",
        vix=vix_s,
        vix_source="none" if vix is None else f"file:{Path(vix).name}",
        source="files",
        price_fields={
            s: daily_closes[s].attrs.get("price_field", "Close") if s in daily_closes else "Close"
            for s in symbols
        },
        findings=tuple(findings),
        meta={"bar": bar, "files": {s: str(Path(p).name) for s, p in files.items()}},
        bar=bar,
    )


def _check_intraday_args(
    files: Mapping[str, PathLike], symbols: list[str], bar: str, missing: str
) -> None:
    """Raise ``ConfigError`` for a non-hourly ``bar``, a bad ``missing`` or unmatched ``files``."""
    if bar != "1h":
        raise ConfigError("`bar`: load_intraday builds hourly panels; daily panels use load()")
    if missing not in ("raise", "ffill"):
        raise ConfigError(
            f"`missing` must be 'raise' or 'ffill' for intraday panels, got {missing!r}"
        )
    if sorted(files) != sorted(symbols):
        raise ConfigError(f"`files` must name one file per symbol {symbols}, got {sorted(files)}")


def _read_all(
    files: Mapping[str, PathLike],
    symbols: list[str],
    daily: set[str],
    step: pd.Timedelta,
    classes: Mapping[str, str],
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.Series], list[Finding]]:
    """Every symbol's bars (``start``, ``close``), the daily proxies' closes, and findings.

    An intraday file's last row is dropped (it may be a bar still open) and reported as a
    ``partial_last_bar`` finding; the rest is checked by the cleaning pass (report only, see
    :func:`_bar_checks`). A daily proxy's bars start ``step`` before its known time.
    """
    findings: list[Finding] = []
    frames: dict[str, pd.DataFrame] = {}
    daily_closes: dict[str, pd.Series] = {}
    for s in symbols:
        if s in daily:
            known = _daily_frame(files[s], s)
            daily_closes[s] = known
            starts = pd.DatetimeIndex(known.index) - step
            frames[s] = pd.DataFrame({"start": starts, "close": known.to_numpy()})
            continue
        f = read_bars(files[s])
        last = f["start"].iloc[-1]
        findings.append(
            Finding(s, "partial_last_bar", last, "last row dropped (may be a bar still open)")
        )
        frames[s] = f.iloc[:-1]
        findings += _bar_checks(s, frames[s], classes.get(s, "crypto"))
    return frames, daily_closes, findings


def _bar_checks(symbol: str, bars: pd.DataFrame, asset_class: str) -> list[Finding]:
    """The cleaning pass's report on one symbol's bars (jumps, spikes, stale runs, peg breaks).

    The same detector as the daily loaders (:func:`rwafolio.loaders.cleaning.detect`) on the
    bar closes, each finding dated by its bar's open; nothing is changed (``--clean report``).
    """
    frame = pd.DataFrame(
        {"close": bars["close"].to_numpy(dtype=float)},
        index=pd.DatetimeIndex(bars["start"], name="date"),
    )
    data = PriceData(symbol, frame, layout=str(bars.attrs.get("layout", "intraday")))
    return list(detect(data, asset_class=asset_class))


def _grid(
    frames: Mapping[str, pd.DataFrame], step: pd.Timedelta, start: object, end: object
) -> pd.DatetimeIndex:
    """Hourly grid times where every series has data, within ``start``..``end``."""
    lo = max(f["start"].iloc[0] for f in frames.values()) + step
    hi = min(f["start"].iloc[-1] for f in frames.values()) + step
    if start is not None:
        lo = max(lo, pd.Timestamp(str(start)))
    if end is not None:
        stop = pd.Timestamp(str(end))
        # A date alone means its whole day: up to its last hourly bar.
        hi = min(hi, stop + pd.Timedelta(days=1) - step if len(str(end)) <= 10 else stop)
    grid = pd.date_range(lo.ceil("h"), hi.floor("h"), freq="h")
    if len(grid) < 2:
        raise DataError(f"the files overlap on fewer than 2 hourly bars ({lo}..{hi})")
    return grid


def _place_bars(
    s: str,
    frame: pd.DataFrame,
    calendar: str,
    grid: pd.DatetimeIndex,
    step: pd.Timedelta,
    bar: str,
    sessions: pd.DataFrame,
    open_now: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An intraday symbol on the grid: ``(price, fresh, expected)``, each of shape (n_grid,).

    ``fresh``: a bar ended in (g - step, g]; ``expected``: its market should have one there.
    """
    closes = _bar_ends(frame, step, calendar)
    if closes.attrs["bar"] > step:
        raise DataError(
            f"{s}: its file has bars of {closes.attrs['bar']}, coarser than the panel's "
            f"{bar} (declare it a daily proxy, or load a finer file)"
        )
    p, fresh, last_end = _on_grid(closes, grid, step)
    if calendar == "24/7":
        expected = np.ones(len(grid), dtype=bool)
    else:
        due = _expected_xnys(grid, sessions, min(closes.attrs.get("bar", step), step))
        expected = open_now & ~np.isnat(due)
        # Fresh means the latest bar due by g is there: a session's closing bar that is missing
        # leaves the previous bar's close (30 minutes stale for :30 ETF bars), which is a gap.
        fresh &= ~expected | (last_end >= due)
    return p, fresh, expected


def _gap_findings(s: str, grid: pd.DatetimeIndex, gaps: np.ndarray, missing: str) -> list[Finding]:
    """Missing bars while the market is open: an error (``missing="raise"``) or gap findings
    (the first 50) for ``missing="ffill"``."""
    if not gaps.any():
        return []
    where = grid[gaps]
    if missing == "raise":
        raise DataError(
            f"{s}: {int(gaps.sum())} missing bar(s) while its market is open, first at "
            f"{where[0]} (use missing='ffill' to carry the price and freeze it there)"
        )
    return [Finding(s, "gap", t, "missing bar: price carried, not tradable") for t in where[:50]]


def _daily_frame(path: PathLike, symbol: str) -> pd.Series:
    """A daily price file's closes indexed by the time they are known: the session's close."""
    from rwafolio.loaders.files import read_file

    data = read_file(path, symbol)
    pdata = next(iter(data.values()))
    days = pd.DatetimeIndex(pdata.frame.index)
    sessions = session_table(days[0], days[-1] + pd.Timedelta(days=1))
    by_day = pd.Series(
        sessions["close"].to_numpy(), index=pd.DatetimeIndex(sessions["close"]).normalize()
    )
    known = by_day.reindex(days)
    if known.isna().any():
        raise DataError(f"{symbol}: daily rows on {int(known.isna().sum())} non-session days")
    out = pd.Series(pdata.price.to_numpy(dtype=float), index=pd.DatetimeIndex(known.to_numpy()))
    out.attrs["price_field"] = pdata.price_field
    return out


def _index_on_grid(
    path: PathLike, daily: bool, grid: pd.DatetimeIndex, step: pd.Timedelta
) -> np.ndarray:
    """The index's last level known at or before each grid time (never a later print)."""
    if daily:
        from rwafolio.loaders.vix import read_vix_file

        v = read_vix_file(path)
        known = (
            (pd.DatetimeIndex(v.index) + pd.Timedelta(hours=16, minutes=15))
            .tz_localize("America/New_York")
            .tz_convert("UTC")
            .tz_localize(None)
        )
        closes = pd.Series(v.to_numpy(dtype=float), index=known)
    else:
        f = read_bars(path).iloc[:-1]
        closes = pd.Series(
            f["close"].to_numpy(), index=pd.DatetimeIndex(f["start"]) + pd.Timedelta(hours=1)
        )
    level, _, _ = _on_grid(closes, grid, step)
    if np.isnan(level[0]):
        raise DataError(
            f"the index {str(path)!r} has no level before the panel's first time {grid[0]}"
        )
    return level


def find_intraday_files(symbols: Iterable[str], data_dirs: Iterable[PathLike]) -> dict[str, Path]:
    """``SYMBOL.csv`` (case-insensitive stem) for each symbol, first folder first, recursively."""
    dirs = [Path(d) for d in data_dirs]
    if not dirs:
        raise ConfigError("`--data-dir` is required for intraday files")
    found: dict[str, Path] = {}
    for s in symbols:
        for d in dirs:
            hits = sorted(p for p in d.rglob("*.csv") if p.stem.lower() == s.lower())
            if len(hits) > 1:
                raise ConfigError(
                    f"`--data-dir` {str(d)!r} holds {len(hits)} files for {s}: {hits}"
                )
            if hits:
                found[s] = hits[0]
                break
        else:
            raise DataError(f"no file {s}.csv under --data-dir {[str(d) for d in dirs]}")
    return found


def _is_daily_index(path: Path) -> bool:
    head = path.read_text(encoding="utf-8").splitlines()[:2]
    return len(head) == 2 and head[0].upper().startswith("DATE,") and ":" not in head[1]


def load_intraday_dirs(
    symbols: list[str],
    data_dirs: Iterable[PathLike],
    universe: Universe,
    *,
    bar: str = "1h",
    vix: str | None = None,
    start: object = None,
    end: object = None,
    missing: str = "raise",
    daily: Iterable[str] = (),
) -> Panel:
    """:func:`load_intraday` on files found by symbol; ``vix`` a file path (daily CBOE layout
    detected) or ``"none"``."""
    files = find_intraday_files(symbols, data_dirs)
    vix_path = None if vix is None or str(vix).lower() == "none" else Path(vix)
    if vix_path is not None and not vix_path.is_file():
        raise ConfigError(f"`--vix` must be an index file for intraday panels, got {vix!r}")
    return load_intraday(
        files,
        universe,
        bar=bar,
        vix=vix_path,
        vix_daily=vix_path is not None and _is_daily_index(vix_path),
        start=start,
        end=end,
        missing=missing,
        daily=daily,
    )
