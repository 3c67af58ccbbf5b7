"""The ``rwafolio`` command line: argument parsing and printing only.

Commands: demo, data, fetch, backtest, var, report, walkforward, sensitivity, frequency, live
(:mod:`rwafolio.live.command`); their flags are built in :mod:`rwafolio.cli_parser`. Each one
calls :mod:`rwafolio.pipeline` (which returns results and never prints) and prints what it got.

Every command that loads data takes the same data options (``--source``, ``--data-dir``
(repeatable), ``--symbols`` (commas or spaces), ``--start``, ``--end``, ``--policy``, ``--vix``,
``--missing``, ``--seed``); every command that runs the strategy takes ``--config`` and the
strategy flags ``--lam0``, ``--eta``, ``--window``, ``--threshold`` (a flag wins over the file).
Errors rwafolio raises on purpose are printed as one line naming the flag, with exit code 2; any
other error is one line too (:mod:`rwafolio.cli_safety`, ``--debug`` for the traceback). Output
paths are checked before any work (:mod:`rwafolio.outputs`, ``--force``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rwafolio import cli_parser
from rwafolio.cli_parser import DEFAULT_SEED
from rwafolio.cli_safety import check_outputs_of, run_command
from rwafolio.exceptions import ConfigError

#: Python parameter names in library errors -> the flag a CLI user typed.
_FLAGS = {"data_dirs": "--data-dir", "rng": "--seed", "n_scenarios": "--scenarios",
          "strategy_params": "--config [strategy]", "n_workers": "--executor local:N"}  # fmt: skip
_SAME = ("symbols start end policy vix cache_dir missing seed horizon every window nu lam0 eta "
         "threshold train test gap mode metric executor date source data_dir")  # fmt: skip
FLAG_NAMES = {**{n: "--" + n.replace("_", "-") for n in _SAME.split()}, **_FLAGS}


def flag_names(message: str) -> str:
    """``message`` with backquoted Python parameter names replaced by their flags."""
    return re.sub(
        r"`([a-z_0-9]+)`", lambda m: f"`{FLAG_NAMES.get(m.group(1), m.group(1))}`", message
    )


def _data_options(args: argparse.Namespace) -> Any:
    from rwafolio.pipeline import DataOptions

    return DataOptions.from_args(args)


def _config(args: argparse.Namespace) -> Any:
    from rwafolio.config import RunConfig, load_config

    cfg = load_config(args.config) if getattr(args, "config", None) else RunConfig()
    return cfg.with_overrides(
        lam0=getattr(args, "lam0", None),
        eta=getattr(args, "eta", None),
        window=getattr(args, "window", None),
        threshold=getattr(args, "threshold", None),
    )


def _warner(args: argparse.Namespace) -> Any:
    """Print a warning line on stderr as ``rwafolio COMMAND: warning: ...``."""
    return lambda line: print(f"rwafolio {args.command}: warning: {line}", file=sys.stderr)


def _load(args: argparse.Namespace, config: Any = None) -> Any:
    from rwafolio.pipeline import load_panel

    data = _data_options(args)
    if config is not None:
        data = data.with_config(config.data)
    panel, notes = load_panel(
        data, costs=None if config is None else config.costs, config=config, warn=_warner(args)
    )
    for note in notes:
        print(note)
    if panel.synthetic:
        print("data: SYNTHETIC (the embedded generator, not market history)")
    return panel


def _print_table(df: Any, floatfmt: str = "{:.4f}") -> None:
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(df.to_string(float_format=lambda x: floatfmt.format(x)))


#: How the console prints each statistic of ``stats()`` (the JSON keeps the fractions).
_PERCENT = ("total_return", "cagr", "volatility", "max_drawdown", "costs_paid")
_RATIOS = ("sharpe", "sortino", "excess_sharpe", "excess_sortino", "calmar")
STATS_NOTE = (
    "(total_return: % of the starting wealth; cagr and volatility: % a year; max_drawdown: % "
    "below the running peak; sharpe, sortino at a zero rate, excess_* over cash (the T-bill "
    "proxy, or the given rate); costs_paid: % of wealth lost to fees, 1 - prod(1 - fee_t); "
    "turnover_per_year: |weight traded| summed per year, a multiple of the portfolio's value)"
)


def stats_text(df: Any) -> Any:
    """``stats`` (rows: statistics, columns: strategies) as strings in the field's units:
    percent with one decimal, ratios with two, turnover as a multiple per year."""

    def cell(name: str, x: float) -> str:
        if x != x:  # NaN
            return "n/a"
        if name in _PERCENT:
            return f"{100.0 * x:.1f}%"
        if name in _RATIOS:
            return f"{x:.2f}"
        if name == "turnover_per_year":
            return f"{x:.1f}x"
        return f"{x:.4f}"

    out = df.astype(object)
    for name in df.index:
        out.loc[name] = [cell(str(name), float(x)) for x in df.loc[name]]
    return out


# ---------------------------------------------------------------------------- commands
def cmd_data(args: argparse.Namespace) -> int:
    panel = _load(args)
    print(f"source: {panel.source}   policy: {panel.policy}   vix: {panel.vix_source}")
    print(
        f"aligned range: {panel.dates[0].date()}..{panel.dates[-1].date()} "
        f"({len(panel.dates)} dates); own_first/own_last: each symbol's own data"
    )
    _print_table(panel.summary())
    if panel.findings:
        print(f"\n{len(panel.findings)} finding(s):")
        for f in panel.findings[:50]:
            d = f.to_dict()
            print(f"  {d['symbol']:<10} {d['kind']:<18} {d['date'] or '-':<10} {d['detail']}")
        if len(panel.findings) > 50:
            print(f"  ... and {len(panel.findings) - 50} more")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from rwafolio.loaders import fetch, with_own_warnings

    summary, caught = with_own_warnings(
        fetch, args.symbols, start=args.start, end=args.end, cache_dir=args.cache_dir
    )
    _print_table(summary)
    for message in caught:
        _warner(args)(message)
    return 0


def _run_suite(args: argparse.Namespace, *, out_default: str) -> int:
    """Backtest the strategy and its benchmarks, print, forecast, render (demo and backtest)."""
    from rwafolio.pipeline import (
        RiskOptions,
        add_risk,
        add_walkforward,
        run_suite,
        write_outputs,
        write_summary,
    )

    out, js = args.out or out_default, getattr(args, "json", None)
    outputs = [("--out", out, "report"), ("--save", _saved(args.save, out, js), "run"),
               ("--json", js, "summary")]  # fmt: skip
    check_outputs_of(args, outputs)
    config = _config(args)
    seed = DEFAULT_SEED if args.seed is None else args.seed
    suite = run_suite(
        _data_options(args), config, None, signal_lag=args.signal_lag, seed=seed,
        warn=_warner(args),
    )  # fmt: skip
    panel = suite.panel
    for note in suite.notes:
        print(note)
    print(
        f"data: {panel.source}{' (SYNTHETIC: not market history)' if panel.synthetic else ''}, "
        f"{panel.dates[0].date()}..{panel.dates[-1].date()}, {len(panel.symbols)} assets, "
        f"policy {panel.policy}, vix {panel.vix_source}"
    )
    _print_table(stats_text(suite.stats))
    print(STATS_NOTE)
    ss = suite.main.solver_stats()
    print(
        f"solver: {ss['by_solver']}, worst KKT residual {ss['worst_kkt']:.2e}, "
        f"failures {ss.get('failures', 0)}, fallbacks {ss['fallbacks']}"
    )
    reasons = suite.main.decisions["fallback_reason"]
    reasons = reasons[reasons != ""].str.split(r" \(").str[0].value_counts()
    for reason, count in reasons.head(3).items():
        print(f"  {count} x {reason}")
    sys.stdout.flush()
    risk = RiskOptions.from_config(
        config.risk, horizon=args.horizon, every=args.every, mean=args.var_mean,
        rolling=not args.no_risk, crowding=not args.no_crowding, target=args.risk_target,
    )  # fmt: skip
    suite = add_risk(suite, risk, seed=seed)
    if suite.evaluation is not None:
        print(
            f"risk forecasts against what followed ({suite.evaluation.target}; "
            "non-overlapping windows):"
        )
        for line in suite.evaluation.verdicts():
            print(f"  {line}")
    if getattr(args, "walkforward", False):
        suite = add_walkforward(suite, seed=seed)
        print(suite.notes[-1])
    check_outputs_of(args, outputs, panel=panel)
    path, saved = write_outputs(suite, args.out or out_default, args.save)
    if saved is not None:
        print(f"run saved: {saved}")
    print(f"report: {path}")
    if getattr(args, "json", None):
        print(f"summary: {write_summary(suite, args.json)}")
    return 0


def _saved(save: str | None, *others: str | None) -> Path | None:
    """The file ``--save`` writes (``.zip`` added without a suffix); the name as given when
    another output has the same name, so the check refuses the two as one file."""
    from rwafolio.pipeline.suite import save_path

    if save is None:
        return None
    same = any(o is not None and Path(o) == Path(save) for o in others)
    return Path(save) if same else save_path(save)


def cmd_demo(args: argparse.Namespace) -> int:
    args.walkforward = not args.no_walkforward
    for name, value in (("source", "synthetic"), ("data_dir", []), ("symbols", None),
                        ("vix", None), ("cache_dir", None), ("missing", None),
                        ("clean", "report")):  # fmt: skip
        setattr(args, name, value)
    return _run_suite(args, out_default="out/demo.html")


def cmd_backtest(args: argparse.Namespace) -> int:
    return _run_suite(args, out_default="out/backtest.html")


def cmd_var(args: argparse.Namespace) -> int:
    import numpy as np

    from rwafolio.pipeline import book_risk

    seed = DEFAULT_SEED if args.seed is None else args.seed
    if args.json is not None and (not args.crowding or Path(args.json).is_dir()):
        raise ConfigError(f"`--json` needs --crowding and a file path, got {args.json!r}")
    check_outputs_of(args, [("--json", args.json, "crowding")])
    panel = _load(args)
    risk = book_risk(
        panel, args.weights, window=args.window, horizon=args.horizon,
        n_scenarios=args.scenarios, nu=args.nu, seed=seed,
    )  # fmt: skip
    print(f"weights: {dict(zip(panel.symbols, np.round(risk.weights, 4).tolist(), strict=True))}")
    print(
        f"estimates: Ledoit-Wolf over the last {args.window} periods to {panel.dates[-1].date()}; "
        f"horizon {args.horizon} periods; {args.scenarios} scenarios; seed {seed}"
    )
    print("VaR and CVaR are horizon returns (negative = loss); DaR is the max drawdown quantile.")
    for dist, f in risk.forecasts.items():
        print(f"{dist:>10}: " + _risk_line(f))
    if args.crowding:
        args.seed = seed
        _var_crowding(args, panel, risk)
    return 0


def _var_crowding(args: argparse.Namespace, panel: Any, risk: Any) -> None:
    """Print the crowding answer of ``var``: with/without agents, the share, the surface."""
    import numpy as np

    from rwafolio.pipeline.var import book_crowding, write_crowding_json

    a = book_crowding(
        panel, risk, horizon=args.horizon, n_scenarios=args.scenarios,
        surface_scenarios=args.surface_scenarios, aum=args.aum, fire_sale=args.fire_sale,
        daily_volume=args.daily_volume, seed=args.seed,
        progress=lambda line: print(f"  ... {line}", flush=True),
    )  # fmt: skip
    c, cfg = a.crowding, a.config
    print("liquidity (daily volume in quote currency, daily vol, spread, source):")
    for sym, row in a.liquidity.iterrows():
        print(f"{sym:>12}  {row.daily_volume:>16,.0f}  {row.sigma_daily:7.2%}  "
              f"{row.spread:6.2%}  {row.source}")  # fmt: skip
    print(f"{'no agents':>10}: " + _risk_line(c.without_agents))
    print(f"{'10 agents':>10}: " + _risk_line(c.with_agents))
    shares = ", ".join(
        f"VaR{lv * 100:g} {x:.0%} (denominator VaR_with {vw:+.2%})" if np.isfinite(x)
        else f"VaR{lv * 100:g} n/a (VaR is a gain)"
        for lv, x, vw in zip(c.with_agents.levels, c.impact_share, c.with_agents.var, strict=True)
    )  # fmt: skip
    print(
        f"{'':>10}  agents (AUM {cfg.aum:,.0f} each, fire sales {cfg.fire_sale}): turnover "
        f"{c.turnover:.1%} per agent per period (the strategy itself on the same paths: "
        f"{a.reference.turnover:.1%}), trade alignment (mean cosine, 1 = identical) "
        f"{c.alignment:.2f}; share of the VaR loss due to their price impact: {shares}\n{'':>10}  "
        "(share = (VaR_with - VaR_alone) / VaR_with, for this --weights book; a report's crowding "
        "table uses the strategy's latest holdings, so its share differs when the books do)"
    )
    surf = a.surface
    print(f"VaR95 surface ({surf.thinnest}'s daily volume across, agents down; "
          f"{args.surface_scenarios} scenarios a point):")  # fmt: skip
    table = surf.points.pivot(index="agents", columns="daily_volume", values="var")
    print(f"{'agents':>8}" + "".join(f"{v:>14,.0f}" for v in table.columns))
    for k, row in table.iterrows():
        print(f"{k:>8}" + "".join(f"{x:>14.2%}" for x in row))
    steps = surf.steps()
    print(f"(every point on the same draws and the same first agents: a step between neighbours "
          f"has a paired Monte Carlo s.e. of at most {steps['se'].max():.2%}; the largest step "
          f"that lowers the loss is {max(steps['change'].max(), 0.0):.2%})")  # fmt: skip
    if args.json is not None:
        print(f"crowding answer written: {write_crowding_json(a, args.json)}")


def _risk_line(f: Any) -> str:
    parts = [
        f"VaR{lv * 100:g} {v:+.2%} (±{se:.2%})  CVaR{lv * 100:g} {c:+.2%}  DaR{lv * 100:g} {d:+.2%}"
        for lv, v, se, c, d in zip(f.levels, f.var, f.var_se, f.cvar, f.dar, strict=True)
    ]
    return "   ".join(parts)


def report_path(run: str | os.PathLike[str], out: str | None) -> Path:
    """Where ``rwafolio report RUN`` writes: ``--out``, else beside the run as ``RUN.html``."""
    if out:
        return Path(out)
    return Path(run).with_suffix(".html")


def cmd_report(args: argparse.Namespace) -> int:
    from rwafolio.outputs import ensure_parent
    from rwafolio.pipeline.suite import save_path
    from rwafolio.reports.runfile import render_run_file

    run = Path(args.run)
    if not run.exists() and save_path(run).is_file():
        run = save_path(run)  # `--save runs/demo` wrote runs/demo.zip
    out = report_path(run, args.out)
    args.run = str(run)  # the input the output check protects (an --out over it is refused)
    check_outputs_of(args, [("--out", out, "report")])
    path = render_run_file(run, path=ensure_parent(out, "`--out`"))
    print(f"report: {path}")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from rwafolio.pipeline import render_study, run_sensitivity

    check_outputs_of(args, [("--out", args.out, "report")])
    config = _config(args)
    panel = _load(args, config)
    check_outputs_of(args, [("--out", args.out, "report")], panel=panel)
    study = run_sensitivity(
        panel, config, date=args.date, every=args.every, execute=args.out is not None
    )
    where = f"the decision of {args.date}" if args.date else "across the backtest (calm vs stress)"
    print(f"what moves the allocation: {where}")
    _print_table(study.table.head(args.top))
    if args.out:
        print(f"report: {render_study(study, args.out)}")
    return 0


def cmd_frequency(args: argparse.Namespace) -> int:
    from rwafolio.pipeline import render_study, run_frequency

    check_outputs_of(args, [("--out", args.out, "report")])
    config = _config(args)
    panel = _load(args, config)
    check_outputs_of(args, [("--out", args.out, "report")], panel=panel)
    seed = DEFAULT_SEED if args.seed is None else args.seed
    study = run_frequency(panel, config, executor=args.executor, seed=seed)
    _print_table(study.table)
    if args.out:
        print(f"report: {render_study(study, args.out)}")
    return 0


def cmd_walkforward(args: argparse.Namespace) -> int:
    from rwafolio.config import load_config
    from rwafolio.pipeline import walkforward as wfp

    # A grid file's [costs] and [data] apply as a run config's do (its [strategy] and [grid]
    # are read by plan_walkforward).
    config = _config(args) if args.grid is None else load_config(args.grid, "--grid")
    if args.grid is not None and args.config is not None:
        raise ConfigError("give `--grid` or `--config`, not both (a grid file has [strategy])")
    from rwafolio.tasks.cache import CACHE_ENV

    cache = args.task_cache or os.environ.get(CACHE_ENV)
    if (
        args.out
        and cache
        and Path(os.path.abspath(cache)).is_relative_to(os.path.abspath(args.out))
    ):
        raise ConfigError(
            f"`--out` {args.out!r} and the `--task-cache` folder {cache!r} collide: the cache "
            "would make a folder of the report's path"
        )
    check_outputs_of(args, [("--out", args.out, "report")])
    panel = _load(args, config)
    check_outputs_of(args, [("--out", args.out, "report")], panel=panel)
    overrides = {"lam0": args.lam0, "eta": args.eta, "window": args.window,
                 "threshold": args.threshold}  # fmt: skip
    setup = wfp.plan_walkforward(
        panel, grid=args.grid, config=config, overrides=overrides, train=args.train,
        test=args.test, mode=args.mode, gap=args.gap, metric=args.metric,
        executor=args.executor, seed=args.seed,
    )  # fmt: skip
    print(setup.plan.describe())
    print(setup.summary(), flush=True)
    wf = wfp.execute_walkforward(panel, setup, cache_dir=args.task_cache, var=not args.no_var)
    res = wf.result
    shown = res.comparison.loc[["total_return", "sharpe", "max_drawdown", "costs_paid"]]
    print(stats_text(shown).to_string())
    if len(res.failures):
        where = "; see the report" if wfp.chose_parameters(wf) and args.out else ""
        print(f"{len(res.failures)} task(s) failed after a retry{where}")
    wfp.check_chosen(wf)  # no report when no fold chose parameters
    if args.out:
        print(f"report: {wfp.write_report(wf, args.out, panel)}")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    """List the compiled-kernel folders of every version; ``--prune`` deletes the others'."""
    import datetime as _dt

    from rwafolio.exceptions import OutputError
    from rwafolio.utils.kernel_cache import cache_dir, cache_folders, prune

    def mib(n: int) -> str:
        return f"{n / 2**20:.1f} MiB"

    folders = cache_folders()
    print(f"compiled-kernel cache: {cache_dir().parent}")
    for f in folders:
        when = _dt.datetime.fromtimestamp(f.modified).strftime("%Y-%m-%d %H:%M") if f.size else "-"
        mine = "this version" if f.current else "another version"
        print(f"  {f.path.name}  {mib(f.size):>10}  last written {when}  {mine}")
    if not any(f.current for f in folders):
        print(f"  {cache_dir().name}  (this version: nothing compiled yet)")
    stale = [f for f in folders if not f.current]
    if not args.prune:
        if stale:
            total = mib(sum(f.size for f in stale))
            print(f"{len(stale)} folder(s) of other versions, {total}: `--prune` deletes them")
        return 0
    try:
        gone = prune()
    except OSError as exc:
        raise OutputError(f"`--prune`: could not delete {exc.filename}: {exc.strerror}") from exc
    for f in gone:
        print(f"deleted {f.path.name} ({mib(f.size)})")
    if not gone:
        print("nothing to delete")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``rwafolio`` parser, each subcommand bound to its ``cmd_*`` function."""
    commands = {"demo": cmd_demo, "data": cmd_data, "fetch": cmd_fetch, "backtest": cmd_backtest,
                "var": cmd_var, "report": cmd_report, "sensitivity": cmd_sensitivity,
                "frequency": cmd_frequency, "walkforward": cmd_walkforward,
                "cache": cmd_cache}  # fmt: skip
    return cli_parser.build_parser(commands)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_command(args, message=flag_names)


if __name__ == "__main__":
    sys.exit(main())
