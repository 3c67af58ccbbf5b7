"""Independent tasks: where they run (serial, local processes, Dask) and the cache of their results.

Walk-forward sweeps and the studies hand their independent tasks (grid points x folds,
schedules, Monte Carlo seeds) to :func:`run_tasks`:

- an executor runs them: ``"serial"`` (this process), ``"local"``/``"local:N"`` (worker
  processes, which exit when their parent dies), ``"dask://HOST:PORT"`` or a
  ``distributed.Client``; every task's seed derives from the base seed and the task's key
  (:func:`task_seed`), so results are identical bit for bit whichever executor ran them;
- :class:`TaskCache` keeps finished results as JSON files keyed by everything that determines
  them, the code of user-written classes and functions included (:mod:`rwafolio.tasks.keys`);
  every entry carries a checksum verified on read. What cannot be keyed is not cached.
"""

from __future__ import annotations

from rwafolio.tasks.cache import TaskCache, code_version, panel_fingerprint, task_seed
from rwafolio.tasks.executors import (
    DaskExecutor,
    Executor,
    LocalExecutor,
    SerialExecutor,
    Task,
    TaskOutcome,
    resolve_executor,
    run_tasks,
)
from rwafolio.tasks.keys import CacheWarning, Unkeyable, fingerprint

__all__ = [
    "CacheWarning",
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "SerialExecutor",
    "Task",
    "TaskCache",
    "TaskOutcome",
    "Unkeyable",
    "code_version",
    "fingerprint",
    "panel_fingerprint",
    "resolve_executor",
    "run_tasks",
    "task_seed",
]
