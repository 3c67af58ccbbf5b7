"""Update schedules: on which dates an asset may be re-weighted.

A schedule is evaluated on the panel's dates and its tradable mask only (both known in advance:
whether a market is open today is not future information). Names:

- ``"daily"``: every date the asset's market is open;
- ``"every2"``: the first open date of each two-day block (calendar days counted from
  1970-01-01, so sub-panels agree with the whole);
- ``"weekly"``: the first open date of each ISO week;
- ``"monthly"``: the first open date of each calendar month;
- ``"never"``: the asset is held as it drifts.

A stress override lets every open asset trade on any date whose volatility index is above a level
(the model: more frequent updates when the VIX exceeds 25). The strategy applies it
(:meth:`rwafolio.strategies.DynamicLambdaStrategy.may_trade`) with the last index level its view
holds: the decision date's close, or an earlier one under a signal lag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError
from rwafolio.universe import DEFAULT_SCHEDULES, SCHEDULES


def schedule_mask(dates: pd.DatetimeIndex, tradable: np.ndarray, schedule: str) -> np.ndarray:
    """Boolean mask of dates on which an asset with ``schedule`` may trade.

    Parameters
    ----------
    dates : DatetimeIndex of shape (n_dates,)
    tradable : ndarray of bool, shape (n_dates,)
        Whether the asset's market is open on each date.
    schedule : {"daily", "every2", "weekly", "monthly", "never"}
    """
    tradable = np.asarray(tradable, dtype=bool)
    if schedule == "daily":
        return tradable.copy()
    if schedule == "never":
        return np.zeros_like(tradable)
    if schedule in ("every2", "weekly", "monthly"):
        if schedule == "every2":
            # Blocks of two calendar days anchored at 1970-01-01, so a sub-panel (a walk-forward
            # fold) trades on the same days as the whole panel.
            key = (dates.to_numpy().astype("datetime64[D]").astype(np.int64) // 2).astype(np.int64)
        elif schedule == "weekly":
            iso = dates.isocalendar()
            key = iso["year"].to_numpy() * 100 + iso["week"].to_numpy()
        else:
            key = dates.year.to_numpy() * 100 + dates.month.to_numpy()
        out = np.zeros_like(tradable)
        seen_key = None
        for i in np.flatnonzero(tradable):
            if key[i] != seen_key:
                out[i] = True
                seen_key = key[i]
        return out
    raise ConfigError(f"`schedule` must be one of {SCHEDULES}, got {schedule!r}")


def resolve_schedules(
    schedules: Mapping[str, str] | None, symbols: Sequence[str], asset_classes: Sequence[str]
) -> list[str]:
    """Per-asset schedule names from a mapping keyed by symbol or asset class.

    A symbol key wins over a class key; anything unnamed takes the class default
    (crypto daily, RWA weekly, stablecoin daily).
    """
    schedules = dict(schedules or {})
    known = set(symbols) | set(asset_classes) | set(DEFAULT_SCHEDULES)
    bad_keys = sorted(set(schedules) - known)
    if bad_keys:
        raise ConfigError(
            f"`schedules` keys must be symbols or asset classes, got unknown {bad_keys}"
        )
    for k, v in schedules.items():
        if v not in SCHEDULES:
            raise ConfigError(f"`schedules[{k!r}]` must be one of {SCHEDULES}, got {v!r}")
    return [
        schedules.get(s, schedules.get(c, DEFAULT_SCHEDULES[c]))
        for s, c in zip(symbols, asset_classes)
    ]


def schedule_matrix(
    dates: pd.DatetimeIndex,
    tradable: np.ndarray,
    per_asset: Sequence[str],
) -> np.ndarray:
    """Calendar part of the may-trade mask, shape (n_dates, n_assets): schedule AND open.

    The stress override (every open asset may trade when the index is above a level) depends on
    the index the strategy sees at each date, so it is applied there, once
    (:meth:`rwafolio.strategies.DynamicLambdaStrategy.may_trade`), not here."""
    tradable = np.asarray(tradable, dtype=bool)
    return np.column_stack(
        [schedule_mask(dates, tradable[:, j], s) for j, s in enumerate(per_asset)]
    )
