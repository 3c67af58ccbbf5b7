"""``rwafolio live``: process every bar newer than the state, one orders line per bar.

Argument parsing and printing only; the work is :class:`rwafolio.live.runner.LiveRun`.
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from pathlib import Path
from typing import Any

import pandas as pd

from rwafolio.exceptions import ConfigError
from rwafolio.utils.validation import (
    argparse_file,
    argparse_path,
    argparse_type,
    check_number,
    parse_time,
)

__all__ = ["add_live_parser", "cmd_live"]

#: ``--poll`` and ``--portfolio-value``: finite and > 0 (``inf`` seconds never polled again, an
#: ``inf`` book sized every order as ``null``).
_positive = argparse_type(float, check_number, minimum=0.0, strict_minimum=True)


def add_live_parser(add_parser: Any, add_data_args: Any) -> None:
    """Register ``live`` through the CLI's ``add_parser(name, help)`` (``add_data_args`` adds the
    shared data options)."""
    p = add_parser("live", "rebalance bar by bar, with a restartable state and orders journal")
    add_data_args(p, default_source="files")
    p.add_argument(
        "--state",
        type=argparse_path,
        required=True,
        help="state folder (created; state.json inside)",
    )
    p.add_argument(
        "--orders",
        type=argparse_file,
        required=True,
        help="orders journal: one JSON line per bar (appended)",
    )
    p.add_argument(
        "--until",
        default=None,
        help="last bar to process (date or timestamp; with an offset, that instant in UTC; "
        "default: the data's last)",
    )
    p.add_argument(
        "--poll",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="keep polling the source every SECONDS for new bars (stop with Ctrl-C; default: "
        "no polling, stop after the last bar)",
    )
    p.add_argument(
        "--config",
        type=argparse_path,
        default=None,
        help="TOML file with strategy parameters and costs (default: none)",
    )
    p.add_argument("--paper", action="store_true", help="paper book: fill orders at the next bar")
    p.add_argument(
        "--portfolio-value",
        type=_positive,
        default=None,
        metavar="X",
        help="the book's value at the first bar (currency): order sizes in units and notional "
        "(default: none, weights only)",
    )
    p.add_argument(
        "--force", action="store_true", help="start a new journal over an existing --orders file"
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="print the summary only (with a progress bar on a terminal)",
    )
    p.set_defaults(func=cmd_live)


def _until(text: str | None) -> pd.Timestamp | None:
    """``--until`` as naive UTC, the bars' clock (a time with an offset is that instant); an
    empty or ``NaT`` text is refused (it would read as no limit)."""
    if text is None:
        return None
    until = parse_time(text)
    if until is None:
        raise ConfigError(f"`--until` must be a date or timestamp, got {text!r}")
    return until.tz_convert("UTC").tz_localize(None) if until.tz is not None else until


def _check_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    state, orders = Path(args.state), Path(args.orders)
    inputs = [Path(d) for d in args.data_dir] + ([Path(args.config)] if args.config else [])
    if args.vix and Path(args.vix).exists():
        inputs.append(Path(args.vix))
    for p in inputs:
        if p.exists() and orders.exists() and p.resolve() == orders.resolve():
            raise ConfigError(f"`--orders` {str(orders)!r} is one of the command's inputs")
        if (
            p.is_dir()
            and orders.resolve().is_relative_to(p.resolve())
            and orders.suffix in (".csv", ".parquet", ".txt")
        ):
            raise ConfigError(f"`--orders` {str(orders)!r} is a data-file name inside --data-dir")
    if orders.resolve().parent == state.resolve():
        raise ConfigError("`--orders` must not be inside the `--state` folder")
    _check_outputs(args, state, orders)
    return state, orders


def _check_outputs(args: argparse.Namespace, state: Path, orders: Path) -> None:
    """The checks every command's outputs pass (:func:`rwafolio.outputs.check_outputs`): the
    journal, even through a link of another name, is never an input nor a data file of a data
    folder, and the state folder is not in a data folder. The journal's ownership is the state's
    business (:class:`~rwafolio.live.runner.LiveRun`), hence ``force``."""
    from rwafolio.outputs import Output, OutputError, check_outputs

    folders = [*args.data_dir, *([args.cache_dir] if args.cache_dir else [])]
    inputs = [p for p in (args.config, args.vix) if p]
    check_outputs(
        [Output("--orders", orders, "journal")], inputs=inputs, data_dirs=folders, force=True
    )
    real = Path(os.path.realpath(state))
    for folder in folders:
        if real.is_relative_to(os.path.realpath(folder)):
            raise OutputError(
                f"`--state` {str(state)!r} is inside the data folder {str(folder)!r} "
                "(`--data-dir`, `--cache-dir`); keep the state elsewhere"
            )


def _config(args: argparse.Namespace) -> Any:
    """The run's configuration, read once (a ``--config`` pipe can be read only once)."""
    from rwafolio.config import RunConfig, load_config

    return load_config(args.config) if args.config else RunConfig()


def _make(panel: Any, cfg: Any) -> Any:
    from rwafolio.live.rebalancer import LiveRebalancer
    from rwafolio.optimize.costs import CostModel

    return lambda: LiveRebalancer(
        cfg.build_strategy(),
        panel.symbols,
        panel.universe.classes,
        CostModel.from_universe(panel.universe),
        panel.periods_per_year,
        panel.vix is not None,
    )


def _load(args: argparse.Namespace, cfg: Any) -> Any:
    from rwafolio.pipeline.data import DataOptions, load_panel

    costs = {k: v for k, v in cfg.costs.items() if args.symbols is None or k in args.symbols}
    options = DataOptions.from_args(args).with_config(cfg.data)
    return load_panel(options, costs=costs, config=cfg)[0]


def cmd_live(args: argparse.Namespace) -> int:
    from rwafolio.live.runner import LiveRun

    state_dir, orders = _check_paths(args)
    until = _until(args.until)
    cfg = _config(args)
    panel = _load(args, cfg)
    step = None
    if panel.policy == "all_days":
        step = pd.Timedelta(hours=1) if panel.bar == "1h" else pd.Timedelta(days=1)
    run = LiveRun(
        _make(panel, cfg), state_dir, orders, step, args.portfolio_value, args.paper, args.force
    )
    if run.cut_line:
        print("note: cut the journal line of a bar the state had not recorded (it is redone)")
    if run.reb.path != "compiled":
        print(f"note: each bar runs the strategy in Python: {run.reb.path_reason}")
    stopping = {"flag": False}

    def on_sigint(signum: int, frame: Any) -> None:
        if stopping["flag"]:
            raise KeyboardInterrupt
        stopping["flag"] = True
        print("stopping after the current bar (Ctrl-C again to abort now)")

    previous = signal.signal(signal.SIGINT, on_sigint) if args.poll else None
    bar = _progress(args.quiet)
    try:
        total = 0
        while True:
            summary = run.run_bars(
                _closed_bars(panel, args.source),
                until=until,
                stop=lambda: stopping["flag"],
                on_bar=(lambda line: bar.update(1))
                if bar is not None
                else (None if args.quiet else _print_line),
            )
            total += summary.processed
            if args.poll is None or stopping["flag"]:
                break
            if until is not None and run.reb.time is not None and run.reb.time >= until:
                break
            _sleep(args.poll, stopping)
            if stopping["flag"]:
                break
            panel = _load(args, cfg)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if bar is not None:
            bar.close()
    last = run.reb.time
    print(
        f"live: {total} new bar(s) processed; state at {last if last is not None else 'no bar'}; "
        f"orders: {orders}"
    )
    return 0


def _progress(quiet: bool) -> Any:
    """With --quiet on a terminal (not in CI), a progress bar counts the bars instead."""
    import os
    import sys

    if not quiet or not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    from tqdm import tqdm

    return tqdm(desc="live", unit="bar", leave=False)


def _closed_bars(panel: Any, source: str) -> Any:
    """The panel's bars; from yfinance only those that have ended (Yahoo's last daily row of a
    24/7 market is the day still trading, whose close would change at the next poll)."""
    from rwafolio.live.runner import panel_bars

    if source != "yfinance":
        return panel_bars(panel)
    length = pd.Timedelta(hours=1) if panel.bar == "1h" else pd.Timedelta(days=1)
    now = _now()
    return (b for b in panel_bars(panel) if pd.Timestamp(b.time) + length <= now)


def _now() -> pd.Timestamp:
    """The current time, naive UTC (the panels' convention)."""
    return pd.Timestamp.now(tz="UTC").tz_localize(None)


def _sleep(seconds: float, stopping: dict[str, bool]) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stopping["flag"]:
        time.sleep(min(0.2, end - time.monotonic()) if end > time.monotonic() else 0)


def _print_line(line: dict[str, Any]) -> None:
    trades = ", ".join(f"{s} {v:+.4f}" for s, v in line["trades"].items()) or "-"
    lam = "-" if line["lam"] is None else f"{line['lam']:.3f}"
    print(f"{line['time']}  {line['status']:<9} lam {lam:>6}  fees {line['fees']:.2e}  {trades}")
