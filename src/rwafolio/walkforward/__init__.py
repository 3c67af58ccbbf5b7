"""Walk-forward evaluation and parameter sweeps (their tasks run through :mod:`rwafolio.tasks`).

- :func:`make_splits` plans rolling or expanding training windows, each followed by a test
  window, in calendar time (``"730D"``, ``"6M"``), with a purge gap; ``plan.describe()`` prints it.
- :func:`walk_forward` evaluates a parameter grid on every training window, applies the chosen
  point out of sample and stitches the test windows into one continuous portfolio, carrying the
  drifted book across folds; it compares that with the best fixed point picked with hindsight.
"""

from __future__ import annotations

from rwafolio.walkforward.core import walk_forward
from rwafolio.walkforward.result import FoldResult, VarSettings, WalkForwardResult
from rwafolio.walkforward.splits import Fold, SplitPlan, make_splits, parse_period
from rwafolio.walkforward.stitching import Hold, run_continuing, stitch
from rwafolio.walkforward.sweep import (
    METRICS,
    GridSpec,
    Selection,
    Utility,
    expand_grid,
    load_grid,
    resolve_metric,
    select,
)

__all__ = [
    "METRICS",
    "Fold",
    "FoldResult",
    "GridSpec",
    "Hold",
    "Selection",
    "SplitPlan",
    "Utility",
    "VarSettings",
    "WalkForwardResult",
    "expand_grid",
    "load_grid",
    "make_splits",
    "parse_period",
    "resolve_metric",
    "run_continuing",
    "select",
    "stitch",
    "walk_forward",
]
