"""The ``rwafolio`` argument parser: every subcommand, its flags, defaults and help text.

:func:`build_parser` receives the command functions by subcommand name (from :mod:`rwafolio.cli`,
which runs them), so this module never imports the commands it parses for.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rwafolio.cli_safety import add_safety_flags
from rwafolio.utils.validation import argparse_file as _file
from rwafolio.utils.validation import argparse_path as _path
from rwafolio.utils.validation import argparse_type, check_int, check_number

#: A command: parsed arguments in, exit code out.
Command = Callable[[argparse.Namespace], int]

DEFAULT_SEED = 7

_nonneg_int = argparse_type(int, check_int, minimum=0)
_pos_int = argparse_type(int, check_int, minimum=1)
_pos_float = argparse_type(float, check_number, minimum=0.0, strict_minimum=True)
_nonneg_float = argparse_type(float, check_number, minimum=0.0)


def _montecarlo(kind: Callable[[str], Any], field: str) -> Callable[[str], Any]:
    """An argparse type checked by the Monte Carlo settings' own check of ``field``
    (:func:`rwafolio.risk.montecarlo.check_setting`), imported when such a flag is parsed: the
    risk package is heavy and ``--help`` must stay quick."""

    def check(value: Any, name: str) -> Any:
        from rwafolio.risk.montecarlo import check_setting

        return check_setting(value, name, field=field)

    return argparse_type(kind, check)


_horizon = _montecarlo(int, "horizon")
_scenarios = _montecarlo(int, "n_scenarios")
_nu = _montecarlo(float, "nu")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds ``(default: X)`` to every option with a default the help text does not state."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or any(action.default is v for v in (None, False, argparse.SUPPRESS)):
            return text
        if isinstance(action.default, list) and not action.default:
            return text
        return super()._get_help_string(action) or ""


def _twice(items: Sequence[str]) -> str | None:
    """The first item given more than once, ignoring case (files are found case-insensitively,
    so ``btc-usd`` and ``BTC-USD`` are one file), quoted for a message; else None."""
    seen: dict[str, str] = {}
    for item in items:
        if item.upper() in seen:
            first = seen[item.upper()]
            return repr(item) if first == item else f"{first!r} (as {first!r} and {item!r})"
        seen[item.upper()] = item
    return None


class _Symbols(argparse.Action):
    """``--symbols A,B C``: commas and spaces both separate symbols; a symbol given twice is
    refused."""

    def __call__(
        self, parser: Any, namespace: argparse.Namespace, values: Any, option: Any = None
    ) -> None:
        items = [s for v in values for s in re.split(r"[,\s]+", str(v)) if s]
        if not items:
            raise argparse.ArgumentError(self, "expected at least one symbol")
        twice = _twice(items)
        if twice is not None:
            raise argparse.ArgumentError(self, f"symbol {twice} is given twice")
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
        type=_path,
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
        type=_path,
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
        "--cache-dir",
        type=_path,
        default=None,
        help="yfinance cache folder (default: the platform cache)",
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
        "--config", type=_path, default=None, help="TOML run config: [strategy], [costs], [data], [risk] "
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


def _weights_arg(text: str) -> dict[str, float]:
    """``SYM=X,SYM=X`` (commas or spaces): finite numbers, each symbol once (argparse names
    the flag, ``--weights`` or ``--daily-volume``, before the message)."""
    out: dict[str, float] = {}
    for part in re.split(r"[,\s]+", text):
        if not part.strip():
            continue
        if "=" not in part:
            raise argparse.ArgumentTypeError(f"wants SYMBOL=NUMBER pairs, got {part!r}")
        k, v = (x.strip() for x in part.split("=", 1))
        try:
            number = float(v)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{v!r} is not a number") from None
        if not math.isfinite(number):
            raise argparse.ArgumentTypeError(f"{k}={v}: expected a finite number")
        if k in out:
            raise argparse.ArgumentTypeError(f"symbol {k!r} is given twice")
        out[k] = number
    return out


def _risk_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--horizon", type=_horizon, default=None,
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
        type=_file,
        default=None,
        metavar="RUN",
        help="also save the run for `rwafolio report` (.zip added when RUN has no suffix; "
        "default: not saved)",
    )


def _sub(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=text, description=text, formatter_class=_HelpFormatter)  # type: ignore[no-any-return]


def build_parser(commands: Mapping[str, Command]) -> argparse.ArgumentParser:
    """The ``rwafolio`` parser; ``commands`` maps each subcommand name to its function (``func``)."""
    parser = argparse.ArgumentParser(
        prog="rwafolio",
        description="Cost-aware dynamic-risk-aversion portfolios of crypto and tokenized RWAs.",
        formatter_class=_HelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = _sub(sub, "demo", "run the whole pipeline on the embedded synthetic market")
    p.add_argument("--out", type=_file, default="out/demo.html", help="HTML report path")
    p.add_argument("--seed", type=_nonneg_int, default=DEFAULT_SEED,
                   help="seed of the synthetic market and the Monte Carlo draws")  # fmt: skip
    p.add_argument("--policy", choices=["all_days", "exchange_days"], default=None,
                   help="calendar policy (default: all_days)")  # fmt: skip
    p.add_argument("--start", default=None, help="first date (default: 2019-01-01)")
    p.add_argument("--end", default=None, help="last date (default: 2024-12-31)")
    p.add_argument("--no-walkforward", action="store_true", help="skip the small walk-forward")
    _add_strategy_args(p)
    _risk_opts(p)
    p.set_defaults(func=commands["demo"])

    p = _sub(sub, "data", "load data and print what was found")
    _add_data_args(p)
    p.set_defaults(func=commands["data"])

    p = _sub(sub, "fetch", "download symbols from yfinance into the cache")
    p.add_argument("--symbols", nargs="+", action=_Symbols, required=True, metavar="SYM",
                   help="symbols, separated by commas or spaces (required)")  # fmt: skip
    p.add_argument("--start", default=None, help="first date (default: the source's first)")
    p.add_argument("--end", default=None, help="last date (default: today)")
    p.add_argument("--cache-dir", type=_path, default=None,
                   help="cache folder (default: the platform cache)")  # fmt: skip
    p.set_defaults(func=commands["fetch"])

    p = _sub(sub, "backtest", "backtest the strategy and its benchmarks, write a report")
    _add_data_args(p)
    _add_strategy_args(p)
    p.add_argument("--out", type=_file, default="out/backtest.html", help="HTML report path")
    p.add_argument("--json", type=_file, default=None, metavar="PATH",
                   help="also write the summary as JSON (schema in the README; default: none)")  # fmt: skip
    _risk_opts(p)
    p.set_defaults(func=commands["backtest"])

    p = _sub(sub, "var", "Monte Carlo VaR/CVaR of a portfolio at the latest date")
    _add_data_args(p)
    p.add_argument("--weights", type=_weights_arg, default=None,
                   help="SYM=W,SYM=W (default: equal weights)")  # fmt: skip
    p.add_argument("--window", type=_pos_int, default=30, help="estimation window, periods")
    p.add_argument("--horizon", type=_horizon, default=30, help="horizon, periods")
    p.add_argument("--scenarios", type=_scenarios, default=10_000, help="Monte Carlo scenarios")
    p.add_argument("--nu", type=_nu, default=5.0, help="Student-t degrees of freedom (> 2)")
    p.add_argument("--crowding", action="store_true",
                   help="also run the multi-agent crowding model")  # fmt: skip
    p.add_argument("--surface-scenarios", type=_scenarios, default=2000,
                   help="scenarios per point of the crowding surface")  # fmt: skip
    p.add_argument("--json", type=_file, default=None,
                   help="with --crowding: write the answer as JSON (default: none)")  # fmt: skip
    p.add_argument("--aum", type=_pos_float, default=5e6,
                   help="with --crowding: capital of each agent, quote currency")  # fmt: skip
    p.add_argument("--fire-sale", choices=("off", "on"), default="off",
                   help="with --crowding: forced selling after a 10%% drawdown")  # fmt: skip
    p.add_argument("--daily-volume", type=_weights_arg, default=None,
                   help="with --crowding: SYM=USD,... daily volumes (a token's liquidity profile; "
                   "default: from the data)")  # fmt: skip
    p.set_defaults(func=commands["var"])

    p = _sub(sub, "report", "re-render the HTML report of a saved run")
    p.add_argument("run", type=_path, help="saved run (from --save)")
    p.add_argument("--out", type=_file, default=None,
                   help="HTML report path (default: beside the run, RUN with .html)")  # fmt: skip
    p.set_defaults(func=commands["report"])

    p = _sub(sub, "cache", "list the compiled-kernel caches of every rwafolio version")
    p.add_argument("--prune", action="store_true",
                   help="delete the folders of other versions (this version's is kept)")  # fmt: skip
    p.set_defaults(func=commands["cache"])

    _add_study_commands(sub, commands)
    from rwafolio.live.command import add_live_parser

    add_live_parser(lambda name, text: _sub(sub, name, text), _add_data_args)
    add_safety_flags(sub)
    parser.add_argument(
        "--debug", dest="debug_any", action="store_true", help="as the commands' --debug"
    )
    return parser


def _add_study_commands(sub: Any, commands: Mapping[str, Command]) -> None:
    """sensitivity, frequency and walkforward."""
    executor_help = "local (all cores), local:N, serial or dask://HOST:PORT (default: local)"
    p = _sub(sub, "sensitivity", "what moves the allocation: derivative ranking")
    _add_data_args(p)
    _add_strategy_args(p)
    p.add_argument("--date", default=None, help="decision date YYYY-MM-DD (default: all dates)")
    p.add_argument("--every", type=_pos_int, default=1,
                   help="every k-th decision date (without --date)")  # fmt: skip
    p.add_argument("--top", type=_pos_int, default=15, help="rows to print")
    p.add_argument("--out", type=_file, default=None, help="HTML report path (default: no report)")
    p.set_defaults(func=commands["sensitivity"])

    p = _sub(sub, "frequency", "update-frequency study: schedules compared")
    _add_data_args(p)
    _add_strategy_args(p)
    p.add_argument("--executor", default=None, help=executor_help)
    p.add_argument("--out", type=_file, default=None, help="HTML report path (default: no report)")
    p.set_defaults(func=commands["frequency"])

    p = _sub(sub, "walkforward", "walk-forward parameter selection, stitched out of sample")
    _add_data_args(p)
    _add_strategy_args(p)
    p.add_argument(
        "--grid",
        type=_path,
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
    p.add_argument("--task-cache", type=_path, default=None,
                   help="folder caching finished tasks, for resuming (default: "
                   "$RWAFOLIO_WALKFORWARD_CACHE, else none)")  # fmt: skip
    p.add_argument("--no-var", action="store_true", help="skip the VaR forecasts per fold")
    p.add_argument("--out", type=_file, default="out/walkforward.html", help="HTML report path")
    p.set_defaults(func=commands["walkforward"])
