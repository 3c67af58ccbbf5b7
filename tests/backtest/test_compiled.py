"""The compiled historical loop gives the Python path's bits, and runs only where it may.

The reference is the engine's Python path (``loop="python"``: ``strategy.decide`` at each date,
with its fallback chain), run on the same panel: weights, orders, fees and value must be equal
with ``np.array_equal`` (not close), and so must the decision table, the held-back changes and
the estimates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from rwafolio.backtest import BacktestResult, run
from rwafolio.exceptions import ConfigError
from rwafolio.loaders import load
from rwafolio.optimize.estimators import LedoitWolfEstimator, SampleEstimator
from rwafolio.optimize.returns import BlackLitterman, ZeroMean
from rwafolio.optimize.risk_aversion import Constant, VixLinear
from rwafolio.strategies import DynamicLambdaStrategy, EqualWeight
from rwafolio.strategies.compiled import unsupported
from rwafolio.walkforward.sweep import with_memo
from tests.backtest.conftest import make_panel


def assert_same_run(a: BacktestResult, b: BacktestResult) -> None:
    """Bit for bit: the book, the orders, the fees, the value, the decisions and the estimates."""
    for name in ("weights", "weights_before", "targets", "turnover", "fees", "value"):
        x, y = getattr(a, name).to_numpy(), getattr(b, name).to_numpy()
        assert np.array_equal(x, y, equal_nan=True), name
    assert np.array_equal(a.mu, b.mu) and np.array_equal(a.cov, b.cov)
    assert a.estimate_dates.equals(b.estimate_dates)
    pd.testing.assert_frame_equal(a.decisions, b.decisions, check_exact=True)
    if len(a.skipped) or len(b.skipped):
        pd.testing.assert_frame_equal(a.skipped, b.skipped, check_exact=True)


def both(strategy: DynamicLambdaStrategy, panel: Any, **kw: Any) -> tuple[Any, Any]:
    fast = run(strategy, panel, execute=False, progress=False, loop="compiled", **kw)
    slow = run(strategy.__class__(**strategy.get_params()), panel, execute=False,
               progress=False, loop="python", **kw)  # fmt: skip
    assert slow.loop == "python"
    return fast, slow


CASES: dict[str, dict[str, Any]] = {
    "default": {},  # Black-Litterman mean, per-asset band, RWA weekly, stress at 25
    "window_mean": {"mean_estimator": None},
    "bl_fixed": {"mean_estimator": BlackLitterman(prior_obs=50.0, reference=[0.5, 0.3, 0.2], lam=3.0)},
    "portfolio": {"threshold_mode": "portfolio", "threshold": 0.02},
    "none": {"threshold_mode": "none"},
    "stress": {"stress_vix": 22.0, "schedules": {"crypto": "weekly"}},  # the override binds often
    "no_stress": {"stress_vix": None},
    "constant_lam": {"eta": 0.0},
    "rule_object": {"risk_aversion": VixLinear(lam0=3.0, eta=0.1)},
    "constant_rule": {"risk_aversion": Constant(5.0)},
    "bounds": {"bounds": {"BTC-USD": (0.0, 0.5)}, "window": 20, "threshold": 0.0},
    "blind": {"cost_mode": "blind", "window": 45},
    "explicit_lw": {"estimator": LedoitWolfEstimator()},
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_compiled_equals_python_on_a_mixed_calendar(case: str) -> None:
    """All days, an exchange asset frozen at weekends, a moving index (make_panel)."""
    fast, slow = both(DynamicLambdaStrategy(**CASES[case]), make_panel(n_days=260, seed=3))
    assert fast.loop == "compiled"
    assert fast.turnover.sum() > 0
    assert_same_run(fast, slow)


@pytest.mark.parametrize("policy", ["all_days", "exchange_days"])
@pytest.mark.parametrize("mode", ["per_asset", "portfolio", "none"])
def test_compiled_equals_python_on_the_synthetic_market(policy: str, mode: str) -> None:
    panel = load("synthetic", start="2019-01-01", end="2020-12-31", policy=policy)
    fast, slow = both(DynamicLambdaStrategy(threshold_mode=mode), panel)
    assert fast.loop == "compiled"
    assert len(fast.skipped) > 0 or mode == "none"
    assert_same_run(fast, slow)


def test_compiled_equals_python_without_an_index_and_from_a_held_book() -> None:
    panel = make_panel(n_days=200, seed=5, vix=False)
    start = np.array([0.5, 0.2, 0.2])
    strat = DynamicLambdaStrategy(eta=0.0, stress_vix=-1.0)  # no index: no stress, whatever level
    fast, slow = both(strat, panel, initial_weights=start, first_decision=60)
    assert fast.loop == "compiled"
    assert np.isnan(fast.decisions["vix"]).all()
    assert_same_run(fast, slow)


def test_the_model_preset_under_caps_hands_over_to_python_and_still_agrees() -> None:
    """Drifted books over the caps make the per-asset hold infeasible: the compiled loop hands
    the date to the Python path (portfolio-rule fallback), which finishes the walk."""
    caps = {"BTC-USD": (0.0, 0.4), "ETH-USD": (0.0, 0.4), "VNQ": (0.0, 0.4)}
    strat = DynamicLambdaStrategy.model_preset().set_params(window=20, bounds=caps)
    fast, slow = both(strat, make_panel(n_days=200, seed=0))
    assert fast.loop.startswith("compiled, then python from ")
    handover = pd.Timestamp(fast.loop.rsplit(" ", 1)[1])
    assert (fast.decisions.loc[fast.decisions.index < handover, "solver"] == "fast").all()
    assert fast.decisions["fallback_reason"].str.contains("portfolio rule used").any()
    assert_same_run(fast, slow)


def test_walk_forward_memo_runs_compiled_and_agrees() -> None:
    strat = with_memo(DynamicLambdaStrategy(window=25))
    assert unsupported(strat) is None
    fast, slow = both(strat, make_panel(n_days=150, seed=1))
    assert fast.loop == "compiled"
    assert_same_run(fast, slow)


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("policy", ["all_days", "exchange_days"])
def test_compiled_equals_python_on_the_readme_real_run(shared_data: Any, policy: str) -> None:
    """The README's real run (six assets and CBOE's VIX, 2018-01 .. 2024-11), default strategy."""
    panel = load(
        "files",
        ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"],
        data_dirs=[
            shared_data / "Alexshch09__Stocks-prices",
            shared_data / "jmlestevez-source__taa-dashboard",
        ],
        vix=str(shared_data / "datasets__finance-vix" / "vix-daily.csv"),
        start="2018-01-01",
        end="2024-11-30",
        policy=policy,
    )
    fast, slow = both(DynamicLambdaStrategy(lam0=2.0, eta=0.05, window=30), panel)
    assert fast.loop == "compiled" and len(fast.decisions) > 1500
    assert_same_run(fast, slow)


UNSUPPORTED = {
    "sample estimator": {"estimator": SampleEstimator()},
    "zero mean": {"mean_estimator": ZeroMean()},
    "utility rule": {"utility_threshold": 0.01},
    "class indexes": {"class_indexes": {"crypto": "vix", "rwa": "vix"}},
    "smoothed rule": {"risk_aversion": VixLinear(smoothing=5.0)},
    "clipped rule": {"risk_aversion": VixLinear(clip=(1.0, 3.0))},
    "callable rule": {"risk_aversion": lambda v: 2.0},
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_auto_falls_back_to_python_and_compiled_refuses(name: str) -> None:
    panel = make_panel(n_days=80)
    strat = DynamicLambdaStrategy(**UNSUPPORTED[name])
    assert unsupported(strat) is not None
    assert run(strat, panel, execute=False, progress=False).loop == "python"
    with pytest.raises(ConfigError, match="loop='compiled'"):
        run(strat, panel, execute=False, progress=False, loop="compiled")


def test_user_strategies_and_signal_lag_keep_the_python_path() -> None:
    panel = make_panel(n_days=80)
    assert run(EqualWeight(), panel, execute=False, progress=False).loop == "python"

    class Tweaked(DynamicLambdaStrategy):
        def decide(self, view):  # type: ignore[no-untyped-def]
            return super().decide(view)

    assert "overrides `decide`" in str(unsupported(Tweaked()))
    assert run(Tweaked(), panel, execute=False, progress=False).loop == "python"
    res = run(DynamicLambdaStrategy(), panel, execute=False, progress=False, signal_lag=1)
    assert res.loop == "python"
    with pytest.raises(ConfigError, match="signal_lag"):
        run(DynamicLambdaStrategy(), panel, execute=False, progress=False, signal_lag=1,
            loop="compiled")  # fmt: skip
    with pytest.raises(ConfigError, match="`loop`"):
        run(DynamicLambdaStrategy(), panel, execute=False, loop="numba")  # type: ignore[arg-type]
