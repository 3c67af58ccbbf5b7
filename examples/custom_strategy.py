"""Write your own strategy: implement one method, ``decide(view)``.

The engine shows ``view`` only the past (read-only arrays that end at the decision date) and
executes what ``decide`` returns with vectorbt, fees from the same cost model.
Run: ``.venv/bin/python examples/custom_strategy.py``.
"""

from __future__ import annotations

import numpy as np

from rwafolio.backtest import run
from rwafolio.loaders import load
from rwafolio.strategies import Decision, MarketView, Strategy


class InverseVolatility(Strategy):
    """Weights proportional to 1 / volatility over a window, re-set every 7th date."""

    def __init__(self, window: int = 60, every: int = 7) -> None:
        self.window = window
        self.every = every

    @property
    def warmup(self) -> int:  # type: ignore[override]
        return self.window

    def decide(self, view: MarketView) -> Decision | None:
        if view.t % self.every:
            return None
        vol = view.returns[-self.window :].std(axis=0) + 1e-6
        raw = np.where(view.tradable, 1.0 / vol, 0.0)  # closed markets: no order
        free = 1.0 - view.weights[~view.tradable].sum()  # what the open assets may share
        target = np.where(view.tradable, free * raw / raw.sum(), np.nan)
        return Decision(target=target)


if __name__ == "__main__":
    result = run(InverseVolatility(), load("synthetic", seed=7))
    print(result.stats().round(3).to_string())
    print(result.weights.iloc[-1].round(3).to_string())
