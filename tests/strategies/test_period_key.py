"""The one-bar schedule key equals the array functions it mirrors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwafolio.strategies.schedules import eligible, period_key, period_keys

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
