"""The volatility index behind lambda_t: CBOE VIX, a crypto implied-vol index, or a proxy.

Spec strings (as the CLI's ``--vix`` passes them):

``"none"``
    No index.
``"^VIX"``
    CBOE VIX through yfinance (the yahoo module, with its cache); recorded ``"^VIX (yfinance)"``.
a file path (optionally prefixed ``file:``)
    Any layout the files loader reads: CBOE's ``DATE,OPEN,HIGH,LOW,CLOSE`` history, or a crypto
    implied-vol index such as Deribit's DVOL saved as ``date,close``. The close is used; recorded
    ``"file:<path>"``.
``"realized:SYMBOL"``
    Realized volatility of a panel symbol in VIX units: the sample std of its last ``window``
    (default 30) daily log returns, times sqrt(365) for a 24/7 asset or sqrt(252) for an exchange
    asset, times 100. Computed on the symbol's own rows (its open days, including history before
    the panel's start) and known at each close: only past and current data.
``"synthetic"``
    The synthetic generator's own index (synthetic source only).

Alignment: the value on each panel date is the last level published at or before it (carried over
weekends and holidays, never taken from the future). **Leading dates** before the first available
value are trimmed from the panel (the panel then starts at the first date the index is known; the
number of dates removed is recorded in ``Panel.meta["vix_trimmed"]``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.loaders.calendar import asof_positions
from rwafolio.loaders.frames import as_date

SPEC_FORMS = '"none", "^VIX", a file path (or "file:<path>"), "realized:SYMBOL"'


def parse_spec(spec: str | None) -> tuple[str, str]:
    """Split a ``--vix`` spec into ``(kind, argument)``; kind in none/yahoo/file/realized/synthetic.

    Raises
    ------
    ConfigError
        The spec is none of the known forms (the message lists them).
    """
    if spec is None or str(spec).strip().lower() in ("", "none"):
        return "none", ""
    text = str(spec).strip()
    low = text.lower()
    if low in ("^vix", "vix"):
        return "yahoo", "^VIX"
    if low == "synthetic":
        return "synthetic", ""
    if low.startswith("realized:"):
        sym = text.split(":", 1)[1].strip()
        if not sym:
            raise ConfigError(f"`vix` spec {spec!r} needs a symbol after 'realized:'")
        return "realized", sym
    path = text[5:] if low.startswith("file:") else text
    if Path(path).expanduser().is_file():
        return "file", str(Path(path).expanduser())
    if Path(path).expanduser().exists():
        raise ConfigError(f"`vix` {spec!r} exists but is not a regular file (not read)")
    raise ConfigError(f"`vix` must be one of {SPEC_FORMS}; {spec!r} is none of them (no such file)")


def realized_vol_index(
    prices: pd.Series, *, window: int = 30, periods_per_year: int = 365
) -> pd.Series:
    """Realized volatility in VIX units (annualized percent) from one price series.

    Parameters
    ----------
    prices : Series of shape (n,)
        Positive prices on the asset's own open days.
    window : int
        Number of log returns in each standard deviation (ddof=1).
    periods_per_year : int
        365 for a 24/7 asset, 252 for an exchange asset.

    Returns
    -------
    Series of shape (n - window,)
        ``100 * sqrt(periods_per_year) * std(log returns t-window+1..t)``, dated t (first ``window``
        dates dropped).
    """
    if window < 2:
        raise ConfigError(f"`window` must be >= 2, got {window}")
    logp = np.log(prices.to_numpy(dtype=float))
    r = pd.Series(np.diff(logp), index=prices.index[1:])
    vol = r.rolling(window).std(ddof=1) * np.sqrt(periods_per_year) * 100.0
    return vol.dropna().rename("vix")


def read_vix_file(path: str | os.PathLike[str]) -> pd.Series:
    """The close of a volatility-index file (any layout the files loader knows)."""
    from rwafolio.loaders.files import read_file

    parts = read_file(path)
    if len(parts) != 1:
        raise DataError(f"`vix` file {path} holds {len(parts)} series {sorted(parts)}; need one")
    data = next(iter(parts.values()))
    close = data.frame["close"] if "close" in data.frame.columns else data.price
    close = close.dropna()
    if close.empty or not np.all(np.isfinite(close.to_numpy())) or (close < 0).any():
        raise DataError(f"`vix` file {path} must hold finite non-negative levels")
    return close.rename("vix")


def fetch_vix(
    spec: str,
    *,
    start: object,
    end: object,
    cache_dir: str | os.PathLike[str] | None = None,
    downloader: Callable[..., pd.DataFrame] | None = None,
    realized_source: Callable[[str], tuple[pd.Series, int]] | None = None,
    window: int = 30,
) -> tuple[pd.Series | None, str]:
    """Raw index levels for a spec and the label recorded in ``Panel.vix_source``.

    ``realized_source(symbol) -> (prices on its open days, periods_per_year)`` supplies the
    series for ``realized:SYMBOL``. The yfinance fetch starts 10 days before ``start`` so the
    first panel date has a level to carry.
    """
    kind, arg = parse_spec(spec)
    if kind == "none":
        return None, "none"
    if kind == "file":
        return read_vix_file(arg), f"file:{arg}"
    if kind == "realized":
        if realized_source is None:
            raise ConfigError("`vix='realized:...'` needs the panel's prices")
        series, ppy = realized_source(arg)
        return realized_vol_index(series, window=window, periods_per_year=ppy), f"realized:{arg}"
    if kind == "yahoo":
        from rwafolio.loaders.yahoo import download

        t0 = as_date(start, "start") - pd.Timedelta(days=10) if start is not None else None
        res = download([arg], t0, end, cache_dir=cache_dir, downloader=downloader)
        frame = res.data[arg].frame
        return frame["close"].dropna().rename("vix"), "^VIX (yfinance)"
    raise ConfigError(f"`vix` spec {spec!r} ({kind}) is only available from the synthetic source")


def align_vix(vix: pd.Series, index: pd.DatetimeIndex) -> pd.Series:
    """Last published level at or before each date of ``index`` (NaN before the first one)."""
    dates = pd.DatetimeIndex(vix.index)
    order = np.argsort(dates.to_numpy(), kind="stable")
    dates, values = dates[order], vix.to_numpy(dtype=float)[order]
    pos = asof_positions(dates, index)
    out = np.where(pos >= 0, values[np.maximum(pos, 0)], np.nan)
    return pd.Series(out, index=index, name="vix")
