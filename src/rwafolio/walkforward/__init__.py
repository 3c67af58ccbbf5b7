"""Walk-forward evaluation and parameter sweeps (their tasks run through :mod:`rwafolio.tasks`).

- :func:`make_splits` plans rolling or expanding training windows, each followed by a test
  window, in calendar time (``"730D"``, ``"6M"``), with a purge gap; ``plan.describe()`` prints it.
- :func:`walk_forward` evaluates a parameter grid on every training window, applies the chosen
  point out of sample and stitches the test windows into one continuous portfolio, carrying the
  drifted book across folds; it compares that with the best fixed point picked with hindsight.
- Grid files are read by :func:`rwafolio.config.load_grid`; the ``walkforward`` command's
  orchestration is :func:`rwafolio.pipeline.run_walkforward`.
"""

from __future__ import annotations

from rwafolio.walkforward.core import walk_forward
from rwafolio.walkforward.result import FoldResult, VarSettings, WalkForwardResult
from rwafolio.walkforward.splits import Fold, SplitPlan, make_splits, parse_period
from rwafolio.walkforward.sweep import METRICS, Utility

__all__ = [
    "METRICS",
    "Fold",
    "FoldResult",
    "SplitPlan",
    "Utility",
    "VarSettings",
    "WalkForwardResult",
    "make_splits",
    "parse_period",
    "walk_forward",
]
