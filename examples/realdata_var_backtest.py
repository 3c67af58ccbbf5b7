"""VaR backtests of the dynamic strategy on real data (../shared/data, 2018-01..2024-11).

Runs the default DynamicLambdaStrategy on BTC-USD, ETH-USD, USDT-USD, VNQ, BIL, GLD with CBOE's
VIX under a calendar policy, forecasts 30-period VaR/CVaR at every decision date (normal and
Student-t, 10,000 scenarios, seeded; with the strategy's own window mean and with a zero mean),
and runs Kupiec, Christoffersen, conditional coverage and the
Basel traffic light on non-overlapping windows (and, for reference, on all overlapping ones).

Run: ``.venv/bin/python examples/realdata_var_backtest.py [all_days|exchange_days]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rwafolio.backtest import run
from rwafolio.loaders import load
from rwafolio.risk import rolling_forecasts
from rwafolio.strategies import DynamicLambdaStrategy

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
policy = sys.argv[1] if len(sys.argv) > 1 else "all_days"
panel = load(
    "files",
    ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"],
    data_dirs=[SHARED / "Alexshch09__Stocks-prices", SHARED / "jmlestevez-source__taa-dashboard"],
    vix=str(SHARED / "datasets__finance-vix" / "vix-daily.csv"),
    start="2018-01-01",
    end="2024-11-30",
    policy=policy,
)
result = run(DynamicLambdaStrategy.model_preset(), panel, execute=False)
print(f"policy {policy}: {len(result.estimate_dates)} decision dates; stats:")
print(result.stats().round(3).to_string())
for mean in ("estimate", "zero"):
    for dist in ("normal", "student_t"):
        fc = rolling_forecasts(result, horizon=30, every=1, distribution=dist, rng=2024, mean=mean)
        n_complete = int(fc.table["complete"].sum())
        print(f"\n== mean {mean}, {dist}: {n_complete} complete forecasts of {len(fc.table)}")
        for sampling in ("non_overlapping", "all"):
            for level in (0.95, 0.99):
                for kind in ("var", "dar"):
                    suite = fc.backtest(level, kind=kind, sampling=sampling)
                    b = fc.breaches(level, kind=kind, sampling=sampling)
                    print(
                        f"{sampling:>15} {kind.upper()}{level * 100:g}: {int(b.sum())}/{len(b)} "
                        f"breaches (expected {len(b) * (1 - level):.1f}); Kupiec LR "
                        f"{suite.kupiec.statistic:.2f} p {suite.kupiec.p_value:.3f}; "
                        f"Christoffersen p {suite.independence.p_value:.3f}; "
                        f"CC p {suite.conditional.p_value:.3f}; traffic light {suite.traffic.zone}"
                    )
