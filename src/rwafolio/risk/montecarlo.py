"""The Monte Carlo settings of a risk forecast, validated in one place: :class:`MonteCarlo`.

Every entry point that simulates takes its Monte Carlo arguments either as keywords (``horizon=``,
``n_scenarios=``, ...) or as one ``settings=MonteCarlo(...)`` object (not both), and checks them
here, before anything runs: :func:`~rwafolio.risk.forecast`,
:func:`~rwafolio.risk.rolling_forecasts`, :func:`~rwafolio.risk.simulate_crowding`,
:func:`~rwafolio.risk.crowding_surface`, :func:`~rwafolio.risk.latest_scenarios`,
:func:`~rwafolio.risk.strategy_forecast`, the walk-forward's ``VarSettings``, the evaluation's
``EvaluationSpec``, the update-frequency study, the config's ``[risk]`` table, the pipeline's
``RiskOptions`` and the CLI's ``--horizon``, ``--scenarios`` and ``--nu``. A bad value raises a
:class:`~rwafolio.exceptions.ConfigError` naming the parameter (a flag, a config key or a
keyword), whichever door it came in by (``tests/risk/test_montecarlo.py`` feeds every bad value
to every door).

The settings a forecast ran with are recorded in its result (``RiskForecast.settings``,
``RollingForecasts.settings``) with the seed resolved, so ``forecast(..., settings=f.settings)``
reproduces ``f``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from rwafolio.exceptions import ConfigError, describe
from rwafolio.risk.scenarios import AGGREGATIONS, DISTRIBUTIONS, MIXINGS, resolve_seed
from rwafolio.utils.validation import check_choice, check_int

__all__ = [
    "FORECAST_DISTRIBUTIONS",
    "KEYWORDS",
    "MonteCarlo",
    "check_level",
    "check_setting",
    "resolve_settings",
]

#: Distributions of a forecast: the scenario kernel's, plus filtered historical simulation.
FORECAST_DISTRIBUTIONS: tuple[str, ...] = (*DISTRIBUTIONS, "fhs")


def _levels(value: Any, name: str) -> tuple[float, ...]:
    seq = (value,) if isinstance(value, int | float | np.number) else value
    try:
        lv = tuple(seq)
    except TypeError:
        lv = ()
    ok = bool(lv) and all(
        isinstance(x, int | float | np.number) and not isinstance(x, bool) and 0.0 < x < 1.0
        for x in lv
    )
    if not ok:
        raise ConfigError(f"`{name}` must be confidences in (0, 1), got {value!r}")
    return tuple(float(x) for x in lv)


def _nu(value: Any, name: str) -> float | str:
    if isinstance(value, str) and value == "fit":
        return "fit"
    if not isinstance(value, int | float | np.number) or isinstance(value, bool):
        raise ConfigError(f"`{name}` must be a number > 2 or 'fit', got {describe(value)}")
    if not (np.isfinite(value) and value > 2):
        raise ConfigError(
            f"`{name}` must be a finite number > 2 (so the covariance exists), got {value!r}"
        )
    return float(value)


def _rebalance(value: Any, name: str) -> str | int:
    if isinstance(value, str) and value == "drift":
        return "drift"
    if isinstance(value, str | bool | float) or not hasattr(value, "__index__") or value < 1:
        raise ConfigError(f"`{name}` must be 'drift' or a whole number >= 1, got {value!r}")
    return int(value)


def _seed(value: Any, name: str) -> int | None:
    return None if value is None else check_int(value, name, minimum=0)


def _positive(value: Any, name: str) -> int:
    return check_int(value, name, minimum=1)


#: One check per setting: ``check(value, name)`` returns the value normalised or raises a
#: ConfigError naming ``name``.
_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "horizon": _positive,
    "n_scenarios": _positive,
    "levels": _levels,
    "distribution": lambda v, name: check_choice(v, name, FORECAST_DISTRIBUTIONS),
    "nu": _nu,
    "mixing": lambda v, name: check_choice(v, name, MIXINGS),
    "rebalance": _rebalance,
    "aggregation": lambda v, name: check_choice(v, name, AGGREGATIONS),
    "block": _positive,
    "seed": _seed,
}


#: The settings an entry point takes as keywords (its seed comes as ``rng``).
KEYWORDS: tuple[str, ...] = tuple(k for k in _CHECKS if k != "seed")


def check_level(value: Any, name: str) -> float:
    """One confidence level in (0, 1) (a VaR level), or a ConfigError naming ``name``."""
    levels = _levels(value, name)
    if len(levels) != 1:
        raise ConfigError(f"`{name}` must be one confidence in (0, 1), got {value!r}")
    return levels[0]


def check_setting(value: Any, name: str, *, field: str) -> Any:
    """``value`` checked and normalised as the Monte Carlo setting ``field``.

    ``name`` is what the error calls it (a keyword, ``"config [risk].horizon"``, a flag), so
    the CLI's argparse types (:func:`rwafolio.utils.validation.argparse_type`) and the config
    parser use the same check as :class:`MonteCarlo`.

    Raises
    ------
    ConfigError
        Naming ``name``: what was expected and what was received.
    """
    if field not in _CHECKS:
        raise ConfigError(f"unknown Monte Carlo setting {field!r}; known: {list(_CHECKS)}")
    return _CHECKS[field](value, name)


@dataclass(frozen=True)
class MonteCarlo:
    """Monte Carlo settings of one forecast, checked when made (frozen).

    Parameters
    ----------
    horizon : int, default 30
        H, periods per path (>= 1).
    n_scenarios : int, default 10,000
        M, paths (>= 1).
    levels : float or sequence of float, default (0.95, 0.99)
        VaR confidences, each in (0, 1); stored as a tuple of floats.
    distribution : {"normal", "student_t", "bootstrap", "fhs"}, default "normal"
        See :mod:`rwafolio.risk.scenarios` and :func:`rwafolio.risk.forecast`.
    nu : float or "fit", default 5.0
        Student-t degrees of freedom, finite and > 2 (so the covariance exists); ``"fit"``
        fits it where the entry point can (:func:`~rwafolio.risk.forecast`).
    mixing : {"period", "block", "path"}, default "period"
        Student-t mixing unit.
    rebalance : "drift" or int, default "drift"
        Buy and hold, or trade back to the weights after every k periods (k >= 1).
    aggregation : {"compound", "sum"}, default "compound"
    block : int, default 5
        Bootstrap (and block-mixing) length in periods (>= 1).
    seed : int or None, default None
        Root seed (>= 0); None draws one from the entry point's ``rng`` (or fresh entropy).
        A result records its settings with the seed it used.

    Raises
    ------
    ConfigError
        Naming the first setting that is not valid.
    """

    horizon: int = 30
    n_scenarios: int = 10_000
    levels: tuple[float, ...] = (0.95, 0.99)
    distribution: str = "normal"
    nu: float | str = 5.0
    mixing: str = "period"
    rebalance: str | int = "drift"
    aggregation: str = "compound"
    block: int = 5
    seed: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            checked = check_setting(getattr(self, f.name), f.name, field=f.name)
            object.__setattr__(self, f.name, checked)
        need = BYTES_PER_SCENARIO * self.n_scenarios
        if need > _memory_budget():
            raise ConfigError(
                f"`n_scenarios` {self.n_scenarios:,} would need about {need / 2**30:,.0f} GiB "
                f"for the outcomes alone, more than half of this machine's "
                f"{2 * _memory_budget() / 2**30:,.0f} GiB of memory; use fewer scenarios"
            )

    @property
    def every(self) -> int:
        """The kernels' rebalancing interval: 0 for ``"drift"``, else k."""
        return 0 if self.rebalance == "drift" else int(self.rebalance)

    def require(self, where: str, *, distributions: Sequence[str], fit: bool = False) -> None:
        """Refuse what the entry point ``where`` cannot simulate: a distribution outside
        ``distributions``, or ``nu="fit"`` unless ``fit``."""
        if self.distribution not in distributions:
            raise ConfigError(
                f"`distribution` must be one of {list(distributions)} for {where}, "
                f"got {self.distribution!r}"
            )
        if self.nu == "fit" and not fit:
            raise ConfigError(f"`nu='fit'` is not supported by {where}; give a number > 2")


#: Memory one scenario's results take: outcome, drawdown and costs (float64), and the sorted
#: copies the summary makes.
BYTES_PER_SCENARIO = 5 * 8


def _memory_budget() -> float:
    """Half the machine's physical memory in bytes (inf where the system does not say)."""
    try:
        return 0.5 * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return float("inf")


#: The defaults, as an entry point's keywords carry them.
_DEFAULTS = MonteCarlo()


def resolve_settings(
    settings: MonteCarlo | None, rng: np.random.Generator | int | None, **keywords: Any
) -> MonteCarlo:
    """The settings an entry point runs with, checked, with the seed resolved.

    Parameters
    ----------
    settings : MonteCarlo or None
        The settings object the caller passed (None: build it from ``keywords``).
    rng : Generator, int or None
        The entry point's randomness; resolved once (a Generator gives one draw) unless
        ``settings.seed`` is set.
    **keywords
        The entry point's Monte Carlo keywords as the caller left them. With ``settings``, each
        must keep its default: a value given both ways is refused, never silently dropped.

    Raises
    ------
    ConfigError
        A keyword that is not valid, a keyword given beside ``settings``, or a seed given both
        as ``settings.seed`` and as ``rng``.
    """
    if settings is None:
        mc = MonteCarlo(**keywords)
    elif not isinstance(settings, MonteCarlo):
        raise ConfigError(f"`settings` must be a MonteCarlo or None, got {describe(settings)}")
    else:
        both = [
            k for k, v in keywords.items() if check_setting(v, k, field=k) != getattr(_DEFAULTS, k)
        ]
        if both:
            raise ConfigError(
                f"give the Monte Carlo settings as `settings` or as keywords, not both: got "
                f"`settings` and {', '.join(f'`{k}`' for k in both)}"
            )
        mc = settings
    if mc.seed is not None:
        if rng is not None:
            raise ConfigError("give the seed as `settings.seed` or as `rng`, not both")
        return mc
    return replace(mc, seed=resolve_seed(rng))
