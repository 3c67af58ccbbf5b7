"""The strategy contract: what the engine shows a strategy, and what a strategy answers.

A strategy implements one method, :meth:`Strategy.decide`, which receives a :class:`MarketView`
of the past (returns up to and including the decision date, read-only) and returns a
:class:`Decision` (or ``None`` for "no trade"). The engine alone slices time, so a strategy
cannot see the future: ``view.returns`` simply has no rows after the decision date.

Timing: at decision date t the view holds the returns from the first date up to the close of t;
orders execute at t's close price.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rwafolio.optimize.costs import CostModel


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


class MarketView:
    """The past as of one decision date, read-only.

    Attributes
    ----------
    t : int
        Row of the decision date in the panel.
    date : Timestamp
    returns : ndarray of shape (t + 1 - signal_lag, n_assets)
        Per-period simple returns up to and including the decision date (less the engine's
        ``signal_lag``; row 0 is zeros: the first date has no return). Read-only.
    vix : ndarray of shape (t + 1,) or None
        Volatility index up to the decision date, annualized percent. Read-only.
    weights : ndarray of shape (n_assets,)
        The portfolio as it has drifted since the last trade (fractions of value; cash = 1 - sum).
    tradable : ndarray of bool, shape (n_assets,)
        Whose market is open at the decision date.
    symbols, asset_classes : list of str
    costs : ndarray of shape (n_assets,)
        One-off cost rate per unit of traded value (the cost model's rates).
    periods_per_year : int
    """

    __slots__ = (
        "_dates",
        "asset_classes",
        "costs",
        "periods_per_year",
        "returns",
        "symbols",
        "t",
        "tradable",
        "vix",
        "weights",
    )

    def __init__(
        self,
        t: int,
        dates: pd.DatetimeIndex,
        returns: np.ndarray,
        vix: np.ndarray | None,
        weights: np.ndarray,
        tradable: np.ndarray,
        symbols: list[str],
        asset_classes: list[str],
        costs: np.ndarray,
        periods_per_year: int,
    ) -> None:
        self.t = t
        self._dates = dates
        self.returns = _readonly(returns)
        self.vix = None if vix is None else _readonly(vix)
        self.weights = _readonly(weights)
        self.tradable = _readonly(tradable)
        self.symbols = symbols
        self.asset_classes = asset_classes
        self.costs = _readonly(costs)
        self.periods_per_year = periods_per_year

    @property
    def date(self) -> pd.Timestamp:
        return self._dates[self.t]

    @property
    def dates(self) -> pd.DatetimeIndex:
        """Dates of the rows of ``returns`` (up to the decision date, less any signal lag)."""
        return self._dates[: self.returns.shape[0]]

    def returns_frame(self) -> pd.DataFrame:
        """``returns`` as a DataFrame (dates x symbols); a copy, built on demand."""
        return pd.DataFrame(np.array(self.returns), index=self.dates, columns=self.symbols)


@dataclass(frozen=True)
class Decision:
    """A strategy's answer at one date.

    Attributes
    ----------
    target : ndarray of shape (n_assets,)
        Target weights (fractions of portfolio value). NaN for an asset means "no order".
        The non-NaN targets plus the held weights of the NaN assets should sum to 1.
    lam : float
        Risk aversion used (NaN when the strategy has none).
    vix : float
    solver, status, fallback_reason : str
    kkt_residual, objective : float
    iterations : int
    skipped : tuple of (symbol, proposed change, reason)
        Trades the threshold rule held back.
    mu, cov : ndarray or None
        Per-period estimates used (shape (n,) and (n, n)); forwarded to the risk forecasts.
    """

    target: np.ndarray
    lam: float = float("nan")
    vix: float = float("nan")
    solver: str = "none"
    status: str = "optimal"
    kkt_residual: float = float("nan")
    objective: float = float("nan")
    iterations: int = 0
    fallback_reason: str = ""
    skipped: tuple[tuple[str, float, str], ...] = ()
    mu: np.ndarray | None = None
    cov: np.ndarray | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Setup:
    """What a strategy may know before the first date: the universe and the trading calendar.

    The calendar (which market is open on which date) is known in advance; prices and the
    volatility index are not, and are not here.

    Attributes
    ----------
    dates : DatetimeIndex of shape (n_dates,)
    tradable : ndarray of bool, shape (n_dates, n_assets)
    symbols, asset_classes : list of str
    costs : ndarray of shape (n_assets,)
        One-off cost rate per unit of traded value (``cost_model.rates``).
    periods_per_year : int
    has_vix : bool
    cost_model : CostModel or None
        The run's cost model (None: built from ``costs``).
    """

    dates: pd.DatetimeIndex
    tradable: np.ndarray
    symbols: list[str]
    asset_classes: list[str]
    costs: np.ndarray
    periods_per_year: int
    has_vix: bool
    cost_model: CostModel | None = None


class Strategy(ABC):
    """Base class of every strategy.

    Subclasses follow the scikit-learn contract: ``__init__`` only stores its keyword arguments
    under the same names; validation happens in :meth:`prepare` (called once by the engine before
    the first date); learned state ends in ``_``.

    To write your own strategy, implement :meth:`decide`. Optionally override :meth:`prepare`
    (called once with the panel's static description) and :attr:`warmup` (dates to skip first).
    """

    #: Number of return rows the strategy needs before its first decision.
    warmup: int = 0

    def prepare(self, setup: Setup) -> None:  # noqa: B027
        """Validate parameters against the universe and calendar; called once before date 0."""

    def may_trade(self, view: MarketView) -> np.ndarray:
        """Which assets may trade at this date (default: those whose market is open)."""
        return np.asarray(view.tradable, dtype=bool)

    @abstractmethod
    def decide(self, view: MarketView) -> Decision | np.ndarray | None:
        """Target weights at ``view.date``, or None for no trade at all."""

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters, as scikit-learn's ``get_params(deep=False)``."""
        import inspect

        names = [
            p
            for p in inspect.signature(type(self).__init__).parameters
            if p not in ("self", "args", "kwargs")
        ]
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params: Any) -> Strategy:
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                from rwafolio.exceptions import ConfigError

                raise ConfigError(f"{type(self).__name__} has no parameter `{k}`")
            setattr(self, k, v)
        return self

    @property
    def name(self) -> str:
        return type(self).__name__
