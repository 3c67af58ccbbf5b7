"""Read price files (CSV or parquet) whatever their layout, and find them by symbol.

Layouts recognised (:data:`KNOWN_LAYOUTS`): classic Yahoo downloads, yfinance ``Ticker.history()``
and ``download()`` output (including its multi-line header and the mislabelled variant where the
second ``Price`` column is the adjusted close), CBOE's VIX history, Binance-style klines with or
without a header, generic OHLC, plain ``date,close`` and wide files (one column per symbol).
Descending dates are reversed and entirely empty columns ignored. A file that fits none of them
raises :class:`~rwafolio.exceptions.LayoutError` listing these layouts.

Symbols are found by file name (stem, case-insensitive, a leading ``^`` optional), searched
recursively in one or more data folders, reading only regular files inside them; see
:mod:`.locate` for the preference order and what a scan skips.

Every failure to read a file ends in a typed one-line error naming the file: ``LayoutError`` for
content that is not a known price table (blank, corrupt parquet, not UTF-8, ...), ``DataError``
for a file that cannot be opened (permission denied) or holds text in a numeric column.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError, LayoutError, RwafolioError
from rwafolio.loaders.frames import (
    ALIASES,
    DATE_NAMES,
    PriceData,
    canonical,
    choose_price_field,
    convert_currency,
    finish_frame,
    parse_dates,
    rename_columns,
    split_yf_multiindex,
)
from rwafolio.loaders.locate import (
    SUFFIXES,
    FileMatch,
    FileSearch,
    find_symbol_files,
    head_lines,
    locate,
    stem_key,
)

__all__ = [
    "KNOWN_LAYOUTS",
    "SUFFIXES",
    "FileMatch",
    "FileSearch",
    "compare_sources",
    "find_symbol_files",
    "locate",
    "read_file",
    "read_symbols",
]

#: Layouts the files loader knows, with what identifies each.
KNOWN_LAYOUTS: Mapping[str, str] = {
    "yahoo_classic": "Date,Open,High,Low,Close,Adj Close,Volume (Yahoo Finance CSV download)",
    "yfinance_history": "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits; tz-aware dates "
    "(yfinance Ticker.history())",
    "yfinance_download": "header lines Price/Ticker[/Ticker]/Date (yfinance download().to_csv()), "
    "incl. the variant whose 2nd 'Price' column is Adj Close; or parquet with (Price, Ticker) columns",
    "cboe": "DATE,OPEN,HIGH,LOW,CLOSE with MM/DD/YYYY or ISO dates (CBOE VIX history)",
    "kline": "open_time (epoch s/ms/us),open,high,low,close,volume,... with or without header "
    "(Binance-style exchange export)",
    "ohlc": "a date column plus open/high/low/close[/volume] columns",
    "date_close": "a date column plus one price column named close, price, value or adj close",
    "wide": "a date column plus one numeric price column per symbol",
}

#: Column names of Binance's headerless kline CSVs (data.binance.vision).
_KLINE_NAMES = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)
_SINGLE_PRICE_NAMES = ("close", "adj close", "adjclose", "adjusted close", "price", "value", "last")


def _layout_error(path: object, why: str) -> LayoutError:
    """One line: the file, why its layout is unknown, and the layouts' names (each is described
    in :data:`KNOWN_LAYOUTS` and the README's Data section)."""
    why = why.splitlines()[0] if why else why
    return LayoutError(
        f"unknown layout in {path}: {why}; known layouts: {', '.join(KNOWN_LAYOUTS)} (README, Data)"
    )


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _read_yf_download_csv(path: Path, lines: list[str]) -> dict[str, pd.DataFrame]:
    """Parse yfinance ``download().to_csv()`` output with its stacked header lines."""
    rows = [ln.split(",") for ln in lines]
    n_header = 0
    prices: list[str] | None = None
    tickers: list[str] | None = None
    for row in rows:
        head = canonical(row[0])
        if head == "price":
            prices = [c.strip() for c in row[1:]]
        elif head == "ticker":
            tickers = tickers or [c.strip() for c in row[1:]]
        elif head in DATE_NAMES and all(not c.strip() for c in row[1:]):
            n_header += 1
            break
        else:
            break
        n_header += 1
    if prices is None or tickers is None or len(prices) != len(tickers):
        raise _layout_error(path, "a Price/Ticker header without matching Price and Ticker rows")
    # Quirk (taa-dashboard files): the first line reads "Price,Price,Close,..." where the data
    # column labelled "Price" really is the adjusted close.
    fixed = ["Adj Close" if canonical(p) == "price" else p for p in prices]
    if sum(canonical(p) == "adj close" for p in fixed) > len(set(tickers)):
        raise _layout_error(path, "more than one adjusted-close column per ticker")
    data = pd.read_csv(path, skiprows=n_header, header=None, encoding="utf-8-sig")
    data = data.dropna(axis=1, how="all")
    if data.shape[1] != len(fixed) + 1:
        raise _layout_error(path, f"{data.shape[1]} data columns for {len(fixed) + 1} header cells")
    frame = data.iloc[:, 1:].copy()
    frame.columns = pd.MultiIndex.from_arrays([fixed, tickers], names=["Price", "Ticker"])
    frame.index = parse_dates(data.iloc[:, 0])
    return split_yf_multiindex(frame)


def _from_table(table: pd.DataFrame, path: Path, symbol: str | None) -> dict[str, PriceData]:
    """Detect the layout of a parsed table (string column labels) and normalise it."""
    if len(table) == 0:
        raise _layout_error(path, f"no data rows under the header {list(table.columns)}")
    _check_unique_fields(table.columns, path)
    # Empty columns go (trailing commas), except an empty adjusted close: kept, so the
    # cleaning step says the prices are the unadjusted close (it used to vanish silently).
    empty = table.columns[table.isna().all().to_numpy()]
    table = table.drop(columns=[c for c in empty if ALIASES.get(canonical(c)) != "adj_close"])
    table = table.loc[
        :, [not str(c).lower().startswith("unnamed") or i == 0 for i, c in enumerate(table.columns)]
    ]
    names = [canonical(c) for c in table.columns]
    date_pos = next((i for i, n in enumerate(names) if n in DATE_NAMES), None)
    if date_pos is None and names and (names[0] == "" or names[0].startswith("unnamed")):
        date_pos = 0
    if date_pos is None:
        sep = next((c for c in ";\t|" if len(names) == 1 and c in str(table.columns[0])), None)
        hint = f" (fields seem separated by {sep!r}; files must be comma-separated)" if sep else ""
        raise _layout_error(path, f"no date column among {list(table.columns)}{hint}")
    raw_cols = [str(c) for c in table.columns]
    stem = symbol or path.stem
    mapping = rename_columns(table.columns)
    has_price = any(v in ("close", "adj_close") for v in mapping.values())
    if not has_price:
        alias = next((c for c, n in zip(table.columns, names) if n in _SINGLE_PRICE_NAMES), None)
        if alias is not None:
            mapping[alias] = "close"
            has_price = True
    dates = parse_dates(table.iloc[:, date_pos], what=f"date column of {path}")
    if has_price:
        if {"dividends", "stock splits"} & set(names):
            layout = "yfinance_history"
        elif names[date_pos] in ("open time", "opentime") or pd.api.types.is_numeric_dtype(
            table.iloc[:, date_pos].dtype
        ):
            layout = "kline"
        elif raw_cols[:5] == ["DATE", "OPEN", "HIGH", "LOW", "CLOSE"]:
            layout = "cboe"
        elif "adj_close" in mapping.values() and {"open", "high", "low"} <= set(mapping.values()):
            layout = "yahoo_classic"
        elif {"open", "high", "low"} <= set(mapping.values()):
            layout = "ohlc"
        else:
            layout = "date_close"
        frame = table[list(mapping)].rename(columns=mapping)
        frame.index = dates
        return {stem: _price_data(frame, stem, layout, path)}
    others = [i for i in range(table.shape[1]) if i != date_pos]
    numeric = [i for i in others if pd.api.types.is_numeric_dtype(table.iloc[:, i].dtype)]
    if not numeric or any(names[i] in ALIASES for i in others):
        raise _layout_error(path, f"columns {raw_cols} have no close/price column")
    out: dict[str, PriceData] = {}
    for i in numeric:
        frame = pd.DataFrame({"close": table.iloc[:, i].to_numpy()}, index=dates)
        out[raw_cols[i]] = _price_data(frame, raw_cols[i], "wide", path)
    return out


def _check_unique_fields(columns: pd.Index, path: Path) -> None:
    """Two columns that mean the same field (``Close`` twice, ``Close`` and ``Last``) are an error:
    picking one would be a silent choice."""
    seen: dict[str, str] = {}
    for c in columns:
        key = ALIASES.get(canonical(re.sub(r"\.\d+$", "", str(c))))
        if key is None:
            continue
        if key in seen:
            raise _layout_error(path, f"columns {seen[key]!r} and {str(c)!r} both give {key!r}")
        seen[key] = str(c)


def _price_data(frame: pd.DataFrame, symbol: str, layout: str, path: Path) -> PriceData:
    frame, notes = finish_frame(frame, symbol=symbol, where=str(path))
    return PriceData(symbol, frame, layout, str(path), choose_price_field(frame), notes)


def read_file(path: str | os.PathLike[str], symbol: str | None = None) -> dict[str, PriceData]:
    """Read one CSV or parquet price file, detecting its layout.

    Parameters
    ----------
    path : path-like
        ``.csv``/``.txt`` or ``.parquet``/``.pq`` file.
    symbol : str, optional
        Name for a one-symbol file (default: the file's stem). Ignored for wide and multi-ticker
        files, whose symbols come from their columns.

    Returns
    -------
    dict of symbol -> PriceData
        One entry per symbol in the file, each with a normalised frame (see
        :class:`~rwafolio.loaders.frames.PriceData`), its layout and the price field chosen
        (``"Adj Close"`` where present, else ``"Close"``).

    Raises
    ------
    LayoutError
        The layout is not one of :data:`KNOWN_LAYOUTS` (the message lists them), or the file is
        blank, a corrupt parquet file, not UTF-8 text, or otherwise not a price table.
    DataError
        The path is not a regular file or cannot be opened (the cause is named); duplicated or
        unordered dates; text in a numeric column.
    """
    import pyarrow as pa

    p = Path(path)
    if not p.is_file():
        raise DataError(f"`path` {p} is not a regular file")
    try:
        return _read(p, symbol)
    except RwafolioError:
        raise
    except PermissionError:
        raise DataError(f"cannot read {p}: permission denied") from None
    except OSError as exc:
        raise DataError(f"cannot read {p}: {exc.strerror or exc}") from None
    except (ValueError, KeyError, IndexError, TypeError, OverflowError, pa.ArrowException) as exc:
        what = "parquet" if p.suffix.lower() in (".parquet", ".pq") else "CSV"
        msg = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise LayoutError(
            f"{p} is not a readable price {what} file ({type(exc).__name__}: {msg})"
        ) from None


def _read(p: Path, symbol: str | None) -> dict[str, PriceData]:
    """:func:`read_file` without the error translation."""
    if p.suffix.lower() in (".parquet", ".pq"):
        if p.stat().st_size == 0:
            raise _layout_error(p, "the file is empty (0 bytes)")
        table = pd.read_parquet(p)
        if isinstance(table.columns, pd.MultiIndex):
            parts = split_yf_multiindex(table)
            dates = parse_dates(table.index, what=f"index of {p}")
            out = {}
            for t, f in parts.items():
                f = f.set_axis(dates, axis=0)
                out[t] = _price_data(f, t, "yfinance_download", p)
            return out
        if isinstance(table.index, pd.DatetimeIndex):
            table = table.reset_index(names="date")
        table.columns = [str(c) for c in table.columns]
        return _from_table(table, p, symbol)
    lines = head_lines(p)
    if not lines:
        raise _layout_error(p, "the file is empty or holds only blank lines")
    first = lines[0].split(",")
    if canonical(first[0]) in ("price", "ticker") and len(lines) > 1:
        parts = _read_yf_download_csv(p, lines)
        if len(parts) == 1 and symbol is not None:
            parts = {symbol: next(iter(parts.values()))}
        return {t: _price_data(f, t, "yfinance_download", p) for t, f in parts.items()}
    if len(first) >= 6 and all(_is_number(t) for t in first) and float(first[0]) > 1e9:
        table = pd.read_csv(p, header=None, encoding="utf-8-sig")
        table.columns = list(_KLINE_NAMES[: table.shape[1]]) + [
            f"extra_{i}" for i in range(max(0, table.shape[1] - len(_KLINE_NAMES)))
        ]
        return _from_table(table, p, symbol)
    try:
        table = pd.read_csv(p, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise _layout_error(
            p, f"it is not a readable UTF-8 CSV ({type(exc).__name__}: {exc})"
        ) from None
    return _from_table(table, p, symbol)


def read_symbols(
    symbols: Iterable[str],
    data_dirs: Sequence[str | os.PathLike[str]],
    *,
    currency: Mapping[str, str] | None = None,
    fx: Mapping[str, pd.Series] | None = None,
    search: FileSearch | None = None,
) -> tuple[dict[str, PriceData], dict[str, FileMatch]]:
    """Find and read each symbol's prices from ``data_dirs``.

    Parameters
    ----------
    symbols : iterable of str
    data_dirs : sequence of path-like
        Folders searched in order (see :func:`~rwafolio.loaders.locate.locate`).
    search : FileSearch, optional
        An earlier :func:`locate` of these symbols in these folders (saves a second scan).
    currency : mapping symbol -> str, optional
        Quote currency of symbols not quoted in the base currency (e.g. ``{"VNQ.L": "GBP"}``).
    fx : mapping currency -> Series, optional
        Base-currency units per unit of that currency, by date; required for every currency named.

    Returns
    -------
    data : dict of symbol -> PriceData
    matches : dict of symbol -> FileMatch
    """
    syms = list(symbols)
    currency = dict(currency or {})
    fx = dict(fx or {})
    unknown = sorted(set(currency) - set(syms))
    if unknown:
        raise ConfigError(f"`currency` names symbols not requested: {unknown}")
    no_fx = sorted({c for c in currency.values() if c not in fx})
    if no_fx:
        raise ConfigError(f"`fx` has no series for currencies {no_fx} named in `currency`")
    matches = (search or locate(syms, data_dirs)).matches
    cache: dict[Path, dict[str, PriceData]] = {}
    out: dict[str, PriceData] = {}
    for sym in syms:
        m = matches[sym]
        if m.path not in cache:
            cache[m.path] = read_file(m.path, symbol=sym if m.column is None else None)
        parts = cache[m.path]
        if m.column is not None:
            data = parts[m.column]
        elif sym in parts:
            data = parts[sym]
        elif len(parts) == 1:
            data = next(iter(parts.values()))
        else:
            keyed = {stem_key(k): v for k, v in parts.items()}
            if stem_key(sym) not in keyed:
                raise DataError(f"{m.path} holds {sorted(parts)}, none of which is {sym!r}")
            data = keyed[stem_key(sym)]
        if data.symbol != sym:
            data = PriceData(sym, data.frame, data.layout, data.path, data.price_field, data.notes)
        if sym in currency:
            data = convert_currency(data, fx[currency[sym]], currency[sym])
        out[sym] = data
    return out, matches


def compare_sources(a: pd.Series, b: pd.Series, *, tol: float = 1e-3) -> pd.DataFrame:
    """Dates where two price series of one symbol disagree on the daily return.

    Parameters
    ----------
    a, b : Series
        Prices of the same symbol from two sources (e.g. two data folders).
    tol : float
        Largest tolerated absolute difference of simple daily returns (``1e-3`` = 10 bp).

    Returns
    -------
    DataFrame with columns ``ret_a``, ``ret_b``, ``diff`` on the common dates where
    ``|ret_a - ret_b| > tol`` (returns computed over the common dates only).
    """
    common = a.index.intersection(b.index)
    ra = a.loc[common].pct_change().iloc[1:]
    rb = b.loc[common].pct_change().iloc[1:]
    diff = (ra - rb).abs()
    bad = diff.to_numpy() > tol
    return pd.DataFrame(
        {"ret_a": ra[bad], "ret_b": rb[bad], "diff": diff[bad]}, index=common[1:][bad]
    ).astype(np.float64)
