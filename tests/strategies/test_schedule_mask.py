"""``schedule_mask`` takes the first eligible open bar of each period (checked against a loop)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwafolio.strategies.schedules import eligible, period_keys, schedule_mask


def first_bar_loop(dates: pd.DatetimeIndex, tradable: np.ndarray, schedule: str) -> np.ndarray:
    """Reference: walk the bars, keep an eligible open bar whose period differs from the last."""
    times = dates.to_numpy().astype("datetime64[ns]").astype(np.int64)
    hourly = bool(np.any(times % (86_400 * 10**9)))
    key = period_keys(times, schedule, hourly)
    ok = tradable & eligible(times, schedule)
    out = np.zeros_like(tradable)
    last = None
    for i in range(len(times)):
        if ok[i] and key[i] != last:
            out[i] = True
            last = key[i]
    return out


@pytest.mark.parametrize("freq", ["D", "h"])
@pytest.mark.parametrize("schedule", ["every2", "weekly", "monthly", "daily@14:00"])
def test_first_bar_of_each_period(freq: str, schedule: str) -> None:
    gen = np.random.default_rng(4)
    dates = pd.date_range("2020-01-03", periods=2000, freq=freq)
    for p_closed in (0.0, 0.4, 0.95, 1.0):
        tradable = gen.random(2000) >= p_closed
        got = schedule_mask(dates, tradable, schedule)
        assert np.array_equal(got, first_bar_loop(dates, tradable, schedule))
