"""The ``rwafolio walkforward`` pipeline as a function: read the grid, plan, run, report.

Option precedence: an argument given here (the command line) wins over the grid file's
``[walkforward]`` table, which wins over :data:`DEFAULTS` (train 730D, test 180D, rolling, gap
0D, Sharpe, seed 0, local processes on all cores). Without a grid file, :data:`DEFAULT_GRID` is
used: the dynamic strategy over lam0 in {1, 2, 4} x eta in {0, 0.05} (6 points).

Nothing here prints: :func:`run_walkforward` returns the result with the split plan's
description; the CLI shows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rwafolio.config import GridSpec, RunConfig, load_grid
from rwafolio.exceptions import ConfigError
from rwafolio.loaders.panel import Panel
from rwafolio.optimize.risk_aversion import DEFAULT_LAM0
from rwafolio.outputs import ensure_parent
from rwafolio.walkforward.core import walk_forward
from rwafolio.walkforward.result import VarSettings, WalkForwardResult
from rwafolio.walkforward.splits import SplitPlan, make_splits

__all__ = [
    "DEFAULTS",
    "DEFAULT_GRID",
    "DEMO_WALKFORWARD",
    "WalkForwardRun",
    "WalkForwardSetup",
    "check_chosen",
    "chose_parameters",
    "demo_walkforward",
    "execute_walkforward",
    "plan_walkforward",
    "run_walkforward",
    "write_report",
]

DEFAULTS: Mapping[str, Any] = {
    "train": "730D",
    "test": "180D",
    "mode": "rolling",
    "gap": "0D",
    "metric": "sharpe",
    "utility_lam": DEFAULT_LAM0,
    "seed": 0,
    "executor": "local",
}
#: The grid used when no ``--grid`` file is given (documented in the README and ``--help``).
DEFAULT_GRID: Mapping[str, list[Any]] = {"lam0": [1.0, 2.0, 4.0], "eta": [0.0, 0.05]}
_KNOWN = {*DEFAULTS, "min_train_periods", "history", "tie_tol", "var"}
#: The demo's small walk-forward: two risk aversions, two years of training, one year of test.
DEMO_WALKFORWARD: Mapping[str, Any] = {
    "grid": {"lam0": [1.0, 4.0]},
    "train": "730D",
    "test": "365D",
}


@dataclass(frozen=True)
class WalkForwardRun:
    """A walk-forward run and how it was set up.

    Attributes
    ----------
    result : WalkForwardResult
    plan : SplitPlan
    grid_source : str
        The grid file's path, or ``"default grid"``.
    strategy_name : str
    n_points : int
    options : mapping
        The settings in force after precedence (train, test, metric, executor, ...).
    strategy : Strategy
        The prototype every grid point was applied to.
    """

    result: WalkForwardResult
    plan: SplitPlan
    grid_source: str
    strategy_name: str
    n_points: int
    options: Mapping[str, Any]
    strategy: Any = None

    def summary(self) -> str:
        """The grid line the CLI prints."""
        return (
            f"grid: {self.n_points} points of {self.strategy_name} ({self.grid_source}); "
            f"metric {self.options['metric']}; executor {self.options['executor']}"
        )


def _default_spec(config: RunConfig | None) -> GridSpec:
    import itertools

    cfg = config if config is not None else RunConfig()
    names = list(DEFAULT_GRID)
    points = tuple(
        dict(zip(names, combo, strict=True)) for combo in itertools.product(*DEFAULT_GRID.values())
    )
    return GridSpec(cfg.build_strategy(), points, dict(cfg.walkforward), cfg)


@dataclass(frozen=True)
class WalkForwardSetup:
    """A walk-forward run planned but not yet run (see :func:`plan_walkforward`)."""

    spec: GridSpec
    plan: SplitPlan
    options: Mapping[str, Any]
    grid_source: str

    def summary(self) -> str:
        """The grid line the CLI prints before running."""
        return (
            f"grid: {len(self.spec.grid)} points of {self.spec.strategy.name} "
            f"({self.grid_source}); metric {self.options['metric']}; "
            f"executor {self.options['executor']}"
        )


def plan_walkforward(
    panel: Panel,
    *,
    grid: str | os.PathLike[str] | None = None,
    config: RunConfig | None = None,
    overrides: Mapping[str, Any] | None = None,
    train: str | None = None,
    test: str | None = None,
    mode: str | None = None,
    gap: str | None = None,
    metric: str | None = None,
    executor: str | Any | None = None,
    seed: int | None = None,
) -> WalkForwardSetup:
    """Read the grid (or take :data:`DEFAULT_GRID`), apply precedence and plan the splits.

    Parameters as in :func:`run_walkforward`.
    """
    if grid is not None:  # ``config``, when given, is the grid file already read
        spec, source = load_grid(Path(grid), overrides, config), str(grid)
    else:
        cfg = config if config is not None else RunConfig()
        spec, source = _default_spec(cfg.with_overrides(**dict(overrides or {}))), "default grid"
    unknown = sorted(set(spec.settings) - _KNOWN)
    if unknown:
        raise ConfigError(f"`[walkforward]` in {source!r} has unknown keys {unknown}")
    varied = {k for point in spec.grid for k in point}
    clash = sorted(k for k, v in (overrides or {}).items() if v is not None and k in varied)
    if clash:  # the grid's values would win over the flag, silently
        raise ConfigError(
            f"`{clash[0]}` is given, but the {source} varies {clash[0]} over its own values; "
            "give a grid that does not vary it, or drop the flag"
        )
    given = {"train": train, "test": test, "mode": mode, "gap": gap, "metric": metric,
             "executor": executor, "seed": seed}  # fmt: skip
    opts = {**DEFAULTS, **spec.settings, **{k: v for k, v in given.items() if v is not None}}
    plan = make_splits(panel.dates, opts["train"], opts["test"], mode=opts["mode"], gap=opts["gap"])
    return WalkForwardSetup(spec, plan, opts, source)


def execute_walkforward(
    panel: Panel,
    setup: WalkForwardSetup,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    var: bool = True,
    progress: bool | None = None,
) -> WalkForwardRun:
    """Run a planned walk-forward (parameters as in :func:`run_walkforward`)."""
    spec, opts = setup.spec, setup.options
    extra = {k: opts[k] for k in ("min_train_periods", "history", "tie_tol") if k in opts}
    var_opt = opts.get("var", var)
    var_settings: VarSettings | None
    if isinstance(var_opt, dict):
        var_settings = (
            VarSettings.from_mapping(var_opt, "config [walkforward].var") if var else None
        )
    else:
        var_settings = VarSettings() if (var and var_opt) else None
    result = walk_forward(
        spec.strategy,
        panel,
        [{k: [v] for k, v in pt.items()} for pt in spec.grid],  # points, in file order
        plan=setup.plan,
        metric=opts["metric"],
        utility_lam=float(opts["utility_lam"]),
        executor=opts["executor"],
        cache=None if cache_dir is None else str(cache_dir),
        seed=int(opts["seed"]),
        var=var_settings,
        progress=progress,
        **extra,
    )
    return WalkForwardRun(
        result, setup.plan, setup.grid_source, spec.strategy.name, len(spec.grid), opts,
        spec.strategy,
    )  # fmt: skip


def run_walkforward(
    panel: Panel,
    *,
    grid: str | os.PathLike[str] | None = None,
    config: RunConfig | None = None,
    overrides: Mapping[str, Any] | None = None,
    train: str | None = None,
    test: str | None = None,
    mode: str | None = None,
    gap: str | None = None,
    metric: str | None = None,
    executor: str | Any | None = None,
    seed: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    var: bool = True,
    progress: bool | None = None,
) -> WalkForwardRun:
    """Run a walk-forward evaluation on ``panel`` (:func:`plan_walkforward` then
    :func:`execute_walkforward`).

    Parameters
    ----------
    panel : Panel
    grid : path or None
        TOML grid file (see ``examples/walkforward.toml``); None: :data:`DEFAULT_GRID` over the
        strategy of ``config``.
    config : RunConfig or None
        Without ``grid``: the strategy's fixed parameters (``--config``). With ``grid``: that
        file already read (``load_config(grid, "--grid")``; None: read here).
    overrides : mapping or None
        ``[strategy]`` keys from command-line flags (``lam0``, ``eta``, ``window``,
        ``threshold``); they win over the file.
    train, test, mode, gap, metric, executor, seed
        Override the grid file's ``[walkforward]`` table. ``executor``: ``"local"``,
        ``"local:N"``, ``"serial"`` or ``"dask://HOST:PORT"``.
    cache_dir : path or None
        Task cache folder (re-running resumes); None: ``$RWAFOLIO_WALKFORWARD_CACHE`` if set.
    var : bool
        Rolling VaR forecasts along the stitched portfolio.
    progress : bool or None
        Progress on stderr (False: silent).

    Returns
    -------
    WalkForwardRun
    """
    setup = plan_walkforward(
        panel, grid=grid, config=config, overrides=overrides, train=train, test=test,
        mode=mode, gap=gap, metric=metric, executor=executor, seed=seed,
    )  # fmt: skip
    return execute_walkforward(panel, setup, cache_dir=cache_dir, var=var, progress=progress)


def demo_walkforward(
    panel: Panel, *, seed: int, progress: bool | None = None
) -> tuple[WalkForwardResult | None, str]:
    """The demo's walk-forward over :data:`DEMO_WALKFORWARD` (a few seconds, run serially with
    progress on stderr), so the demo report's Walk-forward section is computed.

    Returns
    -------
    (WalkForwardResult or None, str)
        The result, or None when the panel spans less than training plus half a year; and a
        one-line note saying which.
    """
    from rwafolio.strategies import DynamicLambdaStrategy

    spec = DEMO_WALKFORWARD
    if (panel.dates[-1] - panel.dates[0]).days < 730 + 180:
        return None, "walk-forward: skipped (the demo's walk-forward needs about 2.5 years of data)"
    note = (
        f"walk-forward: lam0 in {spec['grid']['lam0']}, train {spec['train']}, test "
        f"{spec['test']} (progress on stderr)"
    )
    result = walk_forward(
        DynamicLambdaStrategy(), panel, spec["grid"], train=spec["train"], test=spec["test"],
        executor="serial", seed=seed, var=None, progress=progress,
    )  # fmt: skip
    return result, note


def _equal_weight_alongside(result: WalkForwardResult, panel: Panel) -> dict[str, Any]:
    """Equal weight over the stitched curve's live period, as the report's benchmark."""
    import pandas as pd

    from rwafolio.backtest import run
    from rwafolio.strategies import EqualWeight

    first = pd.Timestamp(result.stitched.params.get("first_decision", panel.dates[0]))
    row = int(panel.dates.searchsorted(first))
    bench = run(EqualWeight(), panel, first_decision=max(row, EqualWeight().warmup),
                name="equal_weight", progress=False)  # fmt: skip
    return {"equal_weight": bench}


def chose_parameters(run: WalkForwardRun) -> bool:
    """Whether at least one fold chose parameters (else the run has nothing to report)."""
    return any(f.status == "ok" for f in run.result.folds)


def check_chosen(run: WalkForwardRun) -> None:
    """Raise when no fold chose parameters (then no report is written).

    Raises
    ------
    ConfigError
        When every fold failed to choose parameters.
    """
    if not chose_parameters(run):
        raise ConfigError(
            "every walk-forward fold failed to choose parameters (every grid point failed or "
            "the folds are too short); see the fold table above and the `--grid` file "
            "(no report written)"
        )


def write_report(run: WalkForwardRun, out: str | os.PathLike[str], panel: Panel) -> Path:
    """Render the walk-forward report to ``out`` (its folder is created), with equal weight on
    ``panel`` over the stitched live period as the benchmark.

    Raises
    ------
    ConfigError
        When no fold could choose parameters (:func:`check_chosen`); then no report is written.
    """
    from rwafolio.reports import render_html

    check_chosen(run)
    path = ensure_parent(out, "`--out`")
    r = run.result
    title = f"Walk-forward: {run.strategy_name}"
    return Path(
        render_html(
            r.stitched,
            r.forecasts,
            r,
            path=path,
            title=title,
            benchmarks=_equal_weight_alongside(r, panel),
        )
    )
