"""Replay a daily panel bar by bar through the live rebalancer and compare with the backtest.

Run: ``python examples/live_replay.py [DATA_DIR]`` (DATA_DIR holding BTC-USD.csv, ETH-USD.csv,
USDT-USD.csv, VNQ.csv, BIL.csv, GLD.csv; without it, the synthetic market). The command-line
equivalent, with a restartable state folder and an orders journal, is ``rwafolio live``.
"""

from __future__ import annotations

import sys

import numpy as np

from rwafolio.backtest import run
from rwafolio.live import LiveRebalancer, panel_bars
from rwafolio.loaders import load
from rwafolio.optimize.costs import CostModel
from rwafolio.strategies import DynamicLambdaStrategy

SYMBOLS = ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"]


def main() -> None:
    if len(sys.argv) > 1:
        panel = load(
            "files",
            SYMBOLS,
            data_dirs=sys.argv[1:],
            vix="realized:BTC-USD",
            start="2023-01-01",
            end="2024-06-30",
        )
    else:
        panel = load("synthetic", SYMBOLS, start="2023-01-01", end="2024-06-30")
    reb = LiveRebalancer(
        DynamicLambdaStrategy(),
        panel.symbols,
        panel.universe.classes,
        CostModel.from_universe(panel.universe),
        panel.periods_per_year,
        panel.vix is not None,
    )
    decisions = [reb.step(bar) for bar in panel_bars(panel)]
    result = run(DynamicLambdaStrategy(), panel, execute=False)
    live = np.array([d.weights_after for d in decisions])
    gap = np.abs(live - result.weights.to_numpy()).max()
    last = decisions[-1]
    print(f"{len(decisions)} bars replayed; largest gap to the backtest's weights: {gap:.1e}")
    print(
        f"last bar {last.time.date()}: status {last.status}, lam {last.lam:.3f}, "
        f"fees {last.fees:.2e}, frozen {last.frozen}"
    )
    for s, w in zip(panel.symbols, last.weights_after):
        print(f"  {s:<9} {w:7.4f}")


if __name__ == "__main__":
    main()
