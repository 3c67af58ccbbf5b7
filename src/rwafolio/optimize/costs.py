"""The one cost model: what a trade costs, for the optimizer, the engine's ledger and vectorbt.

In rwafolio ``costs`` always means **per-asset one-off rates**: C_i is the fraction of traded
value paid to trade asset i (0.001 = 10 bp). :class:`CostModel` holds those rates, built once
from the universe, and every consumer asks it:

- the optimizer's effective cost vector (:meth:`CostModel.optimizer_costs`): the rates amortized
  over ``cost_horizon`` years against annualized R and Sigma, or zero for a cost-blind strategy;
- the fee of a trade (:meth:`CostModel.fee`): ``sum_i C_i |trade_i|``, in the units of the trade
  (fractions of value in the engine's ledger, currency in vectorbt);
- its cvxpy form (:func:`cvxpy_cost`) for the reference solver;
- vectorbt's ``fees`` array (:meth:`CostModel.vbt_fees`).

Model: cvxportfolio's single ``TransactionCost`` that serves both the simulator and the policy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from rwafolio.exceptions import ConfigError

__all__ = ["CostMode", "CostModel", "amortization_years", "cvxpy_cost", "trade_fee"]

#: How the optimizer sees costs: ``"model"`` charges the amortized rates, ``"blind"`` charges
#: nothing (the cost-blind benchmark; execution still pays the fees).
CostMode = Literal["model", "blind"]


def amortization_years(cost_horizon: float | None, window: int, periods_per_year: int) -> float:
    """Years over which a one-off cost is amortized: ``cost_horizon``, or the estimation window
    (``window / periods_per_year`` years) when it is None."""
    return window / periods_per_year if cost_horizon is None else float(cost_horizon)


def trade_fee(trades: np.ndarray, rates: np.ndarray) -> float:
    """``sum_i rates_i |trades_i|``: the fee of a trade, in the units of ``trades``.

    The one definition of a trade's price; ``trades`` and ``rates`` have the same shape (n,).
    """
    return float(np.abs(trades) @ rates)


@dataclass(frozen=True)
class CostModel:
    """Per-asset one-off trading costs, frozen.

    Parameters
    ----------
    rates : ndarray of shape (n_assets,)
        One-off cost per unit of traded value (0.001 = 10 bp), >= 0 and < 1.
    symbols : tuple of str
        Asset labels, in the order of ``rates`` (may be empty).
    """

    rates: np.ndarray
    symbols: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        r = np.array(self.rates, dtype=float).reshape(-1)
        if not np.all(np.isfinite(r)) or np.any(r < 0) or np.any(r >= 1):
            raise ConfigError(f"`rates` must be finite one-off costs in [0, 1), got {r!r}")
        if self.symbols and len(self.symbols) != r.shape[0]:
            raise ConfigError(
                f"`symbols` must label the {r.shape[0]} rates, got {len(self.symbols)} labels"
            )
        r.flags.writeable = False
        object.__setattr__(self, "rates", r)
        object.__setattr__(self, "symbols", tuple(str(s) for s in self.symbols))

    @classmethod
    def from_universe(cls, universe: Any) -> CostModel:
        """The cost model of a :class:`~rwafolio.universe.Universe` (its assets' ``cost``)."""
        return cls(np.asarray(universe.costs, dtype=float), tuple(universe.symbols))

    @property
    def n_assets(self) -> int:
        return int(self.rates.shape[0])

    # ---------------------------------------------------------------- the optimizer's view
    def optimizer_costs(
        self,
        mode: CostMode = "model",
        cost_horizon: float | None = None,
        window: int = 1,
        periods_per_year: int = 1,
        trade_aversion: float | None = None,
    ) -> np.ndarray:
        """The C the optimizer charges against annualized R and Sigma, ndarray of shape (n,).

        The one-off rates divided by :func:`amortization_years` (``cost_horizon`` years, or the
        estimation window ``window / periods_per_year`` when it is None); zero when ``mode`` is
        ``"blind"``. With ``trade_aversion`` gamma (cvxportfolio's convention, gamma * C against
        per-period utility) the rates times ``gamma * periods_per_year`` instead: the same
        problem as ``cost_horizon = 1 / (gamma * periods_per_year)``. Units: annualized return
        per unit of weight traded.
        """
        if mode not in ("model", "blind"):
            raise ConfigError(f"`cost_mode` must be 'model' or 'blind', got {mode!r}")
        if mode == "blind":
            return np.zeros_like(self.rates)
        if trade_aversion is not None:
            # cvxportfolio's convention: gamma * C against per-period utility, i.e.
            # gamma * periods_per_year * C against annualized R and Sigma.
            if cost_horizon is not None:
                raise ConfigError("give `trade_aversion` or `cost_horizon`, not both")
            g = float(trade_aversion)
            if not (math.isfinite(g) and g > 0):
                raise ConfigError(f"`trade_aversion` must be a finite number > 0, got {g!r}")
            return self.rates * (g * periods_per_year)
        years = amortization_years(cost_horizon, window, periods_per_year)
        if not (math.isfinite(years) and years > 0):
            raise ConfigError(f"the cost horizon must be > 0 years, got {years!r}")
        return self.rates / years

    # ---------------------------------------------------------------- accounting
    def fee(self, trades: np.ndarray, assets: np.ndarray | None = None) -> float:
        """Fee of a trade: ``sum_i C_i |trades_i|``, in the units of ``trades``.

        Parameters
        ----------
        trades : ndarray of shape (n_assets,) or (n_selected,)
            Traded amounts (fractions of value, or currency), signed.
        assets : boolean mask or integer index of the traded assets, optional
            When given, ``trades`` holds only those assets' trades.
        """
        return trade_fee(trades, self.rates if assets is None else self.rates[assets])

    def vbt_fees(self, n_dates: int, fee_free_rows: Sequence[int] = ()) -> np.ndarray:
        """vectorbt's ``fees``: the rates on every date, ndarray of shape (n_dates, n_assets).

        ``fee_free_rows`` pay nothing (e.g. where a carried-over book is established)."""
        fees = np.broadcast_to(self.rates[None, :], (n_dates, self.n_assets)).copy()
        for row in fee_free_rows:
            fees[row] = 0.0
        return fees

    def cvxpy(self, w: Any, w_prev: Any) -> tuple[Any, list[Any]]:
        """The cost of moving from ``w_prev`` to the cvxpy variable ``w`` at these rates;
        see :func:`cvxpy_cost`."""
        return cvxpy_cost(w, w_prev, self.rates)


def cvxpy_cost(w: Any, w_prev: Any, rates: Any) -> tuple[Any, list[Any]]:
    """The cvxpy form of ``sum_i rates_i |w_i - w_prev_i|``, DPP-compliant.

    Parameters
    ----------
    w : cvxpy Variable of shape (n,)
    w_prev, rates : ndarray or cvxpy Parameter of shape (n,)
        ``rates`` >= 0 (one-off rates, or the optimizer's amortized ones).

    Returns
    -------
    (Expression, list of Constraint)
        ``rates @ t`` and the epigraph constraints ``t >= +-(w - w_prev)``: with parameters,
        ``rates @ abs(w - w_prev)`` multiplies two parameter-dependent terms and is not DPP.
    """
    import cvxpy as cp

    t = cp.Variable(w.shape[0], name="trade")
    return rates @ t, [t >= w - w_prev, t >= w_prev - w]
