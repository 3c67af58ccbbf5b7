"""Traded volume in the quote currency, and the liquidity it implies per asset.

Files and yfinance report volume in different units:

* Yahoo's crypto and stablecoin rows (``XXX-USD``; the layouts ``yahoo_classic``,
  ``yfinance_history``, ``yfinance_download`` and ``yfinance``) already give volume in US dollars.
* Everything else gives units of the asset: shares for an ETF, base coins for an exchange kline
  (Binance's ``volume``). Those are turned into the quote currency with the bar's **unadjusted**
  close (``units x close``): dividends adjust past prices, not the cash that changed hands.

A layout without a volume column gives no volume: the panel holds NaN for that symbol (absent,
never zero). A zero in the file stays a zero (a session with no trade is information).

:func:`liquidity` derives, per asset and from past rows only when given an ``end``:
average daily volume (quote currency), Amihud's illiquidity ratio (mean ``|r| / volume``, per
dollar) and the daily volatility of log returns, each over the asset's own sessions (days its
market was open and the file had a row), so a weekend never dilutes an ETF's figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rwafolio.exceptions import DataError
from rwafolio.loaders.frames import PriceData

#: Layouts whose crypto/stablecoin volume is already in US dollars (Yahoo's convention).
YAHOO_LAYOUTS: frozenset[str] = frozenset(
    {"yahoo_classic", "yfinance_history", "yfinance_download", "yfinance"}
)


def quote_volume(data: PriceData, asset_class: str) -> tuple[pd.Series | None, str]:
    """One symbol's volume in the quote currency, and how it was obtained.

    Parameters
    ----------
    data : PriceData
        The symbol's normalised frame (``volume`` in the file's units, ``close`` unadjusted).
    asset_class : str
        ``"crypto"``, ``"stable"``, ``"rwa"`` or ``"cash"``.

    Returns
    -------
    volume : Series of shape (n_rows,) or None
        Quote-currency volume on the file's own dates; None when the layout has no volume or
        the column is empty.
    rule : str
        ``"quote (Yahoo crypto volume is in USD)"``, ``"units x close"`` or ``"absent"``.
    """
    frame = data.frame
    if "volume" not in frame.columns or not frame["volume"].notna().any():
        return None, "absent"
    units = frame["volume"].astype(float)
    _check_not_negative(data, units, "Volume")
    if asset_class in ("crypto", "stable") and data.layout in YAHOO_LAYOUTS:
        return units.rename(data.symbol), "quote (Yahoo crypto volume is in USD)"
    close = frame["close"] if "close" in frame.columns else data.price
    _check_not_negative(data, close.astype(float)[units.notna()], "Close")
    return (units * close.astype(float)).rename(data.symbol), "units x close"


def _check_not_negative(data: PriceData, values: pd.Series, column: str) -> None:
    """A DataError naming the file, column, first value and date when ``values`` has a
    negative number (a volume, or the close that turns units into the quote currency)."""
    negative = values[values < 0]
    if len(negative):
        when = negative.index[0]
        raise DataError(
            f"{data.symbol} ({data.path or data.layout}): column {column!r} is negative on "
            f"{len(negative)} row(s), first {negative.iloc[0]:g} on {when:%Y-%m-%d}; traded "
            "volume in the quote currency needs volumes and closes >= 0"
        )


def align_volume(volumes: dict[str, pd.Series | None], index: pd.DatetimeIndex) -> pd.DataFrame:
    """Volume per panel date and symbol: the file's row on that date, NaN where there is none.

    Parameters
    ----------
    volumes : mapping symbol -> Series or None
        Quote-currency volume on each file's own dates (None: the layout has no volume).
    index : DatetimeIndex of shape (n_dates,)
        The panel's dates.

    Returns
    -------
    DataFrame of shape (n_dates, n_assets)
        Exact-date matches only: a closed market or a missing row gives NaN, never a carried or
        filled number.
    """
    cols = {}
    for sym, vol in volumes.items():
        if vol is None:
            cols[sym] = pd.Series(np.nan, index=index)
        else:
            cols[sym] = vol[~vol.index.duplicated()].reindex(index)
    return pd.DataFrame(cols, index=index, dtype=float)


@dataclass(frozen=True)
class Liquidity:
    """Liquidity of each asset derived from its own sessions (see :func:`liquidity`).

    Attributes
    ----------
    adv : Series of shape (n_assets,)
        Average daily volume, quote currency (NaN where the panel has no volume).
    amihud : Series of shape (n_assets,)
        Mean of ``|r_t| / volume_t`` over sessions with positive volume, per unit of quote
        currency (e.g. 1e-9 = a $1m day moves the price 0.1%). NaN without volume.
    sigma_daily : Series of shape (n_assets,)
        Standard deviation (ddof=1) of daily log returns over the asset's sessions.
    sessions : Series of int, shape (n_assets,)
        Number of sessions each figure was computed from.
    start, end : Timestamp
        Window of the panel the figures come from.
    """

    adv: pd.Series
    amihud: pd.Series
    sigma_daily: pd.Series
    sessions: pd.Series
    start: pd.Timestamp
    end: pd.Timestamp

    def table(self) -> pd.DataFrame:
        """The figures as one frame, one row per asset."""
        return pd.DataFrame(
            {
                "adv": self.adv,
                "amihud": self.amihud,
                "sigma_daily": self.sigma_daily,
                "sessions": self.sessions,
            }
        )


def liquidity_arrays(
    prices: np.ndarray, volume: np.ndarray, session: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Kernel of :func:`liquidity` on plain arrays.

    Parameters
    ----------
    prices : ndarray of shape (n_dates, n_assets)
        Positive prices (carried on closed days).
    volume : ndarray of shape (n_dates, n_assets)
        Quote-currency volume, NaN where absent.
    session : ndarray of bool, shape (n_dates, n_assets)
        True where the asset's market was open and the data had a row.

    Returns
    -------
    adv, amihud, sigma_daily, sessions : ndarray of shape (n_assets,)
        A return counts when its end date is a session and the previous session's price is its
        start (returns across closed days are one session-to-session return).
    """
    n_assets = prices.shape[1]
    adv = np.full(n_assets, np.nan)
    amihud = np.full(n_assets, np.nan)
    sigma = np.full(n_assets, np.nan)
    count = np.zeros(n_assets, dtype=np.int64)
    for j in range(n_assets):
        rows = np.flatnonzero(session[:, j])
        count[j] = rows.size
        if rows.size >= 3:
            logp = np.log(prices[rows, j])
            sigma[j] = float(np.std(np.diff(logp), ddof=1))
        vol = volume[rows, j]
        if np.isfinite(vol).any():
            adv[j] = float(np.nanmean(vol))
            r = np.abs(np.exp(np.diff(np.log(prices[rows, j]))) - 1.0)
            v_end = vol[1:]
            ok = np.isfinite(v_end) & (v_end > 0)
            if ok.any():
                amihud[j] = float(np.mean(r[ok] / v_end[ok]))
    return adv, amihud, sigma, count


def liquidity(
    prices: pd.DataFrame,
    volume: pd.DataFrame | None,
    tradable: pd.DataFrame,
    *,
    start: object = None,
    end: object = None,
) -> Liquidity:
    """Average daily volume, Amihud ratio and daily volatility per asset, from its own sessions.

    Parameters
    ----------
    prices, tradable : DataFrame of shape (n_dates, n_assets)
        A panel's prices and tradable mask.
    volume : DataFrame of shape (n_dates, n_assets) or None
        Quote-currency volume (NaN where absent); None: the panel has none.
    start, end : date-like, optional
        Window (inclusive). Give ``end`` = the decision date to use the past only.
    """
    p = prices.loc[start:end]  # type: ignore[misc]
    t = tradable.loc[p.index]
    if volume is None:
        v = np.full(p.shape, np.nan)
    else:
        v = volume.loc[p.index].to_numpy(dtype=float)
    adv, amihud, sigma, count = liquidity_arrays(p.to_numpy(dtype=float), v, t.to_numpy(dtype=bool))
    cols = p.columns
    return Liquidity(
        adv=pd.Series(adv, index=cols, name="adv"),
        amihud=pd.Series(amihud, index=cols, name="amihud"),
        sigma_daily=pd.Series(sigma, index=cols, name="sigma_daily"),
        sessions=pd.Series(count, index=cols, name="sessions"),
        start=pd.Timestamp(p.index[0]),
        end=pd.Timestamp(p.index[-1]),
    )
