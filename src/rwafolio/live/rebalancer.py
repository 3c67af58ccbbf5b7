"""The online rebalancer: one new bar at a time, the same decision and book step as the backtest.

:class:`LiveRebalancer` holds what a backtest carries from date to date (the drifted book, the
last prices, the estimation window, the schedule's clock, the solver's warm start) and, for each
new :class:`Bar`, does exactly what the engine does on that date: drift the book with the bar's
returns, show the strategy a read-only :class:`~rwafolio.strategies.MarketView` of the past, and
book the trade through :func:`rwafolio.backtest.step.rebalance`. Replaying a panel bar by bar
therefore reproduces the backtest's weights (``tests/live/test_parity.py``).

Per bar the work is O(window * n + n^2) for the window and the rolling moments, plus the
strategy's estimate and solve; nothing walks the history. Estimators that need the whole window
(Ledoit-Wolf) are called on the window buffer, the same one the backtest would show.

Two paths (``path``): for the built-in strategy in a configuration the compiled decision supports
(:func:`rwafolio.strategies.compiled.unsupported`), everything after the bar's validation and
schedule is one compiled call (:mod:`rwafolio.live.compiled`) over the kernels the Python path
calls too, so both paths give the same bits (``tests/live/test_compiled.py``); a bar the kernel
cannot decide exactly is handed to the strategy object. Any other strategy runs in Python.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from rwafolio.backtest.book import drift
from rwafolio.backtest.step import rebalance
from rwafolio.exceptions import ConfigError, DataError
from rwafolio.live._bar_kernel import (
    BAD_PRICES,
    DECIDED,
    EVERY_BAR,
    FROZEN_WIDE,
    NEVER,
    OUT_AFTER,
    OUT_BEFORE,
    OUT_FROZEN,
    OUT_PRICES,
    OUT_ROWS,
    OUT_SCHEDULED,
    OUT_TARGET,
    OUT_TRADES,
    REDO,
    WARMUP,
    live_bar_packed_nb,
)
from rwafolio.live.bar import Bar, LiveDecision
from rwafolio.live.compiled import (
    CompiledBar,
    Path,
    choose_path,
    new_result,
    price_getter,
    priced_bar,
)
from rwafolio.live.rolling import IncrementalSample, RollingMoments
from rwafolio.optimize.costs import CostModel
from rwafolio.strategies.base import MarketView, Setup, Strategy
from rwafolio.strategies.schedules import period_key, resolve_schedules, schedule_kind
from rwafolio.strategies.threshold import skip_reason

__all__ = ["ALWAYS_OPEN", "Bar", "LiveDecision", "LiveRebalancer"]

#: Asset classes whose market never closes: a bar without their price is a gap, not a close.
ALWAYS_OPEN = ("crypto", "stable")


_NAN = float("nan")


def _check_strategy(strategy: Strategy) -> None:
    if not isinstance(strategy, Strategy):
        raise ConfigError(f"`strategy` must be a rwafolio Strategy, got {type(strategy).__name__}")
    if getattr(strategy, "indexes_", None) is not None:
        raise ConfigError(
            "`class_indexes`: per-class indexes normalized over their whole past are not supported "
            "live (the live state keeps the estimation window only); use one volatility index"
        )
    if getattr(strategy, "smoothed_", False):
        raise ConfigError(
            "`risk_aversion`: a rule smoothed along the index's whole path is not supported live "
            "(the live state keeps the estimation window only); use an unsmoothed rule"
        )


class LiveRebalancer:
    """Stateful one-bar-at-a-time rebalancer (see the module docs).

    Parameters
    ----------
    strategy : Strategy
        Unprepared; prepared here. Must keep its calendar schedule in ``scheduled_`` (as
        :class:`~rwafolio.strategies.DynamicLambdaStrategy` and the benchmarks do).
    symbols, asset_classes : list of str
    cost_model : CostModel
    periods_per_year : int
        Bars per year for annualization (365 daily all-days, 252 exchange days, 8760 hourly:
        the schedules then count hours).
    has_vix : bool
        Whether bars carry a volatility index.
    first_decision : int or None
        Row of the first bar the strategy may trade (default: its warm-up, as the backtest).
    path : {"auto", "compiled", "python"}
        How a bar is processed. ``"auto"``: in one compiled call
        (:mod:`rwafolio.live.compiled`) when the strategy is one the compiled decision supports
        (:func:`rwafolio.strategies.compiled.unsupported`), else in Python; ``"compiled"``
        insists (a :class:`ConfigError` says why it cannot); ``"python"``: always in Python.
        Both give the same decisions; the path taken and why are ``path`` and ``path_reason``.
    """

    def __init__(
        self,
        strategy: Strategy,
        symbols: list[str],
        asset_classes: list[str],
        cost_model: CostModel,
        periods_per_year: int,
        has_vix: bool,
        first_decision: int | None = None,
        path: Path = "auto",
    ) -> None:
        n = len(symbols)
        if n == 0 or len(asset_classes) != n or cost_model.n_assets != n:
            raise ConfigError(
                "`symbols`, `asset_classes` and `cost_model` must describe n >= 1 assets"
            )
        self.strategy = strategy
        self.symbols = list(symbols)
        self.asset_classes = list(asset_classes)
        self.cost_model = cost_model
        self.periods_per_year = int(periods_per_year)
        self.has_vix = bool(has_vix)
        #: Hourly bars (24 x 365 a year): intraday schedules count hours.
        self.hourly = self.periods_per_year == 24 * 365
        warm = int(strategy.warmup)
        self.first_decision = warm if first_decision is None else int(first_decision)
        if self.first_decision < warm:
            raise ConfigError(
                f"`first_decision` must be >= the warm-up {warm}, got {first_decision}"
            )
        # The view's window: the last `warmup` return rows (at least 2 for the rolling moments).
        self.window = max(warm, 2)
        self._prepare()
        self.row = -1
        self.time: pd.Timestamp | None = None
        self.prices = np.full(n, np.nan)
        self.tradable = np.zeros(n, dtype=bool)
        self.vix = float("nan")
        self.weights = np.zeros(n)
        #: Cash and value (per unit of initial value): the kernel's own two floats on the
        #: compiled path (see the ``cash`` and ``value`` properties).
        self._scalars = np.ones(2)
        self.moments = RollingMoments(n, self.window)
        self._use_moments()
        self.times = np.zeros(self.window, dtype="datetime64[ns]")
        self.vixes = np.full(self.window, np.nan)
        self.last_key = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        self._index = {s: j for j, s in enumerate(self.symbols)}
        #: The open mask of a bar with every market open, and of the other ``closed`` tuples seen.
        self._all_open = np.ones(n, dtype=bool)
        self._all_open.flags.writeable = False
        self._open: dict[tuple[str, ...], np.ndarray] = {}
        self._always_open = [c in ALWAYS_OPEN for c in self.asset_classes]
        #: Assets whose calendar schedule is every bar their market is open.
        self._every_bar = np.array(
            [s == "bar" or (s == "daily" and not self.hourly) for s in self.schedule_names]
        )
        #: The other assets with a periodic schedule: (column, schedule name).
        self._periodic = [
            (j, s)
            for j, s in enumerate(self.schedule_names)
            if s != "never" and not self._every_bar[j]
        ]
        #: The same, grouped by schedule name: (name, its columns), in first-seen order.
        groups: dict[str, list[int]] = {}
        for j, s in self._periodic:
            groups.setdefault(s, []).append(j)
        self._periodic_groups = list(groups.items())
        #: The compiled path's schedule (see live_bar_packed_nb): each asset's code and each
        #: periodic schedule's (kind, parameter).
        self._schedule_of = np.array([EVERY_BAR if every else NEVER for every in self._every_bar])
        for g, (_name, columns) in enumerate(self._periodic_groups):
            self._schedule_of[columns] = g
        kinds = [schedule_kind(name, self.hourly) for name, _ in self._periodic_groups]
        self._groups = np.array(kinds, dtype=np.int64).reshape(len(kinds), 2)
        use, why = choose_path(strategy, path)
        self.path = "compiled" if use else "python"
        #: Why the Python path is taken ("" on the compiled path).
        self.path_reason = why
        #: Bars the compiled path handed to the Python strategy (a solve that was not optimal,
        #: a freeze with no feasible book, lam needing the Python rule), since this object began.
        self.handed_over = 0
        self.compiled: CompiledBar | None = None
        if use:
            self.compiled = CompiledBar(
                self.strategy, self.symbols, self.cost_model.rates, self.window, self.has_vix,
                self._schedule_of, self._groups,
            )  # fmt: skip
            #: The frozen reasons by the kernel's codes (FROZEN_CLOSED, ...).
            self._frozen_why = (
                "",
                "closed",
                "schedule",
                skip_reason(self.strategy.threshold_mode, self.strategy.threshold),  # type: ignore[attr-defined]
            )
            #: The frozen dicts by the kernel's codes, as seen (copied into each decision).
            self._frozen_seen: dict[int, dict[str, str]] = {}
            #: A bar's prices in the symbols' order (one C call), and the buffer they go to.
            self._getter = price_getter(self.symbols)
            #: The prices the kernel holds as the last bar's (``self.prices`` after each bar).
            self._kernel_prices = self.compiled.prices
            self._link()

    # ------------------------------------------------------------------ setup
    def _prepare(self) -> None:
        n = len(self.symbols)
        one_day = pd.DatetimeIndex([pd.Timestamp("1970-01-01")])
        self.strategy.prepare(
            Setup(
                dates=one_day,
                tradable=np.ones((1, n), dtype=bool),
                symbols=self.symbols,
                asset_classes=self.asset_classes,
                costs=self.cost_model.rates,
                periods_per_year=self.periods_per_year,
                has_vix=self.has_vix,
                cost_model=self.cost_model,
            )
        )
        _check_strategy(self.strategy)
        if not hasattr(self.strategy, "scheduled_"):
            raise ConfigError(
                f"{type(self.strategy).__name__} keeps no calendar schedule (`scheduled_`); the "
                "live rebalancer supports DynamicLambdaStrategy and the benchmark strategies"
            )
        schedules = getattr(self.strategy, "schedules", None)
        self.schedule_names = resolve_schedules(schedules, self.symbols, self.asset_classes)

    def _use_moments(self) -> None:
        """With the sample estimator, serve its estimates from the rolling moments."""
        from rwafolio.optimize.estimators import SampleEstimator

        est = getattr(self.strategy, "estimator_", None)
        if type(est) is SampleEstimator or isinstance(est, IncrementalSample):
            self.strategy.estimator_ = IncrementalSample(self.moments)  # type: ignore[attr-defined]

    def _link(self) -> None:
        """Make the rebalancer's book and window the compiled path's arrays (in place)."""
        assert self.compiled is not None
        book = self.compiled.book
        if self._scalars is not book.scalars:
            book.scalars[:] = self._scalars
            self._scalars = book.scalars
        if self.weights is not book.weights:
            book.weights[:] = self.weights
            self.weights = book.weights
        if self.vixes is not book.vixes:
            book.vixes[:] = self.vixes
            self.vixes = book.vixes
        times = book.times.view("datetime64[ns]")
        if self.times.base is not book.times.base:
            times[:] = self.times
            self.times = times
        if self.last_key is not self.compiled.last_key:
            self.compiled.last_key[:] = self.last_key
            self.last_key = self.compiled.last_key
        self.compiled.prices[:] = self.prices
        self._kernel_prices = self.prices

    @property
    def cash(self) -> float:
        """Cash, a fraction of the book's value."""
        return float(self._scalars[0])

    @cash.setter
    def cash(self, value: float) -> None:
        self._scalars[0] = value

    @property
    def value(self) -> float:
        """The book's value per unit of initial value."""
        return float(self._scalars[1])

    @value.setter
    def value(self, value: float) -> None:
        self._scalars[1] = value

    @property
    def warm_start(self) -> np.ndarray | None:
        """The solver's warm start (the last solution; None before the first decision)."""
        if self.compiled is not None:
            return self.compiled.warm_start
        return getattr(self.strategy, "last_w_", None)

    @warm_start.setter
    def warm_start(self, value: np.ndarray | None) -> None:
        if self.compiled is not None:
            self.compiled.warm_start = value
        self.strategy.last_w_ = value  # type: ignore[attr-defined]

    def window_rows(self) -> np.ndarray:
        """The estimation window, oldest row first, shape (count, n_assets); a copy."""
        if self.compiled is not None:
            return self.compiled.window_rows(min(self.row + 1, self.window))
        return self.moments.window_rows()

    # ------------------------------------------------------------------ one bar
    def _tradable_prices(self, bar: Bar) -> tuple[np.ndarray, np.ndarray]:
        given, index = bar.prices, self._index
        if any(s not in index for s in given):
            unknown = sorted(set(given) - set(self.symbols))
            raise DataError(
                f"bar {bar.time}: prices for symbols not in the state's universe {unknown} "
                f"(state symbols: {self.symbols})"
            )
        closed = bar.closed
        priced = [s in given for s in self.symbols]
        tradable = np.array([ok and s not in closed for s, ok in zip(self.symbols, priced)])
        if not all(ok or not a for ok, a in zip(priced, self._always_open)):
            gone = [s for s, ok, a in zip(self.symbols, priced, self._always_open) if a and not ok]
            raise DataError(
                f"bar {bar.time}: no price for {gone}, whose market never closes (a gap in the "
                "data, or a symbol that disappeared)"
            )
        first = self.row < 0
        new = self.prices.copy()
        for j, s in enumerate(self.symbols):
            if tradable[j] or (first and priced[j]):
                p = float(given[s])
                if not (p > 0 and p < np.inf):
                    raise DataError(f"bar {bar.time}: price of {s} must be > 0, got {p!r}")
                new[j] = p
        if first and not all(priced):
            missing = [s for s, ok in zip(self.symbols, priced) if not ok]
            raise DataError(
                f"the first bar ({bar.time}) must price every symbol; missing {missing}"
            )
        return new, tradable

    def _schedule_row(self, time: pd.Timestamp, tradable: np.ndarray) -> np.ndarray:
        """The calendar part of the schedule at this bar (as ``schedule_matrix`` on the panel)."""
        may = tradable & self._every_bar
        if not self._periodic:
            return may
        ns = time.value
        last = self.last_key
        open_ = tradable.tolist()
        for name, columns in self._periodic_groups:
            key: int | None = 0
            computed = False
            for j in columns:
                if not open_[j]:
                    continue
                if not computed:
                    key, computed = period_key(ns, name, self.hourly), True
                if key is None:
                    break
                may[j] = key != last[j]
                last[j] = key
        return may

    def _bar_vix(self, bar: Bar, time: pd.Timestamp) -> float:
        """The index level after ``bar`` (checked; not stored)."""
        if bar.vix is not None:
            if not math.isfinite(bar.vix):
                raise DataError(f"bar {time}: `vix` must be finite, got {bar.vix!r}")
            return float(bar.vix)
        if self.has_vix and self.row < 0:
            raise DataError(f"the first bar ({time}) must carry the volatility index")
        return self.vix

    def step(self, bar: Bar) -> LiveDecision:
        """Process ``bar`` (newer than the last one) and return its decision."""
        time = bar.time if type(bar.time) is pd.Timestamp else pd.Timestamp(bar.time)
        if self.time is not None and time <= self.time:
            raise DataError(
                f"bar {time} is not newer than the state's last bar {self.time} (already processed)"
            )
        if self.compiled is not None:
            return self._step_compiled(bar, time)
        prices, tradable = self._tradable_prices(bar)
        self.vix = self._bar_vix(bar, time)
        returns = np.zeros(len(self.symbols))
        if self.row >= 0:
            returns = prices / self.prices - 1.0
        self.row += 1
        self.time, self.prices, self.tradable = time, prices, tradable
        self.weights, self.cash, growth = drift(self.weights, self.cash, returns)
        self.value *= growth
        self._push(time, returns)
        may = self._schedule_row(time, tradable)
        return self._decide(time, tradable, may)

    def _step_compiled(self, bar: Bar, time: pd.Timestamp) -> LiveDecision:
        """One bar in one compiled call (:mod:`rwafolio.live.compiled`)."""
        c = self.compiled
        assert c is not None
        fast = None
        if self.row >= 0:
            fast = priced_bar(bar, self.symbols, self._getter, c.given, self._all_open, self._open)
        if fast is None:
            given, tradable = self._tradable_prices(bar)
            tradable.flags.writeable = False
        else:
            given, tradable = fast
        try:
            vix = self._bar_vix(bar, time)
        except DataError:
            self._tradable_prices(bar)  # a bad price is reported first, as on the Python path
            raise
        if (
            self.weights is not c.book.weights
            or self.vixes is not c.book.vixes
            or self.last_key is not c.last_key
            or self.prices is not self._kernel_prices
        ):
            self._link()  # the state was restored into new arrays
        if given is not c.given:
            c.given[:] = given
        out = np.empty((OUT_ROWS, c.given.shape[0]))  # the decision's arrays are its rows
        res = live_bar_packed_nb(
            c.packed.fstate, c.packed.istate, tradable, out, fast is None,
            vix if self.has_vix else np.nan, time.value, self.row < 0,
            self.row + 1 >= self.first_decision,
        )  # fmt: skip
        if res[0] == BAD_PRICES:
            self._tradable_prices(bar)  # raises the typed error
            raise AssertionError("the kernel refused prices the checks accept")  # pragma: no cover
        self.row += 1
        self.vix = vix
        self.prices = self._kernel_prices = out[OUT_PRICES]
        self.time, self.tradable = time, tradable
        if res[0] == REDO:  # the Python strategy decides this bar (see _bar_kernel)
            self.handed_over += 1
            self.warm_start = c.warm_start
            decision = self._decide(time, tradable, out[OUT_SCHEDULED] != 0.0)
            c.book.weights[:] = self.weights
            self.weights = c.book.weights
            c.warm_start = getattr(self.strategy, "last_w_", None)
            return decision
        return self._compiled_decision(time, res, out)

    def _compiled_decision(
        self, time: pd.Timestamp, res: tuple[Any, ...], out: np.ndarray
    ) -> LiveDecision:
        """The :class:`LiveDecision` of a bar the kernel processed (as :meth:`_decide`); ``res``
        holds the fields of :class:`~rwafolio.live._bar_kernel.BarResult`. Built as one dict
        (:func:`~rwafolio.live.compiled.new_result`): this runs on every bar."""
        status, traded, code, lam, fee, objective, kkt, iterations = res
        frozen = {}
        if code:
            known = self._frozen_seen.get(code)
            if known is None:
                codes = out[OUT_FROZEN].tolist()
                why = self._frozen_why
                known = {self.symbols[j]: why[int(c)] for j, c in enumerate(codes) if c}
                if len(self._frozen_seen) < 256 and code != FROZEN_WIDE:
                    self._frozen_seen[code] = known
            frozen = known.copy()  # each decision owns its dict
        if status == DECIDED:
            said = "traded" if traded else "no_trade"
            diagnostics = {
                "solver": "fast",
                "kkt_residual": kkt,
                "iterations": iterations,
                "objective": objective,
                "fallback_reason": "",
            }
        else:  # WARMUP or NO_DECISION: no lam, no fee, no solve
            said = "warmup" if status == WARMUP else "no_trade"
            lam, fee, diagnostics = _NAN, 0.0, {}
        return new_result(
            LiveDecision,
            {
                "time": time,
                "row": self.row,
                "status": said,
                "lam": lam,
                "vix": self.vix if self.has_vix else _NAN,
                "weights_before": out[OUT_BEFORE],
                "weights_after": out[OUT_AFTER],
                "target": out[OUT_TARGET],
                "trades": out[OUT_TRADES],
                "fees": fee,
                "value": float(self._scalars[1]),
                "frozen": frozen,
                "diagnostics": diagnostics,
            },
        )

    def _push(self, time: pd.Timestamp, returns: np.ndarray) -> None:
        self.moments.push(returns)
        self.times[:-1] = self.times[1:]
        self.times[-1] = time.to_datetime64()
        self.vixes[:-1] = self.vixes[1:]
        self.vixes[-1] = self.vix

    def view(self, tradable: np.ndarray, may: np.ndarray) -> MarketView:
        """The strategy's view at the current bar: the window's returns, read-only."""
        rows = min(self.row + 1, self.window)
        returns = self.window_rows()[-rows:]
        dates = pd.DatetimeIndex(self.times[-rows:])
        self.strategy.scheduled_ = np.broadcast_to(may, (rows, may.shape[0]))  # type: ignore[attr-defined]
        return MarketView(
            rows - 1,
            dates,
            returns,
            self.vixes[-rows:].copy() if self.has_vix else None,
            self.weights.copy(),
            tradable,
            self.symbols,
            self.asset_classes,
            self.cost_model.rates,
            self.periods_per_year,
        )

    def _decide(self, time: pd.Timestamp, tradable: np.ndarray, may: np.ndarray) -> LiveDecision:
        before = self.weights.copy()
        n = before.shape[0]
        nan = float("nan")
        frozen = {s: "closed" for s, ok in zip(self.symbols, tradable) if not ok}
        if self.row < self.first_decision:
            return LiveDecision(
                time,
                self.row,
                "warmup",
                nan,
                self.vix if self.has_vix else nan,
                before,
                before.copy(),
                np.full(n, nan),
                np.zeros(n),
                0.0,
                self.value,
                frozen,
            )
        view = self.view(tradable, may)
        allowed = self.strategy.may_trade(view)
        frozen.update(
            {s: "schedule" for s, ok, a in zip(self.symbols, tradable, allowed) if ok and not a}
        )
        step = rebalance(self.strategy, view, self.weights, self.cash, self.cost_model.rates)
        trades, fee = np.zeros(n), 0.0
        if step.trade is not None:
            trades[step.traded] = step.trade.sent - before[step.traded]
            fee = step.trade.fee
            self.value *= step.trade.growth
        self.weights, self.cash = step.weights, step.cash
        d = step.decision
        if d is None:
            return LiveDecision(
                time,
                self.row,
                "no_trade",
                nan,
                self.vix if self.has_vix else nan,
                before,
                self.weights.copy(),
                np.full(n, nan),
                trades,
                fee,
                self.value,
                frozen,
            )
        for sym, _change, reason in d.skipped:
            frozen[sym] = reason
        status = d.status if d.status != "optimal" else ("traded" if step.trade else "no_trade")
        return LiveDecision(
            time,
            self.row,
            status,
            float(d.lam),
            float(d.vix),
            before,
            self.weights.copy(),
            np.asarray(d.target, dtype=float),
            trades,
            fee,
            self.value,
            frozen,
            {
                "solver": d.solver,
                "kkt_residual": float(d.kkt_residual),
                "iterations": int(d.iterations),
                "objective": float(d.objective),
                "fallback_reason": d.fallback_reason,
            },
        )
