"""Benchmark: one live bar against re-running the backtest for the same decision.

For n = 6 (the real daily panel, 2018-2024, when ../shared/data is there; else the synthetic
market, labelled) and n = 50 (a seeded random 24/7 market), it times

1. ``LiveRebalancer.step`` on each of the last bars, on the compiled path (the default for the
   built-in strategy: one numba call per bar for the returns, drift, window, Ledoit-Wolf
   estimate, solve warm-started, threshold and book step) and on the Python path
   (``path="python"``); no file written;
2. the compiled path plus the orders journal line and the atomic state write (``LiveRun``,
   fsync included);
3. what a user without the live path runs to get today's decision: the backtest from the last
   row with the held weights (``run(..., first_decision=last, initial_weights=w)``), which walks
   and re-executes the whole history, with the engine's compiled loop (``loop="auto"``, the
   default) and with its Python loop (``loop="python"``).

Each figure is the best of ``REPEATS`` runs (the machine is shared: the best run is the one
least disturbed). Goals (issue 16): re-run / live >= 1,000 at n = 6, live < 100 us per bar at
n = 6 without the write; the ratios are printed against both re-runs.
Run: ``NUMBA_CACHE_DIR=.numba_cache .venv/bin/python benchmarks/live.py``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rwafolio.backtest import run
from rwafolio.live import Bar, LiveRebalancer, LiveRun, panel_bars
from rwafolio.loaders import load
from rwafolio.loaders.panel import Panel
from rwafolio.optimize.costs import CostModel
from rwafolio.strategies import DynamicLambdaStrategy
from rwafolio.universe import Universe

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DAILY = ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"]
TIMED = 200  # bars timed at the end of the panel
REPEATS = 5
GOAL_US, GOAL_RATIO = 100.0, 1000.0


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


def rebalancer(panel: Panel, path: str = "auto") -> LiveRebalancer:
    return LiveRebalancer(
        DynamicLambdaStrategy(),
        panel.symbols,
        panel.universe.classes,
        CostModel.from_universe(panel.universe),
        panel.periods_per_year,
        True,
        path=path,  # type: ignore[arg-type]
    )


def time_steps(panel: Panel, bars: list[Bar], path: str) -> tuple[float, str]:
    """Best mean seconds per bar over the last TIMED bars, and the path taken."""
    best = np.inf
    for _ in range(REPEATS if path != "python" else 2):
        reb = rebalancer(panel, path)
        for bar in bars[:-TIMED]:
            reb.step(bar)
        t0 = time.perf_counter()
        for bar in bars[-TIMED:]:
            reb.step(bar)
        best = min(best, (time.perf_counter() - t0) / TIMED)
    return best, reb.path


def time_written(panel: Panel, bars: list[Bar]) -> float:
    """The same with the journal and the state written (fsync) per bar; the run starts 100 bars
    before the timed ones (the write's cost does not depend on the history, the fsyncs are slow)."""
    bars = bars[-(TIMED + 100) :]
    best = np.inf
    for _ in range(2):
        with tempfile.TemporaryDirectory() as tmp:
            live = LiveRun(lambda: rebalancer(panel), Path(tmp) / "st", Path(tmp) / "o.jsonl")
            live.run_bars(bars[:-TIMED])
            t0 = time.perf_counter()
            live.run_bars(bars)
            best = min(best, (time.perf_counter() - t0) / TIMED)
    return best


def time_rerun(panel: Panel, loop: str) -> float:
    res = run(DynamicLambdaStrategy(), panel, execute=False, progress=False)
    last = len(panel.dates) - 1
    w = res.weights_before.iloc[-1].to_numpy()
    best = np.inf
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        run(
            DynamicLambdaStrategy(),
            panel,
            first_decision=last,
            initial_weights=w,
            progress=False,
            loop=loop,  # type: ignore[arg-type]
        )
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    real, label = real_panel()
    for n, panel, what in ((6, real, label), (50, random_panel(50), "seeded random 24/7 market")):
        bars = list(panel_bars(panel))
        step, path = time_steps(panel, bars, "auto")
        py_step, _ = time_steps(panel, bars, "python")
        written = time_written(panel, bars)
        rerun = time_rerun(panel, "auto")
        rerun_py = time_rerun(panel, "python")
        us = step * 1e6
        print(
            f"n = {n:>2} ({what}, {len(panel.dates)} bars; last {TIMED} timed, best of {REPEATS})"
        )
        print(f"  live step, {path} path, no write    {us:10.1f} us/bar")
        print(f"  live step, python path, no write    {py_step * 1e6:10.1f} us/bar")
        print(f"  live step + journal + state (fsync) {written * 1e6:10.1f} us/bar")
        print(
            f"  backtest re-run, compiled loop      {rerun * 1e6:10.1f} us  (first_decision=last)"
        )
        print(f"  backtest re-run, python loop        {rerun_py * 1e6:10.1f} us")
        print(
            f"  ratio re-run / live step            {rerun / step:10.0f}x vs the compiled re-run, "
            f"{rerun_py / step:.0f}x vs the python re-run (with the write: {rerun / written:.0f}x, "
            f"{rerun_py / written:.0f}x)"
        )
        if n == 6:
            print(
                f"  goals: < {GOAL_US:.0f} us/bar without the write: "
                f"{'met' if us < GOAL_US else 'NOT met'}; >= {GOAL_RATIO:.0f}x the re-run: "
                f"{'met' if rerun / step >= GOAL_RATIO else 'NOT met'} vs the compiled re-run, "
                f"{'met' if rerun_py / step >= GOAL_RATIO else 'NOT met'} vs the python re-run"
            )


if __name__ == "__main__":
    main()
