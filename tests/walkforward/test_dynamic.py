"""The model's strategy through walk-forward (memoized estimates change no bit)."""

from __future__ import annotations

import numpy as np

from rwafolio.backtest import run
from rwafolio.strategies import DynamicLambdaStrategy
from rwafolio.walkforward import walk_forward
from rwafolio.walkforward.sweep import MemoEstimator, with_memo
from tests.backtest.conftest import make_panel


def test_memoized_estimates_equal_the_plain_strategy_bit_for_bit() -> None:
    panel = make_panel(260, seed=7)
    plain = run(DynamicLambdaStrategy(window=20), panel, execute=False, progress=False)
    fast = with_memo(DynamicLambdaStrategy(window=20))
    assert isinstance(fast.get_params()["estimator"], MemoEstimator)
    a = run(fast, panel, execute=False, progress=False)
    b = run(fast, panel, execute=False, progress=False)  # served from the memo
    for r in (a, b):
        assert r.value.to_numpy().tobytes() == plain.value.to_numpy().tobytes()
        assert r.mu.tobytes() == plain.mu.tobytes() and r.cov.tobytes() == plain.cov.tobytes()


def test_walk_forward_scores_equal_direct_runs_of_the_model() -> None:
    panel = make_panel(420, seed=8)
    grid = {"lam0": [1.0, 6.0], "window": [20]}
    res = walk_forward(DynamicLambdaStrategy(), panel, grid, train="200D", test="110D",
                       executor="serial", progress=False, var=None)  # fmt: skip
    d = panel.dates
    for fold in res.plan.folds:
        i0, i1 = fold.train_rows
        start, first = max(0, i0 - 40), max(i0, 20)
        for j, lam0 in enumerate([1.0, 6.0]):
            r = run(DynamicLambdaStrategy(lam0=lam0, window=20), panel.slice(d[start], d[i1 - 1]),
                    first_decision=first - start, execute=False, progress=False)  # fmt: skip
            x = r.returns.to_numpy()[first - start :]
            sharpe = x.mean() / x.std(ddof=1) * np.sqrt(365)
            np.testing.assert_allclose(res.scores.loc[fold.index, f"p{j}"], sharpe, rtol=1e-12)
    assert all(f.status == "ok" for f in res.folds)
