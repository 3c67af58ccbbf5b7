"""Benchmark: one live bar against re-running the backtest for the same decision.

For n = 6 (the real daily panel, 2018-2024, when ../shared/data is there; else the synthetic
market, labelled) and n = 50 (a seeded random 24/7 market), it times

1. ``LiveRebalancer.step`` on each of the last bars: drift, window, estimate (Ledoit-Wolf on the
   window), solve (warm-started), threshold, book step; no file written;
2. the same plus the orders journal line and the atomic state write (``LiveRun``, fsync included);
3. what a user without the live path runs to get today's decision: the backtest from the last
   row with the held weights (``run(..., first_decision=last, initial_weights=w)``), which walks
   and re-executes the whole history.

Prints microseconds per bar and the ratios. Goals (issue 16): re-run / live >= 1,000 at n = 6,
live < 100 us per bar at n = 6 without the write.
Run: ``NUMBA_CACHE_DIR=.numba_cache .venv/bin/python benchmarks/live.py``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rwafolio.backtest import run
from rwafolio.live import LiveRebalancer, LiveRun, panel_bars
from rwafolio.loaders import load
from rwafolio.loaders.panel import Panel
from rwafolio.optimize.costs import CostModel
from rwafolio.strategies import DynamicLambdaStrategy
from rwafolio.universe import Universe

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DAILY = ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"]
TIMED = 200  # bars timed at the end of the panel


def real_panel() -> tuple[Panel, str]:
    if SHARED.is_dir():
        panel = load(
            "files",
            DAILY,
            data_dirs=[
                SHARED / "Alexshch09__Stocks-prices",
                SHARED / "jmlestevez-source__taa-dashboard",
            ],
            vix=str(SHARED / "datasets__finance-vix" / "vix-daily.csv"),
            start="2018-01-01",
            end="2024-11-30",
        )
        return panel, "real daily data 2018-2024"
    return load("synthetic", DAILY), "SYNTHETIC market"


def random_panel(n: int, days: int = 2557, seed: int = 0) -> Panel:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2018-01-01", periods=days, freq="D")
    rets = (
        rng.normal(0.0005, 0.03, size=(days, n))
        @ np.linalg.cholesky(0.5 * np.eye(n) + 0.5 * np.ones((n, n))).T
    )
    prices = pd.DataFrame(
        100 * np.exp(np.cumsum(rets, axis=0)),
        index=dates,
        columns=[f"C{i:02d}-USD" for i in range(n)],
    )
    universe = Universe.from_symbols(list(prices.columns))
    tradable = pd.DataFrame(True, index=dates, columns=prices.columns)
    vix = pd.Series(20 + 10 * np.abs(np.sin(np.arange(days) / 50)), index=dates)
    return Panel(
        prices, tradable, universe, "all_days", vix=vix, vix_source="synthetic", source="synthetic"
    )


def rebalancer(panel: Panel) -> LiveRebalancer:
    return LiveRebalancer(
        DynamicLambdaStrategy(),
        panel.symbols,
        panel.universe.classes,
        CostModel.from_universe(panel.universe),
        panel.periods_per_year,
        True,
    )


def time_live(panel: Panel) -> tuple[float, float]:
    bars = list(panel_bars(panel))
    reb = rebalancer(panel)
    for bar in bars[:-TIMED]:
        reb.step(bar)
    t0 = time.perf_counter()
    for bar in bars[-TIMED:]:
        reb.step(bar)
    step = (time.perf_counter() - t0) / TIMED
    with tempfile.TemporaryDirectory() as tmp:
        live = LiveRun(lambda: rebalancer(panel), Path(tmp) / "st", Path(tmp) / "o.jsonl")
        live.run_bars(bars[:-TIMED])
        t0 = time.perf_counter()
        live.run_bars(bars)
        written = (time.perf_counter() - t0) / TIMED
    return step, written


def time_rerun(panel: Panel, repeats: int = 3) -> float:
    res = run(DynamicLambdaStrategy(), panel, execute=False, progress=False)
    last = len(panel.dates) - 1
    w = res.weights_before.iloc[-1].to_numpy()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(DynamicLambdaStrategy(), panel, first_decision=last, initial_weights=w, progress=False)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    real, label = real_panel()
    for n, panel, what in ((6, real, label), (50, random_panel(50), "seeded random 24/7 market")):
        step, written = time_live(panel)
        rerun = time_rerun(panel)
        print(f"n = {n:>2} ({what}, {len(panel.dates)} bars; last {TIMED} timed)")
        print(f"  live step, no write        {step * 1e6:10.1f} us/bar")
        print(f"  live step + journal + state {written * 1e6:9.1f} us/bar")
        print(f"  backtest re-run            {rerun * 1e6:10.1f} us   (first_decision=last row)")
        print(
            f"  ratio re-run / live        {rerun / step:10.0f}x  (with the write: "
            f"{rerun / written:.0f}x)"
        )


if __name__ == "__main__":
    main()
