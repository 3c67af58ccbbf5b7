"""Helpers for the report tests: a small seeded run whose universe holds a malicious symbol.

The panel reuses ``tests/backtest/conftest.py::make_panel`` (loaded by path, since both files are
named conftest) and renames its second crypto asset to ``<script>alert(1)</script>``; its RWA
proxy's description carries HTML too. Every escaping test looks for those strings.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from rwafolio.loaders.panel import Panel
from rwafolio.universe import Asset, Universe

_spec = importlib.util.spec_from_file_location(
    "_rwafolio_backtest_conftest", Path(__file__).resolve().parents[1] / "backtest" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_backtest_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_backtest_conftest)
make_panel = _backtest_conftest.make_panel

EVIL = "<script>alert(1)</script>"
EVIL_PROXY = 'tokenized "real" estate <b>&</b>'


def evil_panel(n_days: int = 420, seed: int = 0, source: str = "synthetic") -> Panel:
    """``make_panel`` data under a universe with a malicious symbol and proxy description."""
    base = make_panel(n_days=n_days, seed=seed)
    uni = Universe(
        (
            Asset("BTC-USD", "crypto", 0.001, "24/7", name="Bitcoin"),
            Asset(EVIL, "crypto", 0.001, "24/7", name="Evil coin"),
            Asset("VNQ", "rwa", 0.01, "XNYS", proxies=EVIL_PROXY, name="Vanguard Real Estate ETF"),
        )
    )
    prices = base.prices.set_axis(uni.symbols, axis=1)
    tradable = base.tradable.set_axis(uni.symbols, axis=1)
    return Panel(
        prices=prices,
        tradable=tradable,
        universe=uni,
        policy="all_days",
        vix=base.vix,
        vix_source="test",
        source=source,
        meta={"seed": seed, "generator": "tests/backtest make_panel"},
    )


def build_run(
    n_days: int = 420, *, crowding: bool = True, walkforward: bool = False
) -> dict[str, Any]:
    """Everything render_html takes, on the evil panel (about 5 s with the walk-forward off)."""
    from rwafolio.backtest import run
    from rwafolio.reports import latest_scenarios
    from rwafolio.risk import rolling_forecasts
    from rwafolio.strategies import BuyAndHold, DynamicLambdaStrategy, EqualWeight

    panel = evil_panel(n_days)
    strategy = DynamicLambdaStrategy(window=30)
    result = run(strategy, panel, name="dynamic", progress=False)
    start = strategy.warmup
    benchmarks = {
        "equal_weight": run(
            EqualWeight(), panel, first_decision=start, name="equal_weight", progress=False
        ),
        "buy_and_hold": run(
            BuyAndHold(), panel, first_decision=start, name="buy_and_hold", progress=False
        ),
    }
    forecasts = rolling_forecasts(result, horizon=10, every=1, n_scenarios=1000, rng=11)
    out: dict[str, Any] = {
        "result": result,
        "forecasts": forecasts,
        "benchmarks": benchmarks,
        "scenario": latest_scenarios(result, horizon=10, n_scenarios=4000, rng=5),
    }
    if crowding:
        from rwafolio.risk import CrowdingConfig, simulate_crowding
        from rwafolio.risk.impact import calibrate

        w = result.weights.iloc[-1].to_numpy()
        out["crowding"] = simulate_crowding(
            w, result.mu[-1], result.cov[-1], liquidity=calibrate(panel.universe, panel.liquidity()),
            costs=panel.universe.costs, horizon=10, n_scenarios=300, rng=3,
            agent_history=panel.returns().to_numpy(), config=CrowdingConfig(n_agents=3),
        )  # fmt: skip
    if walkforward:
        from rwafolio.walkforward import VarSettings, walk_forward

        out["walkforward"] = walk_forward(
            DynamicLambdaStrategy(window=30), panel, {"lam0": [1.0, 4.0]}, train="120D",
            test="90D", executor="serial", var=VarSettings(horizon=10, every=5, n_scenarios=500),
            progress=False,
        )  # fmt: skip
    return out
