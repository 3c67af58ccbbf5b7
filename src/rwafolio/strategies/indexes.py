"""One volatility index per asset class, each normalized against its own past.

The model sets ``lam = lam0 * (1 + eta * VIX)``: lam0 and eta are calibrated to VIX points. A
crypto implied-volatility index (DVOL) or a realized crypto volatility lives around 60-80, so fed
raw it triples lam and keeps every stress switch on. Here each class's index ``x`` is rescaled to
VIX-equivalent points against its own history up to the decision date:

    level_t = reference * x_t / mean(x_0, ..., x_t)

``reference`` (default 19.5, the CBOE VIX's 1990-2024 mean close) is the level of a typical day,
so ``lam0`` and ``eta`` mean what they mean for the VIX whatever the index; a day when the index
is twice its own past mean reads 39. Only values up to and including t enter (the mean is over
the view's past; a realized proxy is computed from the view's returns), so no future value can.

Sources (``class_indexes`` maps an asset class to one):

- ``"vix"``: the panel's volatility index (whatever ``--vix`` loaded: CBOE VIX, a DVOL file, ...);
- ``"realized:SYMBOL"``: the annualized realized volatility of SYMBOL in percent,
  ``100 * sqrt(periods_per_year) * std(last ``window`` returns, ddof=1)``, from the view's past
  returns.

Each class also has its own stress level (in the same normalized points; default the strategy's
``stress_vix``): above it, that class's open assets may trade every day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rwafolio.exceptions import ConfigError

__all__ = ["REFERENCE_VIX", "ClassIndex", "normalize_past", "realized_path", "resolve_indexes"]

#: Mean CBOE VIX close 1990-2024 (about 19.5): the normalized level of a typical day.
REFERENCE_VIX = 19.5


@dataclass(frozen=True)
class ClassIndex:
    """Where one asset class's index comes from and its stress level (normalized points)."""

    source: str
    stress: float | None = None
    column: int = -1  # the symbol's column for a realized source


def resolve_indexes(
    spec: Mapping[str, str | Sequence[object]],
    symbols: Sequence[str],
    classes: Sequence[str],
    default_stress: float | None,
) -> dict[str, ClassIndex]:
    """Validate ``class_indexes`` against the universe: class -> :class:`ClassIndex`.

    A value is a source string or ``[source, stress]``. Every class in the universe needs one.
    """
    out: dict[str, ClassIndex] = {}
    for cls, value in spec.items():
        if cls not in classes:
            raise ConfigError(
                f"`class_indexes` names class {cls!r}, not in the universe {sorted(set(classes))}"
            )
        if isinstance(value, str):
            source, stress = value, default_stress
        elif isinstance(value, Sequence) and len(value) == 2 and isinstance(value[0], str):
            source, stress = value[0], float(value[1])  # type: ignore[arg-type]
        else:
            raise ConfigError(
                f"`class_indexes[{cls!r}]` must be 'vix', 'realized:SYMBOL' or [source, stress], "
                f"got {value!r}"
            )
        if stress is not None and not np.isfinite(stress):
            raise ConfigError(f"`class_indexes[{cls!r}]` stress must be finite, got {stress!r}")
        column = -1
        if source.startswith("realized:"):
            sym = source.split(":", 1)[1]
            if sym not in symbols:
                raise ConfigError(f"`class_indexes[{cls!r}]` uses {sym!r}, not in the universe")
            column = list(symbols).index(sym)
        elif source != "vix":
            raise ConfigError(
                f"`class_indexes[{cls!r}]` source must be 'vix' or 'realized:SYMBOL', got {source!r}"
            )
        out[cls] = ClassIndex(source, stress, column)
    missing = sorted(set(classes) - set(out))
    if missing:
        raise ConfigError(f"`class_indexes` has no index for class(es) {missing}")
    return out


def realized_path(returns: np.ndarray, window: int, periods_per_year: int) -> np.ndarray:
    """Rolling realized volatility in annualized percent, shape (n_obs,); NaN before ``window``.

    Row t uses returns ``t - window + 1 .. t`` only (ddof = 1).
    """
    r = np.asarray(returns, dtype=float)
    n = r.shape[0]
    out = np.full(n, np.nan)
    if n < window:
        return out
    c1 = np.concatenate([[0.0], np.cumsum(r)])
    c2 = np.concatenate([[0.0], np.cumsum(r * r)])
    s1 = c1[window:] - c1[:-window]
    s2 = c2[window:] - c2[:-window]
    var = np.maximum((s2 - s1 * s1 / window) / (window - 1), 0.0)
    out[window - 1 :] = 100.0 * np.sqrt(var * periods_per_year)
    return out


def normalize_past(path: np.ndarray, reference: float = REFERENCE_VIX) -> float:
    """``reference * x_t / mean(finite x_0..x_t)`` for the last value of ``path`` (NaN if none)."""
    x = np.asarray(path, dtype=float)
    finite = x[np.isfinite(x)]
    if finite.size == 0 or not np.isfinite(x[-1]):
        return float("nan")
    m = float(finite.mean())
    return float(reference * x[-1] / m) if m > 0 else float("nan")
