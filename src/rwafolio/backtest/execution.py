"""The single vectorbt adapter: execute target weights with fees from the cost model.

This is the only module that imports vectorbt. Every argument of
``vbt.Portfolio.from_orders`` is passed explicitly, so nothing is read from ``vbt.settings``
when orders are simulated.

The portfolio starts at the first decision (or at the row a carried-over book is established):
the warm-up rows, which hold cash, are not part of it. Its ``freq`` is one bar's share of a
year under the panel's calendar policy, ``365 days / periods_per_year`` (1 day under
``all_days``, 365/252 days under ``exchange_days``), so that vectorbt's statistics, which divide
its default ``year_freq`` of 365 days by ``freq``, annualize with the policy's factor and
``portfolio.stats()`` agrees with ``BacktestResult.stats()``. Durations that vectorbt prints
are therefore in that trading-year time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rwafolio.loaders.panel import Panel
from rwafolio.optimize.costs import CostModel


def execute_targets(
    panel: Panel,
    targets: pd.DataFrame,
    *,
    init_cash: float = 1.0,
    fee_free_row: int | None = None,
    cost_model: CostModel | None = None,
    first_row: int = 0,
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
    cost_model : CostModel or None
        The run's cost model (default: the panel universe's); its rates are vectorbt's ``fees``.
    first_row : int, default 0
        Row the portfolio starts at (the first decision); earlier rows are left out.

    Returns
    -------
    vectorbt.Portfolio
        One group with shared cash, orders sorted so sells release cash before buys.
    """
    import vectorbt as vbt

    model = cost_model if cost_model is not None else CostModel.from_universe(panel.universe)
    fees = model.vbt_fees(len(panel.dates), () if fee_free_row is None else (fee_free_row,))
    close = panel.prices.iloc[first_row:]
    targets = targets.iloc[first_row:]
    fees = fees[first_row:]
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
        freq=bar_freq(panel.periods_per_year),
        attach_call_seq=False,
    )


def bar_freq(periods_per_year: int) -> pd.Timedelta:
    """One bar's share of a year, in vectorbt's 365-day year: ``365 days / periods_per_year``."""
    return pd.Timedelta(days=365) / periods_per_year


def held_weights(portfolio: Any) -> pd.DataFrame:
    """Weights vectorbt holds at each close (after that date's orders), shape (n_dates, n_assets).

    Read from vectorbt's own fills (its order records: column, row, size, price, fee, side) and
    its close prices: holdings are the running sum of filled sizes, cash the initial cash less
    the running cost of the fills and their fees. The numbers of
    ``portfolio.asset_value(group_by=False) / portfolio.value()`` (a test compares them) up to
    vectorbt's rounding of a cash balance within 1e-12 of zero to zero, which this running sum
    keeps (about 1e-11 of weight after thousands of trades), in a fraction of the time those
    accessors take (the audit is most of the cost of executing a backtest otherwise).
    """
    close = portfolio.close
    price = close.to_numpy(dtype=float)
    rec = portfolio.orders.values
    signed = np.where(rec["side"] == 0, rec["size"], -rec["size"])  # 0 buy, 1 sell
    flow = np.zeros_like(price)
    np.add.at(flow, (rec["idx"], rec["col"]), signed)
    spent = np.zeros(price.shape[0])
    np.add.at(spent, rec["idx"], signed * rec["price"] + rec["fees"])
    asset_value = np.cumsum(flow, axis=0) * price
    cash = float(np.sum(portfolio.init_cash)) - np.cumsum(spent)
    value = cash + asset_value.sum(axis=1)
    return pd.DataFrame(asset_value / value[:, None], index=close.index, columns=close.columns)


def execution_gap(portfolio: Any, engine_weights: pd.DataFrame) -> pd.Series:
    """Per date of the portfolio, max |vectorbt's held weight - the engine's| (a partial fill
    shows up here)."""
    vbt_w = held_weights(portfolio)
    gap = np.abs(vbt_w.to_numpy() - engine_weights.loc[vbt_w.index].to_numpy()).max(axis=1)
    return pd.Series(gap, index=vbt_w.index, name="execution_gap")


def fees_paid(portfolio: Any) -> pd.Series:
    """Fees vectorbt charged per date, in currency, summed over assets."""
    rec = portfolio.orders.records_readable
    if len(rec) == 0:
        return pd.Series(0.0, index=portfolio.wrapper.index, name="fees")
    by_date = rec.groupby("Timestamp")["Fees"].sum()
    return by_date.reindex(portfolio.wrapper.index, fill_value=0.0).rename("fees")
