"""The live loop: restore the state, skip what it has processed, process every newer bar.

:func:`run_bars` is what ``rwafolio live`` calls once per poll. Per bar it (1) steps the
rebalancer, (2) appends the bar's line to the orders journal, (3) replaces the state atomically.
Errors in the data or the state are raised before anything is written for the bar concerned, so
the state on disk is always the last fully processed bar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.live.bar import Bar
from rwafolio.live.journal import append_line, decision_line, reconcile
from rwafolio.live.paper import PaperBook
from rwafolio.live.rebalancer import LiveRebalancer
from rwafolio.live.state import (
    StateError,
    bar_fingerprint,
    load_state,
    remove_stale_temporaries,
    restore,
    save_state,
    snapshot,
)
from rwafolio.outputs import ensure_parent

__all__ = ["LiveRun", "RunSummary", "panel_bars", "run_bars"]


@dataclass(frozen=True)
class RunSummary:
    """What one call of :func:`run_bars` did.

    Attributes
    ----------
    processed : int
        New bars processed.
    skipped : int
        Bars already in the state (checked against its fingerprint).
    last_time : Timestamp or None
    cut_line : bool
        Whether a journal line of an unfinished bar was cut off at start.
    """

    processed: int
    skipped: int
    last_time: pd.Timestamp | None
    cut_line: bool


def panel_bars(panel: Any) -> Iterator[Bar]:
    """A panel's rows as bars: every price (those of closed markets carried, listed in
    ``closed``) and the index level."""
    prices = panel.prices.to_numpy(dtype=float)
    tradable = panel.tradable.to_numpy(dtype=bool)
    vix = None if panel.vix is None else panel.vix.to_numpy(dtype=float)
    symbols = list(panel.symbols)
    for t, time in enumerate(panel.dates):
        row = {s: float(prices[t, j]) for j, s in enumerate(symbols)}
        closed = tuple(s for j, s in enumerate(symbols) if not tradable[t, j])
        yield Bar(time, row, None if vix is None else float(vix[t]), closed)


class LiveRun:
    """A rebalancer bound to a state folder and an orders journal.

    Parameters
    ----------
    make : callable () -> LiveRebalancer
        Builds a fresh rebalancer with this run's parameters (the state is loaded into it).
    state_dir, orders : path
    step : Timedelta or None
        The bar interval when every bar follows the previous one by exactly that much (24/7
        calendars); a larger distance is a gap and is refused. None: no check (exchange days).
    portfolio_value : float or None
        Currency value of the book at the first bar; order sizes in units and notional.
    paper : bool
        Keep a paper book filled at the next bar.
    force : bool
        Start a new journal over an existing orders file when there is no state yet.
    """

    def __init__(
        self,
        make: Callable[[], LiveRebalancer],
        state_dir: Path,
        orders: Path,
        step: pd.Timedelta | None = None,
        portfolio_value: float | None = None,
        paper: bool = False,
        force: bool = False,
    ) -> None:
        self.state_dir, self.orders = Path(state_dir), Path(orders)
        try:
            if self.state_dir.exists() and not self.state_dir.is_dir():
                raise ConfigError(f"`--state` {str(self.state_dir)!r} must be a folder")
            self.state_dir.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ConfigError(
                f"`--state` {str(self.state_dir)!r}: a parent in the path is not a folder"
            ) from None
        except OSError as err:
            raise ConfigError(
                f"`--state` {str(self.state_dir)!r} cannot be created: {err.strerror or err}"
            ) from None
        ensure_parent(self.orders, "`--orders`")
        if self.orders.exists() and not self.orders.is_file():
            raise ConfigError(f"`--orders` {str(self.orders)!r} must be a regular file")
        self.step = step
        self.portfolio_value = portfolio_value
        remove_stale_temporaries(self.state_dir)
        state = load_state(self.state_dir)
        self.reb = make()
        self.fingerprint, self.orders_bytes = "", 0
        self.orders_tail: str | None = None
        self.paper = (
            PaperBook(self.reb.symbols, self.reb.cost_model.rates, portfolio_value or 1.0)
            if paper
            else None
        )
        self.cut_line = False
        if state is None:
            if self.orders.exists() and self.orders.stat().st_size > 0 and not force:
                raise ConfigError(
                    f"`--orders` {str(self.orders)!r} exists but the state folder is new: refusing "
                    "to mix journals (use another path, or --force to start it afresh)"
                )
            if self.orders.exists():
                self.orders.write_bytes(b"")
            return
        self._restore(state, paper)

    def _restore(self, state: dict[str, Any], paper: bool) -> None:
        restore(self.reb, state)
        if state.get("portfolio_value") != self.portfolio_value:
            raise StateError(
                f"the state was written with --portfolio-value {state.get('portfolio_value')}, "
                f"this run has {self.portfolio_value}"
            )
        if (state.get("paper") is not None) != paper:
            raise StateError(
                "the state was written with%s --paper" % ("" if state.get("paper") else "out")
            )
        self.fingerprint = state["fingerprint"]
        self.orders_bytes, self.orders_tail = int(state["orders_bytes"]), state["orders_tail"]
        if self.paper is not None:
            self.paper.load(state["paper"])
        self.cut_line = reconcile(
            self.orders, self.orders_bytes, self.orders_tail, self.reb.row + 1
        )

    def run_bars(
        self,
        bars: Iterable[Bar],
        until: pd.Timestamp | None = None,
        stop: Callable[[], bool] = lambda: False,
        on_bar: Callable[[dict[str, Any]], None] | None = None,
    ) -> RunSummary:
        """Process every bar of ``bars`` newer than the state (see the module docs)."""
        reb, symbols = self.reb, self.reb.symbols
        seen, chain, processed, last = 0, "", 0, reb.time
        verified = reb.time is None
        for bar in bars:
            time = pd.Timestamp(bar.time)
            if reb.time is not None and time <= reb.time:
                chain = bar_fingerprint(chain, bar, symbols)
                seen += 1
                if time == reb.time:
                    self._check_history(seen, chain)
                    verified = True
                continue
            if not verified:
                self._check_history(seen, chain)
                verified = True
            if until is not None and time > until:
                break
            if stop():
                break
            if self.step is not None and reb.time is not None and time - reb.time != self.step:
                raise DataError(
                    f"gap in the data: bar {time} follows {reb.time} (bars are every {self.step}); "
                    "the state was left unchanged"
                )
            self._process(bar, on_bar)
            seen, chain = seen + 1, self.fingerprint
            processed += 1
            last = reb.time
        if reb.time is not None and seen < reb.row + 1:
            raise StateError(
                f"the data end before the state's last bar {reb.time} ({seen} bars up to it, the "
                f"state processed {reb.row + 1}): they contradict the state, which was left unchanged"
            )
        if not verified:  # no bar at the state's time and none after it
            self._check_history(seen, chain)
        return RunSummary(processed, seen - processed, last, self.cut_line)

    def _check_history(self, seen: int, chain: str) -> None:
        reb = self.reb
        if seen != reb.row + 1 or chain != self.fingerprint:
            raise StateError(
                f"the data up to the state's last bar {reb.time} differ from the data the state "
                f"processed ({seen} bars now, {reb.row + 1} then; fingerprint "
                f"{'equal' if chain == self.fingerprint else 'differs'}); the state was left unchanged"
            )

    def _process(self, bar: Bar, on_bar: Callable[[dict[str, Any]], None] | None) -> None:
        reb = self.reb
        fp = bar_fingerprint(self.fingerprint, bar, reb.symbols)
        decision = reb.step(bar)
        paper = None
        if self.paper is not None:
            fills = self.paper.fill(reb.prices, reb.tradable)
            self.paper.place(decision.trades, reb.prices)
            paper = {"value": self.paper.value(reb.prices), "fills": fills}
        line = decision_line(decision, reb.symbols, reb.prices, self.portfolio_value, paper)
        self.orders_bytes, self.orders_tail = append_line(self.orders, line)
        self.fingerprint = fp
        save_state(
            self.state_dir,
            snapshot(
                reb,
                {
                    "fingerprint": fp,
                    "orders_bytes": self.orders_bytes,
                    "orders_tail": self.orders_tail,
                    "portfolio_value": self.portfolio_value,
                    "paper": None if self.paper is None else self.paper.to_json(),
                },
            ),
        )
        if on_bar is not None:
            on_bar(line)


def run_bars(run: LiveRun, bars: Iterable[Bar], **kwargs: Any) -> RunSummary:
    """Functional spelling of :meth:`LiveRun.run_bars`."""
    return run.run_bars(bars, **kwargs)
