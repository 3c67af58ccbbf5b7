"""Daily prices from Yahoo Finance through yfinance, with a per-symbol parquet cache.

The only module that imports yfinance (lazily, inside :func:`yfinance_download`). The network
call is one replaceable function, ``downloader(symbols, start, end_exclusive) -> DataFrame``, so
tests pass frames shaped exactly like ``yfinance.download``'s (MultiIndex columns
``(Price, Ticker)``, tz-naive or tz-aware dates, with or without ``Adj Close``).

Behaviour of :func:`download`:

- the symbols' cache entries are locked (see :func:`~rwafolio.loaders.cache.cache_lock`) for
  the whole read-fetch-merge-write, so concurrent fetches of one symbol never lose a range;
- the cache is read first (a corrupt entry is a miss, refetched and reported); only what it lacks is fetched: the whole range when the cache starts
  after ``start``, else the tail from the last cached date (re-fetched: it may have been
  provisional) to ``end``; new rows overwrite cached ones and the cache is rewritten atomically;
- each call is retried ``retries`` times with exponential backoff (``sleep`` is injectable);
- yfinance does not raise when offline: it prints and returns an **empty** frame (or all-NaN
  columns for the failed tickers). That is detected per symbol. With a cache, the cached data is
  used and a ``UserWarning`` says how stale it is; without one, ``DataUnavailableError`` names the
  symbols and the cache path.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rwafolio.exceptions import ConfigError, DataError, DataUnavailableError
from rwafolio.loaders.cache import (
    CacheCorruptError,
    CacheEntry,
    cache_lock,
    merge_frames,
    read_cache,
    resolve_cache_dir,
    write_cache,
)
from rwafolio.loaders.frames import (
    PriceData,
    as_date,
    choose_price_field,
    finish_frame,
    parse_dates,
    rename_columns,
    split_yf_multiindex,
)

#: ``downloader(symbols, start, end_exclusive)`` returning a yfinance-shaped frame.
Downloader = Callable[[list[str], pd.Timestamp, pd.Timestamp], pd.DataFrame]

DEFAULT_START = pd.Timestamp("2015-01-01")


def yfinance_download(
    symbols: list[str], start: pd.Timestamp, end_exclusive: pd.Timestamp
) -> pd.DataFrame:
    """The real network call: ``yfinance.download`` with unadjusted prices plus ``Adj Close``.

    yfinance's own log lines ("1 Failed download: ...", tracebacks at debug level) are held back
    for the call: a symbol it could not fetch comes back empty, and :func:`download` says so in
    one line of its own, with the cache's state.
    """
    import logging

    import yfinance as yf

    log = logging.getLogger("yfinance")
    was = log.disabled
    log.disabled = True
    try:
        raw = yf.download(
            symbols,
            start=start.strftime("%Y-%m-%d"),
            end=end_exclusive.strftime("%Y-%m-%d"),
            auto_adjust=False,
            actions=False,
            progress=False,
            group_by="column",
            multi_level_index=True,
            threads=False,
        )
    finally:
        log.disabled = was
    return raw if raw is not None else pd.DataFrame()


def frames_from_yfinance(
    raw: pd.DataFrame | None, symbols: Sequence[str]
) -> dict[str, pd.DataFrame]:
    """Normalise a ``yfinance.download`` frame into one canonical frame per symbol with data.

    Handles ``(Price, Ticker)`` and ``(Ticker, Price)`` MultiIndex columns and the flat columns of
    a single ticker (``multi_level_index=False``); tz-aware dates keep their exchange-local date.
    Symbols whose rows are all NaN (a failed ticker) or that are absent are left out.
    """
    if raw is None or raw.empty:
        return {}
    if isinstance(raw.columns, pd.MultiIndex):
        parts = split_yf_multiindex(raw)
    else:
        if len(symbols) != 1:
            raise ConfigError("a flat-column yfinance frame can only hold one symbol")
        parts = {symbols[0]: raw.rename(columns=rename_columns(raw.columns))}
    dates = parse_dates(raw.index, what="yfinance index")
    wanted = {s.upper(): s for s in symbols}
    out: dict[str, pd.DataFrame] = {}
    for ticker, frame in parts.items():
        sym = wanted.get(str(ticker).upper())
        if sym is None:
            continue
        f = frame.set_axis(dates, axis=0)
        price_cols = [c for c in ("close", "adj_close") if c in f.columns]
        if not price_cols:
            continue
        f = f[f[price_cols].notna().any(axis=1)]
        if f.empty:
            continue
        f, _ = finish_frame(f, symbol=sym, where="yfinance")
        out[sym] = f
    return out


@dataclass(frozen=True)
class YahooResult:
    """What :func:`download` produced: data per symbol, where each came from, the cache path,
    and the per-symbol messages of stale caches used and corrupt caches replaced."""

    data: dict[str, PriceData]
    origin: dict[str, str]
    cache_dir: Path
    warnings: tuple[str, ...] = field(default_factory=tuple)
    stale: dict[str, str] = field(default_factory=dict)
    corrupt: dict[str, str] = field(default_factory=dict)


def _fetch(
    symbols: list[str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    downloader: Downloader,
    retries: int,
    backoff: float,
    sleep: Callable[[float], object],
) -> tuple[dict[str, pd.DataFrame], str]:
    """Call the downloader with retries; returns the frames obtained and the last error text."""
    got: dict[str, pd.DataFrame] = {}
    pending = list(symbols)
    last_error = "empty answer"
    for attempt in range(retries):
        if attempt:
            sleep(backoff * 2 ** (attempt - 1))
        try:
            raw = downloader(pending, start, end + pd.Timedelta(days=1))
        except Exception as exc:  # yfinance raises assorted network errors
            last_error = f"{type(exc).__name__}: {exc}"
            continue
        got.update(frames_from_yfinance(raw, pending))
        pending = [s for s in pending if s not in got]
        if not pending:
            break
        last_error = "empty answer (offline, rate-limited or unknown symbol)"
    return got, last_error


def download(
    symbols: Sequence[str],
    start: object = None,
    end: object = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    downloader: Downloader | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], object] = time.sleep,
    today: object = None,
) -> YahooResult:
    """Daily prices of ``symbols`` over ``[start, end]`` from the cache and yfinance.

    Parameters
    ----------
    symbols : sequence of str
        Yahoo tickers (``"BTC-USD"``, ``"VNQ"``, ``"^VIX"``).
    start, end : date-like, optional
        Inclusive range; defaults 2015-01-01 and ``today``.
    cache_dir : path-like, optional
        Cache folder (default ``$RWAFOLIO_CACHE_DIR`` or the platform cache dir).
    downloader : callable, optional
        ``downloader(symbols, start, end_exclusive) -> DataFrame`` shaped like
        ``yfinance.download``; default :func:`yfinance_download` (the network).
    retries : int
        Attempts per fetch (>= 1).
    backoff : float
        Seconds before the 2nd attempt, doubling after each failure.
    sleep : callable
        Called with the wait in seconds (tests pass a recorder).
    today : date-like, optional
        Today's date for staleness (default: the current UTC date).

    Returns
    -------
    YahooResult

    Raises
    ------
    DataUnavailableError
        Some symbols got no data and have no cache; the message names them and the cache path.
    """
    syms = list(dict.fromkeys(symbols))
    if not syms:
        raise ConfigError("`symbols` must name at least one ticker, got none")
    if retries < 1:
        raise ConfigError(f"`retries` must be >= 1, got {retries}")
    now = (
        as_date(today, "today") if today is not None else pd.Timestamp.now("UTC").tz_localize(None)
    ).normalize()
    t0 = as_date(start, "start") if start is not None else DEFAULT_START
    t1 = min(as_date(end, "end") if end is not None else now, now)
    if t1 < t0:
        raise ConfigError(f"`end` {t1:%Y-%m-%d} is before `start` {t0:%Y-%m-%d}")
    folder = resolve_cache_dir(cache_dir)
    with cache_lock(syms, folder):
        return _download_locked(
            syms, t0, t1, now, folder, downloader or yfinance_download, retries, backoff, sleep
        )


def _read_entries(
    syms: list[str], folder: Path
) -> tuple[dict[str, CacheEntry | None], dict[str, str]]:
    """Each symbol's cache entry; a corrupt one is a miss, with the reason."""
    cached: dict[str, CacheEntry | None] = {}
    corrupt: dict[str, str] = {}
    for s in syms:
        try:
            cached[s] = read_cache(s, folder)
        except CacheCorruptError as exc:
            cached[s] = None
            corrupt[s] = f"{exc}; treated as a miss and refetched"
    return cached, corrupt


def _plan(
    cached: dict[str, CacheEntry | None], t0: pd.Timestamp, t1: pd.Timestamp
) -> dict[tuple[pd.Timestamp, pd.Timestamp], list[str]]:
    """Ranges to fetch, each with its symbols: all of [t0, t1] or the tail the cache lacks."""
    plan: dict[tuple[pd.Timestamp, pd.Timestamp], list[str]] = {}
    for s, entry in cached.items():
        if entry is None:
            plan.setdefault((t0, t1), []).append(s)
            continue
        covered_from = min(
            as_date(entry.meta.get("start", entry.frame.index[0])), entry.frame.index[0]
        )
        through = max(as_date(entry.meta.get("through", entry.last_date)), entry.last_date)
        if covered_from > t0:
            plan.setdefault((t0, t1), []).append(s)
        elif through < t1:
            plan.setdefault((min(entry.last_date, t1), t1), []).append(s)
    return plan


def _download_locked(
    syms: list[str],
    t0: pd.Timestamp,
    t1: pd.Timestamp,
    now: pd.Timestamp,
    folder: Path,
    fetch_fn: Downloader,
    retries: int,
    backoff: float,
    sleep: Callable[[float], object],
) -> YahooResult:
    """:func:`download` once the symbols' cache locks are held."""
    cached, corrupt = _read_entries(syms, folder)
    for msg in corrupt.values():
        warnings.warn(msg, UserWarning, stacklevel=3)
    plan = _plan(cached, t0, t1)
    frames: dict[str, pd.DataFrame] = {}
    origin: dict[str, str] = {}
    notes: list[str] = list(corrupt.values())
    stale: dict[str, str] = {}
    failed: dict[str, str] = {}
    for (f0, f1), group in plan.items():
        got, err = _fetch(group, f0, f1, fetch_fn, retries, backoff, sleep)
        for s in group:
            entry = cached[s]
            if s in got:
                merged = merge_frames(None if entry is None else entry.frame, got[s])
                old_meta = {} if entry is None else entry.meta
                meta = {
                    "start": min(as_date(old_meta.get("start", f0)), f0).strftime("%Y-%m-%d"),
                    "through": max(as_date(old_meta.get("through", f1)), f1).strftime("%Y-%m-%d"),
                    "fetched_at": pd.Timestamp.now("UTC").isoformat(),
                    "source": "yfinance",
                }
                try:
                    write_cache(s, merged, folder, meta)
                except DataError as exc:  # the data is here; only the cache could not keep it
                    warnings.warn(f"{exc}; data used without caching", UserWarning, stacklevel=3)
                    notes.append(str(exc))
                frames[s] = merged
                origin[s] = "yfinance" if entry is None else "yfinance+cache"
            elif entry is not None:
                age = (now - entry.last_date).days
                msg = (
                    f"yfinance gave no data for {s} ({err}); using the cache {entry.path}, whose "
                    f"last date {entry.last_date:%Y-%m-%d} is {age} day(s) before {now:%Y-%m-%d}"
                )
                warnings.warn(msg, UserWarning, stacklevel=3)
                notes.append(msg)
                stale[s] = msg
                frames[s] = entry.frame
                origin[s] = "cache (stale)"
            else:
                failed[s] = err
    if failed:
        broken = "".join(f"; {corrupt[s]}" for s in sorted(failed) if s in corrupt)
        if folder.exists() and not folder.is_dir():
            broken += f"; `cache_dir` {str(folder)!r} is a file, not a folder"
        raise DataUnavailableError(
            f"no data for symbol(s) {sorted(failed)} from yfinance ({next(iter(failed.values()))}, "
            f"after {retries} attempt(s)) and no cache for them in {folder}; connect to the "
            f"network once (e.g. `rwafolio fetch`) or point `cache_dir` at a filled cache{broken}"
        )
    for s in syms:
        if s not in frames:
            entry = cached[s]
            assert entry is not None
            frames[s] = entry.frame
            origin[s] = "cache"
    data: dict[str, PriceData] = {}
    for s in syms:
        f = frames[s].loc[t0:t1]  # type: ignore[misc]
        if f.empty:
            raise DataUnavailableError(
                f"{s}: no rows between {t0:%Y-%m-%d} and {t1:%Y-%m-%d} (source {origin[s]}, "
                f"cache {folder})"
            )
        data[s] = PriceData(s, f, "yfinance", None, choose_price_field(f))
    return YahooResult(data, origin, folder, tuple(notes), stale, corrupt)
