"""Assessing a walk-forward: the comparison with the hindsight-best point and rolling VaR.

Helpers of :func:`rwafolio.walkforward.walk_forward`, kept apart so the walk itself reads as its
steps.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from rwafolio.backtest.result import BacktestResult
from rwafolio.backtest.stats import STAT_NAMES
from rwafolio.tasks.cache import task_seed
from rwafolio.walkforward.result import VarSettings
from rwafolio.walkforward.splits import SplitPlan
from rwafolio.walkforward.sweep import MetricFn, score


def compare_with_hindsight(
    stitched: BacktestResult, hindsight: BacktestResult | None, fn: MetricFn
) -> pd.DataFrame:
    wf = stitched.stats()
    from rwafolio.backtest.stats import live_slice

    wf_score = score(
        stitched.returns.to_numpy()[live_slice(stitched)], stitched.periods_per_year, fn
    )
    rows = [*STAT_NAMES, "score"]
    out = pd.DataFrame(index=rows, columns=["walk_forward", "hindsight_best", "gap"], dtype=float)
    out.loc[list(STAT_NAMES), "walk_forward"] = wf.to_numpy()
    out.loc["score", "walk_forward"] = wf_score
    if hindsight is not None:
        hs = hindsight.stats()
        out.loc[list(STAT_NAMES), "hindsight_best"] = hs.to_numpy()
        out.loc["score", "hindsight_best"] = score(
            hindsight.returns.to_numpy()[live_slice(hindsight)], hindsight.periods_per_year, fn
        )
    out["gap"] = out["walk_forward"] - out["hindsight_best"]
    return out


def forecast_var(
    stitched: BacktestResult, var: VarSettings | None, seed: int, plan: SplitPlan
) -> tuple[Any, str, dict[int, dict[str, float]]]:
    if var is None:
        return None, "skipped: var=None", {}
    try:
        from rwafolio.risk import rolling_forecasts
        from rwafolio.risk.rolling import level_label
    except ImportError as exc:
        return None, f"skipped: rwafolio.risk is not importable ({exc})", {}
    if len(stitched.estimate_dates) == 0:
        return None, "skipped: the strategy records no R/Sigma estimates to forecast with", {}
    fc = rolling_forecasts(
        stitched, horizon=var.horizon, every=var.every, n_scenarios=var.n_scenarios,
        levels=var.levels, target="pnl", innovations=var.distribution,  # type: ignore[arg-type]
        rng=task_seed(seed, "var"), workers=1,
    )  # fmt: skip
    t = fc.table
    usable = t["complete"].to_numpy(dtype=bool) & t["forecast_ok"].to_numpy(dtype=bool)
    per_fold: dict[int, dict[str, float]] = {}
    for f in plan.folds:
        if f.test_start is None or f.test_end is None:
            continue
        inside = (t.index >= f.test_start) & (t.index <= f.test_end)
        ok = inside & usable
        d: dict[str, float] = {"n_forecasts": float(inside.sum()), "n_complete": float(ok.sum())}
        for lv in fc.levels:
            lab = level_label(lv)
            br = t["realized_return"].to_numpy()[ok] < t[f"var_{lab}"].to_numpy()[ok]
            d[f"breaches_{lab}"] = float(br.sum())
            d[f"expected_{lab}"] = float(ok.sum() * (1 - lv))
        per_fold[f.index] = d
    note = (
        f"{len(t)} top-down forecasts of the net P&L ({fc.distribution}, H={var.horizon}, "
        f"every {var.every}th decision, "
        f"{var.n_scenarios} scenarios); breaches count every complete forecast in the test window "
        "(overlapping windows when every < H)"
    )
    return fc, note, per_fold
