"""Update schedules: on which dates an asset may be re-weighted.

A schedule is evaluated on the panel's dates and its tradable mask only (both known in advance:
whether a market is open today is not future information). Names:

- ``"daily"``: every date the asset's market is open;
- ``"every2"``: the first open date of each two-day block (calendar days counted from
  1970-01-01, so sub-panels agree with the whole);
- ``"weekly"``: the first open date of each ISO week;
- ``"monthly"``: the first open date of each calendar month;
- ``"never"``: the asset is held as it drifts.

Intraday names (any bar; in a daily panel ``"bar"`` equals ``"daily"``):

- ``"bar"``: every bar the asset's market is open;
- ``"every<K>bars"`` (e.g. ``"every4bars"``): the first open bar of each block of K bars, counted
  from 1970-01-01 in the panel's bar (hours in an hourly panel, days in a daily one);
- ``"daily@HH:MM"``: the first open bar at or after HH:MM (UTC) of each day.

``"daily"`` is the first open bar of each calendar day: every date of a daily panel, once a day
in an hourly one.

A stress override lets every open asset trade on any date whose volatility index is above a level
(the model: more frequent updates when the VIX exceeds 25). The strategy applies it
(:meth:`rwafolio.strategies.DynamicLambdaStrategy.may_trade`) with the last index level its view
holds: the decision date's close, or an earlier one under a signal lag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numba import njit

from rwafolio.exceptions import ConfigError
from rwafolio.universe import DEFAULT_SCHEDULES, INTRADAY_SCHEDULES, SCHEDULES, is_schedule

_DAY_NS = 86_400 * 10**9
_HOUR_NS = 3_600 * 10**9


def period_keys(times: np.ndarray, schedule: str, hourly: bool = False) -> np.ndarray:
    """Which block of a periodic schedule each bar falls in (equal keys: same block).

    Parameters
    ----------
    times : ndarray of int64, shape (n_dates,)
        Bar times in nanoseconds since 1970-01-01 (``datetime64[ns]`` as integers).
    schedule : str
        ``every2``: blocks of two days anchored at 1970-01-01 (so a sub-panel, a walk-forward
        fold, trades on the same days as the whole panel); ``weekly``: the ISO week (key: its
        Monday); ``monthly``: the calendar month; ``daily`` and ``daily@HH:MM``: the day;
        ``every<K>bars``: blocks of K bars (hours when ``hourly``, else days).
    hourly : bool
        Whether the panel's bar is one hour.
    """
    times = np.asarray(times, dtype=np.int64)
    days = times // _DAY_NS
    if schedule == "every2":
        return days // 2
    if schedule == "weekly":
        return days - (days + 3) % 7  # 1970-01-01 was a Thursday: (d + 3) % 7 is 0 on Mondays
    if schedule == "monthly":
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    if schedule == "daily" or schedule.startswith("daily@"):
        return days
    if schedule.startswith("every") and schedule.endswith("bars"):
        k = int(schedule[5:-4])
        return (times // _HOUR_NS if hourly else days) // k
    raise ConfigError(f"`schedule` has no periodic blocks: {schedule!r}")


#: Kinds of a periodic schedule for :func:`period_key_nb` (:func:`schedule_kind` gives each name's
#: kind and parameter): blocks of two days, the ISO week, the calendar month, the day, the day
#: from a time of day (parameter: ns after midnight UTC), blocks of K days, of K hours (param K).
(
    KIND_EVERY2,
    KIND_WEEKLY,
    KIND_MONTHLY,
    KIND_DAILY,
    KIND_DAILY_AT,
    KIND_EVERY_DAYS,
    KIND_EVERY_HOURS,
) = range(7)
#: :func:`period_key_nb`'s key of a bar a ``daily@HH:MM`` schedule may not use.
NO_KEY = np.iinfo(np.int64).min + 1


def schedule_kind(name: str, hourly: bool = False) -> tuple[int, int]:
    """``(kind, parameter)`` of a periodic schedule name (see :func:`period_keys`) for
    :func:`period_key_nb`.

    Raises
    ------
    ConfigError
        A schedule with no periodic blocks.
    """
    simple = {"every2": KIND_EVERY2, "weekly": KIND_WEEKLY, "monthly": KIND_MONTHLY}
    if name in simple:
        return simple[name], 0
    if name == "daily":
        return KIND_DAILY, 0
    if name.startswith("daily@"):
        hh, mm = name[6:].split(":")
        return KIND_DAILY_AT, (int(hh) * 60 + int(mm)) * 60 * 10**9
    if name.startswith("every") and name.endswith("bars"):
        return (KIND_EVERY_HOURS if hourly else KIND_EVERY_DAYS), int(name[5:-4])
    raise ConfigError(f"`schedule` has no periodic blocks: {name!r}")


@njit(cache=True)
def period_key_nb(time_ns: int, kind: int, param: int) -> int:
    """:func:`period_keys` and :func:`eligible` of one bar under the schedule ``(kind, param)``
    (:func:`schedule_kind`): its block, or :data:`NO_KEY`. Months count from 1970-01 (days to
    the civil date: H. Hinnant's ``civil_from_days``). The one per-bar key: the live kernel and
    :func:`period_key` call it; ``tests/strategies`` hold it to the array functions."""
    days = time_ns // _DAY_NS
    if kind == KIND_EVERY2:
        return days // 2
    if kind == KIND_WEEKLY:
        return days - (days + 3) % 7  # 1970-01-01 was a Thursday
    if kind == KIND_MONTHLY:
        z = days + 719468
        era = z // 146097
        doe = z - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        month = mp + 3 if mp < 10 else mp - 9
        year = yoe + era * 400 + (1 if month <= 2 else 0)
        return (year - 1970) * 12 + month - 1
    if kind == KIND_DAILY:
        return days
    if kind == KIND_DAILY_AT:
        return days if time_ns - days * _DAY_NS >= param else NO_KEY
    if kind == KIND_EVERY_HOURS:
        return (time_ns // _HOUR_NS) // param
    return days // param


def period_key(time_ns: int, schedule: str, hourly: bool = False) -> int | None:
    """:func:`period_key_nb` of one bar by the schedule's name (the live Python path's schedule
    at each bar).

    Returns
    -------
    int or None
        The bar's block, or None when a ``daily@HH:MM`` schedule may not use the bar.
    """
    key = int(period_key_nb(time_ns, *schedule_kind(schedule, hourly)))
    return None if key == NO_KEY else key


def eligible(times: np.ndarray, schedule: str) -> np.ndarray:
    """Bars a ``daily@HH:MM`` schedule may use (at or after that UTC time); all bars otherwise."""
    times = np.asarray(times, dtype=np.int64)
    if not schedule.startswith("daily@"):
        return np.ones(times.shape, dtype=bool)
    hh, mm = schedule[6:].split(":")
    return times % _DAY_NS >= (int(hh) * 60 + int(mm)) * 60 * 10**9


def _is_hourly(dates: pd.DatetimeIndex) -> bool:
    return bool(len(dates)) and bool(np.any(dates.to_numpy().astype(np.int64) % _DAY_NS))


def schedule_mask(dates: pd.DatetimeIndex, tradable: np.ndarray, schedule: str) -> np.ndarray:
    """Boolean mask of dates on which an asset with ``schedule`` may trade.

    Parameters
    ----------
    dates : DatetimeIndex of shape (n_dates,)
    tradable : ndarray of bool, shape (n_dates,)
        Whether the asset's market is open on each date.
    schedule : str
        A name of :data:`~rwafolio.universe.SCHEDULES` or an intraday pattern (module docs).
    """
    tradable = np.asarray(tradable, dtype=bool)
    if schedule == "bar" or (schedule == "daily" and not _is_hourly(dates)):
        return tradable.copy()
    if schedule == "never":
        return np.zeros_like(tradable)
    if is_schedule(schedule):
        times = dates.to_numpy().astype("datetime64[ns]").astype(np.int64)
        key = period_keys(times, schedule, _is_hourly(dates))
        ok = np.flatnonzero(tradable & eligible(times, schedule))
        k = np.asarray(key)[ok]
        out = np.zeros_like(tradable)
        # the first eligible open bar of each period (a new key after the previous eligible bar)
        out[ok[np.r_[True, k[1:] != k[:-1]][: ok.shape[0]]]] = True
        return out
    raise ConfigError(
        f"`schedule` must be one of {SCHEDULES + INTRADAY_SCHEDULES}, got {schedule!r}"
    )


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
        if not is_schedule(v):
            raise ConfigError(
                f"`schedules[{k!r}]` must be one of {SCHEDULES + INTRADAY_SCHEDULES}, got {v!r}"
            )
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
