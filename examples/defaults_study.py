"""Choose DynamicLambdaStrategy's defaults out of sample (walk-forward on the real data).

Grid (48 points, small on purpose so it runs from a clean checkout in a few minutes on 2 cores):

- return estimator: the window's sample mean (the model's), Black-Litterman with an
  equal-weight equilibrium prior worth 365 observations, Bayes-Stein, zero mean;
- trade aversion gamma (cvxportfolio's convention: gamma * C against per-period utility):
  the window's amortization (None: gamma = 1 / window), 0.25, 1;
- window: 30, 90 periods;
- threshold rule: the 0.01 per-asset band alone, or with the utility rule (kappa = 0.01).

Walk-forward (the project's :func:`rwafolio.walkforward.walk_forward`): rolling 730-day training
windows, 180-day test windows, every point scored by in-sample Sharpe (net of fees) under a
practitioner's mandate of at most 12x turnover a year (a point over it on the training window is
not eligible there), the best applied to the next test window, test windows stitched from the carried book. The study prints
the stitched out-of-sample statistics beside the model's preset and equal weight over the same
period, the choice of each fold, and the **selected default**: the point chosen in the most
folds (ties: the later fold's choice). Nothing from a test window enters any choice.

Run from the project root (reads ``../shared/data``; ``--data`` points elsewhere)::

    python examples/defaults_study.py [--data DIR] [--executor local:2]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from rwafolio.backtest import run
from rwafolio.loaders import load
from rwafolio.optimize.returns import BayesStein, BlackLitterman, ZeroMean
from rwafolio.strategies import DynamicLambdaStrategy, EqualWeight
from rwafolio.walkforward import walk_forward

SYMBOLS = ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"]
GRID: dict[str, list[Any]] = {
    "mean_estimator": [None, BlackLitterman(prior_obs=365.0), BayesStein(), ZeroMean()],
    "trade_aversion": [None, 0.25, 1.0],
    "window": [30, 90],
    "utility_threshold": [None, 0.01],
}
MAX_TURNOVER = 12.0  # the mandate: sum of |traded weight| per year, on the training window
SHOWN = ["sharpe", "excess_sharpe", "cagr", "max_drawdown", "turnover_per_year", "costs_paid"]


def label(params: dict[str, Any]) -> str:
    est = params.get("mean_estimator")
    name = "sample" if est is None else type(est).__name__
    if isinstance(est, BlackLitterman):
        name = f"BL({est.prior_obs:g})"
    g = params.get("trade_aversion")
    u = params.get("utility_threshold")
    return (
        f"{name}, gamma={'1/window' if g is None else g}, window={params.get('window')}, "
        f"{'band' if u is None else f'band+utility({u:g})'}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--executor", default="local:2")
    ap.add_argument("--start", default="2018-01-01")
    ap.add_argument("--end", default="2024-11-30")
    args = ap.parse_args()
    data = Path(args.data)
    t0 = time.perf_counter()
    panel = load(
        "files",
        SYMBOLS,
        data_dirs=[data / "Alexshch09__Stocks-prices", data / "jmlestevez-source__taa-dashboard"],
        vix=str(data / "datasets__finance-vix" / "vix-daily.csv"),
        start=args.start,
        end=args.end,
        policy="all_days",
    )
    prototype = DynamicLambdaStrategy.model_preset()
    wf = walk_forward(
        prototype,
        panel,
        GRID,
        train="730D",
        test="180D",
        mode="rolling",
        metric="sharpe",
        executor=args.executor,
        var=None,
        progress=True,
        max_turnover=MAX_TURNOVER,
    )
    print(f"\nwalk-forward: {len(wf.grid)} points x {len(wf.folds)} folds, metric {wf.metric}")
    print("\nchoice per fold (in-sample Sharpe; out-of-sample Sharpe, turnover over the fold):")
    for f in wf.folds:
        oos = f.out_of_sample
        print(
            f"  {f.test_start.date() if f.test_start is not None else '-'}: "
            f"{label(dict(f.params))}  IS {f.score:.2f}  OOS {oos.get('sharpe', float('nan')):.2f}"
            f"  turnover {oos.get('turnover', float('nan')):.2f}"
        )
    # The default: the point chosen in the most folds; ties go to the later fold's choice.
    chosen = [f.point for f in wf.folds if f.point is not None]
    counts = Counter(chosen)
    top = max(counts.values())
    default = next(p for p in reversed(chosen) if counts[p] == top)
    print(f"\nselected default (chosen in {top} of {len(chosen)} folds): {label(wf.grid[default])}")

    # The same out-of-sample period for the model's preset, the default and equal weight.
    live = wf.stitched.params.get("first_decision", wf.stitched.value.index[0])
    first = int(panel.dates.searchsorted(pd.Timestamp(live)))
    columns = {"walk-forward (stitched)": wf.stitched.stats()}
    fixed = {
        "selected default": DynamicLambdaStrategy.model_preset().set_params(**wf.grid[default]),
        "model preset": DynamicLambdaStrategy.model_preset(),
        "equal weight": EqualWeight(),
    }
    for name, strat in fixed.items():
        res = run(strat, panel, first_decision=first, progress=False, execute=False, name=name)
        columns[name] = res.stats()
    table = pd.DataFrame(columns).loc[SHOWN]
    print(f"\nout of sample, {pd.Timestamp(live).date()} .. {panel.dates[-1].date()}:")
    print(table.to_string(float_format=lambda x: f"{x:.3f}"))
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
