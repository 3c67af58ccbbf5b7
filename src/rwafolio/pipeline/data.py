"""Data options shared by every command, and the documented defaults behind them.

- Source: ``"synthetic"`` (the embedded generator) unless told otherwise, for every command.
- Symbols: :data:`DEFAULT_SYMBOLS` for files and yfinance; the generator's own for synthetic.
- Volatility index (``vix``): the generator's own index for synthetic, CBOE ``^VIX`` for yfinance,
  and for files a **realized-volatility proxy** (:func:`default_vix`), so a files backtest runs
  without ``--vix``; the choice is returned as a note the CLI prints and the report records
  (``panel.vix_source``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from rwafolio.config import RunConfig
from rwafolio.exceptions import ConfigError
from rwafolio.loaders import load_reported, severe_lines
from rwafolio.loaders.panel import Panel
from rwafolio.universe import make_asset

__all__ = ["DEFAULT_SEED", "DEFAULT_SYMBOLS", "DataOptions", "default_vix", "load_panel"]

DEFAULT_SYMBOLS: tuple[str, ...] = ("BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD")
DEFAULT_SEED = 7

Source = Literal["synthetic", "files", "yfinance"]


@dataclass(frozen=True)
class DataOptions:
    """Where prices come from and how they are aligned (the CLI's data flags).

    Parameters
    ----------
    source : {"synthetic", "files", "yfinance"}
    data_dirs : tuple of str
        Folders searched for ``SYMBOL.csv``/``.parquet`` (files source).
    symbols : tuple of str or None
        None: :data:`DEFAULT_SYMBOLS` (files, yfinance) or the generator's symbols (synthetic).
    start, end : str or None
        Inclusive dates, ``YYYY-MM-DD``.
    policy : {"all_days", "exchange_days"} or None
        None: the config's ``[data].policy``, else ``"all_days"``.
    vix : str or None
        Volatility index spec (see :mod:`rwafolio.loaders.vix`); None: :func:`default_vix`.
    cache_dir : str or None
        yfinance cache folder.
    missing : {"raise", "ffill", "drop"} or None
        None: the config's ``[data].missing``, else ``"raise"``.
    seed : int
        Seed of the synthetic market.
    clean : {"report", "repair", "drop"}
        Cleaning policy (:func:`rwafolio.loaders.load_reported`): report findings only, repair
        single bad prints, or drop every flagged row.
    bar : {"1d", "1h"} or None
        None: the config's ``[data].bar``, else ``"1d"``; ``"1h"`` reads hourly files
        (:mod:`rwafolio.loaders.intraday`).
    """

    source: Source = "synthetic"
    data_dirs: tuple[str, ...] = ()
    symbols: tuple[str, ...] | None = None
    start: str | None = None
    end: str | None = None
    policy: Literal["all_days", "exchange_days"] | None = None
    vix: str | None = None
    cache_dir: str | None = None
    missing: Literal["raise", "ffill", "drop"] | None = None
    seed: int = DEFAULT_SEED
    bar: Literal["1d", "1h"] | None = None
    clean: Literal["report", "repair", "drop"] = "report"

    @classmethod
    def from_args(cls, args: Any) -> DataOptions:
        """The data flags of a parsed command line (``--source`` ... ``--seed``, ``--bar``)."""
        if args.source == "files" and not args.data_dir:
            raise ConfigError("`--source files` needs at least one `--data-dir DIR`")
        return cls(
            source=args.source,
            data_dirs=tuple(args.data_dir),
            symbols=None if args.symbols is None else tuple(args.symbols),
            start=args.start,
            end=args.end,
            policy=args.policy,
            vix=args.vix,
            cache_dir=args.cache_dir,
            missing=args.missing,
            seed=DEFAULT_SEED if args.seed is None else args.seed,
            bar=getattr(args, "bar", None),
            clean=getattr(args, "clean", None) or "report",
        )

    def resolved_symbols(self) -> tuple[str, ...] | None:
        """The symbols that will be loaded (None: the synthetic generator's own)."""
        if self.symbols is None and self.source != "synthetic":
            return DEFAULT_SYMBOLS
        return self.symbols

    def with_config(self, data: Mapping[str, str]) -> DataOptions:
        """Fill ``policy``/``missing`` left at None from a config's ``[data]`` table."""
        return replace(
            self,
            policy=self.policy or data.get("policy"),  # type: ignore[arg-type]
            missing=self.missing or data.get("missing"),  # type: ignore[arg-type]
            bar=self.bar or data.get("bar"),  # type: ignore[arg-type]
        )


def _is_rates_fund(proxies: str | None) -> bool:
    text = (proxies or "").lower()
    return "t-bill" in text or "treasur" in text


def default_vix(source: str, symbols: Sequence[str] | None) -> tuple[str, str]:
    """The volatility index used when none is given, and a one-line note saying so.

    - synthetic: the generator's own index;
    - yfinance: CBOE ``^VIX``;
    - files: ``realized:SYMBOL``, the 30-day realized volatility (VIX units) of the first
      exchange-traded RWA proxy among ``symbols`` that is not a T-bill or treasury fund (VNQ in
      the default universe); else the first exchange-traded RWA proxy; else the first symbol.
      An equity-like exchange asset is the closest stand-in for the VIX's level (a crypto asset's
      realized volatility is two to three times higher, a T-bill fund's near zero).

    Returns
    -------
    (spec, note)
        ``note`` is empty when the default is the source's own index.
    """
    if source == "synthetic":
        return "synthetic", ""
    if source == "yfinance":
        return "^VIX", ""
    syms = list(symbols or DEFAULT_SYMBOLS)
    assets = [make_asset(s) for s in syms]
    exchange = [a for a in assets if a.asset_class == "rwa" and a.calendar == "XNYS"]
    risky = [a for a in exchange if not _is_rates_fund(a.proxies)]
    pick = (risky or exchange or assets)[0].symbol
    spec = f"realized:{pick}"
    return spec, (
        f"vix: no --vix given; using a realized-volatility proxy, {spec} (30-day realized "
        "volatility of that symbol in VIX units; pass --vix FILE or --vix ^VIX for an index)"
    )


def load_panel(
    options: DataOptions,
    costs: Mapping[str, float] | None = None,
    config: RunConfig | None = None,
    warn: Callable[[str], None] | None = None,
) -> tuple[Panel, tuple[str, ...]]:
    """Load the panel described by ``options``.

    Parameters
    ----------
    options : DataOptions
    costs : mapping symbol -> float, optional
        One-off trading costs overriding the class defaults.
    config : RunConfig or None
        Its ``[assets.SYMBOL]`` tables (calendars, classes, hourly sessions, daily proxies).
    warn : callable or None
        Receives each warning line (severe findings, rwafolio's own warnings while loading);
        None: they are returned among the notes, prefixed ``"warning: "``.

    Returns
    -------
    (Panel, tuple of str)
        The panel and notes on defaults that were applied (for the caller to show).
    """
    if options.bar == "1h":
        panel = _load_hourly(options, costs, config)
        lines, note = severe_lines(panel), ""
    else:
        panel, lines, note = _load_daily(options, costs, config)
    notes: list[str] = []
    for line in lines:
        if warn is not None:
            warn(line)
        else:
            notes.append(f"warning: {line}")
    n_severe = sum(f.severe for f in panel.findings)
    if options.clean != "report" or n_severe:  # the default, with nothing severe, adds no line
        notes.append(
            f"cleaning: {options.clean}; {len(panel.findings)} finding(s), {n_severe} severe"
        )
    if note:
        # Said in the output (the note) and in the report (the index's label).
        notes.append(note)
        panel = replace(panel, vix_source=f"{panel.vix_source} (default proxy: no --vix given)")
    return panel, tuple(notes)


def _load_daily(
    options: DataOptions, costs: Mapping[str, float] | None, config: RunConfig | None
) -> tuple[Panel, list[str], str]:
    """The daily panel, the warning lines raised while loading it, and the default-index note."""
    symbols = options.resolved_symbols()
    vix, note = (
        (options.vix, "") if options.vix is not None else default_vix(options.source, symbols)
    )
    assets: dict[str, Any] = {}
    if config is not None and config.assets:
        if options.source == "synthetic":  # its assets are generated with fixed calendars
            raise ConfigError(
                f"config [assets] tables ({', '.join(sorted(config.assets))}) declare assets of "
                "--source files or yfinance; the synthetic market's are fixed (costs go in "
                "[costs])"
            )
        assets["assets"] = config.asset_overrides()
    panel, lines = load_reported(
        options.source,
        list(symbols) if symbols is not None else None,
        clean=options.clean,
        data_dirs=list(options.data_dirs),
        start=options.start,
        end=options.end,
        policy=options.policy or "all_days",
        vix=vix,
        cache_dir=options.cache_dir,
        costs=dict(costs) if costs else None,
        missing=options.missing or "raise",
        seed=options.seed if options.source == "synthetic" else None,
        **assets,
    )
    return panel, list(lines), note


def _load_hourly(
    options: DataOptions, costs: Mapping[str, float] | None, config: RunConfig | None
) -> Panel:
    """The hourly panel (``bar = "1h"``): hourly files of ``symbols`` (file stems) in
    ``data_dirs``, with the config's ``[assets.SYMBOL]`` tables and daily proxies."""
    from rwafolio.loaders.intraday import load_intraday_dirs
    from rwafolio.universe import Universe

    if options.source != "files":
        raise ConfigError("`--bar 1h` reads hourly files: use `--source files` with `--data-dir`")
    if not options.symbols:
        raise ConfigError("`--bar 1h` needs `--symbols` (file stems, e.g. BTCUSDT_1h gld_hourly)")
    if options.clean != "report":
        raise ConfigError(
            f"`--clean {options.clean}` is not available with `--bar 1h`: hourly bars are "
            "reported on (the default `--clean report`), never repaired"
        )
    overrides = config.asset_overrides() if config is not None else {}
    universe = Universe.from_symbols(
        list(options.symbols),
        costs=dict(costs) if costs else None,
        overrides={k: v for k, v in overrides.items() if k in options.symbols},
    )
    return load_intraday_dirs(
        list(options.symbols),
        list(options.data_dirs),
        universe,
        vix=options.vix,
        start=options.start,
        end=options.end,
        missing=options.missing or "raise",
        daily=config.daily_symbols() if config is not None else (),
    )
