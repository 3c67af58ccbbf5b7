"""The ``rwafolio`` command line: demo, data, fetch, backtest, var, report, walkforward,
sensitivity, frequency.

Every command that loads data takes the same data options (``--source``, ``--data-dir`` (repeatable),
``--symbols``, ``--start``, ``--end``, ``--policy``, ``--vix``). Errors rwafolio raises on purpose
are printed as one line naming the parameter, with exit code 2; any other error is one line too
(:mod:`rwafolio.cli_safety`). Output paths are checked before any work (:mod:`rwafolio.outputs`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rwafolio.cli_safety import add_safety_flags, check_outputs_of, ensure_parent_of, run_command
from rwafolio.exceptions import ConfigError

DEFAULT_SYMBOLS = ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"]
DEFAULT_SEED = 7


def _nonneg_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {v}")
    return v


def _pos_int(text: str) -> int:
    v = _nonneg_int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {v}")
    return v


def _pos_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {v}")
    return v


def _add_data_args(p: argparse.ArgumentParser, *, default_source: str = "synthetic") -> None:
    p.add_argument(
        "--source",
        choices=["synthetic", "files", "yfinance"],
        default=default_source,
        help="where prices come from (default: %(default)s)",
    )
    p.add_argument(
        "--data-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="folder searched recursively for SYMBOL.csv/.parquet (repeatable)",
    )
    p.add_argument("--symbols", nargs="+", default=None, help="symbols (default: a mixed universe)")
    p.add_argument("--start", default=None, help="first date, YYYY-MM-DD")
    p.add_argument("--end", default=None, help="last date, YYYY-MM-DD")
    p.add_argument(
        "--policy",
        choices=["all_days", "exchange_days"],
        default=None,
        help="calendar policy (default all_days)",
    )
    p.add_argument(
        "--vix",
        default=None,
        help="volatility index: '^VIX' (yfinance), a file path, 'realized:SYMBOL' or 'none' "
        "(default: synthetic's own index for --source synthetic, '^VIX' for yfinance, none for files)",
    )
    p.add_argument(
        "--bar",
        choices=["1h", "1d"],
        default=None,
        help="bar of the panel (default 1d; 1h reads hourly files SYMBOL.csv, finer ones "
        "resampled, coarser refused)",
    )
    p.add_argument("--cache-dir", default=None, help="yfinance cache folder")
    p.add_argument(
        "--missing",
        choices=["raise", "ffill", "drop"],
        default=None,
        help="a missing data day (a session with no row in a file): raise (default), ffill "
        "(carry the price, not tradable that day) or drop the date for every asset",
    )
    p.add_argument(
        "--clean",
        choices=["report", "repair", "drop"],
        default="report",
        help="cleaning policy: report findings only (default); repair single bad prints (price "
        "carried, not tradable that day); drop every flagged row (dates then follow --missing). "
        "Severe findings are printed on stderr whatever the policy",
    )
    p.add_argument(
        "--seed",
        type=_nonneg_int,
        default=None,
        help="seed of the synthetic market and of the Monte Carlo draws (default 7; "
        "walkforward: the grid file's)",
    )


def _symbols(args: argparse.Namespace) -> list[str]:
    """The symbols a data command loads: ``--symbols``, else the source's defaults."""
    if args.symbols is not None:
        return list(args.symbols)
    if args.source == "synthetic":
        from rwafolio.loaders.synthetic import SYMBOLS

        return list(SYMBOLS)
    return list(DEFAULT_SYMBOLS)


def _load_panel(
    args: argparse.Namespace,
    costs: dict[str, float] | None = None,
    missing: str | None = None,
    cfg: Any = None,
) -> Any:
    from rwafolio.loaders import load_reported

    bar = getattr(args, "bar", None) or (cfg.data.get("bar") if cfg is not None else None)
    if bar == "1h":
        from rwafolio.loaders.intraday import load_intraday_args

        return load_intraday_args(args, costs, missing, cfg)

    policy = args.policy or "all_days"
    vix = args.vix
    if vix is None:
        vix = {"synthetic": "synthetic", "yfinance": "^VIX", "files": "none"}[args.source]
    symbols = _symbols(args)
    kwargs: dict[str, Any] = {
        "data_dirs": args.data_dir,
        "start": args.start,
        "end": args.end,
        "policy": policy,
        "vix": vix,
        "cache_dir": args.cache_dir,
        "costs": costs or None,
        "missing": getattr(args, "missing", None) or missing or "raise",
    }
    if args.source == "synthetic":
        kwargs["seed"] = DEFAULT_SEED if args.seed is None else args.seed
    elif cfg is not None and cfg.assets:
        kwargs["assets"] = cfg.asset_overrides()
    panel, lines = load_reported(args.source, symbols, clean=args.clean, **kwargs)
    for line in lines:
        print(f"rwafolio {args.command}: warning: {line}", file=sys.stderr)
    n_severe = sum(f.severe for f in panel.findings)
    if args.clean != "report" or n_severe:  # the default, with nothing severe, adds no line
        print(f"cleaning: {args.clean}; {len(panel.findings)} finding(s), {n_severe} severe")
    return panel


def _print_table(df: Any, floatfmt: str = "{:.4f}") -> None:
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(df.to_string(float_format=lambda x: floatfmt.format(x)))


# ---------------------------------------------------------------------------- commands
def cmd_data(args: argparse.Namespace) -> int:
    panel = _load_panel(args)
    print(f"source: {panel.source}   policy: {panel.policy}   vix: {panel.vix_source}")
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
        print(f"rwafolio fetch: warning: {message}", file=sys.stderr)
    return 0


def _run_suite(args: argparse.Namespace, *, out_default: str) -> int:
    """Load, backtest the strategy and its benchmarks, forecast, render; shared by demo/backtest."""
    from rwafolio.backtest import run, stats_table
    from rwafolio.config import RunConfig, build_strategy, load_config
    from rwafolio.strategies import benchmark_suite
    from rwafolio.universe import split_costs

    if args.seed is None:
        args.seed = DEFAULT_SEED
    outputs = [("--out", args.out or out_default, "report"), ("--save", args.save, "run"),
               ("--json", getattr(args, "json", None), "summary")]  # fmt: skip
    check_outputs_of(args, outputs)
    cfg = load_config(args.config) if getattr(args, "config", None) else RunConfig()
    if args.policy is None and "policy" in cfg.data:
        args.policy = cfg.data["policy"]
    costs, unused = split_costs(cfg.costs, _symbols(args))
    if unused:
        print(
            f"rwafolio {args.command}: warning: config [costs] for symbols not loaded, not used: "
            f"{unused}",
            file=sys.stderr,
        )
    panel = _load_panel(args, costs=costs, missing=cfg.data.get("missing"), cfg=cfg)
    print(
        f"data: {panel.source}{' (SYNTHETIC: not market history)' if panel.synthetic else ''}, "
        f"{panel.dates[0].date()}..{panel.dates[-1].date()}, {len(panel.symbols)} assets, "
        f"policy {panel.policy}, vix {panel.vix_source}"
    )
    strategy = build_strategy(cfg.strategy)
    suite = {"dynamic": strategy, **benchmark_suite(strategy)}
    lag = getattr(args, "signal_lag", 0)
    first = max(s.warmup for s in suite.values()) + lag
    results = {}
    for name, strat in suite.items():
        results[name] = run(strat, panel, name=name, first_decision=first, signal_lag=lag)
    main = results["dynamic"]
    _print_table(stats_table(results))
    print(
        "(returns, volatility, drawdown and costs_paid are fractions: 0.70 = 70%; costs_paid is "
        "the share of wealth paid in fees; turnover_per_year sums |weight traded| per year)"
    )
    ss = main.solver_stats()
    print(
        f"solver: {ss['by_solver']}, worst KKT residual {ss['worst_kkt']:.2e}, "
        f"failures {ss.get('failures', 0)}, fallbacks {ss['fallbacks']}"
    )
    reasons = main.decisions["fallback_reason"]
    reasons = reasons[reasons != ""].str.split(r" \(").str[0].value_counts()
    for reason, count in reasons.head(3).items():
        print(f"  {count} x {reason}")
    forecasts = scenario = crowding = evaluation = None
    if not getattr(args, "no_risk", False):
        from rwafolio.risk import rolling_forecasts
        from rwafolio.risk.evaluation import evaluate_risk

        target = getattr(args, "risk_target", "auto")
        forecasts = rolling_forecasts(
            main, horizon=args.horizon, every=args.every, rng=args.seed, mean=args.var_mean,
            target="pnl" if target == "auto" else target,  # type: ignore[arg-type]
        )  # fmt: skip
        evaluation = evaluate_risk(
            main, rng=args.seed, mean=args.var_mean, target=None if target == "auto" else target
        )
        print(
            f"risk forecasts against what followed ({evaluation.target}; non-overlapping windows):"
        )
        for line in evaluation.verdicts():
            print(f"  {line}")
        scenario, crowding = _latest_scenarios(main, args)
    from rwafolio.walkforward.entry import demo_walkforward

    walkforward = demo_walkforward(panel, seed=args.seed) if getattr(args, "wf", 0) else None
    check_outputs_of(args, outputs, panel=panel)
    out = ensure_parent_of(args.out or out_default, "--out")
    if getattr(args, "save", None):
        ensure_parent_of(args.save, "--save")
    from rwafolio.reports import render_html

    sections = None
    if evaluation is not None:
        from rwafolio.reports.risk_evaluation import risk_sections

        sections = risk_sections(evaluation)
    path = render_html(
        main,
        forecasts=forecasts,
        walkforward=walkforward,
        path=out,
        benchmarks={k: v for k, v in results.items() if k != "dynamic"},
        scenario=scenario,
        crowding=crowding,
        extra_sections=sections,
    )
    if getattr(args, "save", None):
        from rwafolio.reports import save_run

        saved = save_run(
            args.save,
            main,
            forecasts,
            walkforward,
            benchmarks={k: v for k, v in results.items() if k != "dynamic"},
            crowding=crowding,
            scenario=scenario,
            extra_sections=sections,
        )
        print(f"run saved: {saved}")
    print(f"report: {path}")
    if getattr(args, "json", None):
        _write_summary(args.json, main, strategy, results, evaluation)
    return 0


#: Scenarios of the report's crowding run (each path runs 10 allocating agents).
CROWDING_SCENARIOS = 2_000


def _write_summary(
    path: str, main: Any, strategy: Any, results: dict[str, Any], evaluation: Any = None
) -> None:
    """Write the ``--json`` summary (one object; schema in the README) atomically, with the risk
    evaluation's ``risk_tests`` when it ran."""
    import json

    from rwafolio.backtest.summary import summary_json
    from rwafolio.reports.render import write_atomic
    from rwafolio.risk.evaluation import risk_tests

    extra = {"risk_tests": risk_tests(evaluation)} if evaluation is not None else None
    doc = summary_json(
        main, strategy, {k: v for k, v in results.items() if k != "dynamic"}, extra=extra
    )
    target = ensure_parent_of(path, "--json")
    write_atomic(target, [json.dumps(doc, indent=2, allow_nan=False), "\n"])
    print(f"summary: {target}")


def _latest_scenarios(result: Any, args: argparse.Namespace) -> tuple[Any, Any]:
    """Monte Carlo at the latest estimate date: normal and Student-t, and the crowding run."""
    if len(result.estimate_dates) == 0:
        return None, None
    from rwafolio.reports import latest_scenarios
    from rwafolio.risk import simulate_crowding

    scenario = latest_scenarios(result, horizon=args.horizon, rng=args.seed)
    crowd = None
    if not getattr(args, "no_crowding", False):
        from rwafolio.risk.impact import calibrate

        date = result.estimate_dates[-1]
        w = result.weights.loc[date].to_numpy()
        panel = result.panel
        print(f"crowding: 10 agents x {CROWDING_SCENARIOS:,} scenarios at {date.date()} ...",
              flush=True)  # fmt: skip
        crowd = simulate_crowding(
            w,
            result.mu[-1],
            result.cov[-1],
            liquidity=calibrate(panel.universe, panel.liquidity(end=date)),
            costs=panel.universe.costs,
            horizon=args.horizon,
            agent_history=panel.returns().loc[:date].to_numpy(),
            n_scenarios=CROWDING_SCENARIOS,
            rng=args.seed,
        )
    return scenario, crowd


def cmd_demo(args: argparse.Namespace) -> int:
    args.wf = not args.no_walkforward
    args.source = "synthetic"
    args.data_dir = []
    args.symbols = None
    args.vix = None
    args.cache_dir = None
    args.config = None
    args.missing = None
    args.clean = "report"
    return _run_suite(args, out_default="out/demo.html")


def cmd_backtest(args: argparse.Namespace) -> int:
    return _run_suite(args, out_default="out/backtest.html")


def cmd_var(args: argparse.Namespace) -> int:
    import numpy as np

    from rwafolio.optimize import LedoitWolfEstimator
    from rwafolio.risk import forecast

    if args.seed is None:
        args.seed = DEFAULT_SEED
    if args.json is not None and (not args.crowding or Path(args.json).is_dir()):
        raise ConfigError(f"`--json` needs --crowding and a file path, got {args.json!r}")
    check_outputs_of(args, [("--json", args.json, "crowding")])
    panel = _load_panel(args)
    n = len(panel.symbols)
    if args.weights:
        unknown = sorted(set(args.weights) - set(panel.symbols))
        if unknown:
            raise ConfigError(f"`--weights` names symbols not loaded: {unknown}")
        weights = np.array([float(args.weights.get(s, 0.0)) for s in panel.symbols])
        if np.any(weights < 0) or weights.sum() > 1 + 1e-9:
            raise ConfigError(
                f"`--weights` must be >= 0 and sum to at most 1 (the rest is cash), got sum "
                f"{weights.sum():.4f}"
            )
    else:
        weights = np.full(n, 1.0 / n)
    available = len(panel.dates) - 1
    if args.window > available or args.window < 2:
        raise ConfigError(f"`--window` must be in [2, {available}] periods here, got {args.window}")
    if panel.synthetic:
        print("data: SYNTHETIC (the embedded generator, not market history)")
    window = panel.returns().to_numpy()[-args.window :]
    mu, cov = LedoitWolfEstimator().estimate(window)
    costs = panel.universe.costs
    print(f"weights: {dict(zip(panel.symbols, np.round(weights, 4).tolist(), strict=True))}")
    print(
        f"estimates: Ledoit-Wolf over the last {args.window} periods to {panel.dates[-1].date()}; "
        f"horizon {args.horizon} periods; {args.scenarios} scenarios; seed {args.seed}"
    )
    print("VaR and CVaR are horizon returns (negative = loss); DaR is the max drawdown quantile.")
    for dist in ("normal", "student_t"):
        f = forecast(
            weights,
            mu,
            cov,
            horizon=args.horizon,
            n_scenarios=args.scenarios,
            distribution=dist,
            nu=args.nu,
            costs=costs,
            rng=args.seed,
        )
        print(f"{dist:>10}: " + _risk_line(f))
    if args.crowding:
        _var_crowding(args, panel, weights, mu, cov)
    return 0


def _var_crowding(args: argparse.Namespace, panel: Any, weights: Any, mu: Any, cov: Any) -> None:
    """The crowding answer of ``var``: with/without agents, the share, the surface, the JSON."""
    import json

    import numpy as np

    from rwafolio.outputs import atomic_write
    from rwafolio.risk import CrowdingConfig, crowding_surface, simulate_crowding
    from rwafolio.risk.crowding import strategy_as_agent
    from rwafolio.risk.impact import LiquidityProfile, calibrate

    returns = panel.returns().to_numpy()
    profile = LiquidityProfile(daily_volume=args.daily_volume or {})
    liq = calibrate(panel.universe, panel.liquidity(), profile)
    cfg = CrowdingConfig(window=max(5, args.window), aum=args.aum, fire_sale=args.fire_sale)
    common = {"costs": panel.universe.costs, "horizon": args.horizon, "rng": args.seed,
              "agent_history": returns}  # fmt: skip
    c = simulate_crowding(weights, mu, cov, liquidity=liq, n_scenarios=args.scenarios,
                          config=cfg, **common)  # fmt: skip
    print("liquidity (daily volume in quote currency, daily vol, spread, source):")
    for sym, row in liq.table().iterrows():
        print(f"{sym:>12}  {row.daily_volume:>16,.0f}  {row.sigma_daily:7.2%}  "
              f"{row.spread:6.2%}  {row.source}")  # fmt: skip
    ref = simulate_crowding(weights, mu, cov, liquidity=liq, n_scenarios=args.scenarios,
                            config=strategy_as_agent(cfg), **common)  # fmt: skip
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
        f"{ref.turnover:.1%}), trade alignment (mean cosine, 1 = identical) {c.alignment:.2f}; share of the "
        f"VaR loss due to their price impact: {shares}\n{'':>10}  (share = "
        "(VaR_with - VaR_alone) / VaR_with, for this --weights book; a report's crowding table "
        "uses the strategy's latest holdings, so its share differs when the books do)"
    )
    surf = crowding_surface(
        weights, mu, cov, liquidity=liq, config=cfg, n_scenarios=args.surface_scenarios,
        progress=lambda line: print(f"  ... {line}", flush=True), **common,
    )  # fmt: skip
    print(f"VaR95 surface ({surf.thinnest}'s daily volume across, agents down; "
          f"{args.surface_scenarios} scenarios a point):")  # fmt: skip
    table = surf.points.pivot(index="agents", columns="daily_volume", values="var")
    print(f"{'agents':>8}" + "".join(f"{v:>14,.0f}" for v in table.columns))
    for k, row in table.iterrows():
        print(f"{k:>8}" + "".join(f"{x:>14.2%}" for x in row))
    if args.json is not None:
        text = json.dumps(surf.to_dict(), indent=2).encode()

        def write(fh: Any) -> None:
            fh.write(text)

        atomic_write(args.json, write)
        print(f"crowding answer written: {args.json}")


def _risk_line(f: Any) -> str:
    parts = [
        f"VaR{lv * 100:g} {v:+.2%} (±{se:.2%})  CVaR{lv * 100:g} {c:+.2%}  DaR{lv * 100:g} {d:+.2%}"
        for lv, v, se, c, d in zip(f.levels, f.var, f.var_se, f.cvar, f.dar, strict=True)
    ]
    return "   ".join(parts)


def cmd_report(args: argparse.Namespace) -> int:
    from rwafolio.reports.runfile import render_run_file

    check_outputs_of(args, [("--out", args.out, "report")])
    path = render_run_file(args.run, path=ensure_parent_of(args.out, "--out"))
    print(f"report: {path}")
    return 0


def _weights_arg(text: str) -> dict[str, float]:
    out = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise argparse.ArgumentTypeError(f"--weights wants SYMBOL=WEIGHT pairs, got {part!r}")
        k, v = part.split("=", 1)
        out[k.strip()] = float(v)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rwafolio",
        description="Cost-aware dynamic-risk-aversion portfolios of crypto and tokenized RWAs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def risk_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--horizon", type=_pos_int, default=30, help="VaR horizon in periods")
        p.add_argument(
            "--every", type=_pos_int, default=5, help="forecast every k-th decision date"
        )
        p.add_argument("--no-risk", action="store_true", help="skip the Monte Carlo forecasts")
        p.add_argument(
            "--signal-lag",
            type=_nonneg_int,
            default=0,
            help="decide on data through K periods before the trade date (1 removes the hours "
            "between the NYSE close and the VIX/crypto closes; default 0)",
        )
        p.add_argument(
            "--var-mean",
            choices=["estimate", "zero"],
            default="zero",
            help="mean of the rolling VaR forecasts: zero (default, the usual risk-desk choice) "
            "or the strategy's own window estimate (see README)",
        )
        p.add_argument(
            "--risk-target",
            choices=["auto", "pnl", "strategy", "book"],
            default="auto",
            help="what the risk forecasts simulate: auto (default: 1-day top-down on the "
            "strategy's net P&L, 10- and 30-day by the strategy re-deciding on every path), "
            "pnl, strategy (slow at 1 day) or the held book",
        )
        p.add_argument("--no-crowding", action="store_true", help="skip the crowding simulation")

    p = sub.add_parser("demo", help="run the whole pipeline on the embedded synthetic market")
    p.add_argument("--out", default="out/demo.html", help="HTML report path")
    p.add_argument("--seed", type=_nonneg_int, default=7)
    p.add_argument("--policy", choices=["all_days", "exchange_days"], default=None)
    p.add_argument("--start", default=None)
    p.add_argument("--end", default=None)
    p.add_argument("--save", default=None, help="also save the run (for `rwafolio report`)")
    p.add_argument("--no-walkforward", action="store_true", help="skip the small walk-forward")
    risk_opts(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("data", help="load data and print what was found")
    _add_data_args(p, default_source="files")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("fetch", help="download symbols from yfinance into the cache")
    p.add_argument("--symbols", nargs="+", required=True)
    p.add_argument("--start", default=None)
    p.add_argument("--end", default=None)
    p.add_argument("--cache-dir", default=None)
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("backtest", help="backtest the strategy and its benchmarks, write a report")
    _add_data_args(p)
    p.add_argument("--config", default=None, help="TOML file with strategy parameters and costs")
    p.add_argument("--out", default=None, help="HTML report path (default out/backtest.html)")
    p.add_argument("--save", default=None, help="also save the run (for `rwafolio report`)")
    p.add_argument(
        "--json", default=None, metavar="PATH", help="also write the summary as JSON (README)"
    )
    risk_opts(p)
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser("var", help="Monte Carlo VaR/CVaR of a portfolio at the latest date")
    _add_data_args(p)
    p.add_argument("--weights", type=_weights_arg, default=None, help="SYM=W,SYM=W (default equal)")
    p.add_argument("--window", type=_pos_int, default=30, help="estimation window, periods")
    p.add_argument("--horizon", type=_pos_int, default=30, help="horizon, periods")
    p.add_argument("--scenarios", type=_pos_int, default=10_000, help="Monte Carlo scenarios")
    p.add_argument("--nu", type=_pos_float, default=5.0, help="Student-t degrees of freedom (> 2)")
    p.add_argument(
        "--crowding", action="store_true", help="also run the multi-agent crowding model"
    )
    p.add_argument("--surface-scenarios", type=_pos_int, default=2000,
                   help="scenarios per point of the crowding surface")  # fmt: skip
    p.add_argument("--json", default=None, help="with --crowding: write the answer as JSON")
    p.add_argument("--aum", type=_pos_float, default=5e6,
                   help="with --crowding: capital of each agent, quote currency")  # fmt: skip
    p.add_argument("--fire-sale", choices=("off", "on"), default="off",
                   help="with --crowding: forced selling after a 10%% drawdown")  # fmt: skip
    p.add_argument("--daily-volume", type=_weights_arg, default=None,
                   help="with --crowding: SYM=USD,... daily volumes (a token's liquidity profile)")  # fmt: skip
    p.set_defaults(func=cmd_var)

    p = sub.add_parser("report", help="re-render the HTML report of a saved run")
    p.add_argument("run", help="saved run (from --save)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_report)

    _add_optional_commands(sub)
    from rwafolio.live.command import add_live_parser

    add_live_parser(sub, _add_data_args)
    add_safety_flags(sub)
    parser.add_argument(
        "--debug", dest="debug_any", action="store_true", help="as the commands' --debug"
    )
    return parser


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from rwafolio.backtest import run
    from rwafolio.sensitivity_path import sensitivity_report
    from rwafolio.strategies import DynamicLambdaStrategy

    check_outputs_of(args, [("--out", args.out, "report")])
    panel = _load_panel(args)
    if panel.synthetic:
        print("data: SYNTHETIC (the embedded generator, not market history)")
    result = run(DynamicLambdaStrategy(), panel, execute=args.out is not None)
    if args.date is not None:
        import pandas as pd

        try:
            when = pd.Timestamp(args.date)
        except (ValueError, TypeError):
            raise ConfigError(f"`--date` must be YYYY-MM-DD, got {args.date!r}") from None
        dates = result.estimate_dates
        if when not in dates:
            raise ConfigError(
                f"`--date` {args.date} is not a decision date of this run "
                f"({dates[0].date()}..{dates[-1].date()}; under exchange_days only sessions are)"
            )
    table, sections = sensitivity_report(panel, date=args.date, result=result, every=args.every)
    where = f"the decision of {args.date}" if args.date else "across the backtest (calm vs stress)"
    print(f"what moves the allocation: {where}")
    _print_table(table.head(args.top))
    if args.out:
        path = _render_with_sections(result, sections, args)
        print(f"report: {path}")
    return 0


def cmd_frequency(args: argparse.Namespace) -> int:
    from rwafolio.backtest import run
    from rwafolio.frequency import frequency_report
    from rwafolio.strategies import DynamicLambdaStrategy

    if args.seed is None:
        args.seed = DEFAULT_SEED
    check_outputs_of(args, [("--out", args.out, "report")])
    panel = _load_panel(args)
    study, sections = frequency_report(panel, executor=args.executor, rng=args.seed)
    _print_table(study.table.drop(columns="seconds"))
    if args.out:
        result = run(DynamicLambdaStrategy(), panel)
        path = _render_with_sections(result, sections, args)
        print(f"report: {path}")
    return 0


def cmd_walkforward(args: argparse.Namespace) -> int:
    from rwafolio.walkforward.entry import walkforward_from_args

    check_outputs_of(args, [("--out", args.out, "report")])
    panel = _load_panel(args)
    check_outputs_of(args, [("--out", args.out, "report")], panel=panel)
    ensure_parent_of(args.out, "--out")
    walkforward_from_args(
        source=panel,
        grid=args.grid,
        out=args.out,
        train=args.train,
        test=args.test,
        mode=args.mode,
        gap=args.gap,
        metric=args.metric,
        executor=args.executor,
        seed=args.seed,
        cache_dir=args.task_cache,
        var=not args.no_var,
    )
    return 0


def _render_with_sections(result: Any, sections: Any, args: argparse.Namespace) -> Path:
    from rwafolio.reports import render_html

    check_outputs_of(args, [("--out", args.out, "report")], panel=result.panel)
    out = ensure_parent_of(args.out, "--out")
    return render_html(result, path=out, extra_sections=sections)


def _add_optional_commands(sub: Any) -> None:
    """walkforward, sensitivity and frequency."""
    p = sub.add_parser("sensitivity", help="what moves the allocation: derivative ranking")
    _add_data_args(p)
    p.add_argument("--date", default=None, help="decision date YYYY-MM-DD (default: all dates)")
    p.add_argument(
        "--every", type=_pos_int, default=1, help="every k-th decision date (without --date)"
    )
    p.add_argument("--top", type=_pos_int, default=15, help="rows to print")
    p.add_argument("--out", default=None, help="HTML report path")
    p.set_defaults(func=cmd_sensitivity)

    p = sub.add_parser("frequency", help="update-frequency study: schedules compared")
    _add_data_args(p)
    p.add_argument(
        "--executor", default=None, help="local (default), local:N, serial or dask://HOST:PORT"
    )
    p.add_argument("--out", default=None, help="HTML report path")
    p.set_defaults(func=cmd_frequency)

    p = sub.add_parser(
        "walkforward", help="walk-forward parameter selection, stitched out of sample"
    )
    _add_data_args(p)
    p.add_argument("--grid", required=True, help="TOML grid file (see examples/walkforward.toml)")
    p.add_argument("--train", default=None, help="training window, calendar time (e.g. 730D)")
    p.add_argument("--test", default=None, help="test window, calendar time (e.g. 180D)")
    p.add_argument("--gap", default=None, help="purge/embargo gap between train and test")
    p.add_argument("--mode", choices=["rolling", "expanding"], default=None)
    p.add_argument("--metric", default=None, help="sharpe | utility | calmar | sortino | cagr")
    p.add_argument(
        "--executor", default=None, help="local (default), local:N, serial or dask://HOST:PORT"
    )
    p.add_argument("--task-cache", default=None, help="folder caching finished tasks (resume)")
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
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
