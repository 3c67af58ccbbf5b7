"""Walk-forward: choose parameters in sample, apply them out of sample, stitch the pieces.

:func:`walk_forward`

1. plans the folds (:func:`~rwafolio.walkforward.splits.make_splits`);
2. evaluates every grid point on every training window, as independent tasks on an executor
   (local processes, Dask), from cash, without vectorbt; each training run gets the warm-up
   history before its window (``max`` warm-up over the grid, at least ``history`` rows) and every
   point trades from the same first date, so the scores are comparable;
3. selects a point per fold with the metric (ties: first in grid order; see
   :mod:`~rwafolio.walkforward.sweep`). A fold with too little training data, or whose points all
   fail, falls back to the previous fold's parameters (the prototype's own for the first fold);
4. stitches (:mod:`~rwafolio.walkforward.stitching`): fold k's test window is run on a panel
   slice holding its warm-up history, starting from the drifted book actually held at the close
   of fold k-1's last date (``initial_weights``) and its value (``init_cash``), so the value path
   is continuous and the trade at the boundary pays its costs. The first fold starts from cash;
5. runs every grid point once over the whole out-of-sample period (from cash, same first date)
   and reports the best, picked with hindsight, beside the stitched portfolio: the gap is the cost
   of not knowing the future;
6. forecasts rolling VaR along the stitched portfolio (when :mod:`rwafolio.risk` is available and
   the strategy records its estimates) and counts breaches per test window.

Calendar schedules (``weekly``, ``monthly``) are evaluated on each slice; the ``history`` rows of
context before every decision window keep them aligned with an uninterrupted run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from rwafolio.backtest.engine import run
from rwafolio.backtest.result import BacktestResult
from rwafolio.backtest.stats import performance
from rwafolio.exceptions import ConfigError
from rwafolio.loaders.panel import Panel
from rwafolio.optimize.risk_aversion import DEFAULT_LAM0
from rwafolio.strategies.base import Strategy
from rwafolio.tasks.cache import TaskCache, digest, panel_fingerprint, task_seed
from rwafolio.tasks.executors import Executor, Task, TaskOutcome, resolve_executor, run_tasks
from rwafolio.walkforward.assess import compare_with_hindsight, forecast_var
from rwafolio.walkforward.result import FoldResult, FoldStatus, VarSettings, WalkForwardResult
from rwafolio.walkforward.splits import SplitMode, SplitPlan, make_splits
from rwafolio.walkforward.stitching import run_fold, stitch
from rwafolio.walkforward.sweep import (
    MetricFn,
    SweepData,
    build_strategy,
    evaluate_point,
    expand_grid,
    resolve_metric,
    row_slice,
    score,
    select,
    with_memo,
)

#: Default rolling VaR settings of :func:`walk_forward` (immutable).
DEFAULT_VAR = VarSettings()


def _metrics(
    returns: np.ndarray, turnover: float, costs: float, ppy: int, fn: MetricFn
) -> dict[str, float]:
    r = np.asarray(returns, dtype=float)
    out: dict[str, float] = {}
    if r.shape[0] >= 2:
        with np.errstate(all="ignore"):
            out.update({k: float(v) for k, v in performance(r, ppy).items()})
    out["turnover"] = float(turnover)
    out["costs_paid"] = float(costs)
    out["score"] = score(r, ppy, fn)
    out["n_periods"] = float(r.shape[0])
    return out


def _warmup(prototype: Strategy, params: Mapping[str, Any]) -> int:
    try:
        return max(0, int(build_strategy(prototype, params).warmup))
    except Exception:  # the task itself will fail and be reported
        return 0


def walk_forward(
    strategy: Strategy,
    panel: Panel,
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Sequence[Any]]],
    *,
    train: str = "730D",
    test: str = "180D",
    mode: SplitMode = "rolling",
    gap: str = "0D",
    plan: SplitPlan | None = None,
    metric: str | MetricFn = "sharpe",
    utility_lam: float = DEFAULT_LAM0,
    tie_tol: float = 1e-12,
    min_train_periods: int = 30,
    history: int = 40,
    executor: str | Executor | Any | None = None,
    cache: str | TaskCache | None = None,
    seed: int = 0,
    var: VarSettings | None = DEFAULT_VAR,
    progress: bool | None = None,
    max_turnover: float | None = None,
) -> WalkForwardResult:
    """Walk-forward selection of ``strategy``'s parameters over ``grid`` (see module docstring).

    Parameters
    ----------
    strategy : Strategy
        Prototype; each grid point is applied to a copy with ``set_params``.
    panel : Panel
    grid : mapping name -> list, or list of such mappings
        Any constructor parameters of the strategy (``lam0``, ``eta``, ``window``,
        ``threshold``, ...).
    train, test, gap : str
        Calendar lengths (``"730D"``, ``"6M"``, ``"2Y"``); ``gap`` purges between train and test.
    mode : {"rolling", "expanding"}
    plan : SplitPlan or None
        A ready plan (overrides train/test/mode/gap).
    metric : {"sharpe", "utility", "calmar", "sortino", "cagr", "total_return"} or callable
        Selection metric, higher is better; ``"utility"`` uses the fixed ``utility_lam``.
    tie_tol : float
        Relative tolerance for ties (first in grid order wins).
    min_train_periods : int
        A fold whose training window has fewer live periods is degenerate (falls back).
    history : int
        Minimum rows of context before each decision window (also covers calendar schedules).
    executor : "local", "local:N", "serial", "dask://HOST:PORT", Client, Executor or None
        Where the grid tasks run (None: local processes on all cores).
    cache : path, TaskCache or None
        Folder of finished task results (JSON); re-running resumes from it.
    seed : int
        Base seed: every task and the VaR forecasts derive their seeds from it.
    var : VarSettings or None
        Rolling VaR along the stitched portfolio; None skips it.
    progress : bool or None
        Progress bar (None: on a terminal only, not in CI).
    max_turnover : float or None
        A mandate's cap on turnover (sum of |traded weight| per year): a point whose turnover
        on the training window exceeds it is not eligible there (scored NaN, counted with the
        failed points). None: no cap.

    Returns
    -------
    WalkForwardResult
    """
    t_start = time.perf_counter()
    _check_args(strategy, panel, min_train_periods, history, seed)
    if var is not None and not isinstance(var, VarSettings):
        raise ConfigError(f"`var` must be a VarSettings or None, got {type(var).__name__}")
    if max_turnover is not None and not (np.isfinite(max_turnover) and max_turnover > 0):
        raise ConfigError(f"`max_turnover` must be a number > 0 or None, got {max_turnover!r}")
    points = expand_grid(grid)
    bad = sorted({k for p in points for k in p} - set(strategy.get_params()))
    if bad:
        raise ConfigError(f"`grid` names parameters {strategy.name} does not have: {bad}")
    metric_name, metric_fn = resolve_metric(metric, utility_lam=utility_lam)
    if plan is None:
        plan = make_splits(panel.dates, train, test, mode=mode, gap=gap)
    warm = max(_warmup(strategy, p) for p in points)
    grid_plan = _plan_tasks(plan, points, warm, max(warm, history), min_train_periods, seed)
    context = {
        "data": panel_fingerprint(panel),
        "strategy": type(strategy).__qualname__,
        "prototype": strategy.get_params(),
    }
    fast = with_memo(strategy)  # same results, estimates computed once per window and worker
    outcomes, executor_name = _run_grid(
        grid_plan.tasks, panel, fast, executor, cache, context, progress
    )
    grader = _Grader(outcomes, points, panel.periods_per_year, metric_fn, tie_tol, max_turnover)
    walk = _walk_folds(fast, panel, plan, grid_plan, grader)
    stitched = stitch(panel, walk.pieces, walk.firsts, name=f"walk-forward {strategy.name}")
    h_sel, hindsight = _hindsight(fast, panel, grid_plan, grader, strategy.name)
    forecasts, var_note, fold_var = forecast_var(stitched, var, seed, plan)
    folds = walk.folds
    if fold_var:
        folds = [FoldResult(**{**fr.__dict__, "var": fold_var.get(fr.index, {})}) for fr in folds]
    return WalkForwardResult(
        plan=plan,
        grid=points,
        metric=metric_name,
        folds=tuple(folds),
        stitched=stitched,
        stitched_stats=stitched.stats(),
        hindsight_point=h_sel.index,
        hindsight=hindsight,
        comparison=compare_with_hindsight(stitched, hindsight, metric_fn),
        scores=_score_table(walk.score_rows, plan, len(points)),
        failures=_failure_table(outcomes),
        forecasts=forecasts,
        var_note=var_note,
        seed=seed,
        executor=executor_name,
        n_tasks=len(grid_plan.tasks),
        cache_hits=sum(1 for o in outcomes.values() if o.cached),
        seconds=time.perf_counter() - t_start,
        settings={
            "train": plan.train, "test": plan.test, "mode": plan.mode, "gap": plan.gap,
            "metric": metric_name, "tie_tol": tie_tol, "min_train_periods": min_train_periods,
            "history": history, "warmup": warm, "var": None if var is None else asdict(var),
            "strategy": type(strategy).__name__, "context": digest(context),
        },
    )  # fmt: skip


def _check_args(
    strategy: Strategy, panel: Panel, min_train_periods: int, history: int, seed: int
) -> None:
    if not isinstance(strategy, Strategy):
        raise ConfigError(f"`strategy` must be a rwafolio Strategy, got {type(strategy).__name__}")
    if not isinstance(panel, Panel):
        raise ConfigError(f"`panel` must be a Panel, got {type(panel).__name__}")
    if not isinstance(min_train_periods, int) or min_train_periods < 2:
        raise ConfigError(f"`min_train_periods` must be an int >= 2, got {min_train_periods!r}")
    if not isinstance(history, int) or history < 1:
        raise ConfigError(f"`history` must be an int >= 1, got {history!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"`seed` must be a non-negative int, got {seed!r}")


class _GridPlan(NamedTuple):
    """The grid tasks and the rows they cover.

    ``degenerate`` maps a fold to why it has no tasks; ``pad`` is the context rows before every
    decision window; ``r0``/``r_end`` bound the out-of-sample period and ``h_first`` is its
    first decision row for the hindsight runs."""

    tasks: list[Task]
    degenerate: dict[int, str]
    points: Sequence[Mapping[str, Any]]
    pad: int
    r0: int
    r_end: int
    h_first: int


def _plan_tasks(
    plan: SplitPlan,
    points: Sequence[Mapping[str, Any]],
    warm: int,
    pad: int,
    min_train_periods: int,
    seed: int,
) -> _GridPlan:
    """Every point on every training window, and on the whole out-of-sample period."""
    tasks: list[Task] = []
    degenerate: dict[int, str] = {}
    for f in plan.folds:
        i0, i1 = f.train_rows
        first = max(i0, warm)
        if i1 - first < min_train_periods:
            degenerate[f.index] = (
                f"too little data: {max(0, i1 - first)} live training periods "
                f"(< min_train_periods={min_train_periods}; warm-up {warm})"
            )
            continue
        for j, p in enumerate(points):
            payload = {"params": p, "start": max(0, i0 - pad), "stop": i1, "first": first}
            key = f"fold{f.index}/p{j}"
            tasks.append(Task(key, payload, task_seed(seed, key)))
    live = [f for f in plan.folds if f.n_test > 0]
    if not live:
        raise ConfigError("the split plan has no test window with data")
    r0, r_end = live[0].test_rows[0], live[-1].test_rows[1]
    h_first = max(r0, warm)
    if r_end - h_first >= 2:
        for j, p in enumerate(points):
            payload = {"params": p, "start": max(0, r0 - pad), "stop": r_end, "first": h_first}
            key = f"hindsight/p{j}"
            tasks.append(Task(key, payload, task_seed(seed, key)))
    return _GridPlan(tasks, degenerate, points, pad, r0, r_end, h_first)


def _run_grid(
    tasks: list[Task],
    panel: Panel,
    fast: Strategy,
    executor: str | Executor | Any | None,
    cache: str | TaskCache | None,
    context: dict[str, Any],
    progress: bool | None,
) -> tuple[dict[str, TaskOutcome], str]:
    """Run the grid tasks on the executor; their outcomes and the executor's description."""
    ex = resolve_executor(executor)
    try:
        outcomes = run_tasks(
            evaluate_point,
            tasks,
            shared=SweepData(panel, fast),
            executor=ex,
            cache=cache,
            context=context,
            progress=progress,
            desc="walk-forward",
        )
    finally:
        if ex is not executor:
            ex.close()
    return dict(outcomes), ex.description


class _Grader:
    """Scores of the grid points under one task prefix, and the in-sample metrics of a point."""

    def __init__(
        self,
        outcomes: Mapping[str, TaskOutcome],
        points: Sequence[Mapping[str, Any]],
        ppy: int,
        metric_fn: MetricFn,
        tie_tol: float,
        max_turnover: float | None = None,
    ) -> None:
        self.outcomes, self.points, self.ppy = outcomes, points, ppy
        self.metric_fn, self.tie_tol, self.max_turnover = metric_fn, tie_tol, max_turnover

    def scores(self, prefix: str) -> np.ndarray:
        """Metric per point; NaN for a failed point or one over the turnover cap."""
        s = np.full(len(self.points), np.nan)
        for j in range(len(self.points)):
            o = self.outcomes.get(f"{prefix}/p{j}")
            if o is not None and o.ok:
                r = np.asarray(o.value["returns"])
                years = max(r.shape[0], 1) / self.ppy
                if (
                    self.max_turnover is not None
                    and o.value["turnover"] / years > self.max_turnover
                ):
                    continue
                s[j] = score(r, self.ppy, self.metric_fn)
        return s

    def in_sample(self, prefix: str, j: int) -> dict[str, float]:
        o = self.outcomes[f"{prefix}/p{j}"].value
        return _metrics(
            np.asarray(o["returns"]), o["turnover"], o["fees"], self.ppy, self.metric_fn
        )


class _Walk(NamedTuple):
    folds: list[FoldResult]
    score_rows: list[np.ndarray]
    pieces: list[BacktestResult]
    firsts: list[int]


def _choose(
    f: Any, grader: _Grader, grid_plan: _GridPlan, prev: Mapping[str, Any] | None
) -> tuple[Any, np.ndarray, FoldStatus, str, int | None, dict[str, Any], dict[str, float]]:
    """The fold's selection: (selection, scores, status, reason, point, params, in-sample)."""
    prefix = f"fold{f.index}"
    s = grader.scores(prefix)
    sel = select(s, tie_tol=grader.tie_tol)
    in_sample: dict[str, float] = {}
    status: FoldStatus
    point: int | None
    if f.index in grid_plan.degenerate:
        status, reason, point = "fallback", grid_plan.degenerate[f.index], None
        params = dict(prev or {})
    elif sel.index is None:
        status, point, params = "fallback", None, dict(prev or {})
        reason = f"every grid point failed ({sel.n_failed} of {len(grid_plan.points)})"
    else:
        status, reason, point = "ok", "", sel.index
        params = dict(grid_plan.points[sel.index])
        in_sample = grader.in_sample(prefix, sel.index)
        if len(sel.tied) > 1:
            reason = f"{len(sel.tied)} points tied; first in grid order chosen"
    if status == "fallback":
        reason += "; used " + (
            "the previous fold's parameters" if prev is not None else "the prototype's parameters"
        )
    return sel, s, status, reason, point, params, in_sample


def _walk_folds(
    fast: Strategy, panel: Panel, plan: SplitPlan, grid_plan: _GridPlan, grader: _Grader
) -> _Walk:
    """Select a point per fold and run its test window from the book carried in."""
    walk = _Walk([], [], [], [])
    prev: Mapping[str, Any] | None = None
    held: np.ndarray | None = None
    value = 1.0
    n_points = len(grid_plan.points)
    for f in plan.folds:
        sel, s, status, reason, point, params, in_sample = _choose(f, grader, grid_plan, prev)
        walk.score_rows.append(s)
        if f.n_test == 0:
            walk.folds.append(
                FoldResult(f.index, f.train_start, f.train_end, f.test_start, f.test_end, "empty",
                           "test window holds no date", point, params, sel.score, sel.tied,
                           n_points, sel.n_ok, sel.n_failed, in_sample, {})
            )  # fmt: skip
            continue
        t0, t1 = f.test_rows
        res, k, params, status, reason = run_fold(
            fast, panel, params, t0, t1, grid_plan.pad, held, value, status, reason
        )
        if params.get("hold") is not True:
            prev = params
        fees = res.fees.to_numpy()[k:]
        oos = _metrics(
            res.returns.to_numpy()[k:],
            float(res.turnover.to_numpy()[k:].sum()),
            float(1 - np.prod(1 - fees)),
            grader.ppy,
            grader.metric_fn,
        )
        walk.folds.append(
            FoldResult(
                f.index, f.train_start, f.train_end, f.test_start, f.test_end, status, reason,
                point if status == "ok" else None, params, sel.score if status == "ok" else float("nan"),
                sel.tied, n_points, sel.n_ok, sel.n_failed, in_sample, oos,
                boundary_turnover=float(res.turnover.iloc[k]), boundary_cost=float(res.fees.iloc[k]),
            )
        )  # fmt: skip
        walk.pieces.append(res)
        walk.firsts.append(k)
        held = res.weights.to_numpy()[-1].copy()
        value = float(res.value.iloc[-1])
    return walk


def _hindsight(
    fast: Strategy, panel: Panel, grid_plan: _GridPlan, grader: _Grader, name: str
) -> tuple[Any, BacktestResult | None]:
    """The best fixed point over the whole out-of-sample period, picked with hindsight."""
    h_sel = select(grader.scores("hindsight"), tie_tol=grader.tie_tol)
    if h_sel.index is None:
        return h_sel, None
    start = max(0, grid_plan.r0 - grid_plan.pad)
    sub = row_slice(panel, start, grid_plan.r_end)
    result = run(
        build_strategy(fast, grid_plan.points[h_sel.index]), sub,
        first_decision=grid_plan.h_first - start, progress=False, execute=False,
        name=f"hindsight best {name}",
    )  # fmt: skip
    return h_sel, result


def _failure_table(outcomes: Mapping[str, TaskOutcome]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"key": o.key, "fold": o.key.split("/")[0], "point": int(o.key.split("/p")[1]),
             "attempts": o.attempts, "error": o.error}
            for o in outcomes.values() if not o.ok
        ],
        columns=["key", "fold", "point", "attempts", "error"],
    )  # fmt: skip


def _score_table(rows: list[np.ndarray], plan: SplitPlan, n_points: int) -> pd.DataFrame:
    return pd.DataFrame(
        np.vstack(rows) if rows else np.empty((0, n_points)),
        index=pd.Index([f.index for f in plan.folds], name="fold"),
        columns=[f"p{j}" for j in range(n_points)],
    )
