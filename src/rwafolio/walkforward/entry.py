"""The ``rwafolio walkforward`` command as a function: load data, read the grid, plan, run, report.

Option precedence: an argument given here (the command line) wins over the grid file's
``[walkforward]`` table, which wins over the defaults (train 730D, test 180D, rolling, gap 0D,
Sharpe, seed 0, local processes on all cores).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rwafolio.exceptions import ConfigError
from rwafolio.loaders.panel import Panel
from rwafolio.optimize.risk_aversion import DEFAULT_LAM0
from rwafolio.walkforward.core import walk_forward
from rwafolio.walkforward.result import VarSettings, WalkForwardResult
from rwafolio.walkforward.splits import make_splits
from rwafolio.walkforward.sweep import load_grid

DEFAULTS: dict[str, Any] = {
    "train": "730D",
    "test": "180D",
    "mode": "rolling",
    "gap": "0D",
    "metric": "sharpe",
    "utility_lam": DEFAULT_LAM0,
    "seed": 0,
    "executor": "local",
}
_KNOWN = {*DEFAULTS, "min_train_periods", "history", "tie_tol", "var"}


def _load_panel(
    source: str,
    data_dirs: Sequence[str | os.PathLike[str]],
    load_kwargs: dict[str, Any],
) -> Panel:
    from rwafolio.loaders import load

    dirs = list(data_dirs)
    if source.startswith("files:"):  # "files:DIR[,DIR...]" shorthand
        dirs = [*source[len("files:") :].split(","), *dirs]
        source = "files"
    kw = {k: v for k, v in load_kwargs.items() if v is not None}
    return load(source, data_dirs=dirs, **kw)  # type: ignore[arg-type]


#: The demo's small walk-forward: two risk aversions, two years of training, one year of test.
DEMO_WALKFORWARD: dict[str, Any] = {"grid": {"lam0": [1.0, 4.0]}, "train": "730D", "test": "365D"}


def demo_walkforward(
    panel: Panel, *, seed: int, echo: Callable[[str], None] = print
) -> WalkForwardResult | None:
    """The demo's walk-forward over :data:`DEMO_WALKFORWARD` (a few seconds, run serially with
    a progress bar on stderr), so the demo report's Walk-forward section is computed; None
    (said through ``echo``) when the panel spans less than training plus half a year."""
    from rwafolio.strategies import DynamicLambdaStrategy

    spec = DEMO_WALKFORWARD
    if (panel.dates[-1] - panel.dates[0]).days < 730 + 180:
        echo("walk-forward: skipped (the demo's walk-forward needs about 2.5 years of data)")
        return None
    echo(f"walk-forward: lam0 in {spec['grid']['lam0']}, train {spec['train']}, test "
         f"{spec['test']} (progress on stderr)")  # fmt: skip
    return walk_forward(
        DynamicLambdaStrategy(), panel, spec["grid"], train=spec["train"], test=spec["test"],
        executor="serial", seed=seed, var=None, progress=True,
    )  # fmt: skip


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


def walkforward_from_args(
    *,
    source: str | Panel,
    grid: str | os.PathLike[str],
    out: str | os.PathLike[str] | None,
    train: str | None = None,
    test: str | None = None,
    mode: str | None = None,
    gap: str | None = None,
    metric: str | None = None,
    executor: str | Any | None = None,
    seed: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    data_dirs: Sequence[str | os.PathLike[str]] = (),
    symbols: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    vix: str | None = None,
    policy: str | None = None,
    var: bool = True,
    progress: bool | None = None,
    echo: Callable[[str], object] = print,
) -> WalkForwardResult:
    """Run ``rwafolio walkforward`` and write its report.

    Parameters
    ----------
    source : str or Panel
        ``"synthetic"``, ``"files"`` (with ``data_dirs``), ``"files:DIR[,DIR]"`` or
        ``"yfinance"``, passed to :func:`rwafolio.loaders.load`; or a ready Panel.
    grid : path
        TOML grid file (see ``examples/walkforward.toml``).
    out : path or None
        HTML report to write (None: no report).
    train, test, mode, gap, metric, executor, seed
        Override the grid file's ``[walkforward]`` table. ``executor``: ``"local"``,
        ``"local:N"``, ``"serial"`` or ``"dask://HOST:PORT"``.
    cache_dir : path or None
        Task cache folder (re-running resumes); None: ``$RWAFOLIO_WALKFORWARD_CACHE`` if set.
    data_dirs, symbols, start, end, vix, policy
        Passed to the loader.
    var : bool
        Rolling VaR forecasts along the stitched portfolio.
    progress : bool or None
        Progress bar (None: on a terminal, not in CI).
    echo : callable
        Where the split plan and the summary are printed.

    Returns
    -------
    WalkForwardResult

    Raises
    ------
    ConfigError
        When no fold could choose parameters; then no report is written.
    """
    spec = load_grid(Path(grid))
    unknown = sorted(set(spec.settings) - _KNOWN)
    if unknown:
        raise ConfigError(f"`[walkforward]` in {str(grid)!r} has unknown keys {unknown}")
    given = {"train": train, "test": test, "mode": mode, "gap": gap, "metric": metric,
             "executor": executor, "seed": seed}  # fmt: skip
    opts = {**DEFAULTS, **spec.settings, **{k: v for k, v in given.items() if v is not None}}
    if isinstance(source, Panel):
        panel = source
    else:
        panel = _load_panel(
            source,
            data_dirs,
            {"symbols": symbols, "start": start, "end": end, "vix": vix, "policy": policy},
        )
    plan = make_splits(panel.dates, opts["train"], opts["test"], mode=opts["mode"], gap=opts["gap"])
    echo(plan.describe())
    echo(f"grid: {len(spec.grid)} points of {spec.strategy.name}; metric {opts['metric']}; "
         f"executor {opts['executor']}")  # fmt: skip
    extra = {k: opts[k] for k in ("min_train_periods", "history", "tie_tol") if k in opts}
    var_opt = opts.get("var", var)
    var_settings: VarSettings | None
    if isinstance(var_opt, dict):
        var_settings = VarSettings(**var_opt) if var else None
    else:
        var_settings = VarSettings() if (var and var_opt) else None
    result = walk_forward(
        spec.strategy,
        panel,
        [{k: [v] for k, v in pt.items()} for pt in spec.grid],  # points, in file order
        plan=plan,
        metric=opts["metric"],
        utility_lam=float(opts["utility_lam"]),
        executor=opts["executor"],
        cache=None if cache_dir is None else str(cache_dir),
        seed=int(opts["seed"]),
        var=var_settings,
        progress=progress,
        **extra,
    )
    echo(
        result.comparison.loc[["total_return", "sharpe", "max_drawdown", "costs_paid"]].to_string()
    )
    chosen = any(f.status == "ok" for f in result.folds)
    if len(result.failures):
        where = "; see the report" if chosen and out is not None else ""
        echo(f"{len(result.failures)} task(s) failed after a retry{where}")
    if not chosen:
        raise ConfigError(
            "every walk-forward fold failed to choose parameters (every grid point failed or "
            "the folds are too short); see the fold table above and the `--grid` file "
            "(no report written)"
        )
    if out is not None:
        from rwafolio.reports import render_html

        path = render_html(
            result.stitched, result.forecasts, result, path=Path(out),
            benchmarks=_equal_weight_alongside(result, panel),
            title=f"Walk-forward: {spec.strategy.name}",
        )  # fmt: skip
        echo(f"report: {path}")
    return result
