"""Quick start: the dynamic strategy on the embedded synthetic market, with its benchmarks.

Run: ``.venv/bin/python examples/quickstart.py`` (no network needed).
"""

from __future__ import annotations

from rwafolio.backtest import run, stats_table
from rwafolio.loaders import load
from rwafolio.strategies import DynamicLambdaStrategy, benchmark_suite

panel = load("synthetic", seed=7)  # labelled synthetic: not real data
strategy = DynamicLambdaStrategy(lam0=2.0, eta=0.05, window=30, threshold=0.01)
suite = {"dynamic": strategy, **benchmark_suite(strategy)}
results = {name: run(s, panel, name=name, first_decision=30) for name, s in suite.items()}
print(stats_table(results).round(3).to_string())
print(results["dynamic"].solver_stats())
