"""What moves the allocation, and how often to update it, on real data (2018-2024).

Loads BTC-USD, ETH-USD, USDT-USD, VNQ, BIL, GLD and the CBOE VIX from ../shared/data, runs the
default DynamicLambdaStrategy, ranks the inputs by the turnover a one-standard-error move would
cause at the 2020-03-16 decision (COVID crash, VIX 82) and at a calm date, summarizes the ranking
in calm vs stress regimes, and compares 18 update schedules.

    python examples/sensitivity_frequency.py [DATA_DIR] [--out report.html]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from rwafolio.backtest import run
from rwafolio.loaders import load
from rwafolio.reports.figures_studies import tornado_figure
from rwafolio.reports.studies import frequency_sections
from rwafolio.strategies.dynamic import DynamicLambdaStrategy
from rwafolio.studies import frequency_study, regime_summary, sensitivity_at, sensitivity_path

SYMBOLS = ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"]
CALM_DATE = "2019-07-15"
COLUMNS = ["rank", "input", "value", "move", "turnover", "drisk_up", "differentiable"]


def main() -> None:
    here = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default=str(here.parent / "shared" / "data"))
    ap.add_argument("--out", default=None, help="write an HTML report here")
    ap.add_argument("--executor", default="local", help="'local', 'local:N', 'serial', dask://...")
    args = ap.parse_args()
    data = Path(args.data)
    dirs = [
        data / "Alexshch09__Stocks-prices",
        data / "jmlestevez-source__taa-dashboard",
        data / "JoonmoAhn__quant_trading",
    ]
    panel = load(
        "files",
        SYMBOLS,
        data_dirs=dirs,
        vix=str(data / "datasets__finance-vix" / "vix-daily.csv"),
        start="2018-01-01",
        end="2024-12-06",
    )
    print(
        f"panel: {panel.prices.shape[0]} dates x {len(panel.symbols)} assets, "
        f"{panel.dates[0].date()}..{panel.dates[-1].date()}, policy {panel.policy}"
    )
    pd.set_option("display.width", 140)
    t0 = time.perf_counter()
    result = run(DynamicLambdaStrategy(), panel, execute=False)
    print(f"backtest: {time.perf_counter() - t0:.1f} s, {len(result.estimate_dates)} decisions")

    sections = []
    for label, date in (("stress", "2020-03-16"), ("calm", CALM_DATE)):
        sens, ranking = sensitivity_at(result, date)
        d = pd.Timestamp(ranking.attrs["date"]).date()
        print(
            f"\n== top five inputs at {d} ({label}; VIX {sens.vix:.1f}, lam {sens.lam:.2f}; "
            f"differentiable: {sens.differentiable}) =="
        )
        print("weights w*: " + ", ".join(f"{s} {w:.3f}" for s, w in sens.weights.items()))
        print(ranking[COLUMNS].head(5).to_string(index=False, float_format=lambda x: f"{x:.4f}"))
        sections.append((f"Sensitivity ranking at {d} ({label})", tornado_figure(ranking), ""))

    t0 = time.perf_counter()
    path = sensitivity_path(result)
    print(
        f"\nsensitivity path: {time.perf_counter() - t0:.1f} s, {path.table['date'].nunique()} "
        f"dates, {len(path.failed)} failed"
    )
    print("\n== share of impact by kind of input (mean over dates) ==")
    print(regime_summary(path, "kind").round(3).to_string())
    print("\n== top inputs in stress (VIX > 25) vs calm ==")
    cols = ["turnover_calm", "turnover_stress", "rank_calm", "rank_stress"]
    print(regime_summary(path, "input")[cols].head(8).round(3).to_string())

    t0 = time.perf_counter()
    study = frequency_study(panel, executor=args.executor, rng=0)
    fsections = frequency_sections(study)
    print(
        f"\n== schedule table ({time.perf_counter() - t0:.0f} s; utility lost: mean of "
        "U_t(w*) - U_t(w held), annualized, zero costs) =="
    )
    t = study.table.copy()
    t.index = [
        f"{c}/{r}/{'VIX>25' if pd.notna(s) else 'none'}"
        for c, r, s in zip(t["crypto"], t["rwa"], t["stress_vix"])
    ]
    show = [
        "turnover_per_year",
        "costs_paid",
        "volatility",
        "sharpe",
        "max_drawdown",
        "breaches_95",
        "breaches_99",
        "utility_lost",
        "off_optimum_share",
    ]
    print(f"(VaR: {int(t['var_forecasts'].iloc[0])} one-day forecasts per schedule)")
    print(t[show].round(4).to_string())
    if args.out:
        from rwafolio.reports import render_html

        path_out = render_html(result, path=args.out, extra_sections=sections + fsections)
        print(f"\nreport: {path_out}")


if __name__ == "__main__":
    main()
