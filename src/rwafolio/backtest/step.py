"""One decision date of the book: ask the strategy, check its orders, trade them.

The backtest engine (:mod:`rwafolio.backtest.engine`) and the live rebalancer
(:mod:`rwafolio.live`) both call :func:`rebalance` once per date after drifting the book with the
period's returns, so the decision and the book step exist once. The book's arithmetic is
:mod:`rwafolio.backtest.book`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rwafolio.backtest.book import Trade, trade
from rwafolio.exceptions import ConfigError, OptimizationError
from rwafolio.strategies.base import Decision, MarketView, Strategy

__all__ = ["Step", "ask", "check_orders", "rebalance"]


class Step(NamedTuple):
    """What one date did to the book.

    Attributes
    ----------
    decision : Decision or None
        The strategy's answer (None: it did not trade and said nothing).
    traded : ndarray of bool, shape (n_assets,)
        Assets whose order was executed.
    trade : Trade or None
        The book after the trade (None when nothing traded).
    weights, cash : ndarray of shape (n_assets,), float
        The book after this date (fractions of the value after fees).
    """

    decision: Decision | None
    traded: np.ndarray
    trade: Trade | None
    weights: np.ndarray
    cash: float


def ask(strategy: Strategy, view: MarketView, n: int) -> Decision | None:
    """The strategy's decision; a numerical failure on one date holds, and says why."""
    try:
        decision = strategy.decide(view)
    except OptimizationError as exc:
        return Decision(
            target=np.full(n, np.nan),
            solver="hold",
            status="failed",
            fallback_reason=f"hold: {exc}",
        )
    if decision is None or isinstance(decision, Decision):
        return decision
    return Decision(target=np.asarray(decision, dtype=float))


def check_orders(
    strategy: Strategy, decision: Decision, view: MarketView, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The decision's target and which assets it trades, checked against the book and calendar."""
    n = w.shape[0]
    tradable = np.asarray(view.tradable, dtype=bool)
    target = np.asarray(decision.target, dtype=float)
    if target.shape != (n,):
        raise ConfigError(
            f"{strategy.name}.decide returned a target of shape {target.shape}, expected ({n},)"
        )
    ordered = ~np.isnan(target)
    if np.any(ordered & ~tradable):
        closed = [view.symbols[i] for i in np.flatnonzero(ordered & ~tradable)]
        raise ConfigError(
            f"{strategy.name} ordered {closed} on {view.date.date()}, when their market is closed"
        )
    traded = ordered & tradable
    if traded.any():
        if np.any(target[traded] < -1e-12):
            raise ConfigError(f"{strategy.name} returned negative targets (long only)")
        keep_cash = 1.0 - np.maximum(target[traded], 0.0).sum() - w[~traded].sum()
        if keep_cash < -1e-9:
            raise ConfigError(
                f"{strategy.name} on {view.date.date()}: targets plus the weights it does "
                f"not trade sum to {1.0 - keep_cash:.6f} > 1 (long only, no leverage)"
            )
    return target, traded


def rebalance(
    strategy: Strategy, view: MarketView, w: np.ndarray, cash: float, rates: np.ndarray
) -> Step:
    """Ask ``strategy`` at ``view`` and book the trade of its orders.

    Parameters
    ----------
    strategy : Strategy
        Prepared.
    view : MarketView
        The past through the decision date; ``view.weights`` equal ``w``.
    w : ndarray of shape (n_assets,)
        Drifted weights before trading (fractions of value).
    cash : float
        Cash weight before trading.
    rates : ndarray of shape (n_assets,)
        The cost model's one-off rates (fraction of traded value).
    """
    n = w.shape[0]
    decision = ask(strategy, view, n)
    none = np.zeros(n, dtype=bool)
    if decision is None:
        return Step(None, none, None, w, cash)
    target, traded = check_orders(strategy, decision, view, w)
    if not traded.any():
        return Step(decision, traded, None, w, cash)
    step = trade(w, cash, target, traded, rates)
    return Step(decision, traded, step, step.weights, step.cash)
