"""The live path's records: a new :class:`Bar` in, a :class:`LiveDecision` out.

Both are frozen dataclasses, the inputs and outputs of
:meth:`rwafolio.live.LiveRebalancer.step` (the compiled path builds a decision from one dict, see
:func:`rwafolio.live.compiled.new_result`, so every field is named here and nowhere else).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Bar", "LiveDecision"]


@dataclass(frozen=True)
class Bar:
    """One new bar.

    Attributes
    ----------
    time : Timestamp
        The bar's close (tz-naive, the panel's convention).
    prices : mapping symbol -> float
        Closing prices of the assets that traded in the bar (an absent symbol's market was
        closed: its price is carried and it may not trade).
    vix : float or None
        The volatility index when it printed in the bar (None: carry the last level).
    closed : tuple of str
        Symbols in ``prices`` whose market is closed at this bar: the price is their last
        known one, used only to start the book at the first bar (the first bar must price every
        symbol); they may not trade.
    """

    time: pd.Timestamp
    prices: Mapping[str, float]
    vix: float | None = None
    closed: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveDecision:
    """What one bar did.

    Attributes
    ----------
    time : Timestamp
    row : int
        The bar's row since the first bar (the backtest's date row).
    status : str
        ``"warmup"`` (window not full), ``"no_trade"``, ``"traded"`` or the solver's status
        (``"failed"`` holds).
    lam, vix : float
        Risk aversion and index level used (NaN when not deciding).
    weights_before, weights_after : ndarray of shape (n_assets,)
        The drifted book before the trade and the book after it (fractions of value).
    target : ndarray of shape (n_assets,)
        The strategy's target (NaN: no order).
    trades : ndarray of shape (n_assets,)
        Traded weight per asset (fractions of the value before trading; the orders).
    fees : float
        Fee paid, fraction of the value before trading.
    value : float
        Book value after the bar, per unit of initial value.
    frozen : dict symbol -> reason
        Assets that could not trade and why (``"closed"``, ``"schedule"``, or the threshold
        rule's reason).
    diagnostics : dict
        solver, kkt_residual, iterations, objective, fallback_reason.
    """

    time: pd.Timestamp
    row: int
    status: str
    lam: float
    vix: float
    weights_before: np.ndarray
    weights_after: np.ndarray
    target: np.ndarray
    trades: np.ndarray
    fees: float
    value: float
    frozen: dict[str, str] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)
