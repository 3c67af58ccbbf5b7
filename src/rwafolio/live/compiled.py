"""The compiled per-bar path of the live rebalancer, for the strategies the compiled decision supports.

:class:`CompiledBar` holds the arrays :func:`rwafolio.live._bar_kernel.live_bar_packed_nb` carries from
bar to bar (:class:`~rwafolio.live._bar_kernel.LiveBook`) and the prepared strategy's decision
parameters, read once through :func:`rwafolio.strategies.compiled.decision_arrays` (the
statement the historical loop and the strategy-aware Monte Carlo read too). :class:`~rwafolio.live.LiveRebalancer`
validates each bar, computes the calendar part of its schedule and turns the kernel's
:class:`~rwafolio.live._bar_kernel.BarResult` into its :class:`~rwafolio.live.LiveDecision`; the
typed refusals, the state, the journal and the paper book are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any, Literal, TypeVar

import numpy as np

from rwafolio.exceptions import ConfigError
from rwafolio.live._bar_kernel import pack_params, pack_state
from rwafolio.strategies.compiled import decision_arrays, unsupported

__all__ = ["CompiledBar", "Path", "choose_path", "new_result", "price_getter", "priced_bar"]

Path = Literal["auto", "compiled", "python"]
T = TypeVar("T")


def new_result(cls: type[T], fields_: dict[str, Any]) -> T:
    """``cls(**fields_)`` for a frozen dataclass given every field, built without the
    dataclass's per-field ``object.__setattr__``: ``fields_`` becomes the instance's ``__dict__``
    (the caller gives a fresh dict; 1 us per bar less on the compiled path than ``cls(...)``)."""
    result = _new(cls)
    _setattr(result, "__dict__", fields_)
    return result


_new, _setattr = object.__new__, object.__setattr__


def price_getter(symbols: list[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The bar's prices in the symbols' order, read in one C call (a KeyError for a missing one)."""
    if len(symbols) == 1:
        only = symbols[0]
        return lambda given: (given[only],)
    return itemgetter(*symbols)


def priced_bar(
    bar: Any,
    symbols: list[str],
    getter: Callable[[Mapping[str, Any]], tuple[Any, ...]],
    buffer: np.ndarray,
    all_open: np.ndarray,
    seen: dict[tuple[str, ...], np.ndarray],
) -> tuple[np.ndarray, np.ndarray] | None:
    """The common bar after the first, cheaply: one pricing every symbol
    (closed ones too, as :func:`~rwafolio.live.panel_bars` gives them): its prices in the
    symbols' order, written into ``buffer`` (read by the kernel before the next bar), and its
    open mask (read-only: ``all_open``, or cached in ``seen`` by ``bar.closed``). None sends the
    bar to the rebalancer's full checks; the kernel checks the open assets' prices."""
    given: Mapping[str, Any] = bar.prices
    if len(given) != len(symbols):
        return None
    try:
        buffer[:] = getter(given)
    except (KeyError, TypeError, ValueError):
        return None
    closed = bar.closed
    if not closed:
        return buffer, all_open
    mask = seen.get(closed) if type(closed) is tuple else None
    if mask is None:
        mask = np.array([s not in closed for s in symbols])
        mask.flags.writeable = False
        if type(closed) is tuple and len(seen) < 256:
            seen[closed] = mask
    return buffer, mask


def choose_path(strategy: Any, path: Path) -> tuple[bool, str]:
    """``(use the compiled path, why not)`` for an unprepared ``strategy`` and the asked ``path``.

    Raises
    ------
    ConfigError
        ``path="compiled"`` for a strategy the compiled decision does not support, or an unknown
        ``path``.
    """
    if path not in ("auto", "compiled", "python"):
        raise ConfigError(f"`path` must be 'auto', 'compiled' or 'python', got {path!r}")
    if path == "python":
        return False, "asked for (path='python')"
    why = unsupported(strategy)
    if why is not None and path == "compiled":
        raise ConfigError(f"`path`: no compiled decision for this strategy: {why}")
    return why is None, why or ""


class CompiledBar:
    """The compiled path's arrays and parameters for one rebalancer.

    Parameters
    ----------
    strategy : DynamicLambdaStrategy
        Prepared, supported (:func:`choose_path`).
    symbols : list of str
    rates : ndarray of shape (n_assets,)
        The cost model's one-off rates.
    window : int
        Rows of the rebalancer's window (the strategy's warm-up, >= its estimation window).
    has_vix : bool
        Whether bars carry a volatility index.
    schedule_of, groups : ndarray of int64
        Each asset's schedule code and each periodic schedule's ``(kind, param)``, shape
        (n_groups, 2) (see :func:`~rwafolio.live._bar_kernel.live_bar_packed_nb`).
    """

    def __init__(
        self,
        strategy: Any,
        symbols: list[str],
        rates: np.ndarray,
        window: int,
        has_vix: bool,
        schedule_of: np.ndarray,
        groups: np.ndarray,
    ) -> None:
        self.params = decision_arrays(strategy, symbols, has_vix)
        if self.params.window != window:
            raise ConfigError(
                f"the compiled path needs the estimation window ({self.params.window}) to be the "
                f"rebalancer's ({window})"
            )
        self.rates = np.ascontiguousarray(rates, dtype=float)
        #: The kernel's two vectors and views of their parts, updated in place.
        self.packed = pack_state(pack_params(self.params, self.rates), window, schedule_of, groups)
        self.book = self.packed.book
        #: The last bar's prices as the kernel keeps them; the next bar's prices go to ``given``
        #: (the rebalancer calls :func:`~rwafolio.live._bar_kernel.live_bar_packed_nb` on
        #: ``packed.fstate`` and ``packed.istate`` itself: one Python call less per bar).
        self.prices = self.packed.prices
        self.given = self.packed.given
        self.last_key = self.packed.last_key
        self.book.warm[:] = np.nan
        self.book.vixes[:] = np.nan
        self.book.scalars[:] = 1.0

    @property
    def warm_start(self) -> np.ndarray | None:
        warm = self.book.warm
        return None if np.isnan(warm[0]) else warm.copy()

    @warm_start.setter
    def warm_start(self, value: np.ndarray | None) -> None:
        self.book.warm[:] = np.nan if value is None else np.asarray(value, dtype=float)

    def window_rows(self, count: int) -> np.ndarray:
        """The last ``count`` rows of the window, oldest first (a copy)."""
        return self.book.window[self.book.window.shape[0] - count :].copy()

    def load_window(self, rows: np.ndarray) -> None:
        """Refill the window with ``rows`` (oldest first, at most the window's length)."""
        self.book.window[:] = 0.0
        if rows.shape[0]:
            self.book.window[-rows.shape[0] :] = rows
