"""The threshold rule: which of the optimizer's proposed trades actually happen.

With tau = ``threshold`` and ``w`` the drifted weights held before trading:

- ``"portfolio"``: trade every asset to the new optimum w* only if some tradable asset has
  |w*_i - w_i| > tau; otherwise trade nothing (every proposed change is recorded as skipped).
- ``"per_asset"``: an asset with |w*_i - w_i| <= tau is held; the optimizer is re-solved with the
  held assets frozen (lo_i = hi_i = w_i), so the budget still sums to 1 and the answer is optimal
  under the hold. Re-solving can move another asset into the band, so the rule repeats until no
  new asset is held (at most n rounds); the assets that trade move by more than tau.
- ``"none"``: every proposed change trades.

Held-back changes are returned as ``(symbol, proposed change, reason)`` tuples.

Beside the weight band, the **utility rule** (:func:`apply_utility_threshold`, level ``kappa``)
looks at what the trade is worth in the model's own terms: with ``w`` the book after the band
rule (targets where it trades, the held weight elsewhere) and U the optimizer's utility,
costs included (``U(w) = w'R - lam w'Sigma w - sum C_i |w_i - held_i|``, annualized with the
optimizer's amortized C), the trade happens only if ``U(w) - U(held) > kappa``. U(held) pays no
cost, so the gain is net of the trade's cost. ``kappa`` is in the units of U (annualized return).
The rule applies to a fully invested book: the entry from cash (``sum(held) < 1``, which the
budget constraint does not allow) always trades.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, get_args

import numpy as np

from rwafolio.exceptions import ConfigError

ThresholdMode = Literal["portfolio", "per_asset", "none"]
THRESHOLD_MODES: tuple[str, ...] = get_args(ThresholdMode)

Skipped = tuple[str, float, str]


def skip_reason(mode: str, threshold: float) -> str:
    """The reason recorded for a change the band rule held back (``mode`` "per_asset"/"portfolio")."""
    if mode == "portfolio":
        return f"portfolio: max |change| <= {threshold:g}"
    return f"per_asset: |change| <= {threshold:g}"


def check_threshold(threshold: float, mode: str) -> None:
    if mode not in THRESHOLD_MODES:
        raise ConfigError(f"`threshold_mode` must be one of {THRESHOLD_MODES}, got {mode!r}")
    if not np.isfinite(threshold) or threshold < 0 or threshold >= 1:
        raise ConfigError(f"`threshold` must be a finite number in [0, 1), got {threshold!r}")


def apply_threshold(
    proposed: np.ndarray,
    held: np.ndarray,
    movable: np.ndarray,
    threshold: float,
    mode: str,
    symbols: Sequence[str],
    resolve: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, list[Skipped], int]:
    """Apply the threshold rule to a proposed optimum.

    Parameters
    ----------
    proposed : ndarray of shape (n_assets,)
        The optimizer's w* with non-movable assets at their held weight.
    held : ndarray of shape (n_assets,)
        Drifted weights before trading.
    movable : ndarray of bool, shape (n_assets,)
        Assets allowed to trade at this date.
    resolve : callable
        ``resolve(frozen_mask) -> w*`` re-solves with the masked assets frozen at ``held``
        (used by ``"per_asset"``).

    Returns
    -------
    target : ndarray of shape (n_assets,)
        Target weights with NaN for every asset that does not trade; all NaN for no trade.
    skipped : list of (symbol, proposed change, reason)
    n_resolves : int
        How many extra solves the rule needed.
    """
    n = held.shape[0]
    target = np.full(n, np.nan)
    delta = proposed - held
    if mode == "none":
        target[movable] = proposed[movable]
        return target, [], 0
    if mode == "portfolio":
        if np.any(np.abs(delta[movable]) > threshold):
            target[movable] = proposed[movable]
            return target, [], 0
        skipped = [
            (symbols[int(i)], float(delta[i]), skip_reason("portfolio", threshold))
            for i in np.flatnonzero(movable & (delta != 0))
        ]
        return target, skipped, 0
    # per_asset
    frozen = ~movable
    w = proposed
    reasons: dict[int, float] = {}
    n_resolves = 0
    for _ in range(n):
        inside = movable & ~frozen & (np.abs(w - held) <= threshold)
        if not np.any(inside):
            break
        for i in np.flatnonzero(inside):
            reasons.setdefault(int(i), float(w[i] - held[i]))
        frozen = frozen | inside
        if np.all(frozen):
            w = held.copy()
            break
        w = resolve(frozen)
        n_resolves += 1
    trade = movable & ~frozen
    target[trade] = w[trade]
    skipped = [
        (symbols[i], d, skip_reason("per_asset", threshold))
        for i, d in sorted(reasons.items())
        if d != 0
    ]
    return target, skipped, n_resolves


def utility_gain(
    w: np.ndarray,
    held: np.ndarray,
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    lam: float,
) -> float:
    """``U(w) - U(held)`` with U the optimizer's objective (see the module docstring)."""
    from rwafolio.optimize.model import objective

    return objective(w, R, Sigma, C, held, lam) - objective(held, R, Sigma, C, held, lam)


def apply_utility_threshold(
    target: np.ndarray,
    held: np.ndarray,
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    lam: float,
    level: float,
    symbols: Sequence[str],
) -> tuple[np.ndarray, list[Skipped], float]:
    """Keep ``target`` only if the trade raises the model's utility by more than ``level``.

    Parameters
    ----------
    target : ndarray of shape (n_assets,)
        Targets after the band rule, NaN where an asset does not trade.
    held : ndarray of shape (n_assets,)
        Drifted weights before trading.
    R, Sigma, C, lam
        The date's problem: annualized R and Sigma, the optimizer's (amortized) costs, lam.
    level : float
        ``kappa`` >= 0, in units of U (annualized return).

    Returns
    -------
    target : ndarray of shape (n_assets,)
        ``target`` unchanged, or all NaN when the gain is <= ``level`` and ``held`` is fully
        invested.
    skipped : list of (symbol, proposed change, reason)
    gain : float
        ``U(w) - U(held)``.
    """
    trade = ~np.isnan(target)
    if not trade.any():
        return target, [], 0.0
    w = np.where(trade, target, held)
    gain = utility_gain(w, held, R, Sigma, C, lam)
    if gain > level or abs(float(held.sum()) - 1.0) > 1e-6:
        return target, [], gain
    reason = f"utility: gain {gain:.3g} <= {level:g}"
    skipped = [
        (symbols[int(i)], float(w[i] - held[i]), reason)
        for i in np.flatnonzero(trade & (w != held))
    ]
    return np.full_like(target, np.nan), skipped, gain
