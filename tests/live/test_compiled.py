"""The compiled live path against the Python path: the same decisions, bar by bar, to the bit.

The Python path (``path="python"``: the strategy object's ``decide`` on a read-only view, the
engine's ``rebalance`` step) is the reference; the compiled path runs the shared decision kernel
in one call per bar. Every field of every :class:`LiveDecision` must be equal, NaN for NaN.
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.live import LiveDecision, LiveRebalancer, LiveRun, panel_bars
from rwafolio.loaders import load
from rwafolio.optimize.costs import CostModel
from rwafolio.optimize.estimators import SampleEstimator
from rwafolio.optimize.risk_aversion import VixLinear
from rwafolio.strategies import DynamicLambdaStrategy
from tests.live.conftest import DAILY, daily_dirs, daily_vix


def _reb(panel, path: str, **params) -> LiveRebalancer:  # type: ignore[no-untyped-def]
    return LiveRebalancer(
        DynamicLambdaStrategy(**params),
        panel.symbols,
        panel.universe.classes,
        CostModel.from_universe(panel.universe),
        panel.periods_per_year,
        panel.vix is not None,
        path=path,  # type: ignore[arg-type]
    )


def assert_same(a: LiveDecision, b: LiveDecision) -> None:
    """Every field equal (arrays bit for bit, NaN equal to NaN), and no other attribute."""
    names = {f.name for f in fields(LiveDecision)}
    assert set(vars(a)) == names and set(vars(b)) == names
    for name in ("time", "row", "status", "fees", "value", "frozen", "diagnostics"):
        assert getattr(a, name) == getattr(b, name), (a.time, name)
    for name in ("lam", "vix"):
        x, y = getattr(a, name), getattr(b, name)
        assert x == y or (np.isnan(x) and np.isnan(y)), (a.time, name, x, y)
    for name in ("weights_before", "weights_after", "target", "trades"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


CONFIGS = {
    "default": {},
    "portfolio-window-mean": {"threshold_mode": "portfolio", "mean_estimator": None},
    "none-constant-lam": {"threshold_mode": "none", "eta": 0.0, "threshold": 0.0},
    "schedules-stress": {
        "schedules": {"crypto": "every2", "rwa": "monthly"},
        "stress_vix": 20.0,
        "bounds": {"BTC-USD": (0.0, 0.4)},
    },
}


@pytest.mark.realdata
@pytest.mark.parametrize("policy", ["all_days", "exchange_days"])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_compiled_path_equals_python_path_on_real_data(shared_data, policy, config) -> None:  # type: ignore[no-untyped-def]
    panel = load(
        "files",
        DAILY,
        data_dirs=daily_dirs(shared_data),
        vix=str(daily_vix(shared_data)),
        start="2021-01-01",
        end="2024-11-30",
        policy=policy,
    )
    fast, slow = _reb(panel, "auto", **CONFIGS[config]), _reb(panel, "python", **CONFIGS[config])
    assert (fast.path, fast.path_reason) == ("compiled", "") and slow.path == "python"
    statuses = []
    for bar in panel_bars(panel):
        a, b = fast.step(bar), slow.step(bar)
        assert_same(a, b)
        statuses.append(a.status)
    assert fast.handed_over == 0
    assert statuses.count("traded") > 20
    if CONFIGS[config].get("threshold", 0.01) > 0:  # the band held trades back too
        assert statuses.count("no_trade") > 20


def test_bars_the_kernel_cannot_decide_go_to_the_python_strategy(small_panel) -> None:  # type: ignore[no-untyped-def]
    # lam0 (1 + eta VIX) < 0 above VIX 35.7: the Python rule floors lam at 0, the kernel hands over.
    params = {"risk_aversion": VixLinear(lam0=2.0, eta=-0.028), "stress_vix": None}
    fast, slow = _reb(small_panel, "auto", **params), _reb(small_panel, "python", **params)
    assert fast.path == "compiled"
    out = []
    for bar in panel_bars(small_panel):
        a, b = fast.step(bar), slow.step(bar)
        assert_same(a, b)
        out.append(a)
    floored = [d for d in out if d.lam == 0.0]
    assert fast.handed_over == len(floored) > 0
    assert any(d.lam > 0.0 for d in out)  # ...and the other bars were the kernel's


def test_compiled_state_restarts_where_it_stopped(small_panel, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bars = list(panel_bars(small_panel))
    whole = [d.weights_after for d in map(_reb(small_panel, "python").step, bars)]

    def make() -> LiveRebalancer:
        return _reb(small_panel, "auto")

    run = LiveRun(make, tmp_path / "st", tmp_path / "o.jsonl")
    run.run_bars(bars[:50])
    again = LiveRun(make, tmp_path / "st", tmp_path / "o.jsonl")
    assert again.reb.path == "compiled" and again.reb.row == 49
    lines = []
    again.run_bars(bars, on_bar=lines.append)
    got = np.array([[line["weights_after"][s] for s in small_panel.symbols] for line in lines])
    np.testing.assert_array_equal(got, np.array(whole[50:]))


def test_path_is_recorded_and_compiled_refuses_what_it_cannot_run(small_panel) -> None:  # type: ignore[no-untyped-def]
    reb = _reb(small_panel, "auto", estimator=SampleEstimator())
    assert reb.path == "python" and "estimator" in reb.path_reason
    with pytest.raises(ConfigError, match="estimator"):
        _reb(small_panel, "compiled", estimator=SampleEstimator())
    with pytest.raises(ConfigError, match="path"):
        _reb(small_panel, "fast")


def test_bad_prices_are_refused_before_anything_changes(small_panel) -> None:  # type: ignore[no-untyped-def]
    """The compiled path checks a bar that prices every symbol in the kernel: each bad price of
    an open asset is the Python path's typed error (reported before a bad index level), nothing
    changes (the schedule's clock included), and a closed asset's price is not read."""
    params = {"schedules": {"crypto": "every2", "rwa": "weekly"}}
    fast, slow = _reb(small_panel, "auto", **params), _reb(small_panel, "python", **params)
    assert fast.path == "compiled"
    bars = list(panel_bars(small_panel))
    for bar in bars[:40]:
        assert_same(fast.step(bar), slow.step(bar))
    sym, nxt = small_panel.symbols[0], bars[40]
    before = (fast.row, fast.prices.copy(), fast.last_key.copy(), fast.vix, fast.weights.copy())
    window = fast.window_rows()
    for bad in (-1.0, 0.0, np.nan, np.inf):
        for reb in (fast, slow):
            with pytest.raises(DataError, match="> 0"):
                reb.step(replace(nxt, prices={**nxt.prices, sym: bad}))
            with pytest.raises(DataError, match="> 0"):
                reb.step(replace(nxt, prices={**nxt.prices, sym: bad}, vix=np.nan))
    after = (fast.row, fast.prices, fast.last_key, fast.vix, fast.weights)
    for x, y in zip(before, after):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(window, fast.window_rows())
    closed = replace(nxt, prices={**nxt.prices, sym: -1.0}, closed=(sym,))
    a, b = fast.step(closed), slow.step(closed)
    assert_same(a, b)
    assert a.frozen[sym] == "closed" and fast.prices[0] == before[1][0]
    for bar in bars[41:]:
        assert_same(fast.step(bar), slow.step(bar))


def test_compiled_path_beyond_31_assets_reads_the_frozen_row() -> None:
    """Past 31 assets the frozen pattern does not fit one integer: the reasons are read from the
    kernel's row, and every decision is the Python path's."""
    from rwafolio.loaders.panel import Panel
    from rwafolio.universe import Universe

    n, days = 33, 80
    rng = np.random.default_rng(5)
    dates = pd.date_range("2021-01-01", periods=days, freq="D")
    rets = rng.normal(0.0005, 0.02, size=(days, n)) + rng.normal(0.0, 0.02, size=(days, 1))
    symbols = [f"C{i:02d}-USD" for i in range(n)]
    prices = pd.DataFrame(100 * np.exp(np.cumsum(rets, axis=0)), index=dates, columns=symbols)
    tradable = pd.DataFrame(True, index=dates, columns=symbols)
    vix = pd.Series(20 + 5 * np.sin(np.arange(days) / 9), index=dates)
    panel = Panel(
        prices, tradable, Universe.from_symbols(symbols), "all_days", vix=vix,
        vix_source="synthetic", source="synthetic",
    )  # fmt: skip
    fast, slow = _reb(panel, "auto"), _reb(panel, "python")
    assert fast.path == "compiled"
    held = 0
    for bar in panel_bars(panel):
        a = fast.step(bar)
        assert_same(a, slow.step(bar))
        held += sum(why not in ("closed", "schedule") for why in a.frozen.values())
    assert held > 0  # the threshold rule froze some assets: the wide row was read
