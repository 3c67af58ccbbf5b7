"""Risk forecasts of the dynamic strategy on real data (../shared/data, 2018-01..2024-11), tested
the way banks test them.

Runs the default DynamicLambdaStrategy on BTC-USD, ETH-USD, USDT-USD, VNQ, BIL, GLD with CBOE's
VIX under a calendar policy, then the default risk evaluation (1-day VaR99 on every date, top-down
on the strategy's net P&L; 10-day VaR99 and 30-day VaR95 on non-overlapping windows, by the
strategy re-deciding on every simulated path) with Kupiec, Christoffersen, conditional coverage,
the Basel traffic light, the Z2 test of the CVaR and the drawdown-at-risk test, each with its
power. For contrast, the old forecast of the held book (drifting, no fees) at 30 days.

Run: ``.venv/bin/python examples/realdata_var_backtest.py [all_days|exchange_days]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rwafolio.backtest import run
from rwafolio.loaders import load
from rwafolio.risk.evaluation import EvaluationSpec, evaluate_risk
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
result = run(DynamicLambdaStrategy(), panel, execute=False)
print(f"policy {policy}: {len(result.estimate_dates)} decision dates")
for title, ev in (
    ("default evaluation", evaluate_risk(result, rng=2024)),
    (
        "held book, drifting without fees (the old forecast), 30-day VaR95",
        evaluate_risk(result, (EvaluationSpec(30, 0.95, "book"),), rng=2024),
    ),
):
    print(f"\n== {title} ({ev.target})")
    for h in ev.horizons:
        print(h.verdict())
        print(
            f"   Christoffersen p {h.independence.p_value:.3f} (power {h.power_independence:.0%}"
            f" against clustered breaches); conditional coverage p {h.conditional.p_value:.3f} "
            f"(power {h.power_conditional:.0%}); drawdown-at-risk {h.drawdown_breaches}/"
            f"{h.windows} breached, Kupiec p {h.drawdown.p_value:.3f}"
        )
        if h.rolling is not None:
            print(
                f"   250-window traffic light: {h.rolling.n_green} green, {h.rolling.n_yellow} "
                f"yellow, {h.rolling.n_red} red"
            )
    for line in ev.verdicts()[len(ev.horizons) :]:
        print(line)
