"""Calendar policies: put every symbol's prices on one date index and say what could trade.

Two policies (the panel records which one built it; annualization follows it):

``"all_days"`` (365 periods a year)
    Every calendar day from start to end. 24/7 assets are tradable every day. Exchange assets
    (``calendar="XNYS"``) are tradable on NYSE sessions only; on the other days their last price is
    carried (so their return is zero) and ``tradable`` is False.
``"exchange_days"`` (252 periods a year)
    NYSE sessions only. 24/7 assets are sampled at those dates, so their returns compound across
    the closed days (Friday to Monday is one return).

NYSE sessions come from ``exchange_calendars`` (XNYS: weekends, holidays and special closures
such as 2001-09-11..14, 2012-10-29/30, 2018-12-05, 2025-01-09).

**A closed market is not a missing data day.** A missing day is a date on which the asset's
market was open (every day for 24/7 assets, a session for XNYS ones), that lies in the panel, and
for which the data has no row (or the row was invalid or removed by a repair). Each one is a
``gap`` finding and the declared ``missing`` policy decides what happens:

``"raise"`` (default)
    ``DataError`` listing the gaps. Nothing is filled silently.
``"ffill"``
    The last price is carried and the asset is marked not tradable that day (zero return, no
    trade), like a closed market; the gap findings are ``repaired=True``.
``"drop"``
    The date is removed from the panel for every asset (24/7 assets' returns then span it);
    the gap findings are ``repaired=True``.

Rows a file holds on days its market was closed (e.g. an ETF row on a holiday) are ignored and
reported as ``off_calendar``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.loaders.frames import as_date
from rwafolio.loaders.panel import CALENDAR_POLICIES, CalendarPolicy, Finding
from rwafolio.universe import Universe

MissingPolicy = Literal["raise", "ffill", "drop"]
MISSING_POLICIES: tuple[str, ...] = get_args(MissingPolicy)

_CAL_START, _CAL_END = "1980-01-01", "2035-12-31"
#: The dates the NYSE calendar covers (first, last), as ISO strings.
CALENDAR_SPAN: tuple[str, str] = (_CAL_START, _CAL_END)


@lru_cache(maxsize=1)
def _xnys() -> Any:
    import warnings

    import exchange_calendars as xcals

    with warnings.catch_warnings():  # pandas deprecation noise from inside exchange_calendars
        warnings.simplefilter("ignore")
        return xcals.get_calendar("XNYS", start=_CAL_START, end=_CAL_END)


def nyse_sessions(start: object, end: object) -> pd.DatetimeIndex:
    """NYSE sessions between two dates, inclusive, as a tz-naive DatetimeIndex.

    Raises
    ------
    DataError
        The range leaves the calendar's span (1980-01-01 .. 2035-12-31).
    """
    s, e = as_date(start, "start"), as_date(end, "end")
    if s < pd.Timestamp(_CAL_START) or e > pd.Timestamp(_CAL_END):
        raise DataError(
            f"dates {s:%Y-%m-%d}..{e:%Y-%m-%d} leave the NYSE calendar span "
            f"{_CAL_START}..{_CAL_END}"
        )
    sessions = _xnys().sessions
    lo, hi = sessions.searchsorted(s), sessions.searchsorted(e, side="right")
    out = pd.DatetimeIndex(np.asarray(sessions[lo:hi], dtype="datetime64[ns]"))
    return out


def open_days(calendar: str, start: object, end: object) -> pd.DatetimeIndex:
    """Days a market with this trading calendar (``"24/7"`` or ``"XNYS"``) is open."""
    if calendar == "24/7":
        return pd.date_range(as_date(start, "start"), as_date(end, "end"), freq="D")
    if calendar == "XNYS":
        return nyse_sessions(start, end)
    raise ConfigError(f"`calendar` must be '24/7' or 'XNYS', got {calendar!r}")


def panel_index(policy: str, start: object, end: object) -> pd.DatetimeIndex:
    """The panel's dates under a calendar policy."""
    if policy == "all_days":
        return open_days("24/7", start, end)
    if policy == "exchange_days":
        return nyse_sessions(start, end)
    raise ConfigError(f"`policy` must be one of {CALENDAR_POLICIES}, got {policy!r}")


def asof_positions(dates: pd.DatetimeIndex, index: pd.DatetimeIndex) -> np.ndarray:
    """For each date of ``index`` the position of the last of ``dates`` at or before it (-1: none)."""
    return np.asarray(dates.searchsorted(index, side="right"), dtype=np.int64) - 1


def align(
    series_by_symbol: Mapping[str, pd.Series],
    universe: Universe,
    policy: CalendarPolicy = "all_days",
    start: object = None,
    end: object = None,
    missing: MissingPolicy = "raise",
    carry: Mapping[str, pd.DatetimeIndex] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[Finding, ...]]:
    """Put each symbol's prices on the policy's calendar and build the tradable mask.

    Parameters
    ----------
    series_by_symbol : mapping symbol -> Series
        Positive finite prices on a tz-naive, sorted, unique DatetimeIndex; one per symbol of
        ``universe`` (rows before ``start`` are used to carry a price into the first dates).
    universe : Universe
        Gives each symbol's trading calendar (``"24/7"`` or ``"XNYS"``) and the column order.
    policy : {"all_days", "exchange_days"}
        See the module docstring.
    start, end : date-like, optional
        Inclusive range. Defaults: the latest first date and the earliest last date over the
        series, so every asset has data over the whole panel.
    missing : {"raise", "ffill", "drop"}
        What to do with missing data days (see the module docstring). Default ``"raise"``.
    carry : mapping symbol -> DatetimeIndex, optional
        Dates whose rows a cleaning repair removed (a bad print): the previous price is carried
        and the asset is not tradable there, whatever ``missing`` says; they are not gaps (the
        repair's own finding reports them).

    Returns
    -------
    prices : DataFrame of shape (n_dates, n_assets)
    tradable : DataFrame of bool, same shape
    findings : tuple of Finding
        ``gap`` (one per missing asset-day) and ``off_calendar`` findings.

    Raises
    ------
    DataError
        A symbol has no price at or before the panel's first date, or its data ends before its
        market's last open day in the panel (trailing gaps are never filled, whatever
        ``missing`` says); or interior gaps exist and ``missing="raise"``.
    ConfigError
        Bad ``policy``/``missing``, or ``series_by_symbol`` does not match the universe.
    """
    symbols = universe.symbols
    _check_arguments(series_by_symbol, symbols, policy, missing)
    clean = _validated_series(series_by_symbol, symbols)
    t0, t1, index = _panel_dates(clean, policy, start, end)
    n, m = len(index), len(symbols)
    prices = np.empty((n, m))
    tradable = np.zeros((n, m), dtype=bool)
    gap = np.zeros((n, m), dtype=bool)
    findings: list[Finding] = []
    for j, sym in enumerate(symbols):
        carried = (carry or {}).get(sym, pd.DatetimeIndex([]))
        prices[:, j], tradable[:, j], gap[:, j], found = _place_symbol(
            sym, clean[sym], universe[sym].calendar, index, t0, t1, carried
        )
        findings.extend(found)
    findings = _handle_gaps(findings, int(gap.sum()), missing)
    keep = np.asarray(~gap.any(axis=1), dtype=bool) if missing == "drop" else np.ones(n, dtype=bool)
    if keep.sum() < 2:
        raise DataError(f"the panel {t0:%Y-%m-%d}..{t1:%Y-%m-%d} has fewer than 2 dates left")
    idx = index[np.flatnonzero(keep)]
    idx.name = "date"
    prices_df = pd.DataFrame(prices[keep], index=idx, columns=list(symbols))
    tradable_df = pd.DataFrame(tradable[keep], index=idx, columns=list(symbols))
    return prices_df, tradable_df, tuple(findings)


def _check_arguments(
    series_by_symbol: Mapping[str, pd.Series],
    symbols: Sequence[str],
    policy: str,
    missing: str,
) -> None:
    """Raise ``ConfigError`` for an unknown policy or keys that do not match the universe."""
    if policy not in CALENDAR_POLICIES:
        raise ConfigError(f"`policy` must be one of {CALENDAR_POLICIES}, got {policy!r}")
    if missing not in MISSING_POLICIES:
        raise ConfigError(f"`missing` must be one of {MISSING_POLICIES}, got {missing!r}")
    if set(series_by_symbol) != set(symbols):
        raise ConfigError(
            f"`series_by_symbol` keys {sorted(series_by_symbol)} must equal the universe's "
            f"symbols {sorted(symbols)}"
        )


def _validated_series(
    series_by_symbol: Mapping[str, pd.Series], symbols: Sequence[str]
) -> dict[str, pd.Series]:
    """Each symbol's series as float, after checking its index and values (``DataError``)."""
    clean: dict[str, pd.Series] = {}
    for sym in symbols:
        s = series_by_symbol[sym]
        if not isinstance(s, pd.Series) or not isinstance(s.index, pd.DatetimeIndex):
            raise DataError(f"series of {sym} must be a Series with a DatetimeIndex")
        if len(s) == 0:
            raise DataError(f"series of {sym} is empty")
        if s.index.tz is not None or not s.index.is_monotonic_increasing or s.index.has_duplicates:
            raise DataError(f"series of {sym} must have tz-naive, sorted, unique dates")
        v = s.to_numpy(dtype=float)
        if not np.all(np.isfinite(v) & (v > 0)):
            raise DataError(f"series of {sym} must be positive and finite (clean it first)")
        clean[sym] = s.astype(float)
    return clean


def _panel_dates(
    clean: Mapping[str, pd.Series], policy: str, start: object, end: object
) -> tuple[pd.Timestamp, pd.Timestamp, pd.DatetimeIndex]:
    """``(t0, t1, index)``: the inclusive range (default: the common data range) and its dates."""
    first = max(s.index[0] for s in clean.values())
    last = min(s.index[-1] for s in clean.values())
    t0 = as_date(start, "start") if start is not None else first
    t1 = as_date(end, "end") if end is not None else last
    if t1 < t0:
        raise DataError(
            f"`end` {t1:%Y-%m-%d} is before `start` {t0:%Y-%m-%d} "
            f"(common data range {first:%Y-%m-%d}..{last:%Y-%m-%d})"
        )
    index = panel_index(policy, t0, t1)
    if len(index) == 0:
        raise DataError(f"no {policy} dates between {t0:%Y-%m-%d} and {t1:%Y-%m-%d}")
    return t0, t1, index


def _place_symbol(
    sym: str,
    s: pd.Series,
    calendar: str,
    index: pd.DatetimeIndex,
    t0: pd.Timestamp,
    t1: pd.Timestamp,
    carried_dates: pd.DatetimeIndex,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Finding]]:
    """One symbol's column on ``index``.

    Returns
    -------
    prices : ndarray of shape (n_dates,)
        The as-of price at each date (the last row at or before it).
    tradable, gap : ndarray of bool, shape (n_dates,)
        Market open with a row; market open with no row and not a repaired (carried) date.
    findings : list of Finding
        ``off_calendar`` findings, then one ``gap`` finding per missing day.
    """
    days = open_days(calendar, t0, t1)
    dates = pd.DatetimeIndex(s.index)
    in_range = dates[(dates >= t0) & (dates <= t1)]
    findings = [
        Finding(sym, "off_calendar", d, f"row on a day the {calendar} market was closed; ignored")
        for d in in_range.difference(days)
    ]
    dates_on = dates[~dates.isin(in_range.difference(days))]
    values = s.to_numpy(dtype=float)[dates.isin(dates_on)]
    pos = asof_positions(dates_on, index)
    if pos[0] < 0:
        opened = f"{dates_on[0]:%Y-%m-%d}" if len(dates_on) else "none"
        raise DataError(
            f"{sym}: no price at or before the panel's first date {index[0]:%Y-%m-%d} (data "
            f"starts {dates[0]:%Y-%m-%d}; first row on a day its {calendar} market "
            f"was open: {opened}); pass a later `start`"
        )
    open_in_panel = days[days.isin(index)]
    if len(open_in_panel) and dates_on[-1] < open_in_panel[-1]:
        raise DataError(
            f"{sym}: data ends {dates_on[-1]:%Y-%m-%d}, before its market's last open day in "
            f"the panel {open_in_panel[-1]:%Y-%m-%d}; pass an earlier `end` (a trailing gap "
            "is never filled)"
        )
    is_open = index.isin(days)
    has_row = index.isin(dates_on)
    gap = is_open & ~has_row & ~index.isin(carried_dates)
    findings.extend(
        Finding(sym, "gap", index[int(i)], f"market open ({calendar}) but no data row")
        for i in np.flatnonzero(gap)
    )
    return values[pos], is_open & has_row, gap, findings


def _handle_gaps(findings: list[Finding], n_gaps: int, missing: str) -> list[Finding]:
    """Apply the ``missing`` policy to the gap findings: raise, or mark them repaired."""
    if n_gaps and missing == "raise":
        listed = ", ".join(
            f"{f.symbol} {f.date:%Y-%m-%d}"
            for f in findings
            if f.kind == "gap" and f.date is not None
        )[:400]
        raise DataError(
            f"{n_gaps} missing data day(s) (market open, no row): {listed}. Choose a declared "
            "policy: missing='ffill' (carry price, not tradable) or missing='drop' (remove dates); "
            "CLI: --missing ffill|drop"
        )
    if not n_gaps:
        return findings
    action = "price carried, not tradable" if missing == "ffill" else "date dropped from the panel"
    return [
        Finding(f.symbol, f.kind, f.date, f"{f.detail}; {action}", True) if f.kind == "gap" else f
        for f in findings
    ]
