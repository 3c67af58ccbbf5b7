"""Walk-forward benchmark: a 100-point grid, rolling 2-year train / 6-month test, 2018-2024.

Real data from ../shared/data (BTC-USD, ETH-USD, USDT-USD, VNQ, BIL, GLD and the CBOE VIX). The
same sweep runs on 1 local worker (in process) with the engine's compiled loop (the default) and
with the old path (``loop="python"``: ``strategy.decide`` at each date), on 2 local worker
processes and on a 2-worker Dask LocalCluster; the script prints wall times, the speed-up over one
worker, the compiled loop's speed-up over the old path, the time per decision date per grid
point, and checks that the results agree bit for bit.

    .venv/bin/python benchmarks/walkforward.py [--points 100] [--skip-dask] [--skip-python]

Goals: the whole sweep under 60 s on a 2-core machine, speed-up >= 1.8 from 1 to 2 workers
(issue 7); the compiled loop >= 5x faster than the old path on 1 worker (issue 13).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def grid(n_points: int) -> dict[str, list[object]]:
    """lam0 x eta x window x threshold; 5 x 5 x 2 x 2 = 100 points (fewer for --points < 100)."""
    full: dict[str, list[object]] = {
        "lam0": [0.5, 1.0, 2.0, 4.0, 8.0],
        "eta": [0.0, 0.025, 0.05, 0.1, 0.2],
        "window": [30, 60],
        "threshold": [0.005, 0.02],
    }
    if n_points >= 100:
        return full
    # shrink lam0 then eta for quick runs
    k = max(1, n_points // 20)
    return {
        **full,
        "lam0": full["lam0"][:k],
        "eta": full["eta"][: max(1, min(5, n_points // (4 * k)))],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--skip-python", action="store_true", help="do not time the old path")
    args = ap.parse_args()
    os.environ.pop("RWAFOLIO_WALKFORWARD_CACHE", None)  # time the work, not the cache

    from rwafolio.loaders import load
    from rwafolio.strategies import DynamicLambdaStrategy
    from rwafolio.tasks import LocalExecutor
    from rwafolio.walkforward import walk_forward
    from rwafolio.walkforward.sweep import expand_grid

    t = time.perf_counter()
    panel = load(
        "files",
        ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"],
        data_dirs=[DATA / "jmlestevez-source__taa-dashboard", DATA / "Alexshch09__Stocks-prices"],
        start="2018-01-01",
        end="2024-11-30",
        vix=str(DATA / "datasets__finance-vix" / "vix-daily.csv"),
    )
    print(f"data: {panel.prices.shape[0]} dates x {panel.prices.shape[1]} assets "
          f"({panel.dates[0].date()} .. {panel.dates[-1].date()}), VIX {panel.vix_source}; "
          f"loaded in {time.perf_counter() - t:.1f} s")  # fmt: skip
    g = grid(args.points)
    n_points = len(expand_grid(g))
    kw: dict[str, object] = dict(
        train="730D", test="180D", mode="rolling", var=None, progress=False
    )
    strategy = DynamicLambdaStrategy()

    runs = {}
    t = time.perf_counter()
    runs["local:1"] = walk_forward(strategy, panel, g, executor=LocalExecutor(1), **kw)
    times = {"local:1": time.perf_counter() - t}
    res = runs["local:1"]
    print(res.plan.describe())
    # decision dates evaluated: every task trades from its first row to its last
    warm = int(res.settings["warmup"])
    n_dec = 0
    for f in res.plan.folds:
        i0, i1 = f.train_rows
        if i1 - max(i0, warm) >= 30:
            n_dec += (i1 - max(i0, warm)) * n_points
    r0, r1 = res.plan.folds[0].test_rows[0], res.plan.folds[-1].test_rows[1]
    n_dec += (r1 - max(r0, warm)) * n_points
    n_dec_per_point = n_dec // n_points
    print(f"grid: {n_points} points x {len(res.plan.folds)} folds (+ hindsight) = {res.n_tasks} "
          f"tasks, {n_dec_per_point} decision dates per point")  # fmt: skip

    if not args.skip_python:
        t = time.perf_counter()
        runs["python:1"] = walk_forward(
            strategy, panel, g, executor=LocalExecutor(1), loop="python", **kw
        )
        times["python:1"] = time.perf_counter() - t
    t = time.perf_counter()
    runs["local:2"] = walk_forward(strategy, panel, g, executor=LocalExecutor(2), **kw)
    times["local:2"] = time.perf_counter() - t
    if not args.skip_dask:
        from distributed import Client, LocalCluster

        with (
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):  # fmt: skip
            t = time.perf_counter()
            runs["dask:2"] = walk_forward(strategy, panel, g, executor=client, **kw)
            times["dask:2"] = time.perf_counter() - t

    print(
        f"\n{'executor':<10}{'wall s':>9}{'speed-up':>10}{'us/decision/point':>19}{'identical':>11}"
    )
    base = runs["local:1"]
    for name, sec in times.items():
        same = (
            runs[name].scores.to_numpy().tobytes() == base.scores.to_numpy().tobytes()
            and runs[name].stitched.value.to_numpy().tobytes()
            == base.stitched.value.to_numpy().tobytes()
        )
        print(f"{name:<10}{sec:>9.1f}{times['local:1'] / sec:>10.2f}{sec / n_dec * 1e6:>19.1f}"
              f"{'yes' if same else 'NO':>11}")  # fmt: skip
    if "python:1" in times:
        print(
            f"\n{n_points} points x {len(res.plan.folds)} folds, 1 worker: compiled loop "
            f"{times['local:1']:.1f} s, old path (loop='python') {times['python:1']:.1f} s: "
            f"{times['python:1'] / times['local:1']:.1f}x faster (goal >= 5x)"
        )
    print("\nstitched out of sample vs best fixed point with hindsight:")
    print(base.comparison.loc[["total_return", "sharpe", "max_drawdown", "costs_paid"]].round(4))
    ok = times["local:1"] < 60 and times["local:1"] / times["local:2"] >= 1.8
    print(f"\ngoal (< 60 s, speed-up >= 1.8 at 2 workers): {'met' if ok else 'NOT met'}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
