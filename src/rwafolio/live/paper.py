"""A paper book: the journal's orders filled at the next bar's prices, with the model's fees.

It lets a user run ``rwafolio live --paper`` for weeks and compare what the orders would have
earned with what the model's own book says. Units: ``cash`` and values in the currency of
``--portfolio-value`` (default 1.0), ``units`` in asset units.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["PaperBook"]


class PaperBook:
    """Holdings in units and cash; orders placed at one bar fill at the next bar that prices them.

    Parameters
    ----------
    symbols : list of str
    rates : ndarray of shape (n_assets,)
        One-off cost rates (fraction of traded value).
    value : float
        Starting cash.
    """

    def __init__(self, symbols: list[str], rates: np.ndarray, value: float) -> None:
        self.symbols = list(symbols)
        self.rates = np.asarray(rates, dtype=float)
        self.cash = float(value)
        self.units = np.zeros(len(symbols))
        self.pending = np.zeros(len(symbols))

    def fill(self, prices: np.ndarray, tradable: np.ndarray) -> dict[str, dict[str, float]]:
        """Fill the pending orders of the assets that trade at this bar; returns the fills."""
        fills: dict[str, dict[str, float]] = {}
        for j in np.flatnonzero(tradable & (self.pending != 0.0)):
            units = float(self.pending[j])
            notional = units * float(prices[j])
            fee = float(self.rates[j]) * abs(notional)
            self.units[j] += units
            self.cash -= notional + fee
            self.pending[j] = 0.0
            fills[self.symbols[j]] = {"units": units, "price": float(prices[j]), "fee": fee}
        return fills

    def value(self, prices: np.ndarray) -> float:
        return float(self.cash + self.units @ prices)

    def place(self, trades: np.ndarray, prices: np.ndarray) -> None:
        """The journal's orders, as fractions of this book's value: ``trades`` (the decision's
        traded weights, fractions of the value before trading, as the orders journal sizes them)
        in units at today's ``prices``.

        Filled at the same prices, the book then holds what the model's self-financing step holds
        (its fee, paid from cash, is the model's); filled at the next bar's, it also carries the
        move in between, so its cash can dip below zero when buys got dearer.
        """
        total = self.value(prices)
        for j in np.flatnonzero(trades != 0.0):
            self.pending[j] = float(trades[j]) * total / float(prices[j])

    def to_json(self) -> dict[str, Any]:
        return {
            "cash": self.cash,
            "units": [float(u) for u in self.units],
            "pending": [float(u) for u in self.pending],
        }

    def load(self, data: dict[str, Any]) -> None:
        self.cash = float(data["cash"])
        self.units = np.array(data["units"], dtype=float)
        self.pending = np.array(data["pending"], dtype=float)
