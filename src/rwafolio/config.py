"""The one TOML schema of rwafolio: run configs and walk-forward grid files, parsed once.

A file has up to six tables; every key is optional, unknown tables and keys are errors, and every
value is type-checked here (a :class:`~rwafolio.exceptions.ConfigError` naming the key, never an
``AttributeError`` later)::

    [strategy]
    name = "dynamic"        # "dynamic" | "fixed_mix" | "equal_weight" | "buy_and_hold"
    lam0 = 2.0              # baseline risk aversion (no 1/2 in front of w'Sigma w)
    eta = 0.05              # lam = lam0 * (1 + eta * VIX)
    window = 30             # estimation window, in periods
    estimator = "ledoit_wolf"   # "sample" | "ewma" | "ledoit_wolf"
    ewma_halflife = 10.0    # periods, for estimator = "ewma"
    risk_aversion = "vix_linear"  # "vix_linear" (lam0, eta) | "constant" (lam0)
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
    bar = "1d"              # "1d" | "1h" (hourly files; see rwafolio.loaders.intraday)

    [risk]
    horizon = 30            # VaR horizon, periods
    every = 5               # forecast every k-th decision date
    mean = "estimate"       # "estimate" | "zero"

    [grid]                  # walk-forward grid files: parameter = [values, ...]
    lam0 = [1.0, 2.0]
    estimator = ["sample", "ewma"]

    [walkforward]           # walk-forward run settings (see rwafolio.pipeline.walkforward)
    train = "730D"

Estimators and rules are chosen by name and built here (:func:`build_estimator`); grid values are
checked with the same per-key rules as ``[strategy]``. Precedence everywhere: a command-line flag
wins over the file, which wins over the defaults in the strategy's signature.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rwafolio.exceptions import ConfigError
from rwafolio.utils.tomlfile import read_toml
from rwafolio.utils.validation import check_choice, check_int, check_number

__all__ = [
    "ESTIMATORS",
    "MEAN_ESTIMATORS",
    "STRATEGIES",
    "GridSpec",
    "RunConfig",
    "build_estimator",
    "build_mean_estimator",
    "load_config",
    "load_grid",
    "parse_config",
    "read_toml",
    "rebuild_param",
    "rebuild_strategy",
]

#: Strategy names of ``[strategy].name`` and the class each builds.
STRATEGIES: Mapping[str, str] = {
    "dynamic": "DynamicLambdaStrategy",
    "fixed_mix": "FixedMix",
    "equal_weight": "EqualWeight",
    "buy_and_hold": "BuyAndHold",
}
#: Estimator names of ``[strategy].estimator`` (the covariance and its mean).
ESTIMATORS: tuple[str, ...] = ("sample", "ewma", "ledoit_wolf")
#: Names of ``[strategy].mean_estimator`` (the expected-return estimator).
MEAN_ESTIMATORS: tuple[str, ...] = (
    "sample", "zero", "ewma", "equilibrium", "black_litterman", "james_stein", "bayes_stein",
)  # fmt: skip
_TABLES = ("strategy", "costs", "assets", "data", "risk", "grid", "walkforward")
_DATA_KEYS: Mapping[str, tuple[str, ...]] = {
    "policy": ("all_days", "exchange_days"),
    "missing": ("raise", "ffill", "drop"),
    "bar": ("1d", "1h"),
}
_ASSET_KEYS = {
    "class": "asset_class",
    "calendar": "calendar",
    "cost": "cost",
    "proxies": "proxies",
    "schedule": "schedule",
    "name": "name",
    "daily": "daily",
}
_RISK_KEYS = ("horizon", "every", "mean")


def _number(value: Any, where: str) -> float:
    """A finite TOML number (not a boolean, not a string), or a ConfigError naming the key."""
    return check_number(value, f"config {where}")


def _nonnegative(value: Any, where: str) -> float:
    """A finite number >= 0 (``lam0``, ``eta``: as their flags check them)."""
    return check_number(value, f"config {where}", minimum=0.0)


def _integer(value: Any, where: str) -> int:
    return check_int(value, f"config {where}")


def _choice(choices: tuple[str, ...]) -> Callable[[Any, str], str]:
    def check(value: Any, where: str) -> str:
        return check_choice(value, f"config {where}", choices)

    return check


def _optional_number(value: Any, where: str) -> float | None:
    return None if value is False else _number(value, where)


def _schedules(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(
            f"config {where} must be a table of class or symbol = schedule name, got {value!r}"
        )
    return {str(k): v for k, v in value.items()}


def _bounds(value: Any, where: str) -> dict[str, tuple[float, float]]:
    if not isinstance(value, dict):
        raise ConfigError(f"config {where} must be a table, got {value!r}")
    parsed = {}
    for k, v in value.items():
        if not isinstance(v, list) or len(v) != 2:
            raise ConfigError(f"config {where}.{k} must be [lo, hi], got {v!r}")
        parsed[str(k)] = (_number(v[0], f"{where}.{k}[0]"), _number(v[1], f"{where}.{k}[1]"))
    return parsed


def _class_indexes(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(
            f"config {where} must be a table of class = source or [source, stress], got {value!r}"
        )
    return dict(value)


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


def _weights(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ConfigError(f"config {where} must be a table of symbol = weight, got {value!r}")
    return {str(k): _number(v, f"{where}.{k}") for k, v in value.items()}


#: Per-key checks of ``[strategy]`` (and of ``[grid]`` values).
_STRATEGY_KEYS: Mapping[str, Callable[[Any, str], Any]] = {
    "name": _choice(tuple(STRATEGIES)),
    "lam0": _nonnegative,
    "eta": _nonnegative,
    "window": _integer,
    "estimator": _choice(ESTIMATORS),
    "ewma_halflife": _number,
    "risk_aversion": _choice(("vix_linear", "constant")),
    "threshold": _number,
    "threshold_mode": _choice(("per_asset", "portfolio", "none")),
    "stress_vix": _optional_number,
    "cost_horizon": _number,
    "cost_mode": _choice(("model", "blind")),
    "costs": _choice(("model", "blind")),  # the old name of cost_mode
    "preset": _choice(("model", "default")),
    "mean_estimator": _choice(MEAN_ESTIMATORS),
    "prior_obs": _number,
    "trade_aversion": _number,
    "utility_threshold": _number,
    "class_indexes": _class_indexes,
    "schedules": _schedules,
    "bounds": _bounds,
    "weights": _weights,
    "warmup_periods": _integer,
}


def build_estimator(name: str, halflife: float | None = None) -> Any:
    """The estimator object of ``name`` (one of :data:`ESTIMATORS`)."""
    from rwafolio.optimize import EWMAEstimator, LedoitWolfEstimator, SampleEstimator

    if halflife is not None and name != "ewma":
        raise ConfigError('config [strategy].ewma_halflife needs `estimator = "ewma"`')
    if name == "ewma":
        return EWMAEstimator(halflife=float(halflife if halflife is not None else 10.0))
    if name == "sample":
        return SampleEstimator()
    if name == "ledoit_wolf":
        return LedoitWolfEstimator()
    raise ConfigError(
        f"config [strategy].estimator must be one of {list(ESTIMATORS)}, got {name!r}"
    )


def _check_strategy(table: Any, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"config {where} must be a table, got {table!r}")
    bad = sorted(set(table) - set(_STRATEGY_KEYS))
    if bad:
        raise ConfigError(f"config {where}: unknown key(s) {bad}; known: {sorted(_STRATEGY_KEYS)}")
    out = {k: _STRATEGY_KEYS[k](v, f"{where}.{k}") for k, v in table.items()}
    if "costs" in out:  # the strategy's cost mode was called `costs` before 0.x; same values
        if "cost_mode" in out:
            raise ConfigError(f"config {where} sets both `cost_mode` and its old name `costs`")
        out["cost_mode"] = out.pop("costs")
    return out


def build_mean_estimator(name: str, *, prior_obs: float | None, halflife: float | None) -> Any:
    """The expected-return estimator of ``name`` (one of :data:`MEAN_ESTIMATORS`)."""
    from rwafolio.optimize import returns as rt

    if prior_obs is not None and name != "black_litterman":
        raise ConfigError('config [strategy].prior_obs needs `mean_estimator = "black_litterman"`')
    made = {
        "sample": lambda: rt.SampleMean(),
        "zero": lambda: rt.ZeroMean(),
        "ewma": lambda: rt.EWMAMean(float(halflife) if halflife is not None else 10.0),
        "equilibrium": lambda: rt.Equilibrium(),
        "black_litterman": lambda: rt.BlackLitterman(
            float(prior_obs if prior_obs is not None else 365.0)
        ),
        "james_stein": lambda: rt.JamesStein(),
        "bayes_stein": lambda: rt.BayesStein(),
    }
    if name not in made:
        raise ConfigError(
            f"config [strategy].mean_estimator must be one of {list(MEAN_ESTIMATORS)}, got {name!r}"
        )
    return made[name]()


def _check_grid(table: Any) -> dict[str, list[Any]]:
    if not isinstance(table, dict):
        raise ConfigError(f"config [grid] must be a table of parameter = [values], got {table!r}")
    out: dict[str, list[Any]] = {}
    for k, values in table.items():
        if k not in _STRATEGY_KEYS or k in ("name", "ewma_halflife"):
            known = sorted(set(_STRATEGY_KEYS) - {"name", "ewma_halflife"})
            raise ConfigError(f"config [grid]: unknown parameter {k!r}; known: {known}")
        if not isinstance(values, list) or not values:
            raise ConfigError(f"config [grid].{k} must be a non-empty list, got {values!r}")
        out[k] = [_STRATEGY_KEYS[k](v, f"[grid].{k}[{i}]") for i, v in enumerate(values)]
        twice = [v for i, v in enumerate(out[k]) if v in out[k][:i]]
        if twice:  # the same point would run (and be counted in the selection) twice
            raise ConfigError(f"config [grid].{k} lists {twice[0]!r} more than once: {values!r}")
    return out


@dataclass(frozen=True)
class RunConfig:
    """A parsed configuration (see the module docstring); every table already validated.

    Attributes
    ----------
    strategy : mapping
        ``[strategy]`` (``name`` included when given).
    costs : mapping symbol -> float
    data : mapping
        ``[data]``: ``policy``, ``missing``, ``bar``.
    risk : mapping
        ``[risk]``: ``horizon``, ``every``, ``mean``.
    grid : mapping name -> list or None
        ``[grid]`` of a walk-forward grid file (values checked like ``[strategy]``'s).
    walkforward : mapping
        ``[walkforward]`` run settings (checked by the walk-forward pipeline).
    path : str or None
    assets : mapping symbol -> mapping
        ``[assets.SYMBOL]`` tables as Asset field overrides (``daily`` included).
    """

    strategy: Mapping[str, Any] = field(default_factory=dict)
    costs: Mapping[str, float] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    risk: Mapping[str, Any] = field(default_factory=dict)
    grid: Mapping[str, list[Any]] | None = None
    walkforward: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None
    assets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def asset_overrides(self) -> dict[str, dict[str, Any]]:
        """``[assets.SYMBOL]`` as :meth:`rwafolio.universe.Universe.from_symbols` overrides."""
        return {s: {k: v for k, v in a.items() if k != "daily"} for s, a in self.assets.items()}

    def daily_symbols(self) -> list[str]:
        """Symbols declared ``daily = true`` (daily files in an intraday panel)."""
        return [s for s, a in self.assets.items() if a.get("daily")]

    @property
    def strategy_name(self) -> str:
        return str(self.strategy.get("name", "dynamic"))

    def with_overrides(self, **params: Any) -> RunConfig:
        """A copy with ``[strategy]`` keys replaced (None values are ignored), checked the same
        way: how command-line flags win over the file."""
        given = {k: v for k, v in params.items() if v is not None}
        checked = _check_strategy(given, "flag")
        return replace(self, strategy={**self.strategy, **checked})

    def strategy_params(self) -> dict[str, Any]:
        """Constructor arguments of the strategy (preset applied; estimator, mean estimator and
        rule names built)."""
        kw = {k: v for k, v in self.strategy.items() if k != "name"}
        preset = kw.pop("preset", None)
        mean_name, prior = kw.pop("mean_estimator", None), kw.pop("prior_obs", None)
        if mean_name is not None:
            kw["mean_estimator"] = build_mean_estimator(
                mean_name, prior_obs=prior, halflife=kw.get("ewma_halflife")
            )
        elif prior is not None:
            raise ConfigError(
                'config [strategy].prior_obs needs `mean_estimator = "black_litterman"`'
            )
        if preset == "model":
            from rwafolio.strategies.dynamic import MODEL_PRESET

            kw = {**MODEL_PRESET, **kw}
        name = kw.pop("estimator", None)
        halflife = kw.pop("ewma_halflife", None)
        if halflife is not None and "ewma" not in (name, mean_name):
            raise ConfigError('config [strategy].ewma_halflife needs `estimator = "ewma"`')
        if name is not None:
            kw["estimator"] = build_estimator(name, halflife if name == "ewma" else None)
        rule = kw.pop("risk_aversion", None)
        if rule == "constant":
            from rwafolio.optimize.risk_aversion import DEFAULT_LAM0, Constant

            kw["risk_aversion"] = Constant(float(kw.get("lam0", DEFAULT_LAM0)))
        return kw

    def build_strategy(self) -> Any:
        """The configured strategy (a :class:`~rwafolio.strategies.DynamicLambdaStrategy` by
        default). Raises ConfigError when a parameter does not fit the named strategy."""
        import rwafolio.strategies as strategies

        cls = getattr(strategies, STRATEGIES[self.strategy_name])
        try:
            return cls(**self.strategy_params())
        except TypeError as exc:
            raise ConfigError(
                f"config [strategy] parameters do not fit {cls.__name__}: {exc}"
            ) from None

    def grid_points(self) -> list[dict[str, Any]]:
        """``[grid]`` values ready for ``set_params`` (estimator names built)."""
        halflife = self.strategy.get("ewma_halflife")
        out: dict[str, list[Any]] = {}
        for k, values in (self.grid or {}).items():
            if k == "estimator":
                out[k] = [build_estimator(v, halflife if v == "ewma" else None) for v in values]
            elif k == "risk_aversion":
                raise ConfigError("config [grid].risk_aversion is not supported; grid lam0/eta")
            else:
                out[k] = list(values)
        return [out] if out else []


def parse_config(doc: Mapping[str, Any], path: str | None = None) -> RunConfig:
    """Validate a TOML document already parsed into a mapping."""
    if not isinstance(doc, Mapping):
        raise ConfigError(f"config {path or ''} must be a TOML table, got {type(doc).__name__}")
    unknown = set(doc) - set(_TABLES)
    if unknown:
        raise ConfigError(
            f"config {path or ''}: unknown table(s) {sorted(unknown)}; expected {list(_TABLES)}"
        )
    for t in _TABLES:
        if t in doc and not isinstance(doc[t], dict):
            raise ConfigError(f"config [{t}] must be a table, got {doc[t]!r}")
    strat = _check_strategy(dict(doc.get("strategy", {})), "[strategy]")
    uses_halflife = "ewma" in (strat.get("estimator", "ewma"), strat.get("mean_estimator"))
    if "ewma_halflife" in strat and not uses_halflife:
        raise ConfigError('config [strategy].ewma_halflife needs `estimator = "ewma"`')
    costs = {str(k): _number(v, f"[costs].{k}") for k, v in dict(doc.get("costs", {})).items()}
    data = dict(doc.get("data", {}))
    for k, v in data.items():
        if k not in _DATA_KEYS:
            raise ConfigError(f"config [data]: unknown key {k!r}; known: {sorted(_DATA_KEYS)}")
        _choice(_DATA_KEYS[k])(v, f"[data].{k}")
    risk = dict(doc.get("risk", {}))
    for k, v in risk.items():
        if k not in _RISK_KEYS:
            raise ConfigError(f"config [risk]: unknown key {k!r}; known: {list(_RISK_KEYS)}")
        if k == "mean":
            _choice(("estimate", "zero"))(v, "[risk].mean")
        elif k == "every":
            risk[k] = check_int(v, "config [risk].every", minimum=1)
        else:  # horizon: the Monte Carlo settings' own check (risk imported for it only)
            from rwafolio.risk.montecarlo import check_setting

            risk[k] = check_setting(v, f"config [risk].{k}", field=k)
    grid = _check_grid(doc["grid"]) if "grid" in doc else None
    return RunConfig(
        strategy=strat, costs=costs, data=data, risk=risk, grid=grid,
        walkforward=dict(doc.get("walkforward", {})), path=path,
        assets=_parse_assets(doc.get("assets", {})),
    )  # fmt: skip


def load_config(path: str | Path, what: str = "--config") -> RunConfig:
    """Read and validate a TOML config file: a run config (``what="--config"``: no [grid] or
    [walkforward] table, which only a grid file's reader uses) or a grid file."""
    cfg = parse_config(read_toml(path, what), str(path))
    grid_tables = [t for t, v in (("[grid]", cfg.grid), ("[walkforward]", cfg.walkforward)) if v]
    if what == "--config" and grid_tables:
        raise ConfigError(
            f"`--config` file {str(path)!r} holds {' and '.join(grid_tables)}, which only "
            "`walkforward --grid` reads (they would be ignored here)"
        )
    return cfg


@dataclass(frozen=True)
class GridSpec:
    """A grid file's content: the strategy prototype, the grid points and run settings.

    Attributes
    ----------
    strategy : Strategy
        Built from ``[strategy]`` (``name`` plus fixed parameters).
    grid : tuple of dict
        The expanded points of ``[grid]`` (estimator names already built).
    settings : mapping
        ``[walkforward]`` options (``train``, ``test``, ``mode``, ``gap``, ``metric``, ...).
    config : RunConfig
        The whole parsed file.
    """

    strategy: Any
    grid: tuple[dict[str, Any], ...]
    settings: Mapping[str, Any] = field(default_factory=dict)
    config: RunConfig = field(default_factory=RunConfig)


def load_grid(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    config: RunConfig | None = None,
) -> GridSpec:
    """Read a walk-forward grid file (see ``examples/walkforward.toml``).

    ``[strategy]`` holds ``name`` (one of :data:`STRATEGIES`) and fixed parameters; ``[grid]``
    maps parameter names to lists; ``[walkforward]`` holds run settings. ``overrides`` (command
    line flags) replace ``[strategy]`` keys. ``config``: the file already read with
    ``load_config(path, "--grid")`` (a pipe can be read only once).
    """
    import itertools

    cfg = load_config(path, "--grid") if config is None else config
    if overrides:
        cfg = cfg.with_overrides(**overrides)
    if cfg.grid is None:
        raise ConfigError(f"`--grid` file {str(path)!r} has no [grid] table")
    prototype = cfg.build_strategy()
    valid = prototype.get_params()
    bad = sorted(set(cfg.grid) - set(valid))
    if bad:
        raise ConfigError(
            f"config [grid] names parameters {type(prototype).__name__} does not have: {bad}"
        )
    (part,) = cfg.grid_points()
    names = list(part)
    points = tuple(
        dict(zip(names, combo, strict=True)) for combo in itertools.product(*part.values())
    )
    return GridSpec(prototype, points, dict(cfg.walkforward), cfg)


# ------------------------------------------------------------------ saved parameters
#: Modules whose classes a saved run's typed parameters may name. Nothing else is ever built: a
#: saved file is data, and a type it names outside these is an error, not an import.
PARAM_MODULES: tuple[str, ...] = (
    "rwafolio.optimize.returns",
    "rwafolio.optimize.estimators",
    "rwafolio.optimize.risk_aversion",
    "rwafolio.strategies",
)


def _param_class(name: str) -> type:
    for module in PARAM_MODULES:
        obj = getattr(importlib.import_module(module), name, None)
        if isinstance(obj, type) and obj.__module__.startswith("rwafolio."):
            return obj
    raise ConfigError(f"saved parameters name an unknown type {name!r} (known: rwafolio's own)")


def rebuild_param(value: Any) -> Any:
    """A recorded parameter back as the object it was (inverse of ``param_jsonable``).

    ``{"type": "BlackLitterman", "prior_obs": 365.0, ...}`` becomes
    ``BlackLitterman(prior_obs=365.0, ...)``; containers are rebuilt element-wise and plain values
    pass through. Only rwafolio's own classes (:data:`PARAM_MODULES`) are built.

    Raises
    ------
    ConfigError
        A type that is not one of rwafolio's, or parameters its constructor refuses.
    """
    if isinstance(value, Mapping) and isinstance(value.get("type"), str):
        cls = _param_class(value["type"])
        kwargs = {str(k): rebuild_param(v) for k, v in value.items() if k != "type"}
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"saved parameters of {value['type']}: {exc}") from None
    if isinstance(value, Mapping):
        return {str(k): rebuild_param(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rebuild_param(v) for v in value]
    return value


def rebuild_strategy(params: Mapping[str, Any]) -> Any:
    """The strategy a run recorded in ``params`` (a result's or a saved run's ``params``).

    ``params["strategy"]`` names the class (one of :mod:`rwafolio.strategies`); its constructor
    parameters are rebuilt with :func:`rebuild_param`; the run's own entries (first decision,
    signal lag...) are not constructor parameters and are left out.
    """
    name = params.get("strategy")
    if not isinstance(name, str):
        raise ConfigError("saved parameters have no `strategy` class name")
    cls = _param_class(name)
    accepted = inspect.signature(cls).parameters
    kwargs = {k: rebuild_param(v) for k, v in params.items() if k in accepted}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"saved parameters of {name}: {exc}") from None
