"""Walk-forward evaluation, parameter sweeps and the executors that run them.

- :func:`make_splits` plans rolling or expanding training windows, each followed by a test
  window, in calendar time (``"730D"``, ``"6M"``), with a purge gap; ``plan.describe()`` prints it.
- :func:`walk_forward` evaluates a parameter grid on every training window, applies the chosen
  point out of sample and stitches the test windows into one continuous portfolio, carrying the
  drifted book across folds; it compares that with the best fixed point picked with hindsight.
- Grid files are read by :func:`rwafolio.config.load_grid`; the ``walkforward`` command's
  orchestration is :func:`rwafolio.pipeline.run_walkforward`.
- :func:`run_tasks` runs independent tasks (grid points x folds, Monte Carlo seeds) on local
  processes or Dask distributed, with per-task seeds, retry-once and an on-disk JSON cache.
"""

from __future__ import annotations

from rwafolio.walkforward.cache import TaskCache, code_version, panel_fingerprint, task_seed
from rwafolio.walkforward.core import walk_forward
from rwafolio.walkforward.executors import (
    DaskExecutor,
    Executor,
    LocalExecutor,
    SerialExecutor,
    Task,
    TaskOutcome,
    resolve_executor,
    run_tasks,
)
from rwafolio.walkforward.result import FoldResult, VarSettings, WalkForwardResult
from rwafolio.walkforward.splits import Fold, SplitPlan, make_splits, parse_period
from rwafolio.walkforward.sweep import METRICS, Utility

__all__ = [
    "METRICS",
    "DaskExecutor",
    "Executor",
    "Fold",
    "FoldResult",
    "LocalExecutor",
    "SerialExecutor",
    "SplitPlan",
    "Task",
    "TaskCache",
    "TaskOutcome",
    "Utility",
    "VarSettings",
    "WalkForwardResult",
    "code_version",
    "make_splits",
    "panel_fingerprint",
    "parse_period",
    "resolve_executor",
    "run_tasks",
    "task_seed",
    "walk_forward",
]
