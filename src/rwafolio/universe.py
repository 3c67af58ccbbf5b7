"""Assets, their classes and costs, and the built-in registry of RWA proxies.

An :class:`Asset` carries everything the rest of rwafolio needs to know about one symbol: its
class, its one-off trading cost ``cost`` (a fraction of traded value: ``0.001`` is 10 bp), the
calendar its market trades on, its update schedule and, for a proxy, the tokenized asset it
stands in for. A :class:`Universe` is an ordered, immutable tuple of assets.

Default costs follow the model's worked example: crypto 0.1%, RWA 1%, stablecoin 0.05%.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Literal, get_args

import numpy as np

from rwafolio.exceptions import ConfigError

AssetClass = Literal["crypto", "rwa", "stable", "cash"]
TradingCalendar = Literal["24/7", "XNYS"]
Schedule = Literal["daily", "every2", "weekly", "monthly", "never"]

ASSET_CLASSES: tuple[str, ...] = get_args(AssetClass)
SCHEDULES: tuple[str, ...] = get_args(Schedule)
#: Intraday schedule names (patterns): every open bar; the first open bar of each block of K bars;
#: the first open bar at or after a UTC time of day.
INTRADAY_SCHEDULES = ("bar", "every<K>bars", "daily@HH:MM")
_INTRADAY = re.compile(r"^(bar|every([1-9][0-9]*)bars|daily@([01][0-9]|2[0-3]):([0-5][0-9]))$")


def is_schedule(name: object) -> bool:
    """Whether ``name`` is a schedule: one of :data:`SCHEDULES` or an intraday pattern."""
    return isinstance(name, str) and (name in SCHEDULES or _INTRADAY.match(name) is not None)


#: One-off trading cost per unit of traded value, by asset class (the model's example).
DEFAULT_COSTS: Mapping[str, float] = {"crypto": 0.001, "rwa": 0.01, "stable": 0.0005, "cash": 0.0}

#: Update schedule by asset class (the model: crypto daily, RWAs weekly).
DEFAULT_SCHEDULES: Mapping[str, str] = {
    "crypto": "daily",
    "rwa": "weekly",
    "stable": "daily",
    "cash": "daily",
}


@dataclass(frozen=True)
class Asset:
    """One tradable symbol.

    Parameters
    ----------
    symbol : str
        Ticker as the data source spells it (``"BTC-USD"``, ``"VNQ"``).
    asset_class : {"crypto", "rwa", "stable", "cash"}
    cost : float
        One-off trading cost as a fraction of traded value (``0.01`` = 1%). The optimizer charges
        ``cost * |w - w_prev|`` and vectorbt charges the same number as ``fees``.
    calendar : {"24/7", "XNYS"}
        When the market is open: every day, or New York Stock Exchange sessions.
    schedule : {"daily", "every2", "weekly", "monthly", "never"} or None
        How often the strategy may re-weight this asset. ``None`` takes the class default.
    proxies : str or None
        For an RWA proxy, what it stands in for (``"tokenized real estate"``).
    name : str
        Human-readable name.
    """

    symbol: str
    asset_class: AssetClass
    cost: float
    calendar: TradingCalendar = "24/7"
    schedule: Schedule | None = None
    proxies: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not self.symbol:
            raise ConfigError(f"`symbol` must be a non-empty string, got {self.symbol!r}")
        if self.asset_class not in ASSET_CLASSES:
            raise ConfigError(
                f"`asset_class` of {self.symbol} must be one of {ASSET_CLASSES}, "
                f"got {self.asset_class!r}"
            )
        if not np.isfinite(self.cost) or self.cost < 0 or self.cost >= 1:
            raise ConfigError(
                f"`cost` of {self.symbol} must be a finite fraction in [0, 1), got {self.cost!r}"
            )
        if self.calendar not in get_args(TradingCalendar):
            raise ConfigError(
                f"`calendar` of {self.symbol} must be one of {get_args(TradingCalendar)}, "
                f"got {self.calendar!r}"
            )
        if self.schedule is not None and not is_schedule(self.schedule):
            raise ConfigError(
                f"`schedule` of {self.symbol} must be one of {SCHEDULES + INTRADAY_SCHEDULES} or None, "
                f"got {self.schedule!r}"
            )

    @property
    def effective_schedule(self) -> str:
        """The update schedule, with the class default filled in."""
        return self.schedule if self.schedule is not None else DEFAULT_SCHEDULES[self.asset_class]

    @property
    def trades_24_7(self) -> bool:
        return self.calendar == "24/7"


def _crypto(symbol: str, name: str) -> Asset:
    return Asset(symbol, "crypto", DEFAULT_COSTS["crypto"], "24/7", name=name)


def _stable(symbol: str, name: str) -> Asset:
    return Asset(symbol, "stable", DEFAULT_COSTS["stable"], "24/7", name=name)


def _rwa(symbol: str, proxies: str, name: str, calendar: TradingCalendar = "XNYS") -> Asset:
    return Asset(symbol, "rwa", DEFAULT_COSTS["rwa"], calendar, proxies=proxies, name=name)


#: Built-in registry. RWA proxies are exchange-traded funds standing in for their tokenized
#: versions; the first of each group is the default, the others are alternatives.
REGISTRY: Mapping[str, Asset] = {
    a.symbol: a
    for a in (
        _crypto("BTC-USD", "Bitcoin"),
        _crypto("ETH-USD", "Ether"),
        _crypto("SOL-USD", "Solana"),
        _crypto("BNB-USD", "BNB"),
        _stable("USDT-USD", "Tether"),
        _stable("USDC-USD", "USD Coin"),
        _rwa("VNQ", "tokenized real estate", "Vanguard Real Estate ETF"),
        _rwa("IYR", "tokenized real estate", "iShares U.S. Real Estate ETF"),
        _rwa("BIL", "tokenized T-bills", "SPDR Bloomberg 1-3 Month T-Bill ETF"),
        _rwa("SHV", "tokenized T-bills", "iShares Short Treasury Bond ETF"),
        _rwa("SGOV", "tokenized T-bills", "iShares 0-3 Month Treasury Bond ETF"),
        _rwa("GLD", "tokenized gold", "SPDR Gold Shares"),
        _rwa("IAU", "tokenized gold", "iShares Gold Trust"),
        _rwa("PAXG-USD", "tokenized gold", "PAX Gold (itself tokenized, trades 24/7)", "24/7"),
        _rwa("TLT", "tokenized long treasuries", "iShares 20+ Year Treasury Bond ETF"),
        _rwa("IEF", "tokenized long treasuries", "iShares 7-10 Year Treasury Bond ETF"),
        _rwa("SHY", "tokenized T-bills", "iShares 1-3 Year Treasury Bond ETF"),
    )
}

#: Default proxy for each kind of tokenized RWA, with its alternatives.
RWA_PROXIES: Mapping[str, tuple[str, ...]] = {
    "tokenized real estate": ("VNQ", "IYR"),
    "tokenized T-bills": ("BIL", "SHV", "SGOV"),
    "tokenized gold": ("GLD", "IAU", "PAXG-USD"),
    "tokenized long treasuries": ("TLT", "IEF"),
}


def make_asset(symbol: str, **overrides: object) -> Asset:
    """Asset for ``symbol``: from the registry when known, otherwise inferred.

    An unknown symbol ending in ``-USD``/``-USDT`` is taken as 24/7 crypto; anything else as an
    exchange-traded RWA proxy on the NYSE calendar. ``overrides`` replace any field (``cost=...``).
    """
    base = REGISTRY.get(symbol.upper()) if isinstance(symbol, str) else None
    if base is None:
        if not isinstance(symbol, str) or not symbol:
            raise ConfigError(f"`symbol` must be a non-empty string, got {symbol!r}")
        upper = symbol.upper()
        if upper.endswith(("-USD", "-USDT", "USDT")):
            base = Asset(symbol, "crypto", DEFAULT_COSTS["crypto"], "24/7")
        else:
            base = Asset(symbol, "rwa", DEFAULT_COSTS["rwa"], "XNYS", proxies="unspecified RWA")
    elif base.symbol != symbol:
        base = replace(base, symbol=symbol)
    if not overrides:
        return base
    if "asset_class" in overrides and "cost" not in overrides:
        klass = str(overrides["asset_class"])
        if klass not in DEFAULT_COSTS:
            raise ConfigError(
                f"`asset_class` of {symbol} must be one of {ASSET_CLASSES}, got {klass!r}"
            )
        overrides = {**overrides, "cost": DEFAULT_COSTS[klass]}
    unknown = set(overrides) - set(Asset.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"unknown Asset field(s) {sorted(unknown)} for {symbol}")
    return replace(base, **overrides)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Universe:
    """An ordered, immutable collection of assets with unique symbols."""

    assets: tuple[Asset, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.assets, tuple) or not all(isinstance(a, Asset) for a in self.assets):
            raise ConfigError("`assets` must be a tuple of Asset")
        if not self.assets:
            raise ConfigError("`assets` must hold at least one asset, got none")
        symbols = [a.symbol for a in self.assets]
        dupes = sorted({s for s in symbols if symbols.count(s) > 1})
        if dupes:
            raise ConfigError(f"`assets` has duplicate symbols {dupes}")

    @classmethod
    def from_symbols(
        cls,
        symbols: Iterable[str],
        *,
        costs: Mapping[str, float] | None = None,
        overrides: Mapping[str, Mapping[str, object]] | None = None,
    ) -> Universe:
        """Build a universe from symbols, with optional per-asset cost and field overrides."""
        symbols = list(symbols)
        costs = dict(costs or {})
        overrides = {k: dict(v) for k, v in (overrides or {}).items()}  # copies: never mutate
        unknown = (set(costs) | set(overrides)) - set(symbols)
        if unknown:
            split_costs(dict.fromkeys(unknown, 0.0), symbols)  # a likely typo says so
            raise ConfigError(
                f"`costs`/`overrides` name symbols not in the universe: {sorted(unknown)}"
            )
        assets = []
        for s in symbols:
            fields: dict[str, object] = dict(overrides.get(s, {}))
            if s in costs:
                fields["cost"] = costs[s]
            assets.append(make_asset(s, **fields))
        return cls(tuple(assets))

    def __iter__(self) -> Iterator[Asset]:
        return iter(self.assets)

    def __len__(self) -> int:
        return len(self.assets)

    def __getitem__(self, symbol: str) -> Asset:
        for a in self.assets:
            if a.symbol == symbol:
                return a
        raise KeyError(symbol)

    @property
    def symbols(self) -> list[str]:
        return [a.symbol for a in self.assets]

    @property
    def costs(self) -> np.ndarray:
        """Per-asset one-off cost, shape (n_assets,), fraction of traded value."""
        return np.array([a.cost for a in self.assets], dtype=float)

    @property
    def classes(self) -> list[str]:
        return [a.asset_class for a in self.assets]

    def to_dict(self) -> list[dict[str, object]]:
        return [
            {
                "symbol": a.symbol,
                "asset_class": a.asset_class,
                "cost": a.cost,
                "calendar": a.calendar,
                "schedule": a.effective_schedule,
                "proxies": a.proxies,
                "name": a.name,
            }
            for a in self
        ]


def split_costs(
    costs: Mapping[str, float], symbols: Iterable[str]
) -> tuple[dict[str, float], list[str]]:
    """Per-asset costs for the loaded ``symbols`` and the names of those for other symbols.

    A name that is not loaded but is close to a loaded symbol (same letters in another case,
    or a near spelling such as ``BTC-UDS`` for ``BTC-USD``) is taken for a typo: that cost would
    silently not apply, so it raises.

    Returns
    -------
    used : dict symbol -> cost
    unused : list of str
        Names of symbols that are not loaded (sorted), for the caller to report.

    Raises
    ------
    ConfigError
        A name looks like a misspelt loaded symbol (the message suggests it).
    """
    import difflib

    loaded = list(symbols)
    by_upper = {s.upper(): s for s in loaded}
    unused = sorted(set(costs) - set(loaded))
    for name in unused:
        close = difflib.get_close_matches(name.upper(), list(by_upper), n=1, cutoff=0.8)
        if close:
            raise ConfigError(
                f"`costs` names {name!r}, which is not loaded; did you mean {by_upper[close[0]]!r}? "
                f"(loaded: {loaded})"
            )
    return {k: float(v) for k, v in costs.items() if k in set(loaded)}, unused
