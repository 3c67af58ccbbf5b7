"""Speed of rwafolio.risk: one forecast (10,000 x 30 x n), the drawing alone, rolling forecasts
along 84 monthly dates (n = 10) and the crowding run (10,000 scenarios, K = 10, 3 assets).

Run: ``NUMBA_CACHE_DIR=.numba_cache python benchmarks/risk.py``. Prints; asserts nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from rwafolio.backtest.result import BacktestResult
from rwafolio.loaders.panel import Panel
from rwafolio.risk import (
    covariance_from_vols,
    forecast,
    per_period,
    rolling_forecasts,
    simulate_crowding,
)
from rwafolio.risk.scenarios import CHUNK, covariance_factor, run_chunks
from rwafolio.universe import Universe

M, H = 10_000, 30


def best(fn: Callable[[], object], repeat: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def cpu_seconds(fn: Callable[[], object]) -> float:
    """CPU time (all threads) of one call: the work done, independent of other load."""
    t = time.process_time()
    fn()
    return time.process_time() - t


def problem(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n)
    a = rng.standard_normal((n, n + 5))
    cov = a @ a.T / (n + 5) * 2e-4
    return np.full(n, 1.0 / n), np.full(n, 2e-4), cov


def one_forecast() -> None:
    print(
        f"one forecast, {M:,} x {H} x n (ms; 'plain draw' = default_rng().standard_normal((M*H, n)),"
    )
    print(
        "  'our draw' = the same numbers drawn as the engine draws them: SFC64 chunks on threads)"
    )
    print(
        f"{'n':>4} {'dist':>10} {'forecast':>9} {'plain draw':>11} {'ratio':>6} {'our draw':>9} {'ratio':>6}"
    )
    for n in (3, 10, 50):
        for dist in ("normal", "student_t"):
            tf, tp, to = time_one(n, dist)
            print(
                f"{n:>4} {dist:>10} {tf * 1e3:>9.1f} {tp * 1e3:>11.1f} {tf / tp:>6.2f} "
                f"{to * 1e3:>9.1f} {tf / to:>6.2f}"
            )


def time_one(n: int, dist: str) -> tuple[float, float, float]:
    """(forecast, plain numpy draw, the engine's own draw) in seconds."""
    w, mu, cov = problem(n)
    k = covariance_factor(cov).shape[1]

    def full() -> None:
        forecast(w, mu, cov, distribution=dist, rng=1)  # type: ignore[arg-type]

    def plain() -> None:
        g = np.random.default_rng(1)
        g.standard_normal((M * H, n))
        if dist == "student_t":
            g.standard_gamma(2.5, size=M * H)

    def ours() -> None:
        run_chunks(
            lambda lo, hi, z, s, i: None, n_scenarios=M, seed=1, horizon=H, k=k,
            distribution=dist, nu=5.0, n_hist=1, block=5, workers=None,
        )  # fmt: skip

    return best(full), best(plain), best(ours)


def backtest_result(n: int = 10, months: int = 84) -> BacktestResult:
    rng = np.random.default_rng(0)
    symbols = [f"A{i}-USD" for i in range(n)]
    uni = Universe.from_symbols(symbols)
    days = months * 21 + 60
    w, mu, cov = problem(n)
    r = rng.multivariate_normal(mu, cov, size=days - 1)
    idx = pd.bdate_range("2017-01-02", periods=days)
    prices = pd.DataFrame(
        100 * np.vstack([np.ones(n), np.cumprod(1 + r, axis=0)]), index=idx, columns=symbols
    )
    panel = Panel(prices, prices.astype(bool) | True, uni, "exchange_days", source="synthetic")
    port = np.concatenate([[0.0], r @ w])
    value = pd.Series(np.cumprod(1 + port), index=idx)
    weights = pd.DataFrame(np.tile(w, (days, 1)), index=idx, columns=symbols)
    est = idx[30::21][:months]
    return BacktestResult(
        name="bench",
        panel=panel,
        portfolio=None,
        value=value,
        returns=pd.Series(port, index=idx),
        weights=weights,
        weights_before=weights,
        targets=weights,
        decisions=pd.DataFrame(),
        skipped=pd.DataFrame(),
        turnover=pd.Series(0.0, index=idx),
        fees=pd.Series(0.0, index=idx),
        estimate_dates=pd.DatetimeIndex(est),
        mu=np.tile(mu, (len(est), 1)),
        cov=np.tile(cov, (len(est), 1, 1)),
    )


def rolling() -> None:
    res = backtest_result()
    print(f"\nrolling forecasts: {len(res.estimate_dates)} monthly dates, n = 10, {M:,} x {H} each")
    for dist in ("normal", "student_t"):

        def job(dist: str = dist) -> None:
            rolling_forecasts(res, horizon=H, distribution=dist, rng=0)  # type: ignore[arg-type]

        t = best(job, repeat=3)
        cpu = cpu_seconds(job)
        print(
            f"  {dist:>10}: {t:.2f} s wall ({t / len(res.estimate_dates) * 1e3:.1f} ms per date), "
            f"{cpu:.2f} CPU-s"
        )


def crowding() -> None:
    corr = np.eye(3)
    corr[0, 1] = corr[1, 0] = 0.3
    mu, cov = per_period([0.08, 0.05, 0.02], covariance_from_vols([0.4, 0.15, 0.02], corr))
    w = np.array([0.5, 0.3, 0.2])

    def run() -> None:
        simulate_crowding(
            w, mu, cov, asset_classes=["crypto", "rwa", "stable"],
            costs=[0.001, 0.01, 0.0005], rebalance=1, aggregation="sum", rng=0,
        )  # fmt: skip

    t = best(run, repeat=2)
    cpu = cpu_seconds(run)
    solves = M * H * 10
    print(
        f"\ncrowding: {M:,} scenarios x {H} days x K=10 agents (3 assets): {t:.2f} s "
        f"({solves:,} agent solves, {t / solves * 1e6:.2f} us each), {cpu:.2f} CPU-s"
    )


if __name__ == "__main__":
    print(
        f"(chunks of {CHUNK} scenarios; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})"
    )
    one_forecast()
    rolling()
    crowding()
