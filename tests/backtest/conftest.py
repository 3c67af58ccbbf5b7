"""A small hand-built panel: two 24/7 crypto assets and one weekday RWA, seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwafolio.loaders.panel import Panel
from rwafolio.universe import Universe


def make_panel(
    n_days: int = 200, seed: int = 0, vix: bool = True, costs: dict | None = None
) -> Panel:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-01", periods=n_days, freq="D")
    uni = Universe.from_symbols(["BTC-USD", "ETH-USD", "VNQ"], costs=costs)
    open_ = np.ones((n_days, 3), dtype=bool)
    open_[:, 2] = dates.day_of_week < 5
    r = rng.normal([0.001, 0.0012, 0.0003], [0.04, 0.05, 0.012], size=(n_days, 3))
    r[~open_] = 0.0
    r[0] = 0.0
    prices = 100 * np.cumprod(1 + r, axis=0)
    v = pd.Series(20 + 10 * np.abs(np.sin(np.arange(n_days) / 15)), index=dates)
    return Panel(
        prices=pd.DataFrame(prices, index=dates, columns=uni.symbols),
        tradable=pd.DataFrame(open_, index=dates, columns=uni.symbols),
        universe=uni,
        policy="all_days",
        vix=v if vix else None,
        vix_source="test",
        source="test",
    )


@pytest.fixture
def panel() -> Panel:
    return make_panel()
