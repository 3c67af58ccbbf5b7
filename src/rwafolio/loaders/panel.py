"""The validated price panel every loader returns and every later module consumes.

A :class:`Panel` is prices on one calendar (date x symbol), a boolean ``tradable`` mask of the same
shape (False where an asset's market is closed, so no trade may happen and its price is carried),
the volatility index aligned to the same dates, and the provenance of all of it: source, calendar
policy, the price field used per symbol, cleaning findings. It is immutable; its frames are
read-only copies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from rwafolio.exceptions import DataError
from rwafolio.loaders.volume import Liquidity, liquidity
from rwafolio.universe import Universe

CalendarPolicy = Literal["all_days", "exchange_days"]
CALENDAR_POLICIES: tuple[str, ...] = get_args(CalendarPolicy)

#: Periods per year used to annualize, by calendar policy.
PERIODS_PER_YEAR: Mapping[str, int] = {"all_days": 365, "exchange_days": 252}


@dataclass(frozen=True)
class Finding:
    """One thing the loaders noticed (it changes nothing unless a repair policy says so).

    ``severe`` marks what can move results or means an input was not read as the user expects:
    a jump or bad print of more than 50x the robust scale, a price column that cuts history, a
    skipped or unreadable file, a stale cache. The CLI prints every severe finding on stderr.
    """

    symbol: str
    kind: str  # "jump", "stale", "peg_break", "gap", "suspect_last_row", "nonpositive", ...
    date: pd.Timestamp | None
    detail: str
    repaired: bool = False
    severe: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "kind": self.kind,
            "date": None if self.date is None else self.date.strftime("%Y-%m-%d"),
            "detail": self.detail,
            "repaired": self.repaired,
            "severe": self.severe,
        }

    def line(self) -> str:
        """One line for a terminal: symbol, kind, date and detail."""
        when = "" if self.date is None else f" {self.date:%Y-%m-%d}"
        return f"{self.symbol} {self.kind}{when}: {self.detail}"


def _check_returns(prices: pd.DataFrame, values: np.ndarray) -> None:
    """Refuse a move no book can follow: a return that rounds to -100% (the book is worth 0)
    or overflows (a price ratio beyond float range); one error naming symbol and dates."""
    with np.errstate(over="ignore"):
        r = values[1:] / values[:-1] - 1.0
    bad = ~(np.isfinite(r) & (r > -1.0))
    if bad.any():
        t, j = (int(x[0]) for x in np.nonzero(bad))
        when = prices.index
        raise DataError(
            f"{prices.columns[j]}: the price moves from {values[t, j]:.6g} on {when[t]:%Y-%m-%d} "
            f"to {values[t + 1, j]:.6g} on {when[t + 1]:%Y-%m-%d}, a return that rounds to -100% "
            "or overflows: no book can follow it (fix the row, or --clean repair|drop)"
        )


@dataclass(frozen=True)
class Panel:
    """Prices on one calendar, what could trade when, and the volatility index.

    Attributes
    ----------
    prices : DataFrame of shape (n_dates, n_assets)
        Positive finite prices, tz-naive daily DatetimeIndex (sorted, unique), columns in the
        universe's order. On a date where an asset's market is closed its last price is carried.
    tradable : DataFrame of bool, same shape
        True where the asset's market was open (a trade may happen at that date's price).
    universe : Universe
    policy : {"all_days", "exchange_days"}
        ``all_days``: every calendar day; exchange assets are not tradable on closed days, their
        price carried (return zero). ``exchange_days``: NYSE sessions only; crypto prices are
        sampled on those days, so their returns compound across the closed days.
    periods_per_year : int
        365 for ``all_days``, 252 for ``exchange_days``; used for every annualization.
    vix : Series or None
        Volatility index level in annualized percent (VIX units), aligned to ``prices.index``;
        values on days the index was not published are the last published level (known at that
        date, so no look-ahead).
    vix_source : str
        ``"none"``, ``"^VIX (yfinance)"``, ``"file:<path>"``, ``"realized:<SYMBOL>"``, ``"synthetic"``.
    source : str
        ``"synthetic"``, ``"files"`` or ``"yfinance"``.
    price_fields : mapping symbol -> str
        Which price column was used (``"Adj Close"`` or ``"Close"``).
    findings : tuple of Finding
        What the cleaning pass found.
    meta : mapping
        Anything else that identifies the data (seed of the synthetic generator, file paths, ...).
    volume : DataFrame of shape (n_dates, n_assets) or None
        Traded volume in the quote currency (see :mod:`rwafolio.loaders.volume`) on the dates the
        data had a row; NaN where it has none or its layout carries no volume (absent, never
        zero). None when no symbol has volume.
    volume_rules : mapping symbol -> str
        How each symbol's volume was put in the quote currency (``"absent"`` without volume).
    """

    prices: pd.DataFrame
    tradable: pd.DataFrame
    universe: Universe
    policy: CalendarPolicy
    vix: pd.Series | None = None
    vix_source: str = "none"
    source: str = "unknown"
    price_fields: Mapping[str, str] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    volume: pd.DataFrame | None = None
    volume_rules: Mapping[str, str] = field(default_factory=dict)
    bar: str = "1d"

    def __post_init__(self) -> None:
        prices, tradable = self.prices, self.tradable
        if self.policy not in CALENDAR_POLICIES:
            raise DataError(f"`policy` must be one of {CALENDAR_POLICIES}, got {self.policy!r}")
        if not isinstance(prices, pd.DataFrame) or not isinstance(prices.index, pd.DatetimeIndex):
            raise DataError("`prices` must be a DataFrame with a DatetimeIndex")
        if self.bar not in ("1d", "1h"):
            raise DataError(f"`bar` must be '1d' or '1h', got {self.bar!r}")
        if prices.index.tz is not None:
            raise DataError("`prices` index must be tz-naive dates")
        if len(prices) < 2:
            raise DataError(f"`prices` must have at least 2 rows, got {len(prices)}")
        if not prices.index.is_monotonic_increasing or prices.index.has_duplicates:
            raise DataError("`prices` index must be sorted and unique")
        if list(prices.columns) != self.universe.symbols:
            raise DataError(
                f"`prices` columns {list(prices.columns)} must equal the universe's symbols "
                f"{self.universe.symbols}"
            )
        values = prices.to_numpy(dtype=float)
        if not np.all(np.isfinite(values)) or np.any(values <= 0):
            bad = prices.columns[~np.all(np.isfinite(values) & (values > 0), axis=0)].tolist()
            raise DataError(f"`prices` must be positive and finite; offending columns: {bad}")
        _check_returns(prices, values)
        if not tradable.index.equals(prices.index) or list(tradable.columns) != list(
            prices.columns
        ):
            raise DataError("`tradable` must have the same index and columns as `prices`")
        if not all(pd.api.types.is_bool_dtype(d) for d in tradable.dtypes):
            raise DataError("`tradable` must be boolean")
        if self.vix is not None:
            if not self.vix.index.equals(prices.index):
                raise DataError("`vix` must be aligned to `prices.index`")
            v = self.vix.to_numpy(dtype=float)
            if not np.all(np.isfinite(v)) or np.any(v < 0):
                raise DataError("`vix` must be finite and non-negative on every date")
        if self.volume is not None:
            vol = self.volume
            if not vol.index.equals(prices.index) or list(vol.columns) != list(prices.columns):
                raise DataError("`volume` must have the same index and columns as `prices`")
            vv = vol.to_numpy(dtype=float)
            if np.any(np.isinf(vv)) or np.any(vv[np.isfinite(vv)] < 0):
                raise DataError("`volume` must be non-negative where present (NaN: absent)")
            object.__setattr__(self, "volume", vol.astype(float).copy())
        # Freeze: copies the caller cannot mutate through us.
        object.__setattr__(self, "prices", prices.astype(float).copy())
        object.__setattr__(self, "tradable", tradable.astype(bool).copy())
        if self.vix is not None:
            object.__setattr__(self, "vix", self.vix.astype(float).rename("vix").copy())

    @property
    def periods_per_year(self) -> int:
        """Bars per year: 365 or 252 daily (by policy); hourly, 24 x 365 (the 24/7 grid)."""
        if self.bar == "1h":
            return 24 * 365
        return PERIODS_PER_YEAR[self.policy]

    @property
    def symbols(self) -> list[str]:
        return self.universe.symbols

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.prices.index)

    @property
    def synthetic(self) -> bool:
        return self.source == "synthetic"

    def returns(self) -> pd.DataFrame:
        """Simple returns per period, shape (n_dates - 1, n_assets); row t is from t-1 to t."""
        p = self.prices.to_numpy(dtype=float)
        r = p[1:] / p[:-1] - 1.0
        return pd.DataFrame(r, index=self.prices.index[1:], columns=self.prices.columns)

    def slice(self, start: object = None, end: object = None) -> Panel:
        """Sub-panel between two dates (inclusive)."""
        sel = self.prices.loc[start:end].index  # type: ignore[misc]
        if len(sel) < 2:
            raise DataError(f"slice {start}..{end} leaves {len(sel)} dates; need at least 2")
        return Panel(
            prices=self.prices.loc[sel],
            tradable=self.tradable.loc[sel],
            universe=self.universe,
            policy=self.policy,
            vix=None if self.vix is None else self.vix.loc[sel],
            vix_source=self.vix_source,
            source=self.source,
            price_fields=dict(self.price_fields),
            findings=self.findings,
            meta=dict(self.meta),
            volume=None if self.volume is None else self.volume.loc[sel],
            volume_rules=dict(self.volume_rules),
            bar=self.bar,
        )

    def liquidity(self, start: object = None, end: object = None) -> Liquidity:
        """Average daily volume, Amihud ratio and daily volatility per asset (own sessions).

        See :func:`rwafolio.loaders.volume.liquidity`; give ``end`` to use the past only.
        """
        return liquidity(self.prices, self.volume, self.tradable, start=start, end=end)

    def summary(self) -> pd.DataFrame:
        """Per symbol: its own first and last date in the source (``own_first``, ``own_last``),
        the aligned panel's range (``first``, ``last``), rows, tradable days, price field and
        findings."""
        coverage = self.meta.get("coverage", {})
        rows = []
        for s in self.symbols:
            own = coverage.get(s, ("", ""))
            col = self.tradable[s]
            kinds = sorted({f.kind for f in self.findings if f.symbol == s})
            rows.append(
                {
                    "symbol": s,
                    "class": self.universe[s].asset_class,
                    "own_first": own[0] or "?",
                    "own_last": own[1] or "?",
                    "first": self.prices.index[0].strftime("%Y-%m-%d"),
                    "last": self.prices.index[-1].strftime("%Y-%m-%d"),
                    "rows": len(col),
                    "tradable_days": int(col.sum()),
                    "price_field": self.price_fields.get(s, "?"),
                    "findings": ", ".join(
                        f"{k} x{sum(1 for f in self.findings if f.symbol == s and f.kind == k)}"
                        for k in kinds
                    )
                    or "none",
                }
            )
        return pd.DataFrame(rows).set_index("symbol")
