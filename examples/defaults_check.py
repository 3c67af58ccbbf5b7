"""Check the defaults on the README's run and on universes and periods they were not chosen on.

For each case it runs the default DynamicLambdaStrategy, the model's preset, equal weight, buy and
hold and constant lam (the CLI's suite, same first decision date) and prints Sharpe, excess
Sharpe over the T-bill proxy, max drawdown, turnover per year and fees paid (fraction of wealth).
The limits the defaults are held to: turnover <= 12x a year, fees <= 10% of wealth.

    python examples/defaults_check.py [--data DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from rwafolio.backtest import run
from rwafolio.loaders import load
from rwafolio.strategies import DynamicLambdaStrategy, benchmark_suite

CASES = {
    "README run (tuned on): 6 assets, 2018-01..2024-11, all_days": (
        ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"],
        "2018-01-01",
        "2024-11-30",
        "all_days",
    ),
    "same assets, exchange_days": (
        ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"],
        "2018-01-01",
        "2024-11-30",
        "exchange_days",
    ),
    "11 assets (+SOL, BNB, TLT, IEF, SPY), 2020-06..2024-11, exchange_days": (
        [
            "BTC-USD",
            "ETH-USD",
            "SOL-USD",
            "BNB-USD",
            "USDT-USD",
            "VNQ",
            "BIL",
            "GLD",
            "TLT",
            "IEF",
            "SPY",
        ],
        "2020-06-01",
        "2024-11-30",
        "exchange_days",
    ),
    "BTC, BNB, USDC, TLT, SPY, BIL, 2019-01..2024-11, all_days": (
        ["BTC-USD", "BNB-USD", "USDC-USD", "TLT", "SPY", "BIL"],
        "2019-01-01",
        "2024-11-30",
        "all_days",
    ),
}
SHOWN = ["sharpe", "excess_sharpe", "max_drawdown", "turnover_per_year", "costs_paid"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data")
    data = Path(ap.parse_args().data)
    dirs = [data / "Alexshch09__Stocks-prices", data / "jmlestevez-source__taa-dashboard"]
    vix = str(data / "datasets__finance-vix" / "vix-daily.csv")
    for title, (symbols, start, end, policy) in CASES.items():
        panel = load("files", symbols, data_dirs=dirs, vix=vix, start=start, end=end, policy=policy)
        default = DynamicLambdaStrategy()
        suite = {"default": default, **benchmark_suite(default)}
        suite.pop("cost_blind")
        first = max(s.warmup for s in suite.values())
        table = pd.DataFrame(
            {
                name: run(s, panel, first_decision=first, progress=False, name=name).stats()
                for name, s in suite.items()
            }
        ).loc[SHOWN]
        ok = (
            table.loc["turnover_per_year", "default"] <= 12
            and table.loc["costs_paid", "default"] <= 0.10
        )
        print(f"\n{title}  [{'within' if ok else 'OUTSIDE'} the limits]")
        print(table.to_string(float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
