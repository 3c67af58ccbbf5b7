"""The single vectorbt adapter: execute target weights with fees from the cost model.

This is the only module that imports vectorbt. Every argument of
``vbt.Portfolio.from_orders`` is passed explicitly, so nothing is read from ``vbt.settings``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rwafolio.loaders.panel import Panel


def execute_targets(
    panel: Panel,
    targets: pd.DataFrame,
    *,
    init_cash: float = 1.0,
    fee_free_row: int | None = None,
) -> Any:
    """Run ``targets`` through vectorbt.

    Parameters
    ----------
    panel : Panel
        Prices (orders fill at each date's close) and per-asset costs (``fees``).
    targets : DataFrame of shape (n_dates, n_assets)
        Target weight of portfolio value per asset; NaN means no order that day.
    init_cash : float
    fee_free_row : int or None
        A row whose orders pay no fees: where a carried-over book is established.

    Returns
    -------
    vectorbt.Portfolio
        One group with shared cash, orders sorted so sells release cash before buys.
    """
    import vectorbt as vbt

    close = panel.prices
    fees = np.broadcast_to(panel.universe.costs[None, :], close.shape).copy()
    if fee_free_row is not None:
        fees[fee_free_row] = 0.0
    return vbt.Portfolio.from_orders(
        close=close,
        size=targets,
        size_type="targetpercent",
        direction="longonly",
        price=np.inf,
        fees=fees,
        fixed_fees=0.0,
        slippage=0.0,
        min_size=0.0,
        max_size=np.inf,
        size_granularity=np.nan,
        reject_prob=0.0,
        lock_cash=False,
        allow_partial=True,
        raise_reject=False,
        log=False,
        val_price=np.inf,
        init_cash=float(init_cash),
        cash_sharing=True,
        call_seq="auto",
        ffill_val_price=True,
        update_value=False,
        max_orders=None,
        max_logs=0,
        seed=None,
        group_by=True,
        freq="1D",
        attach_call_seq=False,
    )


def held_weights(portfolio: Any) -> pd.DataFrame:
    """Weights vectorbt holds at each close (after that date's orders)."""
    asset_value = portfolio.asset_value(group_by=False)
    value = portfolio.value()
    return asset_value.div(value, axis=0)


def execution_gap(portfolio: Any, engine_weights: pd.DataFrame) -> pd.Series:
    """Per date, max |vectorbt's held weight - the engine's| (a partial fill shows up here)."""
    vbt_w = held_weights(portfolio).to_numpy()
    gap = np.abs(vbt_w - engine_weights.to_numpy()).max(axis=1)
    return pd.Series(gap, index=engine_weights.index, name="execution_gap")


def fees_paid(portfolio: Any) -> pd.Series:
    """Fees vectorbt charged per date, in currency, summed over assets."""
    rec = portfolio.orders.records_readable
    if len(rec) == 0:
        return pd.Series(0.0, index=portfolio.wrapper.index, name="fees")
    by_date = rec.groupby("Timestamp")["Fees"].sum()
    return by_date.reindex(portfolio.wrapper.index, fill_value=0.0).rename("fees")
