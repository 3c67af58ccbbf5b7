"""The one-bar schedule key (``period_key_nb``, and ``period_key`` over it) equals the array
functions it mirrors (numpy's datetime64 months, the eligibility mask)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwafolio.strategies.schedules import (
    NO_KEY,
    eligible,
    period_key,
    period_key_nb,
    period_keys,
    schedule_kind,
)

NAMES = ["every2", "weekly", "monthly", "daily", "daily@15:00", "daily@00:30", "every4bars"]


@pytest.mark.parametrize("hourly", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_period_key_equals_period_keys_and_eligible(name: str, hourly: bool) -> None:
    gen = np.random.default_rng(1)
    # Bars from 1960 to 2040 (before the epoch too), at random minutes of the day.
    times = pd.to_datetime(
        gen.integers(-3_600 * 24 * 365 * 10, 3_600 * 24 * 365 * 70, 2000), unit="s"
    )
    ns = times.to_numpy().astype("datetime64[ns]").astype(np.int64)
    keys = period_keys(ns, name, hourly)
    ok = eligible(ns, name)
    got = [period_key(int(t), name, hourly) for t in ns]
    assert got == [int(k) if e else None for k, e in zip(keys, ok)]
    assert any(g is None for g in got) == name.startswith("daily@")


@pytest.mark.parametrize("hourly", [False, True])
@pytest.mark.parametrize("name", [*NAMES, "every3bars", "every24bars"])
def test_kernel_key_equals_the_array_functions_1900_to_2100(name: str, hourly: bool) -> None:
    """Random bars from 1900 to 2100 (leap centuries, before 1970) and every month's first
    nanosecond and the one before it: the civil-date arithmetic against numpy's datetime64."""
    rng = np.random.default_rng(3)
    lo, hi = np.datetime64("1900-01-01", "ns"), np.datetime64("2100-12-31", "ns")
    ends = np.arange("1899-12", "2101-01", dtype="datetime64[M]").astype("datetime64[ns]")
    ns = np.concatenate(
        [
            rng.integers(lo.astype(np.int64), hi.astype(np.int64), 4000),
            ends.astype(np.int64),
            ends.astype(np.int64) - 1,
        ]
    )
    keys, ok = period_keys(ns, name, hourly), eligible(ns, name)
    kind, param = schedule_kind(name, hourly)
    got = [period_key_nb(int(t), kind, param) for t in ns]
    assert got == [int(k) if e else NO_KEY for k, e in zip(keys, ok)]
