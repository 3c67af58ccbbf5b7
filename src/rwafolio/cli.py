"""The ``rwafolio`` command line: argument parsing and printing only.

Commands: demo, data, fetch, backtest, var, report, walkforward, sensitivity, frequency, live
(:mod:`rwafolio.live.command`). Each one
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

from rwafolio.cli_safety import add_safety_flags, check_outputs_of, run_command
from rwafolio.exceptions import ConfigError
from rwafolio.utils.validation import argparse_type, check_int, check_number

DEFAULT_SEED = 7

_nonneg_int = argparse_type(int, check_int, minimum=0)
_pos_int = argparse_type(int, check_int, minimum=1)
_pos_float = argparse_type(float, check_number, minimum=0.0, strict_minimum=True)
_nonneg_float = argparse_type(float, check_number, minimum=0.0)

#: Python parameter names in library errors -> the flag a CLI user typed.
_FLAGS = {"data_dirs": "--data-dir", "rng": "--seed", "n_scenarios": "--scenarios",
          "strategy_params": "--config [strategy]"}  # fmt: skip
_SAME = ("symbols start end policy vix cache_dir missing seed horizon every window nu lam0 eta "
         "threshold train test gap mode metric executor date source data_dir")  # fmt: skip
FLAG_NAMES = {**{n: "--" + n.replace("_", "-") for n in _SAME.split()}, **_FLAGS}


def flag_names(message: str) -> str:
    """``message`` with backquoted Python parameter names replaced by their flags."""
    return re.sub(
        r"`([a-z_0-9]+)`", lambda m: f"`{FLAG_NAMES.get(m.group(1), m.group(1))}`", message
    )


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds ``(default: X)`` to every option with a default the help text does not state."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or any(action.default is v for v in (None, False, argparse.SUPPRESS)):
            return text
        if isinstance(action.default, list) and not action.default:
            return text
        return super()._get_help_string(action) or ""


class _Symbols(argparse.Action):
    """``--symbols A,B C``: commas and spaces both separate symbols."""

    def __call__(
        self, parser: Any, namespace: argparse.Namespace, values: Any, option: Any = None
    ) -> None:
        items = [s for v in values for s in re.split(r"[,\s]+", str(v)) if s]
        if not items:
            raise argparse.ArgumentError(self, "expected at least one symbol")
        setattr(namespace, self.dest, items)


def _add_data_args(p: argparse.ArgumentParser, *, default_source: str = "synthetic") -> None:
    p.add_argument(
        "--source",
        choices=["synthetic", "files", "yfinance"],
        default=default_source,
        help="where prices come from",
    )
    p.add_argument(
        "--data-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="folder searched recursively for SYMBOL.csv/.parquet (repeatable; needed by "
        "--source files; default: none)",
    )
    p.add_argument(
        "--symbols",
        nargs="+",
        action=_Symbols,
        default=None,
        metavar="SYM",
        help="symbols, separated by commas or spaces (default: BTC-USD ETH-USD USDT-USD VNQ "
        "BIL GLD; synthetic: the generator's own)",
    )
    p.add_argument("--start", default=None, help="first date, YYYY-MM-DD (default: the data's)")
    p.add_argument("--end", default=None, help="last date, YYYY-MM-DD (default: the data's)")
    p.add_argument(
        "--policy",
        choices=["all_days", "exchange_days"],
        default=None,
        help="calendar policy (default: the config's [data].policy, else all_days)",
    )
    p.add_argument(
        "--vix",
        default=None,
        help="volatility index: '^VIX' (yfinance), a file path, 'realized:SYMBOL' or 'none' "
        "(default: synthetic's own index for --source synthetic, '^VIX' for yfinance, and for "
        "files a realized-volatility proxy, realized:VNQ in the default universe)",
    )
    p.add_argument(
        "--bar",
        choices=["1h", "1d"],
        default=None,
        help="bar of the panel (default: the config's [data].bar, else 1d; 1h reads hourly "
        "files SYMBOL.csv, finer ones resampled, coarser refused)",
    )
    p.add_argument(
        "--cache-dir", default=None, help="yfinance cache folder (default: the platform cache)"
    )
    p.add_argument(
        "--missing",
        choices=["raise", "ffill", "drop"],
        default=None,
        help="a missing data day (a session with no row in a file): raise, ffill (carry the "
        "price, not tradable that day) or drop the date for every asset (default: the "
        "config's [data].missing, else raise)",
    )
    p.add_argument(
        "--clean",
        choices=["report", "repair", "drop"],
        default="report",
        help="cleaning policy: report findings only; repair single bad prints (price carried, "
        "not tradable that day); drop every flagged row (dates then follow --missing). Severe "
        "findings are printed on stderr whatever the policy",
    )
    p.add_argument(
        "--seed",
        type=_nonneg_int,
        default=None,
        help=f"seed of the synthetic market and of the Monte Carlo draws (default: {DEFAULT_SEED}; "
        "walkforward: the grid file's, else 0)",
    )


def _add_strategy_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", default=None, help="TOML run config: [strategy], [costs], [data], [risk] "
        "(default: none; see examples/config.toml)"
    )  # fmt: skip
    p.add_argument("--lam0", type=_nonneg_float, default=None,
                   help="baseline risk aversion (default: the config's, else 2.0)")  # fmt: skip
    p.add_argument("--eta", type=_nonneg_float, default=None,
                   help="lam = lam0 * (1 + eta * VIX) (default: the config's, else 0.05)")  # fmt: skip
    p.add_argument("--window", type=_pos_int, default=None,
                   help="estimation window, periods (default: the config's, else 30)")  # fmt: skip
    p.add_argument("--threshold", type=_nonneg_float, default=None,
                   help="no-trade threshold, in weight (default: the config's, else 0.01)")  # fmt: skip


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
    _print_table(suite.stats)
    print(
        "(returns, volatility, drawdown and costs_paid are fractions: 0.70 = 70%; costs_paid is "
        "the share of wealth paid in fees; turnover_per_year sums |weight traded| per year)"
    )
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


def _weights_arg(text: str) -> dict[str, float]:
    out = {}
    for part in re.split(r"[,\s]+", text):
        if not part.strip():
            continue
        if "=" not in part:
            raise argparse.ArgumentTypeError(f"--weights wants SYMBOL=WEIGHT pairs, got {part!r}")
        k, v = part.split("=", 1)
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--weights: {v!r} is not a number") from None
    return out


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
    from rwafolio.pipeline import walkforward as wfp

    config = _config(args) if args.grid is None else None
    if args.grid is not None and args.config is not None:
        raise ConfigError("give `--grid` or `--config`, not both (a grid file has [strategy])")
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
    print(res.comparison.loc[["total_return", "sharpe", "max_drawdown", "costs_paid"]].to_string())
    if len(res.failures):
        where = "; see the report" if wfp.chose_parameters(wf) and args.out else ""
        print(f"{len(res.failures)} task(s) failed after a retry{where}")
    wfp.check_chosen(wf)  # no report when no fold chose parameters
    if args.out:
        print(f"report: {wfp.write_report(wf, args.out, panel)}")
    return 0


# ---------------------------------------------------------------------------- parser
def _risk_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--horizon", type=_pos_int, default=None,
                   help="VaR horizon in periods (default: the config's [risk], else 30)")  # fmt: skip
    p.add_argument("--every", type=_pos_int, default=None,
                   help="forecast every k-th decision date (default: the config's, else 5)")  # fmt: skip
    p.add_argument("--no-risk", action="store_true", help="skip the Monte Carlo forecasts")
    p.add_argument(
        "--signal-lag",
        type=_nonneg_int,
        default=0,
        help="decide on data through K periods before the trade date (1 removes the hours "
        "between the NYSE close and the VIX/crypto closes)",
    )
    p.add_argument(
        "--var-mean",
        choices=["estimate", "zero"],
        default=None,
        help="mean of the rolling VaR forecasts: zero (the usual risk-desk choice) or the "
        "strategy's own window estimate (see README) (default: the config's, else zero)",
    )
    p.add_argument(
        "--risk-target",
        choices=["auto", "pnl", "strategy", "book"],
        default="auto",
        help="what the risk forecasts simulate: auto (1-day top-down on the strategy's net P&L, "
        "10- and 30-day by the strategy re-deciding on every path), pnl, strategy (slow at 1 "
        "day) or the held book",
    )
    p.add_argument("--no-crowding", action="store_true", help="skip the crowding simulation")
    p.add_argument(
        "--save",
        default=None,
        metavar="RUN",
        help="also save the run for `rwafolio report` (.zip added when RUN has no suffix; "
        "default: not saved)",
    )


def _sub(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=text, description=text, formatter_class=_HelpFormatter)  # type: ignore[no-any-return]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rwafolio",
        description="Cost-aware dynamic-risk-aversion portfolios of crypto and tokenized RWAs.",
        formatter_class=_HelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = _sub(sub, "demo", "run the whole pipeline on the embedded synthetic market")
    p.add_argument("--out", default="out/demo.html", help="HTML report path")
    p.add_argument("--seed", type=_nonneg_int, default=DEFAULT_SEED,
                   help="seed of the synthetic market and the Monte Carlo draws")  # fmt: skip
    p.add_argument("--policy", choices=["all_days", "exchange_days"], default=None,
                   help="calendar policy (default: all_days)")  # fmt: skip
    p.add_argument("--start", default=None, help="first date (default: 2019-01-01)")
    p.add_argument("--end", default=None, help="last date (default: 2024-12-31)")
    p.add_argument("--no-walkforward", action="store_true", help="skip the small walk-forward")
    _add_strategy_args(p)
    _risk_opts(p)
    p.set_defaults(func=cmd_demo)

    p = _sub(sub, "data", "load data and print what was found")
    _add_data_args(p)
    p.set_defaults(func=cmd_data)

    p = _sub(sub, "fetch", "download symbols from yfinance into the cache")
    p.add_argument("--symbols", nargs="+", action=_Symbols, required=True, metavar="SYM",
                   help="symbols, separated by commas or spaces (required)")  # fmt: skip
    p.add_argument("--start", default=None, help="first date (default: the source's first)")
    p.add_argument("--end", default=None, help="last date (default: today)")
    p.add_argument("--cache-dir", default=None, help="cache folder (default: the platform cache)")
    p.set_defaults(func=cmd_fetch)

    p = _sub(sub, "backtest", "backtest the strategy and its benchmarks, write a report")
    _add_data_args(p)
    _add_strategy_args(p)
    p.add_argument("--out", default="out/backtest.html", help="HTML report path")
    p.add_argument("--json", default=None, metavar="PATH",
                   help="also write the summary as JSON (schema in the README; default: none)")  # fmt: skip
    _risk_opts(p)
    p.set_defaults(func=cmd_backtest)

    p = _sub(sub, "var", "Monte Carlo VaR/CVaR of a portfolio at the latest date")
    _add_data_args(p)
    p.add_argument("--weights", type=_weights_arg, default=None,
                   help="SYM=W,SYM=W (default: equal weights)")  # fmt: skip
    p.add_argument("--window", type=_pos_int, default=30, help="estimation window, periods")
    p.add_argument("--horizon", type=_pos_int, default=30, help="horizon, periods")
    p.add_argument("--scenarios", type=_pos_int, default=10_000, help="Monte Carlo scenarios")
    p.add_argument("--nu", type=_pos_float, default=5.0, help="Student-t degrees of freedom (> 2)")
    p.add_argument("--crowding", action="store_true",
                   help="also run the multi-agent crowding model")  # fmt: skip
    p.add_argument("--surface-scenarios", type=_pos_int, default=2000,
                   help="scenarios per point of the crowding surface")  # fmt: skip
    p.add_argument("--json", default=None,
                   help="with --crowding: write the answer as JSON (default: none)")  # fmt: skip
    p.add_argument("--aum", type=_pos_float, default=5e6,
                   help="with --crowding: capital of each agent, quote currency")  # fmt: skip
    p.add_argument("--fire-sale", choices=("off", "on"), default="off",
                   help="with --crowding: forced selling after a 10%% drawdown")  # fmt: skip
    p.add_argument("--daily-volume", type=_weights_arg, default=None,
                   help="with --crowding: SYM=USD,... daily volumes (a token's liquidity profile; "
                   "default: from the data)")  # fmt: skip
    p.set_defaults(func=cmd_var)

    p = _sub(sub, "report", "re-render the HTML report of a saved run")
    p.add_argument("run", help="saved run (from --save)")
    p.add_argument("--out", default=None,
                   help="HTML report path (default: beside the run, RUN with .html)")  # fmt: skip
    p.set_defaults(func=cmd_report)

    _add_study_commands(sub)
    from rwafolio.live.command import add_live_parser

    add_live_parser(lambda name, text: _sub(sub, name, text), _add_data_args)
    add_safety_flags(sub)
    parser.add_argument(
        "--debug", dest="debug_any", action="store_true", help="as the commands' --debug"
    )
    return parser


def _add_study_commands(sub: Any) -> None:
    """sensitivity, frequency and walkforward."""
    executor_help = "local (all cores), local:N, serial or dask://HOST:PORT (default: local)"
    p = _sub(sub, "sensitivity", "what moves the allocation: derivative ranking")
    _add_data_args(p)
    _add_strategy_args(p)
    p.add_argument("--date", default=None, help="decision date YYYY-MM-DD (default: all dates)")
    p.add_argument("--every", type=_pos_int, default=1,
                   help="every k-th decision date (without --date)")  # fmt: skip
    p.add_argument("--top", type=_pos_int, default=15, help="rows to print")
    p.add_argument("--out", default=None, help="HTML report path (default: no report)")
    p.set_defaults(func=cmd_sensitivity)

    p = _sub(sub, "frequency", "update-frequency study: schedules compared")
    _add_data_args(p)
    _add_strategy_args(p)
    p.add_argument("--executor", default=None, help=executor_help)
    p.add_argument("--out", default=None, help="HTML report path (default: no report)")
    p.set_defaults(func=cmd_frequency)

    p = _sub(sub, "walkforward", "walk-forward parameter selection, stitched out of sample")
    _add_data_args(p)
    _add_strategy_args(p)
    p.add_argument(
        "--grid",
        default=None,
        help="TOML grid file (see examples/walkforward.toml; default: the dynamic strategy "
        "over lam0 in {1, 2, 4} x eta in {0, 0.05}, with --config's other parameters)",
    )
    p.add_argument("--train", default=None,
                   help="training window, calendar time (default: the grid's, else 730D)")  # fmt: skip
    p.add_argument("--test", default=None,
                   help="test window, calendar time (default: the grid's, else 180D)")  # fmt: skip
    p.add_argument("--gap", default=None,
                   help="purge/embargo gap between train and test (default: the grid's, else 0D)")  # fmt: skip
    p.add_argument("--mode", choices=["rolling", "expanding"], default=None,
                   help="training windows (default: the grid's, else rolling)")  # fmt: skip
    p.add_argument("--metric", default=None,
                   help="sharpe | utility | calmar | sortino | cagr | total_return "
                   "(default: the grid's, else sharpe)")  # fmt: skip
    p.add_argument("--executor", default=None, help=executor_help)
    p.add_argument("--task-cache", default=None,
                   help="folder caching finished tasks, for resuming (default: "
                   "$RWAFOLIO_WALKFORWARD_CACHE, else none)")  # fmt: skip
    p.add_argument("--no-var", action="store_true", help="skip the VaR forecasts per fold")
    p.add_argument("--out", default="out/walkforward.html", help="HTML report path")
    p.set_defaults(func=cmd_walkforward)


def main(argv: Sequence[str] | None = None) -> int:
    if "NUMBA_CACHE_DIR" not in os.environ:
        # Numba's compiled kernels are cached on disk; default to the platform cache folder.
        from platformdirs import user_cache_dir

        os.environ["NUMBA_CACHE_DIR"] = str(Path(user_cache_dir("rwafolio")) / "numba")
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_command(args, message=flag_names)


if __name__ == "__main__":
    sys.exit(main())
