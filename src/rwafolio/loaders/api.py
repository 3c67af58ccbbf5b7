"""The public loaders: every source ends in the same clean -> align -> index -> Panel pipeline."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError, RwafolioError
from rwafolio.loaders import synthetic as synth
from rwafolio.loaders.calendar import CALENDAR_SPAN, MissingPolicy, align
from rwafolio.loaders.cleaning import RepairPolicy, clean, within
from rwafolio.loaders.files import compare_sources, read_file, read_symbols
from rwafolio.loaders.frames import PriceData, as_date
from rwafolio.loaders.locate import FileSearch, locate, stem_key
from rwafolio.loaders.panel import CalendarPolicy, Finding, Panel
from rwafolio.loaders.vix import align_vix, fetch_vix
from rwafolio.loaders.volume import align_volume, quote_volume
from rwafolio.universe import Universe

Source = Literal["synthetic", "files", "yfinance"]
SOURCES: tuple[str, ...] = ("synthetic", "files", "yfinance")

#: Symbols loaded when none are given: two crypto assets, a stablecoin and three RWA proxies.
DEFAULT_SYMBOLS: tuple[str, ...] = ("BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD")

PathLike = str | os.PathLike[str]
T = TypeVar("T")

#: The CLI's ``--clean`` choices and the cleaning repair policy each maps to (see
#: :mod:`.cleaning`): ``report`` changes nothing; ``repair`` removes single bad prints and carries
#: the price over them (not tradable that day); ``drop`` removes every row flagged spike, flat bar,
#: zero volume or suspect last row, their dates then handled by ``missing``.
CleanPolicy = Literal["report", "repair", "drop"]
CLEAN_POLICIES: Mapping[str, RepairPolicy | None] = {
    "report": None,
    "repair": "repair_spikes",
    "drop": "drop_flagged",
}


def with_own_warnings(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, list[str]]:
    """Call ``fn`` and return its result with rwafolio's own warnings as one-line messages.

    A caller that prints (the CLI) shows them as its own lines instead of Python's multi-line
    warning format, which drowns in yfinance's output. Warnings from other packages are shown
    as usual.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        result = fn(*args, **kwargs)
    own = []
    for w in caught:
        if issubclass(w.category, UserWarning) and "rwafolio" in Path(w.filename).parts:
            own.append(" ".join(str(w.message).split()))
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return result, list(dict.fromkeys(own))


def load_reported(
    source: Source,
    symbols: Sequence[str] | None,
    *,
    clean: CleanPolicy = "report",
    **kwargs: Any,
) -> tuple[Panel, list[str]]:
    """:func:`load` under a ``--clean`` policy name, with the lines to show as warnings.

    The lines are the panel's severe findings (see :func:`severe_lines`) and rwafolio's own
    warnings raised while loading (a stale ^VIX cache, ...) that those do not already say.
    """
    if clean not in CLEAN_POLICIES:
        raise ConfigError(f"`clean` must be one of {tuple(CLEAN_POLICIES)}, got {clean!r}")
    panel, caught = with_own_warnings(load, source, symbols, repair=CLEAN_POLICIES[clean], **kwargs)
    lines = severe_lines(panel)
    said = " ".join(lines)
    return panel, lines + [m for m in caught if m not in said]


def severe_lines(panel: Panel, limit: int = 20) -> list[str]:
    """One line per severe finding of ``panel`` (at most ``limit``, then a count of the rest)."""
    severe = [f for f in panel.findings if f.severe]
    lines = [f.line() + (" [repaired]" if f.repaired else "") for f in severe[:limit]]
    if len(severe) > limit:
        lines.append(f"... and {len(severe) - limit} more severe finding(s) (`rwafolio data`)")
    return lines


def _coverage(series: Mapping[str, pd.Series]) -> dict[str, tuple[str, str]]:
    """Each symbol's own first and last date (before alignment), for ``rwafolio data``."""
    return {
        s: (f"{p.index[0]:%Y-%m-%d}", f"{p.index[-1]:%Y-%m-%d}") if len(p) else ("", "")
        for s, p in series.items()
    }


def build_panel(
    data: Mapping[str, PriceData],
    universe: Universe,
    *,
    source: str,
    policy: CalendarPolicy = "all_days",
    start: object = None,
    end: object = None,
    missing: MissingPolicy = "raise",
    repair: RepairPolicy | None = None,
    vix: str | None = "none",
    vix_series: pd.Series | None = None,
    vix_window: int = 30,
    cache_dir: PathLike | None = None,
    downloader: Callable[..., pd.DataFrame] | None = None,
    extra_findings: Sequence[Finding] = (),
    meta: Mapping[str, Any] | None = None,
) -> Panel:
    """Clean each symbol, align them on the policy's calendar, attach the index, validate.

    ``vix_series`` (already-known levels, e.g. the synthetic index) takes the place of ``vix``
    and is recorded with the label ``vix``. Findings are kept only inside the panel's date range.
    """
    series: dict[str, pd.Series] = {}
    findings: list[Finding] = []
    carry: dict[str, pd.DatetimeIndex] = {}
    for sym in universe.symbols:
        price, found = clean(data[sym], asset_class=universe[sym].asset_class, repair=repair)
        if price.empty:
            raise DataError(_no_valid_rows(data[sym], found))
        series[sym] = price
        findings.extend(found)
        if repair == "repair_spikes":
            carry[sym] = pd.DatetimeIndex(
                [f.date for f in found if f.repaired and f.date is not None]
            )
    findings.extend(extra_findings)
    prices, tradable, cal_findings = align(
        series, universe, policy, start, end, missing, carry=carry
    )
    findings.extend(cal_findings)

    def realized_source(sym: str) -> tuple[pd.Series, int]:
        if sym not in series:
            raise ConfigError(f"`vix='realized:{sym}'` names a symbol outside {universe.symbols}")
        return series[sym], 365 if universe[sym].trades_24_7 else 252

    raw: pd.Series | None
    if vix_series is not None:
        raw, label = vix_series, str(vix)
    else:
        raw, label = fetch_vix(
            str(vix),
            start=prices.index[0],
            end=prices.index[-1],
            cache_dir=cache_dir,
            downloader=downloader,
            realized_source=realized_source,
            window=vix_window,
        )
    info = dict(meta or {})
    info["coverage"] = _coverage(series)
    info["repair"] = repair
    aligned = None
    if raw is not None:
        aligned = align_vix(raw, pd.DatetimeIndex(prices.index))
        known = np.flatnonzero(aligned.notna().to_numpy())
        if len(known) == 0:
            raise DataError(
                f"the volatility index ({label}) has no value on or before "
                f"{prices.index[-1]:%Y-%m-%d}"
            )
        first = int(known[0])
        info["vix_trimmed"] = first
        if first:
            prices, tradable, aligned = (
                prices.iloc[first:],
                tradable.iloc[first:],
                aligned.iloc[first:],
            )
    kept = within(tuple(findings), prices.index[0], prices.index[-1])
    fields = {s: data[s].price_field for s in universe.symbols}
    quoted = {s: quote_volume(data[s], universe[s].asset_class) for s in universe.symbols}
    rules = {s: rule for s, (_, rule) in quoted.items()}
    volume = None
    if any(v is not None for v, _ in quoted.values()):
        volume = align_volume(
            {s: v for s, (v, _) in quoted.items()}, pd.DatetimeIndex(prices.index)
        )
    return Panel(
        prices=prices,
        tradable=tradable,
        universe=universe,
        policy=policy,
        vix=aligned,
        vix_source=label,
        source=source,
        price_fields=fields,
        findings=kept,
        meta=info,
        volume=volume,
        volume_rules=rules,
    )


def _no_valid_rows(data: PriceData, found: Sequence[Finding]) -> str:
    """Why a symbol has no usable price: every row invalid, with the first reason."""
    where = f" in {data.path}" if data.path else ""
    bad = [f for f in found if f.kind in ("invalid", "sparse_price_field")]
    why = f"; first: {bad[0].detail}" if bad else ""
    return (
        f"{data.symbol}: none of its {len(data.frame)} row(s){where} has a usable "
        f"{data.price_field} (positive, finite){why}"
    )


def _scan_findings(search: FileSearch, symbols: Sequence[str]) -> list[Finding]:
    """Severe findings for what a folder scan did not read (symbol ``*`` when none matches)."""
    by_key = {stem_key(s): s for s in symbols}
    out = []
    for path, why in search.skipped:
        sym = by_key.get(stem_key(path.stem), "*")
        out.append(Finding(sym, "skipped_file", None, f"{path} not read: {why}", severe=True))
    for path, why in search.unreadable:
        sym = by_key.get(stem_key(path.stem), "*")
        out.append(Finding(sym, "unreadable_file", None, f"{path} not read: {why}", severe=True))
    return out


def _cross_check(sym: str, data: PriceData, path: Path, other: Path) -> list[Finding]:
    """Compare a symbol's prices with a shadowed copy; an unreadable copy is reported, not fatal."""
    try:
        alt = read_file(other, symbol=sym)
    except RwafolioError as exc:
        why = str(exc).splitlines()[0]
        text = f"shadowed copy {other} (not used) could not be read for the cross-check: {why}"
        return [Finding(sym, "shadowed_unreadable", None, text)]
    alt_data = alt.get(sym) or next(iter(alt.values()))
    bad = compare_sources(data.price, alt_data.price)
    return [
        Finding(
            sym,
            "source_mismatch",
            as_date(d),
            f"return {row['ret_a']:+.2%} in {path} vs {row['ret_b']:+.2%} in {other}",
        )
        for d, row in bad.iterrows()
    ]


def load_files(
    symbols: Sequence[str] | None = None,
    data_dirs: Sequence[PathLike] | PathLike = (),
    *,
    start: object = None,
    end: object = None,
    policy: CalendarPolicy = "all_days",
    vix: str | None = "none",
    costs: Mapping[str, float] | None = None,
    missing: MissingPolicy = "raise",
    repair: RepairPolicy | None = None,
    currency: Mapping[str, str] | None = None,
    fx: Mapping[str, pd.Series] | None = None,
    cross_check: bool = True,
    cache_dir: PathLike | None = None,
    assets: Mapping[str, Mapping[str, object]] | None = None,
) -> Panel:
    """Panel from price files found by symbol in ``data_dirs`` (see :mod:`.files`).

    When a symbol also has files in later folders (shadowed) and ``cross_check`` is on, their
    daily returns are compared with the winner's and disagreements above 10 bp become
    ``source_mismatch`` findings. ``currency``/``fx`` convert prices quoted in other currencies.
    Other parameters as in :func:`load`.
    """
    syms = list(symbols or DEFAULT_SYMBOLS)
    dirs = [data_dirs] if isinstance(data_dirs, (str, os.PathLike)) else list(data_dirs)
    search = locate(syms, dirs)
    data, matches = read_symbols(syms, dirs, currency=currency, fx=fx, search=search)
    extra = _scan_findings(search, syms)
    if cross_check:
        for sym, m in matches.items():
            for other in m.shadowed:
                extra.extend(_cross_check(sym, data[sym], m.path, other))
    universe = Universe.from_symbols(syms, costs=costs, overrides=assets)
    meta = {
        "files": {s: str(m.path) for s, m in matches.items()},
        "skipped": [f"{p}: {why}" for p, why in (*search.skipped, *search.unreadable)],
        "layouts": {s: d.layout for s, d in data.items()},
        "notes": {s: list(d.notes) for s, d in data.items() if d.notes},
        "shadowed": {s: [str(p) for p in m.shadowed] for s, m in matches.items() if m.shadowed},
        "data_dirs": [str(d) for d in dirs],
        "missing": missing,
        "repair": repair,
    }
    return build_panel(
        data,
        universe,
        source="files",
        policy=policy,
        start=start,
        end=end,
        missing=missing,
        repair=repair,
        vix=vix,
        cache_dir=cache_dir,
        extra_findings=extra,
        meta=meta,
    )


def load_yahoo(
    symbols: Sequence[str] | None = None,
    *,
    start: object = None,
    end: object = None,
    policy: CalendarPolicy = "all_days",
    vix: str | None = "none",
    cache_dir: PathLike | None = None,
    costs: Mapping[str, float] | None = None,
    missing: MissingPolicy = "raise",
    repair: RepairPolicy | None = None,
    downloader: Callable[..., pd.DataFrame] | None = None,
    retries: int = 3,
    sleep: Callable[[float], object] | None = None,
    today: object = None,
    assets: Mapping[str, Mapping[str, object]] | None = None,
) -> Panel:
    """Panel from Yahoo Finance through the cache (see :mod:`.yahoo`); ``downloader`` replaces
    the network call. Other parameters as in :func:`load`."""
    from rwafolio.loaders.yahoo import download

    syms = list(symbols or DEFAULT_SYMBOLS)
    kw: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    res = download(
        syms,
        start,
        end,
        cache_dir=cache_dir,
        downloader=downloader,
        retries=retries,
        today=today,
        **kw,
    )
    universe = Universe.from_symbols(syms, costs=costs, overrides=assets)
    cache_findings = [
        Finding(s, "stale_cache", None, msg, severe=True) for s, msg in res.stale.items()
    ] + [Finding(s, "corrupt_cache", None, msg, severe=True) for s, msg in res.corrupt.items()]
    meta = {
        "origin": res.origin,
        "cache_dir": str(res.cache_dir),
        "warnings": list(res.warnings),
        "missing": missing,
        "repair": repair,
    }
    return build_panel(
        res.data,
        universe,
        source="yfinance",
        policy=policy,
        start=start,
        end=end,
        missing=missing,
        repair=repair,
        vix=vix,
        cache_dir=cache_dir,
        downloader=downloader,
        extra_findings=cache_findings,
        meta=meta,
    )


def load_synthetic(
    symbols: Sequence[str] | None = None,
    *,
    start: object = synth.DEFAULT_START,
    end: object = synth.DEFAULT_END,
    policy: CalendarPolicy = "all_days",
    vix: str | None = "synthetic",
    costs: Mapping[str, float] | None = None,
    seed: int | None = synth.DEFAULT_SEED,
    missing: MissingPolicy = "raise",
    repair: RepairPolicy | None = None,
) -> Panel:
    """Panel of the seeded synthetic market (see :mod:`.synthetic`), no network, no files.

    ``symbols`` is a subset of :data:`rwafolio.loaders.synthetic.SYMBOLS` (default all six).
    ``vix`` defaults to the generator's own index (``"synthetic"``); ``"none"`` and
    ``"realized:SYMBOL"`` also work. The generator starts 14 days before ``start`` (a warm-up
    whose rows only supply the first carried prices).
    """
    syms = list(symbols or synth.SYMBOLS)
    unknown = [s for s in syms if s not in synth.SYMBOLS]
    if unknown:
        raise ConfigError(f"`symbols` {unknown} are not synthetic; choose from {synth.SYMBOLS}")
    # 14 warm-up days so exchange proxies have a close to carry into a holiday/weekend start.
    warmup = pd.Timedelta(days=14)
    t0, t1 = as_date(start, "start"), as_date(end, "end")
    first, last = (pd.Timestamp(d) for d in CALENDAR_SPAN)
    if t1 < t0:
        raise ConfigError(f"`end` {t1:%Y-%m-%d} is before `start` {t0:%Y-%m-%d}")
    if t0 - warmup < first:
        raise ConfigError(
            f"`start` must be on or after {first + warmup:%Y-%m-%d} for the synthetic market "
            f"(the NYSE calendar starts {first:%Y-%m-%d}, plus 14 warm-up days), got {t0:%Y-%m-%d}"
        )
    if t1 > last:
        raise ConfigError(
            f"`end` must be on or before {last:%Y-%m-%d} for the synthetic market (the NYSE "
            f"calendar's last day), got {t1:%Y-%m-%d}"
        )
    market = synth.generate(seed, t0 - warmup, end)

    def frame(s: str) -> pd.DataFrame:
        f = market.prices[s].to_frame("close").rename_axis("date")
        if market.volume is not None:
            f["volume"] = market.volume[s] / f["close"]  # units, so units x close is the USD value
        return f

    data = {s: PriceData(s, frame(s), "synthetic", None, "Close") for s in syms}
    universe = Universe.from_symbols(syms, costs=costs)
    meta = {"seed": market.seed, "synthetic": True, "stress_fraction": float(market.regime.mean())}
    use_own = vix is not None and str(vix).strip().lower() == "synthetic"
    return build_panel(
        data,
        universe,
        source="synthetic",
        policy=policy,
        start=start,
        end=end,
        missing=missing,
        repair=repair,
        vix="synthetic" if use_own else vix,
        vix_series=market.vix if use_own else None,
        meta=meta,
    )


def load(
    source: Source = "synthetic",
    symbols: Sequence[str] | None = None,
    *,
    data_dirs: Sequence[PathLike] | PathLike = (),
    start: object = None,
    end: object = None,
    policy: CalendarPolicy = "all_days",
    vix: str | None = None,
    cache_dir: PathLike | None = None,
    costs: Mapping[str, float] | None = None,
    missing: MissingPolicy = "raise",
    repair: RepairPolicy | None = None,
    seed: int | None = synth.DEFAULT_SEED,
    assets: Mapping[str, Mapping[str, object]] | None = None,
) -> Panel:
    """Load a validated :class:`~rwafolio.loaders.panel.Panel` from any source.

    Parameters
    ----------
    source : {"synthetic", "files", "yfinance"}
    symbols : sequence of str, optional
        Default :data:`DEFAULT_SYMBOLS` (BTC-USD, ETH-USD, USDT-USD, VNQ, BIL, GLD).
    data_dirs : path-like or sequence of them
        Folders for ``source="files"``, searched in order (the first folder with a match wins).
    start, end : date-like, optional
        Inclusive range; default the range every symbol covers (synthetic: 2019-01-01..2024-12-31).
    policy : {"all_days", "exchange_days"}
        Calendar policy (see :mod:`.calendar`); annualization 365 or 252.
    vix : str, optional
        ``"none"``, ``"^VIX"``, a file path, ``"realized:SYMBOL"`` (see :mod:`.vix`). Default:
        ``"synthetic"`` for the synthetic source, ``"none"`` otherwise.
    cache_dir : path-like, optional
        yfinance cache folder (default ``$RWAFOLIO_CACHE_DIR`` or the platform cache dir).
    costs : mapping symbol -> float, optional
        One-off trading costs overriding the class defaults (fraction of traded value).
    missing : {"raise", "ffill", "drop"}
        Declared policy for missing data days (default ``"raise"``; see :mod:`.calendar`).
    repair : {None, "drop_flagged"}
        Cleaning repair policy (default None: report only; see :mod:`.cleaning`).
    seed : int, optional
        Seed of the synthetic generator.
    assets : mapping symbol -> Asset fields, optional
        Declared assets (a config's ``[assets.SYMBOL]``: ``asset_class``, ``calendar``, ``cost``,
        ``proxies``, ``schedule``, ``name``) for the files and yfinance sources.
    """
    if source not in SOURCES:
        raise ConfigError(f"`source` must be one of {SOURCES}, got {source!r}")
    if source == "synthetic":
        return load_synthetic(
            symbols,
            start=start if start is not None else synth.DEFAULT_START,
            end=end if end is not None else synth.DEFAULT_END,
            policy=policy,
            vix="synthetic" if vix is None else vix,
            costs=costs,
            seed=seed,
            missing=missing,
            repair=repair,
        )
    if source == "files":
        return load_files(
            symbols,
            data_dirs,
            start=start,
            end=end,
            policy=policy,
            vix=vix or "none",
            costs=costs,
            missing=missing,
            repair=repair,
            cache_dir=cache_dir,
            assets=assets,
        )
    return load_yahoo(
        symbols,
        start=start,
        end=end,
        policy=policy,
        vix=vix or "none",
        cache_dir=cache_dir,
        costs=costs,
        missing=missing,
        repair=repair,
        assets=assets,
    )


def fetch(
    symbols: Sequence[str],
    start: object = None,
    end: object = None,
    cache_dir: PathLike | None = None,
    *,
    downloader: Callable[..., pd.DataFrame] | None = None,
    retries: int = 3,
    sleep: Callable[[float], object] | None = None,
) -> pd.DataFrame:
    """Fill the yfinance cache for ``symbols`` and summarise it.

    Returns
    -------
    DataFrame indexed by symbol with columns ``first``, ``last`` (YYYY-MM-DD), ``rows``,
    ``price_field``, ``origin`` (yfinance / yfinance+cache / cache / cache (stale)) and ``cache``
    (the file path).
    """
    from rwafolio.loaders.cache import cache_file
    from rwafolio.loaders.yahoo import download

    kw: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    res = download(
        list(symbols), start, end, cache_dir=cache_dir, downloader=downloader, retries=retries, **kw
    )
    rows = []
    for s, d in res.data.items():
        rows.append(
            {
                "symbol": s,
                "first": f"{d.frame.index[0]:%Y-%m-%d}",
                "last": f"{d.frame.index[-1]:%Y-%m-%d}",
                "rows": len(d.frame),
                "price_field": d.price_field,
                "origin": res.origin[s],
                "cache": str(cache_file(s, res.cache_dir)),
            }
        )
    return pd.DataFrame(rows).set_index("symbol")
