from __future__ import annotations

from pathlib import Path

import pytest

from rwafolio.loaders import load

DAILY = ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"]


def daily_dirs(shared: Path) -> list[Path]:
    return [shared / "Alexshch09__Stocks-prices", shared / "jmlestevez-source__taa-dashboard"]


def daily_vix(shared: Path) -> Path:
    return shared / "datasets__finance-vix" / "vix-daily.csv"


@pytest.fixture(scope="module")
def small_panel():  # type: ignore[no-untyped-def]
    """Synthetic all-days panel, 4 months (fast)."""
    return load("synthetic", None, start="2021-01-01", end="2021-04-30", seed=3)
