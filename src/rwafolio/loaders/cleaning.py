"""Validate price tables and detect suspicious points; repair only when asked.

:func:`detect` returns :class:`~rwafolio.loaders.panel.Finding` objects and changes nothing.
:func:`clean` validates, detects and, only under an explicit ``repair`` policy, drops the flagged
rows (marking those findings ``repaired=True``). Kinds of finding:

``invalid``
    Price NaN, infinite or <= 0. The row cannot be used and is always removed; its date then is a
    *missing data day*, handled by the calendar's declared ``missing`` policy (raise by default).
``jump``
    A return whose robust z-score ``|r_t| / (1.4826 * median(|r|, past window))`` exceeds
    ``jump_z`` and whose size exceeds ``jump_min`` (log return). Often a real move: reported only.
``spike``
    A jump undone (to within 10%) by a jump on the next row: a single bad print at its date.
``flat_bar``
    Open = High = Low = Close (no intraday range recorded).
``stale``
    The price repeated unchanged for ``stale_run`` or more rows in a row (reported once per run).
``zero_volume``
    Volume exactly 0.
``peg_break``
    A stablecoin's close more than ``peg_tol`` (2%) away from 1.
``sparse_price_field``
    The chosen price column (the adjusted close) is empty on rows that have a close: those rows
    cannot be used, and when they lead the file they cut the symbol's history. One undated,
    severe finding names the column, the number of rows and their dates.
``suspect_last_row``
    The file's last row looks provisional (a bar saved before its day ended): its volume and its
    high-low range are both well below the medians of the 30 rows before it, or it is a jump. A
    heuristic: on the Alexshch09 crypto files about 4-14% of ordinary rows pass the volume-and-
    range test too, so treat it as a prompt to check, not a verdict.

A jump or spike whose robust z-score exceeds ``severe_z`` (50: far beyond any real daily move in
the reference data, where the largest is 27, BTC) is ``severe``: one such print can flip a
backtest, so the CLI prints it as a warning whatever the repair policy.

Repair policies (``repair``; None reports only):

``"repair_spikes"``
    Rows flagged ``spike`` (a single bad print the next row undoes), and a last row that is a
    severe jump, are removed; the calendar carries the previous price over their dates and marks
    the asset not tradable there (see ``carry`` in :func:`~rwafolio.loaders.calendar.align`),
    whatever the ``missing`` policy. Nothing else changes.
``"drop_flagged"``
    Rows flagged with a kind in ``repair_kinds`` are removed; their dates are missing data days
    handled by the ``missing`` policy.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.loaders.frames import PriceData
from rwafolio.loaders.panel import Finding

RepairPolicy = Literal["repair_spikes", "drop_flagged"]
REPAIR_POLICIES: tuple[str, ...] = ("repair_spikes", "drop_flagged")

#: Robust z-score above which a jump or spike is severe (printed by the CLI, repaired by
#: ``"repair_spikes"`` when it is a single bad print).
SEVERE_Z = 50.0

#: Kinds that ``repair="drop_flagged"`` removes unless ``repair_kinds`` says otherwise. Plain jumps
#: and peg breaks are left alone by default: they are usually real market moves.
DEFAULT_REPAIR_KINDS: tuple[str, ...] = ("spike", "flat_bar", "zero_volume", "suspect_last_row")


def validate_frame(frame: pd.DataFrame, symbol: str) -> None:
    """Check a normalised frame: tz-naive sorted unique DatetimeIndex and a price column.

    Raises
    ------
    DataError
        Naming the symbol and what is wrong.
    """
    idx = frame.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise DataError(f"{symbol}: dates must be a DatetimeIndex, got {type(idx).__name__}")
    if idx.tz is not None:
        raise DataError(f"{symbol}: dates must be tz-naive")
    if idx.has_duplicates:
        raise DataError(
            f"{symbol}: dates must be unique; first duplicate {idx[idx.duplicated()][0]}"
        )
    if not idx.is_monotonic_increasing:
        raise DataError(f"{symbol}: dates must be sorted ascending")
    if "close" not in frame.columns and "adj_close" not in frame.columns:
        raise DataError(f"{symbol}: no close or adjusted close column")


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the True runs of a boolean array."""
    m = np.concatenate(([False], mask, [False])).astype(np.int8)
    d = np.diff(m)
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def robust_jump_scores(price: np.ndarray, window: int = 60) -> np.ndarray:
    """Robust z-score of each log return against the past rolling median of |log return|.

    Parameters
    ----------
    price : ndarray of shape (n,)
        Positive prices.
    window : int
        Past returns used for the median (the current one excluded).

    Returns
    -------
    ndarray of shape (n,)
        ``z[t] = |log(p_t / p_{t-1})| / (1.4826 * median(|log r|, t-window..t-1))``; NaN where
        fewer than 10 past returns exist; ``inf`` where the median is 0 and the return is not.
    """
    a = np.abs(np.diff(np.log(price)))
    med = pd.Series(a).rolling(window, min_periods=10).median().shift(1).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(
            med > 0, a / (1.4826 * np.where(med > 0, med, 1.0)), np.where(a > 0, np.inf, 0.0)
        )
    z = np.where(np.isnan(med), np.nan, z)
    return np.concatenate(([np.nan], z))


def detect(
    data: PriceData,
    *,
    asset_class: str = "crypto",
    jump_z: float = 10.0,
    jump_min: float = 0.05,
    window: int = 60,
    stale_run: int = 10,
    peg_tol: float = 0.02,
    last_volume_ratio: float = 0.7,
    last_range_ratio: float = 0.6,
    severe_z: float = SEVERE_Z,
) -> tuple[Finding, ...]:
    """Find suspicious rows in one symbol's prices; changes nothing.

    Parameters
    ----------
    data : PriceData
        Normalised prices (rows with invalid prices are reported as ``invalid`` and skipped).
    asset_class : str
        ``"stable"`` switches on the peg check.
    jump_z : float
        Robust z-score above which a return is a jump (see :func:`robust_jump_scores`).
    jump_min : float
        Smallest |log return| that can be a jump (keeps tiny moves of quiet assets out).
    window : int
        Past returns in the rolling median.
    stale_run : int
        Identical consecutive prices that make a stale run.
    peg_tol : float
        Largest tolerated |close - 1| of a stablecoin.
    last_volume_ratio, last_range_ratio : float
        The last row is suspect when its volume AND its high-low range are below these fractions
        of the medians of the 30 rows before it (a bar saved before the day ended).
    severe_z : float
        Robust z-score above which a jump or spike is marked ``severe``.

    Returns
    -------
    tuple of Finding, in date order within each kind.
    """
    sym = data.symbol
    frame = data.frame
    validate_frame(frame, sym)
    findings: list[Finding] = _sparse_field(data)
    price_all = data.price.to_numpy(dtype=float)
    ok = np.isfinite(price_all) & (price_all > 0)
    for i in np.flatnonzero(~ok):
        findings.append(
            Finding(
                sym,
                "invalid",
                frame.index[int(i)],
                f"{data.price_field}={float(price_all[i])!r}; row unusable",
            )
        )
    f = frame.loc[ok]
    if len(f) < 2:
        return tuple(findings)
    dates = f.index
    price = price_all[ok]
    z = _score_warmup(robust_jump_scores(price, window), price, window)
    logr = np.concatenate(([0.0], np.diff(np.log(price))))
    jump = (z > jump_z) & (np.abs(logr) > jump_min)
    reverts = np.abs(logr[:-1] + logr[1:]) <= 0.1 * np.abs(logr[:-1])
    spike_at = jump[:-1] & jump[1:] & reverts
    spike_at = np.concatenate((spike_at, [False]))
    # A stablecoin's robust scale is tiny, so a real depeg scores far above 50: for it a
    # severe print must also move the price by more than 40% (log 0.5).
    floor = 0.5 if asset_class == "stable" else 0.0
    severe = (z > severe_z) & (np.abs(logr) > floor)
    findings.extend(_jump_findings(sym, dates, z, logr, jump, spike_at, severe, severe_z))
    findings.extend(_bar_findings(sym, f, price, stale_run))
    if asset_class == "stable":
        findings.extend(_peg_findings(sym, f, price, peg_tol))
    last = _last_row_finding(sym, f, logr, jump, severe, last_volume_ratio, last_range_ratio)
    if last is not None:
        findings.append(last)
    return tuple(findings)


def _bar_findings(sym: str, f: pd.DataFrame, price: np.ndarray, stale_run: int) -> list[Finding]:
    """``flat_bar``, ``stale`` and ``zero_volume`` findings of the valid rows ``f``.

    ``price`` (shape (len(f),)) is the symbol's price field on those rows.
    """
    findings: list[Finding] = []
    dates = f.index
    if {"open", "high", "low", "close"} <= set(f.columns):
        o, h, lo, c = (f[k].to_numpy(dtype=float) for k in ("open", "high", "low", "close"))
        flat = (o == h) & (h == lo) & (lo == c)
        for i in np.flatnonzero(flat):
            findings.append(Finding(sym, "flat_bar", dates[int(i)], f"O=H=L=C={c[i]:g}"))
    same = np.concatenate(([False], price[1:] == price[:-1]))
    for a, b in _runs(same):
        length = b - a + 1
        if length >= stale_run:
            findings.append(
                Finding(
                    sym,
                    "stale",
                    dates[b - 1],
                    f"{length} identical prices "
                    f"{price[a]:g} from {dates[a - 1]:%Y-%m-%d} to {dates[b - 1]:%Y-%m-%d}",
                )
            )
    if "volume" in f.columns:
        vol = f["volume"].to_numpy(dtype=float)
        for i in np.flatnonzero(vol == 0):
            findings.append(Finding(sym, "zero_volume", dates[int(i)], "volume 0"))
    return findings


def _peg_findings(sym: str, f: pd.DataFrame, price: np.ndarray, peg_tol: float) -> list[Finding]:
    """``peg_break`` findings of a stablecoin: close (else ``price``) over ``peg_tol`` from 1."""
    close = f["close"].to_numpy(dtype=float) if "close" in f.columns else price
    return [
        Finding(
            sym,
            "peg_break",
            f.index[int(i)],
            f"close {close[i]:.4f} is {close[i] - 1:+.2%} off the 1.00 peg",
        )
        for i in np.flatnonzero(np.abs(close - 1.0) > peg_tol)
    ]


def _last_row_finding(
    sym: str,
    f: pd.DataFrame,
    logr: np.ndarray,
    jump: np.ndarray,
    severe: np.ndarray,
    last_volume_ratio: float,
    last_range_ratio: float,
) -> Finding | None:
    """The ``suspect_last_row`` finding, or None when the last valid row looks final.

    It is suspect when its volume and high-low range are both low against the 30 rows before it
    (a bar saved before the day ended), or when its return is a jump. ``logr``, ``jump`` and
    ``severe`` have shape (len(f),).
    """
    reasons = []
    if {"volume", "high", "low"} <= set(f.columns) and len(f) > 10:
        vol = f["volume"].to_numpy(dtype=float)
        rng = np.log(f["high"].to_numpy(dtype=float) / f["low"].to_numpy(dtype=float))
        v_ratio = vol[-1] / np.median(vol[-31:-1]) if np.median(vol[-31:-1]) > 0 else np.inf
        r_ratio = rng[-1] / np.median(rng[-31:-1]) if np.median(rng[-31:-1]) > 0 else np.inf
        if v_ratio < last_volume_ratio and r_ratio < last_range_ratio:
            reasons.append(
                f"volume {v_ratio:.2f}x and high-low range {r_ratio:.2f}x their 30-row medians"
            )
    if jump[-1]:
        reasons.append(f"last return {_pct(logr[-1])} is a jump")
    if not reasons:
        return None
    return Finding(
        sym,
        "suspect_last_row",
        f.index[-1],
        "; ".join(reasons) + " (bar may be provisional)",
        severe=bool(jump[-1] and severe[-1]),
    )


def _jump_findings(
    sym: str,
    dates: pd.DatetimeIndex,
    z: np.ndarray,
    logr: np.ndarray,
    jump: np.ndarray,
    spike_at: np.ndarray,
    severe_at: np.ndarray,
    severe_z: float,
) -> list[Finding]:
    """``jump`` and ``spike`` findings (a spike's second leg is not reported again)."""
    findings: list[Finding] = []
    skip = np.zeros(len(z), dtype=bool)
    for i in np.flatnonzero(jump).tolist():
        if skip[i]:
            continue
        severe = bool(severe_at[i])
        mark = f"; severe: over {severe_z:g}x the robust scale" if severe else ""
        if spike_at[i]:
            skip[i + 1] = True
            findings.append(
                Finding(
                    sym,
                    "spike",
                    dates[i],
                    f"{_pct(logr[i])} then "
                    f"{_pct(logr[i + 1])} the next row (robust z {z[i]:.1f}){mark}",
                    severe=severe,
                )
            )
        else:
            findings.append(
                Finding(
                    sym,
                    "jump",
                    dates[i],
                    f"return {_pct(logr[i])}, robust z {z[i]:.1f} (may be a real move)" + mark,
                    severe=severe,
                )
            )
    return findings


def _score_warmup(z: np.ndarray, price: np.ndarray, window: int) -> np.ndarray:
    """Score the first returns, which have too few past ones, against the first ``window``.

    Without this a bad print in a file's first ten rows would never be flagged. Cleaning checks
    the data, it does not decide trades, so it may use those rows' neighbours; the median of the
    first ``window`` returns is not moved by one or two bad prints among them.
    """
    a = np.abs(np.diff(np.log(price)))
    med = float(np.median(a[:window])) if len(a) >= 10 else 0.0
    idx = np.flatnonzero(np.isnan(z))
    idx = idx[idx > 0]
    if not med > 0 or len(idx) == 0:
        return z
    out = z.copy()
    out[idx] = a[idx - 1] / (1.4826 * med)
    return out


def _pct(logr: float) -> str:
    """A log return as a simple return in percent; a factor past 10,000x as ``x1.2e+306``
    (a bad print's return has 300 digits as a percentage)."""
    r = float(np.expm1(logr))
    return f"{r:+.1%}" if r < 1e4 else f"x{r + 1:.3g}"


def _sparse_field(data: PriceData) -> list[Finding]:
    """One severe finding when the adjusted close is empty on rows that have a close, or on
    every row (the prices are then the unadjusted close)."""
    frame = data.frame
    where = f" in {data.path}" if data.path else ""
    if (
        "adj_close" in frame.columns
        and data.price_field == "Close"
        and frame["close"].notna().any()
    ):
        return [  # the column is there and empty on every row: the prices are not adjusted
            Finding(
                data.symbol,
                "sparse_price_field",
                None,
                f"column 'Adj Close'{where} is empty on every row: the prices are its Close, "
                "not adjusted for dividends or splits",
                severe=True,
            )
        ]
    if data.price_field != "Adj Close" or "close" not in frame.columns:
        return []
    empty = frame["adj_close"].isna().to_numpy() & np.isfinite(frame["close"].to_numpy(float))
    if not empty.any():
        return []
    dates = frame.index[empty]
    used = frame.index[~frame["adj_close"].isna().to_numpy()]
    cut = ""
    if empty[0]:
        before = frame.index[frame.index < used[0]]
        cut += (
            f"; history before {used[0]:%Y-%m-%d} is cut (rows {before[0]:%Y-%m-%d}.."
            f"{before[-1]:%Y-%m-%d})"
        )
    if empty[-1]:
        after = frame.index[frame.index > used[-1]]
        cut += (
            f"; history after {used[-1]:%Y-%m-%d} is cut (rows {after[0]:%Y-%m-%d}.."
            f"{after[-1]:%Y-%m-%d})"
        )
    return [
        Finding(
            data.symbol,
            "sparse_price_field",
            None,
            f"column 'Adj Close'{where} is empty on {int(empty.sum())} row(s) that have a Close "
            f"({dates[0]:%Y-%m-%d}..{dates[-1]:%Y-%m-%d}); those rows are not used{cut}",
            severe=True,
        )
    ]


def clean(
    data: PriceData,
    *,
    asset_class: str = "crypto",
    repair: RepairPolicy | None = None,
    repair_kinds: Collection[str] = DEFAULT_REPAIR_KINDS,
    **detect_kw: float,
) -> tuple[pd.Series, tuple[Finding, ...]]:
    """Validate, detect and (only if asked) repair one symbol's prices.

    Parameters
    ----------
    data : PriceData
    asset_class : str
    repair : {None, "repair_spikes", "drop_flagged"}
        ``None`` (default) changes nothing. ``"repair_spikes"`` removes single bad prints (see the
        module docstring; the calendar carries the price over them). ``"drop_flagged"`` drops the
        rows flagged with a kind in ``repair_kinds``, a dropped date being a missing data day for
        the calendar (pair it with ``missing="ffill"`` or ``"drop"``). Repaired findings come
        back with ``repaired=True``.
    repair_kinds : collection of str
        Kinds dropped by ``"drop_flagged"`` (default :data:`DEFAULT_REPAIR_KINDS`).
    **detect_kw
        Thresholds passed to :func:`detect`.

    Returns
    -------
    price : Series of shape (n_valid,)
        The chosen price column with invalid rows removed (and flagged rows, under a repair).
    findings : tuple of Finding
    """
    if repair is not None and repair not in REPAIR_POLICIES:
        raise ConfigError(f"`repair` must be None or one of {REPAIR_POLICIES}, got {repair!r}")
    findings = detect(data, asset_class=asset_class, **detect_kw)  # type: ignore[arg-type]
    price = data.price.astype(float)
    valid = np.isfinite(price.to_numpy()) & (price.to_numpy() > 0)
    price = price[valid]
    if repair is None:
        return price, findings
    if repair == "repair_spikes":

        def hit(f: Finding) -> bool:
            return f.kind == "spike" or (f.kind == "suspect_last_row" and f.severe)

        action = "; bad print removed, previous price carried (not tradable that day)"
    else:
        kinds = set(repair_kinds)

        def hit(f: Finding) -> bool:
            return f.kind in kinds

        action = "; row dropped"
    drop = {f.date for f in findings if hit(f) and f.date is not None}
    out = tuple(
        replace(f, repaired=True, detail=f.detail + action) if hit(f) else f for f in findings
    )
    keep = ~price.index.isin(list(drop))
    return price[keep], out


def within(
    findings: tuple[Finding, ...], start: pd.Timestamp, end: pd.Timestamp
) -> tuple[Finding, ...]:
    """The findings dated in ``[start, end]`` (undated findings are kept)."""
    return tuple(f for f in findings if f.date is None or start <= f.date <= end)
