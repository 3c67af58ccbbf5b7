"""walk_forward: selection, degenerate folds, stitching with carried books, hindsight, VaR."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from rwafolio.backtest import run
from rwafolio.strategies import Decision, FixedMix, MarketView
from rwafolio.walkforward import VarSettings, walk_forward
from rwafolio.walkforward.splits import make_splits
from tests.backtest.conftest import make_panel

COSTS = {"BTC-USD": 0.001, "ETH-USD": 0.002, "VNQ": 0.01}
MIXES = [
    {"BTC-USD": 1.0},
    {"ETH-USD": 1.0},
    {"VNQ": 1.0},
    {"BTC-USD": 0.5, "VNQ": 0.5},
]
HISTORY = 40  # walk_forward's default `history`


def _sharpe(r: np.ndarray, ppy: int) -> float:
    return float(r.mean() / r.std(ddof=1) * np.sqrt(ppy))


def _direct(panel: Any, weights: Any, start: int, stop: int, first: int) -> np.ndarray:
    """Live returns of FixedMix(weights) run directly on rows [start, stop), trading from `first`."""
    d = panel.dates
    res = run(FixedMix(weights), panel.slice(d[start], d[stop - 1]), first_decision=first - start,
              execute=False, progress=False)  # fmt: skip
    return res.returns.to_numpy()[first - start :]


@pytest.fixture(scope="module")
def panel() -> Any:
    return make_panel(900, seed=4, costs=COSTS)


@pytest.fixture(scope="module")
def wf(panel: Any) -> Any:
    return walk_forward(FixedMix(), panel, {"weights": MIXES}, train="365D", test="90D",
                        executor="serial", progress=False, var=None)  # fmt: skip


def test_selection_is_the_argmax_of_independent_runs(panel: Any, wf: Any) -> None:
    assert len(wf.folds) == len(wf.plan.folds) >= 5
    changed = 0
    for f, fold in zip(wf.folds, wf.plan.folds):
        i0, i1 = fold.train_rows
        sharpes = [_sharpe(_direct(panel, m, max(0, i0 - HISTORY), i1, i0), 365) for m in MIXES]
        assert f.status == "ok"
        assert f.point == int(np.argmax(sharpes))
        np.testing.assert_allclose(wf.scores.loc[f.index].to_numpy(), sharpes, rtol=1e-12)
        np.testing.assert_allclose(f.in_sample["sharpe"], max(sharpes), rtol=1e-12)
        assert f.params == {"weights": MIXES[f.point]}
        changed += f.index > 0 and f.point != wf.folds[f.index - 1].point
    assert changed >= 1, "the fixture should switch parameters at some boundary"
    assert wf.params_over_time().shape == (len(wf.folds), 1)
    assert "oos_sharpe" in wf.summary().columns


def test_stitching_carries_the_drifted_book_and_pays_boundary_costs(panel: Any, wf: Any) -> None:
    st = wf.stitched
    value = st.value.to_numpy()
    prices = panel.prices.loc[st.value.index].to_numpy()
    costs = panel.universe.costs
    assert value[0] == 1.0 and np.all(st.weights.to_numpy()[0] == 0)
    for f in wf.folds[1:]:
        b = st.value.index.get_loc(f.test_start)
        w_prev = st.weights.to_numpy()[b - 1]  # held at the close before the boundary
        assert w_prev.sum() > 0.99  # a real book, not cash: no free reset
        r = prices[b] / prices[b - 1] - 1
        growth = 1 + w_prev @ r
        drifted = w_prev * (1 + r) / growth
        np.testing.assert_allclose(st.weights_before.to_numpy()[b], drifted, rtol=1e-12, atol=1e-15)
        fee = st.fees.to_numpy()[b]
        traded = st.weights.to_numpy()[b] * (1 - fee) - drifted
        np.testing.assert_allclose(fee, np.abs(traded) @ costs, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(f.boundary_cost, fee, rtol=1e-15)
        # the value path is continuous: growth of the carried book, less the boundary fee
        np.testing.assert_allclose(value[b], value[b - 1] * growth * (1 - fee), rtol=1e-12)
        if f.point != wf.folds[f.index - 1].point:
            # switching mixes costs something (maybe later: VNQ trades weekly, on open days)
            assert f.out_of_sample["costs_paid"] > 1e-4 and f.out_of_sample["turnover"] > 0.1
    switched = [f.boundary_cost for f in wf.folds[1:] if f.point != wf.folds[f.index - 1].point]
    assert max(switched) > 1e-4  # at least one switch trades at the boundary itself
    # every period is accounted for: value = product of (1 + return)
    np.testing.assert_allclose(value[1:], np.cumprod(1 + st.returns.to_numpy()[1:]), rtol=1e-12)


def test_one_point_grid_equals_an_uninterrupted_run(panel: Any) -> None:
    mix = {"BTC-USD": 0.4, "ETH-USD": 0.3, "VNQ": 0.3}
    res = walk_forward(FixedMix(), panel, {"weights": [mix]}, train="365D", test="90D",
                       executor="serial", progress=False, var=None)  # fmt: skip
    r0 = res.plan.folds[0].test_rows[0]
    ref = _direct(panel, mix, r0 - HISTORY, len(panel.dates), r0)
    np.testing.assert_allclose(res.stitched.returns.to_numpy()[1:], ref, rtol=0, atol=1e-13)
    # with one point, walk-forward and hindsight coincide: the gap is zero
    np.testing.assert_allclose(res.comparison["gap"].to_numpy(dtype=float), 0.0, atol=1e-12)


def test_hindsight_best_and_gap(panel: Any, wf: Any) -> None:
    r0 = wf.plan.folds[0].test_rows[0]
    sharpes = [_sharpe(_direct(panel, m, r0 - HISTORY, len(panel.dates), r0), 365) for m in MIXES]
    assert wf.hindsight_point == int(np.argmax(sharpes))
    c = wf.comparison
    np.testing.assert_allclose(c.loc["sharpe", "hindsight_best"], max(sharpes), rtol=1e-12)
    np.testing.assert_allclose(
        c.loc["sharpe", "walk_forward"], wf.stitched_stats["sharpe"], rtol=1e-15
    )
    np.testing.assert_allclose(c["gap"], c["walk_forward"] - c["hindsight_best"], rtol=1e-15)
    assert c.loc["sharpe", "gap"] <= 1e-12  # hindsight cannot lose on its own metric


def test_degenerate_folds_fall_back_and_say_why(panel: Any) -> None:
    # expanding windows with a minimum that only later folds reach
    res = walk_forward(FixedMix(), panel, {"weights": MIXES}, train="120D", test="120D",
                       mode="expanding", min_train_periods=200, executor="serial",
                       progress=False, var=None)  # fmt: skip
    statuses = [f.status for f in res.folds]
    assert statuses[0] == "fallback" and "ok" in statuses
    f0 = res.folds[0]
    assert "too little data" in f0.reason and "prototype" in f0.reason
    assert f0.params == {} and f0.point is None
    assert np.isnan(res.scores.loc[0]).all()
    # the fallback fold still trades the prototype (equal weight) out of sample
    assert f0.out_of_sample["turnover"] > 0.9


def test_every_point_failing_and_partial_failures(panel: Any) -> None:
    bad = [{"BTC-USD": 0.7}, {"ETH-USD": 2.0}]  # weights not summing to 1: prepare raises
    res = walk_forward(FixedMix({"VNQ": 1.0}), panel, {"weights": bad}, train="365D", test="90D",
                       executor="serial", progress=False, var=None)  # fmt: skip
    assert all(f.status == "fallback" for f in res.folds)
    assert "every grid point failed (2 of 2)" in res.folds[0].reason
    assert res.folds[1].reason.endswith("previous fold's parameters")
    assert len(res.failures) == 2 * (len(res.folds) + 1)  # folds and hindsight
    assert (res.failures["attempts"] == 2).all()
    assert res.failures["error"].str.contains("ConfigError").all()
    assert res.hindsight is None and res.comparison["hindsight_best"].isna().all()
    # prototype params ({}) mean FixedMix({"VNQ": 1}) out of sample
    assert res.stitched.weights.to_numpy()[-1, 2] > 0.99

    mixed = walk_forward(FixedMix(), panel, {"weights": [bad[0], *MIXES]}, train="365D",
                         test="90D", executor="serial", progress=False, var=None)  # fmt: skip
    assert all(f.status == "ok" and f.n_failed == 1 and f.point != 0 for f in mixed.folds)
    assert set(mixed.failures["point"]) == {0}


def test_ties_are_reported_and_first_point_wins(panel: Any) -> None:
    # two identical points: every fold ties and picks the first
    res = walk_forward(FixedMix(), panel, {"weights": [MIXES[2], MIXES[2]]}, train="365D",
                       test="90D", executor="serial", progress=False, var=None)  # fmt: skip
    for f in res.folds:
        assert f.point == 0 and f.tied == (0, 1) and "2 points tied" in f.reason


class SampleMix(FixedMix):
    """FixedMix that also records sample estimates of the last 20 returns (for VaR)."""

    def decide(self, view: MarketView) -> Decision | None:
        d = super().decide(view)
        if d is None:
            return None
        w = np.asarray(view.returns[-20:], dtype=float)
        return Decision(target=d.target, mu=w.mean(axis=0), cov=np.cov(w.T, ddof=1))


def test_rolling_var_breaches_per_fold(panel: Any) -> None:
    var = VarSettings(horizon=5, every=3, n_scenarios=500, levels=(0.9,))
    res = walk_forward(SampleMix(warmup_periods=20), panel, {"weights": MIXES[:2]}, train="365D",
                       test="90D", executor="serial", progress=False, var=var, seed=3)  # fmt: skip
    assert res.forecasts is not None and "H=5" in res.var_note
    t = res.forecasts.table
    total_breaches = 0
    for f in res.folds:
        inside = t.loc[(t.index >= f.test_start) & (t.index <= f.test_end)]
        ok = inside[inside["complete"] & inside["forecast_ok"]]
        assert f.var["n_forecasts"] == len(inside) > 0
        assert f.var["breaches_90"] == int((ok["realized_return"] < ok["var_90"]).sum())
        np.testing.assert_allclose(f.var["expected_90"], 0.1 * len(ok))
        total_breaches += f.var["breaches_90"]
    # realized outcomes follow the stitched value path, across fold boundaries
    v = res.stitched.value
    p = int(t["position"].iloc[0])
    np.testing.assert_allclose(t["realized_return"].iloc[0], v.iloc[p + 5] / v.iloc[p] - 1)
    assert 0 < total_breaches < len(t)
    skipped = walk_forward(FixedMix(), panel, {"weights": MIXES[:1]}, train="365D", test="90D",
                           executor="serial", progress=False)  # fmt: skip
    assert skipped.forecasts is None and "no R/Sigma estimates" in skipped.var_note


def test_gap_and_plan_are_recorded(panel: Any) -> None:
    plan = make_splits(panel.dates, "300D", "100D", gap="7D")
    res = walk_forward(FixedMix(), panel, {"weights": MIXES[:2]}, plan=plan, executor="serial",
                       progress=False, var=None)  # fmt: skip
    assert res.plan is plan and res.settings["gap"] == "7D"
    assert [f.test_start for f in res.folds] == [f.test_start for f in plan.folds]
    assert isinstance(res.to_dict()["folds"][0]["params"], dict)
    assert pd.Timestamp(res.stitched.params["first_decision"]) == plan.folds[0].test_start


def test_max_turnover_excludes_points_over_the_cap(panel: Any) -> None:
    """A point whose in-sample turnover per year exceeds the cap is never chosen."""
    from rwafolio.strategies import DynamicLambdaStrategy

    grid = {"trade_aversion": [1e-4, 1e3]}  # nearly free trading, and no trading after entry

    def flat(r: np.ndarray, ppy: int) -> float:  # every point ties: the first in grid order wins
        return 0.0

    kw = {"train": "365D", "test": "120D", "executor": "serial", "progress": False, "var": None,
          "metric": flat}  # fmt: skip
    proto = DynamicLambdaStrategy.model_preset().set_params(threshold=0.0)
    free = walk_forward(proto, panel, grid, **kw)
    capped = walk_forward(proto, panel, grid, max_turnover=3.0, **kw)

    def per_year(f: Any) -> float:
        return f.in_sample["turnover"] / (f.in_sample["n_periods"] / panel.periods_per_year)

    assert all(f.params["trade_aversion"] == 1e-4 for f in free.folds if f.status == "ok")
    assert any(per_year(f) > 3.0 for f in free.folds if f.status == "ok")  # the cap binds
    ok = [f for f in capped.folds if f.status == "ok"]
    assert ok and all(per_year(f) <= 3.0 for f in ok)
    assert any(f.params["trade_aversion"] == 1e3 for f in ok)


def test_var_distribution_is_the_pnl_forecasts_innovations(panel: Any) -> None:
    """``VarSettings.distribution`` reaches the top-down forecast (it used to be ignored) and
    the book-only distributions are refused before anything runs."""
    from rwafolio.exceptions import ConfigError
    from rwafolio.risk import rolling_forecasts

    runs = {}
    for dist in ("fhs", "normal"):
        var = VarSettings(horizon=5, every=3, n_scenarios=500, levels=(0.9,), distribution=dist)
        runs[dist] = walk_forward(SampleMix(warmup_periods=20), panel, {"weights": MIXES[:1]},
                                  train="365D", test="90D", executor="serial", progress=False,
                                  var=var, seed=3)  # fmt: skip
        assert dist in runs[dist].var_note and "top-down" in runs[dist].var_note
    a, b = (runs[d].forecasts.table["var_90"].to_numpy() for d in ("fhs", "normal"))
    assert not np.allclose(a, b)
    # Each equals the rolling forecast run directly with those innovations and that seed.
    from rwafolio.tasks.cache import task_seed

    direct = rolling_forecasts(runs["normal"].stitched, horizon=5, every=3, n_scenarios=500,
                               levels=(0.9,), target="pnl", innovations="normal",
                               rng=task_seed(3, "var"), workers=1, progress=False)  # fmt: skip
    np.testing.assert_array_equal(direct.table["var_90"].to_numpy(), b)
    for bad in ("student_t", "bootstrap"):
        with pytest.raises(ConfigError, match="distribution"):
            VarSettings(distribution=bad)
