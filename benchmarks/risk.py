"""Speed of rwafolio.risk: one forecast (10,000 x 30 x n), the drawing alone, rolling forecasts
along 84 monthly dates (n = 10), the crowding run (2,000 scenarios, K = 10, 3 assets) against the
agent-free book forecast and the zero-agent crowding run of the same size (goal: within 20x),
the strategy-aware forecast and the default evaluation.

Strategy-aware forecast (10,000 paths x 30 days, n = 6; goal: within 10x of the book forecast
of the same size, and under 1 s): printed against the book forecast and against drawing the same
random numbers alone, and split into the same paths with nothing allowed to trade (book drift,
fees, the rolling Ledoit-Wolf sums) and the per-decision cost (estimate, lam, the exact solve,
the threshold rule), which bounds it: every simulated day of every path solves the strategy's
problem.

Default evaluation of the README's 7-year real run (when ``../shared/data`` is there): the risk
evaluation alone, and the whole default ``rwafolio backtest`` command as a user runs it (goal:
under 30 s wall on 2 cores, evaluation included).

Run: ``NUMBA_CACHE_DIR=.numba_cache python benchmarks/risk.py [--only strategy,real]``. Prints;
asserts nothing. Figures are load-dependent: compare the ratios printed in one run.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from rwafolio.backtest.result import BacktestResult
from rwafolio.loaders.panel import Panel
from rwafolio.risk import (
    covariance_from_vols,
    forecast,
    given_liquidity,
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
            rolling_forecasts(res, horizon=H, distribution=dist, rng=0, target="book")

        t = best(job, repeat=3)
        cpu = cpu_seconds(job)
        print(
            f"  {dist:>10}: {t:.2f} s wall ({t / len(res.estimate_dates) * 1e3:.1f} ms per date), "
            f"{cpu:.2f} CPU-s"
        )


def crowding(m: int = 2_000) -> None:
    """The crowding run (K = 10 allocating agents, default config) against two agent-free runs
    of the same size (same scenarios, horizon, book and settings): the book forecast
    (``forecast``) and the same crowding simulation with zero agents. Goal: within 20x."""
    from rwafolio.risk import CrowdingConfig

    corr = np.eye(3)
    corr[0, 1] = corr[1, 0] = 0.3
    mu, cov = per_period([0.08, 0.05, 0.02], covariance_from_vols([0.4, 0.15, 0.02], corr))
    w = np.array([0.5, 0.3, 0.2])
    liq = given_liquidity(["BTC", "RE", "USDC"], [3e10, 3e5, 1e9], np.sqrt(np.diag(cov)))
    common = {"costs": [0.001, 0.01, 0.0005], "rebalance": 1, "aggregation": "sum", "rng": 0,
              "n_scenarios": m}  # fmt: skip

    def run(k: int = 10) -> None:
        simulate_crowding(w, mu, cov, liquidity=liq, config=CrowdingConfig(n_agents=k),
                          progress=False, **common)  # type: ignore[arg-type]  # fmt: skip

    def alone() -> None:
        forecast(w, mu, cov, **common)  # type: ignore[arg-type]

    def zero() -> None:
        run(0)

    t, ta, t0 = best(run, repeat=2), best(alone), best(zero)
    cpu, cpu_a, cpu_0 = cpu_seconds(run), cpu_seconds(alone), cpu_seconds(zero)
    decisions = m * H * 10
    print(
        f"\ncrowding: {m:,} scenarios x {H} days x K=10 agents (3 assets, default agents): "
        f"{t:.2f} s wall, {cpu:.2f} CPU-s ({decisions:,} agent decisions, "
        f"{cpu / decisions * 1e6:.2f} CPU-us each)\n"
        f"  agent-free book forecast (forecast) of the same size: {ta * 1e3:.1f} ms wall, "
        f"{cpu_a * 1e3:.0f} CPU-ms: ratio {t / ta:.0f}x wall, {cpu / max(cpu_a, 1e-9):.0f}x CPU "
        f"(goal 20x)\n"
        f"  the same crowding simulation with zero agents: {t0 * 1e3:.1f} ms wall, "
        f"{cpu_0 * 1e3:.0f} CPU-ms: ratio {t / t0:.0f}x wall, {cpu / max(cpu_0, 1e-9):.0f}x CPU"
    )


def strategy_aware() -> None:
    """Strategy-aware forecast vs the book forecast and the draw alone, 10,000 x 30, n = 6."""
    from rwafolio.backtest import run
    from rwafolio.risk.strategy_mc import strategy_arrays, strategy_forecast
    from rwafolio.strategies import DynamicLambdaStrategy

    symbols = ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"]
    rng = np.random.default_rng(0)
    days = 400
    idx = pd.date_range("2021-01-01", periods=days, freq="D")
    vol = np.array([0.04, 0.05, 0.0005, 0.012, 0.0003, 0.009])
    r = rng.standard_normal((days, 6)) * vol
    r[0] = 0.0
    prices = pd.DataFrame(100 * np.cumprod(1 + r, axis=0), index=idx, columns=symbols)
    vix = pd.Series(20 + 8 * np.abs(np.sin(np.arange(days) / 20)), index=idx)
    panel = Panel(
        prices, prices.astype(bool) | True, Universe.from_symbols(symbols), "all_days",
        vix=vix, vix_source="synthetic", source="synthetic",
    )  # fmt: skip
    res = run(DynamicLambdaStrategy(), panel, execute=False, progress=False)
    pos = days - 40
    hist = r[pos - 250 : pos]

    def strat() -> None:
        strategy_forecast(res, pos, horizon=H, n_scenarios=M, seed=1)

    def book() -> None:
        w = res.weights.to_numpy()[pos]
        forecast(w, None, None, distribution="bootstrap", history=hist, rng=1)

    def draw() -> None:
        run_chunks(
            lambda lo, hi, z, s, i: None, n_scenarios=M, seed=1, horizon=H, k=0,
            distribution="bootstrap", nu=5.0, n_hist=hist.shape[0], block=5, workers=None,
        )  # fmt: skip

    def still() -> None:  # the same paths with nothing allowed to trade: no decision at all
        d = arrays.decision
        quiet = arrays._replace(
            decision=d._replace(scheduled=np.zeros_like(d.scheduled), stress_vix=np.inf)
        )
        strategy_forecast(res, pos, horizon=H, n_scenarios=M, seed=1, arrays=quiet)

    arrays = strategy_arrays(res)
    ts, tb, td, tq = best(strat, repeat=2), best(book), best(draw), best(still, repeat=2)
    cpu = cpu_seconds(strat)
    per = (ts - tq) / (M * H) * 1e6
    print(
        f"\nstrategy-aware forecast, {M:,} paths x {H} days, n = 6 ({M * H:,} decisions): "
        f"{ts * 1e3:.0f} ms wall, {cpu:.2f} CPU-s ({ts / (M * H) * 1e6:.2f} us per decision)\n"
        f"  book forecast of the same size {tb * 1e3:.1f} ms: ratio {ts / tb:.0f}x (goal 10x, and "
        f"under 1 s: {'met' if ts < 1.0 else 'NOT met'}); the same random numbers drawn alone "
        f"{td * 1e3:.1f} ms (ratio {ts / td:.0f}x)\n"
        f"  the same paths with no decision (book drift, fees, rolling estimator) {tq * 1e3:.0f} ms "
        f"({tq / tb:.0f}x the book forecast); the decisions (estimate, lam, exact solve, "
        f"threshold) {per:.2f} us each"
    )


def real_evaluation() -> None:
    """The default risk evaluation of the README's 7-year real run (1-day dense, 10, 30)."""
    from rwafolio.backtest import run
    from rwafolio.loaders import load
    from rwafolio.risk.evaluation import evaluate_risk
    from rwafolio.strategies import DynamicLambdaStrategy

    data = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not data.is_dir():
        print("\n(real-data evaluation skipped: ../shared/data not found)")
        return
    panel = load(
        "files", ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"],
        data_dirs=[data / "Alexshch09__Stocks-prices", data / "jmlestevez-source__taa-dashboard"],
        vix=str(data / "datasets__finance-vix" / "vix-daily.csv"),
        start="2018-01-01", end="2024-11-30", policy="all_days",
    )  # fmt: skip
    t = time.perf_counter()
    res = run(DynamicLambdaStrategy(), panel, progress=False)
    tb = time.perf_counter() - t

    t, c = time.perf_counter(), time.process_time()
    evaluate_risk(res, rng=0)  # once (the kernels are compiled by then): wall and CPU together
    te, cpu = time.perf_counter() - t, time.process_time() - c
    print(
        f"\nreal run 2018-2024, 6 assets: backtest incl. vectorbt {tb:.1f} s; default risk "
        f"evaluation (1-day dense top-down 10,000 paths; 10- and 30-day strategy-aware 1,000 "
        f"paths) {te:.1f} s wall, {cpu:.1f} CPU-s"
    )
    cli_command(data)


def cli_command(data: Path) -> None:
    """The whole default ``rwafolio backtest`` of the README's real run, as a user runs it."""
    import resource
    import subprocess
    import tempfile

    args = [
        sys.executable, "-m", "rwafolio.cli", "backtest", "--source", "files",
        "--data-dir", str(data / "Alexshch09__Stocks-prices"),
        "--data-dir", str(data / "jmlestevez-source__taa-dashboard"),
        "--vix", str(data / "datasets__finance-vix" / "vix-daily.csv"),
        "--start", "2018-01-01", "--end", "2024-11-30",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run([*args, "--out", f"{tmp}/r.html"], check=True, capture_output=True)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(
        f"  the default `rwafolio backtest` command (6 backtests, evaluation, crowding, report): "
        f"{wall:.1f} s wall (goal 30 s on 2 cores: {'met' if wall < 30 else 'NOT met'}), "
        f"{cpu:.1f} CPU-s; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    parts = {"one": one_forecast, "rolling": rolling, "crowding": crowding,
             "strategy": strategy_aware, "real": real_evaluation}  # fmt: skip
    only = sys.argv[2].split(",") if len(sys.argv) > 2 and sys.argv[1] == "--only" else list(parts)
    print(
        f"(chunks of {CHUNK} scenarios; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})"
    )
    for name in only:
        parts[name]()
