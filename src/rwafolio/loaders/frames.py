"""The normalised per-symbol price table shared by the file and yfinance loaders.

Every reader turns its input into a :class:`PriceData`: a frame indexed by tz-naive dates with
lower-case columns among ``open, high, low, close, adj_close, volume`` (floats), plus where it came
from and which column is the price. This module also holds the helpers both readers need: date
parsing, splitting yfinance's ``(Price, Ticker)`` MultiIndex, picking the price field and
converting a quote currency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError, LayoutError
from rwafolio.utils.validation import parse_time

#: Canonical column names of a normalised price frame, in order.
COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close", "volume")

#: Column aliases (after lower-casing and collapsing ``_``/spaces) -> canonical column.
ALIASES: dict[str, str] = {
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "last": "close",
    "adj close": "adj_close",
    "adjclose": "adj_close",
    "adjusted close": "adj_close",
    "adj": "adj_close",
    "volume": "volume",
    "vol": "volume",
}

#: Names a date column may carry.
DATE_NAMES: tuple[str, ...] = (
    "date",
    "datetime",
    "time",
    "timestamp",
    "open time",
    "opentime",
    "day",
)

_ISO = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")
_US = re.compile(r"^\s*\d{1,2}/\d{1,2}/\d{4}")


@dataclass(frozen=True)
class PriceData:
    """One symbol's normalised price table and its provenance.

    Attributes
    ----------
    symbol : str
    frame : DataFrame of shape (n_rows, k)
        tz-naive, sorted, unique daily DatetimeIndex named ``date``; float columns among
        :data:`COLUMNS` (prices in the quote currency after any conversion, volume in units).
    layout : str
        Name of the detected layout (see ``files.KNOWN_LAYOUTS``) or ``"yfinance"``.
    path : str or None
        File it was read from, if any.
    price_field : str
        ``"Adj Close"`` when an adjusted close exists, else ``"Close"``.
    notes : tuple of str
        Normalisations applied while reading (reversed descending dates, currency conversion...).
    """

    symbol: str
    frame: pd.DataFrame
    layout: str
    path: str | None = None
    price_field: str = "Close"
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def price(self) -> pd.Series:
        """The chosen price column (adjusted close where present), shape (n_rows,)."""
        col = "adj_close" if self.price_field == "Adj Close" else "close"
        return self.frame[col].rename(self.symbol)


def canonical(name: object) -> str:
    """Lower-case a column name and collapse ``_``, ``-`` and runs of spaces to one space."""
    return re.sub(r"[\s_\-]+", " ", str(name).strip().lower()).strip()


def parse_dates(values: pd.Series | pd.Index, *, what: str = "date column") -> pd.DatetimeIndex:
    """Parse a date column into a tz-naive, midnight-normalised DatetimeIndex.

    Numbers are epoch times (s, ms, us or ns, chosen by magnitude, read as UTC). ``MM/DD/YYYY`` is
    read as US.

    **Offsets.** A timestamp that carries a UTC offset or zone (``2024-01-01T00:00:00+09:00``,
    ``Mon 01 Jan 2024 00:00 +0900``, ``... UTC``, ``... GMT``, a tz-aware index) is dated by the
    calendar day *at its own offset*: the day of the market that stamped it. Both examples are
    2024-01-01 (in UTC that instant is 2023-12-31 15:00; taking the UTC date would put every
    bar stamped at an east-of-Greenwich midnight a day early). yfinance writes exchange-local
    midnight, e.g. ``2020-01-02 00:00:00-05:00``, which is that exchange's 2020-01-02. The rule
    holds row by row, so a column whose offset changes (daylight saving) is read correctly.

    Dates outside :data:`DATE_RANGE` raise ``LayoutError`` (a year 0 or 2999 is a broken file).
    """
    idx = _parse_dates(values, what)
    lo, hi = (pd.Timestamp(t) for t in DATE_RANGE)
    bad = idx[(idx < lo) | (idx > hi)]
    if len(bad):
        raise LayoutError(
            f"the {what} holds {len(bad)} date(s) outside {DATE_RANGE[0]}..{DATE_RANGE[1]}, "
            f"first {bad[0].year:04d}-{bad[0].month:02d}-{bad[0].day:02d}"
        )
    return idx


#: The dates a price file may hold.
DATE_RANGE: tuple[str, str] = ("1800-01-01", "2200-12-31")


def _parse_dates(values: pd.Series | pd.Index, what: str) -> pd.DatetimeIndex:
    """:func:`parse_dates` without the range check."""
    if isinstance(values, pd.DatetimeIndex) or (
        isinstance(values, pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype)
    ):
        idx = pd.DatetimeIndex(values)
        if idx.tz is not None:
            idx = idx.tz_localize(None)
        return idx.normalize()
    s = pd.Series(np.asarray(values))
    if s.empty:
        return pd.DatetimeIndex([])
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return pd.DatetimeIndex(s).normalize()
    if pd.api.types.is_numeric_dtype(s.dtype):
        num = s.to_numpy(dtype=float)
        mag = float(np.nanmax(np.abs(num)))
        unit: Literal["s", "ms", "us", "ns"] = (
            "ns" if mag > 1e17 else "us" if mag > 1e14 else "ms" if mag > 1e11 else "s"
        )
        return pd.DatetimeIndex(pd.to_datetime(num.astype(np.int64), unit=unit)).normalize()
    text = pd.Series(
        [None if pd.isna(v) else str(v).strip() for v in s], dtype=object
    )  # an empty cell stays None (astype(str) would make it the date-like text "nan")
    first = text.iloc[0]
    fixed = (
        ("%Y-%m-%d", text.str.slice(0, 10)) if first is not None and _ISO.match(first)
        else ("%m/%d/%Y", text.str.split(" ").str[0]) if first is not None and _US.match(first)
        else None
    )  # fmt: skip
    if fixed is None:
        return _local_dates(text, what)
    fmt, cut = fixed
    idx = pd.DatetimeIndex(pd.to_datetime(cut, format=fmt, errors="coerce"))
    bad = np.flatnonzero(idx.isna())
    if len(bad):
        raise LayoutError(f"cannot parse the {what}: {_bad_date(text, int(bad[0]), fmt)}")
    return idx.normalize()


def _bad_date(text: pd.Series, i: int, fmt: str = "date") -> str:
    """What is wrong with data row ``i`` (0-based) of a date column, for an error message."""
    value = text.iloc[i]
    if value is None or not str(value).strip():
        return f"data row {i + 1} has an empty date"
    return f"data row {i + 1} holds {value!r}, which is not a {fmt} date"


def _local_dates(text: pd.Series, what: str) -> pd.DatetimeIndex:
    """Free-form date strings, each dated at its own offset (see :func:`parse_dates`)."""
    seen: dict[str, pd.Timestamp] = {}
    out: list[pd.Timestamp] = []
    for i, value in enumerate(text):
        day = seen.get(value)
        if day is None:
            ts = parse_time(value)
            if ts is None:
                raise LayoutError(f"cannot parse the {what}: {_bad_date(text, i)}")
            day = (ts.tz_localize(None) if ts.tz is not None else ts).normalize()
            seen[value] = day
        out.append(day)
    return pd.DatetimeIndex(out)


def finish_frame(
    frame: pd.DataFrame, *, symbol: str, where: str
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Order columns, make them float, reverse descending dates, check dates are unique.

    Returns the frame and the notes describing what was normalised. Raises ``DataError`` when
    dates are duplicated or unordered (neither ascending nor descending).
    """
    notes: list[str] = []
    cols = [c for c in COLUMNS if c in frame.columns]
    out = frame[cols].apply(pd.to_numeric, errors="coerce").astype(float)
    _check_numeric(frame[cols], out, symbol=symbol, where=where)
    out.index.name = "date"
    idx = out.index
    if len(idx) > 1 and idx.is_monotonic_decreasing and not idx.is_monotonic_increasing:
        out = out.iloc[::-1]
        notes.append("descending dates reversed")
    if out.index.has_duplicates:
        dup = out.index[out.index.duplicated()]
        raise DataError(
            f"{symbol} ({where}): dates must be unique, got {len(dup)} duplicated, first "
            f"{dup[0]:%Y-%m-%d} (intraday rows must be resampled to daily first)"
        )
    if not out.index.is_monotonic_increasing:
        raise DataError(f"{symbol} ({where}): dates must be sorted (ascending or descending)")
    return out, tuple(notes)


#: Cell texts read as "no value" (Yahoo's classic downloads write ``null``); any other text in a
#: price or volume column is an error, never a silent NaN.
MISSING_TOKENS: frozenset[str] = frozenset({"", "null", "nan", "none", "na", "n/a", "-", "#n/a"})


def _check_numeric(raw: pd.DataFrame, parsed: pd.DataFrame, *, symbol: str, where: str) -> None:
    """Raise ``DataError`` when a cell holds text that is neither a number nor a missing token."""
    for col in raw.columns:
        lost = raw[col].notna().to_numpy() & parsed[col].isna().to_numpy()
        if not lost.any():
            continue
        texts = raw[col][lost].astype(str).str.strip()
        bad = texts[~texts.str.lower().isin(MISSING_TOKENS)]
        if bad.empty:
            continue
        value, when = bad.iloc[0], bad.index[0]
        when = f"{when:%Y-%m-%d}" if isinstance(when, pd.Timestamp) else str(when)
        hint = (
            " (a decimal comma? numbers must use '.' as the decimal mark)"
            if re.fullmatch(r"[+-]?\d+(\.\d{3})*,\d+", value)
            else ""
        )
        raise DataError(
            f"{symbol} ({where}): column {col!r} holds {len(bad)} value(s) that are not numbers, "
            f"first {value!r} on {when}{hint}"
        )


def choose_price_field(frame: pd.DataFrame) -> str:
    """``"Adj Close"`` when the frame has a usable adjusted close, else ``"Close"``."""
    if "adj_close" in frame.columns and frame["adj_close"].notna().any():
        return "Adj Close"
    if "close" not in frame.columns:
        raise DataError("a price frame needs a `close` or `adj_close` column")
    return "Close"


def rename_columns(columns: pd.Index) -> dict[str, str]:
    """Map original column labels to canonical ones (unknown labels are left out)."""
    mapping: dict[str, str] = {}
    for c in columns:
        key = canonical(c)
        if key in ALIASES and ALIASES[key] not in mapping.values():
            mapping[c] = ALIASES[key]
    return mapping


def split_yf_multiindex(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Split a yfinance ``download()`` frame with MultiIndex columns into one frame per ticker.

    Accepts ``(Price, Ticker)`` (yfinance >= 0.2.48 default) and ``(Ticker, Price)``
    (``group_by="ticker"``). Returns ``{ticker: frame with canonical columns}``; index untouched.
    """
    if not isinstance(raw.columns, pd.MultiIndex) or raw.columns.nlevels != 2:
        raise LayoutError("expected yfinance MultiIndex columns (Price, Ticker)")
    price_names = set(ALIASES) | {"price", "dividends", "stock splits", "capital gains"}
    lv0 = {canonical(v) for v in raw.columns.get_level_values(0)}
    price_level = 0 if len(lv0 & price_names) >= len(lv0) / 2 else 1
    ticker_level = 1 - price_level
    out: dict[str, pd.DataFrame] = {}
    for ticker in dict.fromkeys(raw.columns.get_level_values(ticker_level)):
        sub = pd.DataFrame(raw.xs(ticker, level=ticker_level, axis=1))
        sub = sub.loc[:, ~sub.columns.duplicated()]
        out[str(ticker)] = sub.rename(columns=rename_columns(sub.columns))
    return out


def convert_currency(data: PriceData, fx: pd.Series, currency: str) -> PriceData:
    """Convert prices quoted in ``currency`` into the base currency with an FX series.

    Parameters
    ----------
    data : PriceData
        Prices quoted in ``currency`` (volume is left in units).
    fx : Series
        Base-currency units per one unit of ``currency`` (e.g. USD per EUR), indexed by date. Each
        price row uses the last FX value published at or before its date (no look-ahead).
    currency : str
        ISO code of the quote currency, recorded in ``notes``.

    Raises
    ------
    DataError
        When ``fx`` is not positive and finite, or starts after the first price date.
    """
    if not isinstance(fx, pd.Series) or fx.empty:
        raise DataError(f"`fx` for {currency} must be a non-empty Series, got {type(fx).__name__}")
    fx_idx = parse_dates(fx.index, what="fx index")
    fx_val = fx.to_numpy(dtype=float)
    order = np.argsort(fx_idx.to_numpy(), kind="stable")
    fx_idx, fx_val = fx_idx[order], fx_val[order]
    if not np.all(np.isfinite(fx_val)) or np.any(fx_val <= 0):
        raise DataError(f"`fx` for {currency} must be positive and finite")
    pos = fx_idx.searchsorted(data.frame.index, side="right") - 1
    if np.any(pos < 0):
        raise DataError(
            f"`fx` for {currency} starts {fx_idx[0]:%Y-%m-%d}, after {data.symbol}'s first "
            f"price {data.frame.index[0]:%Y-%m-%d}"
        )
    rate = fx_val[pos]
    frame = data.frame.copy()
    for c in ("open", "high", "low", "close", "adj_close"):
        if c in frame.columns:
            frame[c] = frame[c].to_numpy(dtype=float) * rate
    note = f"converted from {currency} with the given FX series (last rate at or before each date)"
    return replace(data, frame=frame, notes=(*data.notes, note))


def as_date(value: object, name: str = "date") -> pd.Timestamp:
    """A date-like value as a tz-naive midnight Timestamp; ``ConfigError`` naming ``name``."""
    try:
        ts = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"`{name}` must be a date, got {value!r}") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise ConfigError(f"`{name}` must be a date, got {value!r}")
    if ts.tz is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()
