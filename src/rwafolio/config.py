"""TOML run configuration: strategy parameters, per-asset costs and data options.

A config file has up to three tables; every key is optional and unknown keys are errors::

    [strategy]
    lam0 = 2.0              # baseline risk aversion (no 1/2 in front of w'Sigma w)
    eta = 0.05              # lam = lam0 * (1 + eta * VIX)
    window = 30             # estimation window, in periods
    estimator = "ledoit_wolf"   # "sample" | "ewma" | "ledoit_wolf"
    ewma_halflife = 10.0    # periods, for estimator = "ewma"
    threshold = 0.01
    threshold_mode = "per_asset"  # "per_asset" | "portfolio" | "none"
    stress_vix = 25.0       # or false to disable the stress override
    cost_horizon = 1.0      # deprecated: trade_aversion = 1 / (cost_horizon * periods a year)
    cost_mode = "model"     # "model" | "blind" (the key `costs` is read as cost_mode too)
    preset = "model"        # start from the model's own parameters (other keys override)
    mean_estimator = "black_litterman"  # "sample" | "zero" | "ewma" | "equilibrium" |
                            # "black_litterman" | "james_stein" | "bayes_stein"
    prior_obs = 365.0       # Black-Litterman prior weight, in observations
    trade_aversion = 1.0    # gamma on one-off costs against per-period utility
    utility_threshold = 0.01  # trade only if U gains more than this (annualized)
    [strategy.class_indexes]  # one volatility index per asset class
    crypto = "realized:BTC-USD"
    rwa = "vix"
    [strategy.schedules]    # by asset class or symbol
    crypto = "daily"
    rwa = "weekly"
    [strategy.bounds]
    "BTC-USD" = [0.0, 0.6]

    [costs]                 # one-off cost per unit traded, by symbol (optimizer AND fees)
    VNQ = 0.008

    [assets.gld_hourly]     # a symbol declared, not guessed (any field may be left out)
    class = "rwa"           # "crypto" | "rwa" | "stable" | "cash"
    calendar = "XNYS"       # "24/7" | "XNYS"
    cost = 0.002            # one-off cost per unit traded (wins over [costs])
    proxies = "gold"        # what it stands in for
    schedule = "daily"
    daily = false           # a daily file in an hourly panel (a daily proxy)

    [data]
    policy = "all_days"     # "all_days" | "exchange_days"
    missing = "raise"       # a missing data day: "raise" | "ffill" (not tradable) | "drop"
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rwafolio.exceptions import ConfigError

_STRATEGY_KEYS = {
    "lam0",
    "eta",
    "window",
    "estimator",
    "ewma_halflife",
    "threshold",
    "threshold_mode",
    "stress_vix",
    "cost_horizon",
    "cost_mode",
    "costs",
    "schedules",
    "bounds",
    "preset",
    "mean_estimator",
    "prior_obs",
    "trade_aversion",
    "utility_threshold",
    "class_indexes",
}
_DATA_KEYS = {"policy", "missing", "bar"}
_ASSET_KEYS = {
    "class": "asset_class",
    "calendar": "calendar",
    "cost": "cost",
    "proxies": "proxies",
    "schedule": "schedule",
    "name": "name",
    "daily": "daily",
}


def _number(value: Any, where: str) -> float:
    """A TOML number (not a boolean, not a string) as float, or a ConfigError naming the key."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"config {where} must be a number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class RunConfig:
    """Parsed configuration (see module docstring)."""

    strategy: Mapping[str, Any] = field(default_factory=dict)
    costs: Mapping[str, float] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None
    assets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def asset_overrides(self) -> dict[str, dict[str, Any]]:
        """``[assets.SYMBOL]`` as :meth:`rwafolio.universe.Universe.from_symbols` overrides."""
        return {s: {k: v for k, v in a.items() if k != "daily"} for s, a in self.assets.items()}

    def daily_symbols(self) -> list[str]:
        """Symbols declared ``daily = true`` (daily files in an intraday panel)."""
        return [s for s, a in self.assets.items() if a.get("daily")]


def parse_config(doc: Mapping[str, Any], path: str | None = None) -> RunConfig:
    """Validate a TOML document already parsed into a mapping."""
    unknown = set(doc) - {"strategy", "costs", "data", "assets"}
    if unknown:
        raise ConfigError(
            f"config {path or ''}: unknown table(s) {sorted(unknown)}; expected strategy, costs, "
            "data, assets"
        )
    strat = dict(doc.get("strategy", {}))
    bad = set(strat) - _STRATEGY_KEYS
    if bad:
        raise ConfigError(
            f"config [strategy]: unknown key(s) {sorted(bad)}; known: {sorted(_STRATEGY_KEYS)}"
        )
    if strat.get("stress_vix") is False:
        strat["stress_vix"] = None
    for key in (
        "lam0",
        "eta",
        "threshold",
        "stress_vix",
        "cost_horizon",
        "ewma_halflife",
        "prior_obs",
        "trade_aversion",
        "utility_threshold",
    ):
        if key in strat and strat[key] is not None:
            strat[key] = _number(strat[key], f"[strategy].{key}")
    if "window" in strat and (
        not isinstance(strat["window"], int) or isinstance(strat["window"], bool)
    ):
        raise ConfigError(f"config [strategy].window must be an integer, got {strat['window']!r}")
    if "costs" in strat:  # the strategy's cost mode was called `costs` before 0.x; same values
        if "cost_mode" in strat:
            raise ConfigError("config [strategy] sets both `cost_mode` and its old name `costs`")
        strat["cost_mode"] = strat.pop("costs")
    for key in ("estimator", "threshold_mode", "cost_mode", "preset", "mean_estimator"):
        if key in strat and not isinstance(strat[key], str):
            raise ConfigError(f"config [strategy].{key} must be a string, got {strat[key]!r}")
    if "schedules" in strat:
        if not isinstance(strat["schedules"], dict) or not all(
            isinstance(v, str) for v in strat["schedules"].values()
        ):
            raise ConfigError(
                "config [strategy.schedules] must be a table of class or symbol = schedule name, "
                f"got {strat['schedules']!r}"
            )
    if "class_indexes" in strat and not isinstance(strat["class_indexes"], dict):
        raise ConfigError(
            "config [strategy.class_indexes] must be a table of class = source or "
            f"[source, stress], got {strat['class_indexes']!r}"
        )
    if "bounds" in strat:
        bounds = strat["bounds"]
        if not isinstance(bounds, dict):
            raise ConfigError(f"config [strategy.bounds] must be a table, got {bounds!r}")
        parsed = {}
        for k, v in bounds.items():
            if not isinstance(v, list) or len(v) != 2:
                raise ConfigError(f"config [strategy.bounds].{k} must be [lo, hi], got {v!r}")
            parsed[str(k)] = (
                _number(v[0], f"[strategy.bounds].{k}[0]"),
                _number(v[1], f"[strategy.bounds].{k}[1]"),
            )
        strat["bounds"] = parsed
    costs = {str(k): _number(v, f"[costs].{k}") for k, v in dict(doc.get("costs", {})).items()}
    data = dict(doc.get("data", {}))
    bad = set(data) - _DATA_KEYS
    if bad:
        raise ConfigError(
            f"config [data]: unknown key(s) {sorted(bad)}; known: {sorted(_DATA_KEYS)}"
        )
    if "bar" in data and data["bar"] not in ("1h", "1d"):
        raise ConfigError(f"config [data].bar must be '1h' or '1d', got {data['bar']!r}")
    return RunConfig(
        strategy=strat,
        costs=costs,
        data=data,
        path=path,
        assets=_parse_assets(doc.get("assets", {})),
    )


def _parse_assets(table: Any) -> dict[str, dict[str, Any]]:
    """``[assets.SYMBOL]`` tables -> Asset field overrides (checked by building the Asset)."""
    from rwafolio.universe import make_asset

    if not isinstance(table, dict):
        raise ConfigError(f"config [assets] must hold [assets.SYMBOL] tables, got {table!r}")
    out: dict[str, dict[str, Any]] = {}
    for sym, fields in table.items():
        if not isinstance(fields, dict):
            raise ConfigError(f"config [assets.{sym}] must be a table, got {fields!r}")
        bad = set(fields) - set(_ASSET_KEYS)
        if bad:
            raise ConfigError(
                f"config [assets.{sym}]: unknown key(s) {sorted(bad)}; known: {sorted(_ASSET_KEYS)}"
            )
        parsed = {_ASSET_KEYS[k]: v for k, v in fields.items()}
        if "cost" in parsed:
            parsed["cost"] = _number(parsed["cost"], f"[assets.{sym}].cost")
        if parsed.get("asset_class") in ("crypto", "stable") and "calendar" not in parsed:
            parsed["calendar"] = "24/7"  # a declared crypto asset trades around the clock
        if "daily" in parsed and not isinstance(parsed["daily"], bool):
            raise ConfigError(f"config [assets.{sym}].daily must be true or false")
        make_asset(str(sym), **{k: v for k, v in parsed.items() if k != "daily"})  # validates
        out[str(sym)] = parsed
    return out


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """Parse a TOML file; ``what`` names the parameter in error messages (e.g. ``"--config"``)."""
    p = Path(path)
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"`{what}` file {str(p)!r} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"`{what}` file {str(p)!r} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"`{what}` file {str(p)!r} is not valid TOML: {exc}") from None


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a TOML config file."""
    return parse_config(read_toml(path, "--config"), str(path))


def build_strategy(params: Mapping[str, Any]) -> Any:
    """DynamicLambdaStrategy from config parameters (estimator given by name)."""
    from rwafolio.optimize import EWMAEstimator, LedoitWolfEstimator, SampleEstimator
    from rwafolio.strategies import DynamicLambdaStrategy

    kw = dict(params)
    preset = kw.pop("preset", None)
    if preset not in (None, "model", "default"):
        raise ConfigError(f"`preset` must be 'model' or 'default', got {preset!r}")
    kw = _mean_estimator(kw)
    if preset == "model":
        from rwafolio.strategies.dynamic import MODEL_PRESET

        kw = {**MODEL_PRESET, **kw}
    name = kw.pop("estimator", None)
    halflife = kw.pop("ewma_halflife", None)
    if halflife is not None and name != "ewma":
        raise ConfigError('`ewma_halflife` needs `estimator = "ewma"`')
    if name == "ewma":
        kw["estimator"] = EWMAEstimator(halflife=float(halflife if halflife is not None else 10.0))
    elif name == "sample":
        kw["estimator"] = SampleEstimator()
    elif name == "ledoit_wolf":
        kw["estimator"] = LedoitWolfEstimator()
    elif name is not None:
        raise ConfigError(f"`estimator` must be 'sample', 'ewma' or 'ledoit_wolf', got {name!r}")
    return DynamicLambdaStrategy(**kw)


_MEAN_ESTIMATORS = (
    "sample",
    "zero",
    "ewma",
    "equilibrium",
    "black_litterman",
    "james_stein",
    "bayes_stein",
)


def _mean_estimator(kw: dict[str, Any]) -> dict[str, Any]:
    """Replace ``mean_estimator`` (a name) and ``prior_obs`` by the estimator object."""
    from rwafolio.optimize import returns as rt

    name = kw.pop("mean_estimator", None)
    prior = kw.pop("prior_obs", None)
    if prior is not None and name != "black_litterman":
        raise ConfigError('`prior_obs` needs `mean_estimator = "black_litterman"`')
    if name is None:
        return kw
    halflife = kw.get("ewma_halflife")
    made = {
        "sample": lambda: rt.SampleMean(),
        "zero": lambda: rt.ZeroMean(),
        "ewma": lambda: rt.EWMAMean(float(halflife) if halflife is not None else 10.0),
        "equilibrium": lambda: rt.Equilibrium(),
        "black_litterman": lambda: rt.BlackLitterman(float(prior if prior is not None else 365.0)),
        "james_stein": lambda: rt.JamesStein(),
        "bayes_stein": lambda: rt.BayesStein(),
    }
    if name not in made:
        raise ConfigError(f"`mean_estimator` must be one of {_MEAN_ESTIMATORS}, got {name!r}")
    return {**kw, "mean_estimator": made[name]()}
