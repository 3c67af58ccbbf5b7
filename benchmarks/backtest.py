"""Benchmark: a 7-year daily backtest of 10 assets, four ways, in one process.

1. ours, the compiled loop (the engine's default for the built-in strategy), the whole backtest
   including vectorbt execution;
2. ours, the Python path (``loop="python"``: ``strategy.decide`` at each date), same numbers;
3. ours with the cvxpy reference solver in place of the fast one (Python path);
4. cvxportfolio's SinglePeriodOptimization on the same per-period returns and covariance
   forecasts, the same constant risk aversion and the same linear costs.

The problem is made identical for all of them: the default estimates (window mean, Ledoit-Wolf
covariance with the correlation target) over a 30-period window, handed to cvxportfolio as its
forecasts; constant lam (eta = 0), no threshold, every asset daily, exchange-days calendar (252). In per-period units
our objective  w'R - lam w'Sigma w - C|z|  (R, Sigma annualized) equals ppy * (w'r - lam w'S w)
- C|z|, i.e. cvxportfolio's  r_hat'w - gamma w'S w - a|z|  with gamma = lam and a = C / ppy.

Prints seconds per decision date for each, the ratios, and how far the first-date weights agree.
Run: ``make bench`` or ``NUMBA_CACHE_DIR=.numba_cache .venv/bin/python benchmarks/backtest.py``.
Needs ../shared/data (falls back to the synthetic market, labelled, when it is missing).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from rwafolio.backtest import run
from rwafolio.loaders import load
from rwafolio.strategies import DynamicLambdaStrategy

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SYMBOLS = ["BTC-USD", "ETH-USD", "BNB-USD", "USDT-USD", "VNQ", "BIL", "GLD", "TLT", "IEF", "SPY"]
WINDOW = 30
LAM = 2.0
N_CVX = 250  # decision dates timed for the slow peers


def load_panel() -> tuple[object, str]:
    if SHARED.is_dir():
        panel = load(
            "files",
            SYMBOLS,
            data_dirs=[
                SHARED / "Alexshch09__Stocks-prices",
                SHARED / "jmlestevez-source__taa-dashboard",
            ],
            vix="none",
            start="2017-11-10",
            end="2024-11-30",
            policy="exchange_days",
        )
        return panel, "real (../shared/data)"
    panel = load("synthetic", None, policy="exchange_days", vix="none", seed=7)
    return panel, "SYNTHETIC (../shared/data missing)"


def strategy() -> DynamicLambdaStrategy:
    return DynamicLambdaStrategy(
        lam0=LAM,
        eta=0.0,
        window=WINDOW,
        mean_estimator=None,
        threshold=0.0,
        threshold_mode="none",
        schedules={"crypto": "daily", "rwa": "daily", "stable": "daily"},
        stress_vix=None,
    )


def time_ours(
    panel: object, method: str, n_dates: int | None, loop: str = "auto"
) -> tuple[float, int, object]:
    import rwafolio.optimize.solver as solver

    p = panel if n_dates is None else panel.slice(None, panel.dates[WINDOW + n_dates - 1])  # type: ignore[attr-defined]
    real = solver.solve_arrays
    if method == "reference":  # the Python path asks the solver module (the loop never does)
        loop = "python"

        def ref(*args, **kwargs):  # type: ignore[no-untyped-def]
            kwargs["method"] = "reference"
            return real(*args, **kwargs)

        solver.solve_arrays = ref  # type: ignore[assignment]
    try:
        t0 = time.perf_counter()
        res = run(strategy(), p, execute=(method == "fast"), loop=loop, progress=False)  # type: ignore[arg-type]
        dt = time.perf_counter() - t0
    finally:
        solver.solve_arrays = real  # type: ignore[assignment]
    return dt, len(res.decisions), res


def time_cvxportfolio(panel: object, res: object, n_dates: int) -> tuple[float, np.ndarray]:
    import cvxportfolio as cvx

    ppy = panel.periods_per_year  # type: ignore[attr-defined]
    symbols = panel.symbols  # type: ignore[attr-defined]
    rets = panel.returns()  # type: ignore[attr-defined]
    rets["USDOLLAR"] = 0.0
    dates = res.estimate_dates[:n_dates]  # type: ignore[attr-defined]
    mu = pd.DataFrame(res.mu[:n_dates], index=dates, columns=symbols)  # type: ignore[attr-defined]
    cov = pd.concat(
        {d: pd.DataFrame(res.cov[i], index=symbols, columns=symbols) for i, d in enumerate(dates)}  # type: ignore[attr-defined]
    )
    costs = pd.Series(panel.universe.costs / ppy, index=symbols)  # type: ignore[attr-defined]
    policy = cvx.SinglePeriodOptimization(
        cvx.ReturnsForecast(r_hat=mu)
        - LAM * cvx.FullCovariance(Sigma=cov)
        - cvx.TransactionCost(a=costs, b=None),
        [cvx.LongOnly(applies_to_cash=True), cvx.NoCash()],
        include_cash_return=False,
        solver="CLARABEL",
    )
    market = cvx.UserProvidedMarketData(
        returns=rets, min_history=pd.Timedelta(0), online_usage=True
    )
    sim = cvx.MarketSimulator(market_data=market, costs=[cvx.TransactionCost(a=costs, b=None)])
    h0 = pd.Series(0.0, index=[*symbols, "USDOLLAR"])
    h0["USDOLLAR"] = 1e6
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sim.backtest(policy, start_time=dates[0], end_time=dates[-1], h=h0)
    dt = time.perf_counter() - t0
    post_trade = result.w.iloc[0] + result.z.iloc[0]  # w is before trading, z the trade
    first_w = post_trade[symbols].to_numpy(dtype=float)
    return dt, first_w


def main() -> None:
    panel, label = load_panel()
    n_total = len(panel.dates) - WINDOW  # type: ignore[attr-defined]
    print(
        f"data: {label}; {len(panel.symbols)} assets, {len(panel.dates)} dates "  # type: ignore[attr-defined]
        f"({panel.dates[0].date()}..{panel.dates[-1].date()}), policy {panel.policy}"
    )  # type: ignore[attr-defined]
    time_ours(panel, "fast", None)  # warm-up: numba and vectorbt compile or load their caches
    time_ours(panel, "fast", None, "python")
    t_fast, n_fast, res = min(time_ours(panel, "fast", None) for _ in range(3))[:3]
    t_py, n_py, res_py = time_ours(panel, "fast", None, "python")
    same = all(
        np.array_equal(getattr(res, f).to_numpy(), getattr(res_py, f).to_numpy(), equal_nan=True)
        for f in ("weights", "targets", "fees", "value")
    )
    t0 = time.perf_counter()
    run(strategy(), panel, execute=False, progress=False)
    t_fast_noexec = time.perf_counter() - t0
    t_ref, n_ref, _ = time_ours(panel, "reference", N_CVX)
    print(
        f"ours, compiled loop ({res.loop}), whole backtest incl. vectorbt: {t_fast:.3f} s for "
        f"{n_fast} dates ({t_fast / n_fast * 1e3:.3f} ms/date); without vectorbt {t_fast_noexec:.3f} s"
    )
    print(
        f"ours, Python path (loop='python'), whole backtest: {t_py:.3f} s "
        f"({t_py / n_py * 1e3:.3f} ms/date); bit-identical to the compiled loop: {'yes' if same else 'NO'}"
    )
    print(f"ours, cvxpy reference solver: {t_ref / n_ref * 1e3:.3f} ms/date (first {n_ref} dates)")
    try:
        t_cvx, w_cvx = time_cvxportfolio(panel, res, N_CVX)
        per_cvx = t_cvx / N_CVX
        print(
            f"cvxportfolio SinglePeriodOptimization: {per_cvx * 1e3:.3f} ms/date (first {N_CVX} dates)"
        )
    except ImportError:
        per_cvx, w_cvx = float("nan"), None
        print("cvxportfolio not installed: `pip install -e .[bench]`")
    per_fast = t_fast / n_fast
    print(f"ratio cvxpy-reference / ours: {t_ref / n_ref / per_fast:.1f}x")
    print(f"ratio Python path / compiled: {t_py / n_py / per_fast:.1f}x")
    print(f"ratio cvxportfolio / ours:    {per_cvx / per_fast:.1f}x   (goal >= 200x)")
    print(
        f"7-year backtest under 2 s:    {'yes' if t_fast < 2 else 'NO'} ({t_fast:.2f} s, n_dates={n_total})"
    )
    if w_cvx is not None:
        first = res.targets.loc[res.estimate_dates[0]].to_numpy(dtype=float)  # type: ignore[attr-defined]
        ours_w = first / np.nansum(first)
        print(
            f"first-date weights, max |ours - cvxportfolio|: {np.nanmax(np.abs(ours_w - w_cvx)):.2e}"
        )
        print("  ours:        ", np.round(ours_w, 4))
        print("  cvxportfolio:", np.round(w_cvx, 4))


if __name__ == "__main__":
    main()
