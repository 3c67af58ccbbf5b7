"""Risk-aversion rules: map a volatility-index level (e.g. VIX, in index points) to ``lam``.

``lam`` multiplies ``w'Sigma w`` with no 1/2 (see ``model``).  A rule is a parameter of the
strategy, never hard-wired: :class:`VixLinear` (``lam0 * (1 + eta * VIX)``, the model's rule),
:class:`Constant` and :class:`Callable` (a user function).  Each has ``__call__(vix) -> float`` and
``path(vix) -> Series | ndarray`` for a whole index series, and the derivative
``dlam_dvix(vix) -> float`` (d lam / d VIX at the last level, for the sensitivities).
"""

from __future__ import annotations

import math
from collections.abc import Callable as _Fn
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError

__all__ = ["DEFAULT_ETA", "DEFAULT_LAM0", "Callable", "Constant", "RiskAversionRule", "VixLinear"]

#: The model's defaults: lam = lam0 * (1 + eta * VIX) with lam0 = 2 and eta = 0.05 per VIX point.
DEFAULT_LAM0 = 2.0
DEFAULT_ETA = 0.05


def _check_lam(value: float, source: str) -> float:
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{source} must give a finite lam >= 0, got {value!r}")
    return value


def _check_vix(vix: object) -> float:
    try:
        v = float(vix)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise DataError(f"`vix` must be a float, got {vix!r}") from exc
    if not math.isfinite(v):
        raise DataError(f"`vix` must be finite, got {v!r}")
    return v


def _ewm_level(levels: np.ndarray, halflife: float) -> float:
    """Last value of the EWMA of ``levels`` that :meth:`VixLinear.path` applies."""
    s = pd.Series(levels).ewm(halflife=halflife, ignore_na=True).mean()
    return float(s.to_numpy()[-1])


class RiskAversionRule:
    """Base: ``__call__(vix) -> lam`` and a vectorised ``path``."""

    def __call__(self, vix: float) -> float:
        raise NotImplementedError

    def path(self, vix: pd.Series | np.ndarray) -> pd.Series | np.ndarray:
        """lam for every level of ``vix`` (Series keeps its index; NaN levels give NaN)."""
        values = np.asarray(vix, dtype=float)
        out = np.array([self(v) if np.isfinite(v) else np.nan for v in values], dtype=float)
        return pd.Series(out, index=vix.index, name="lam") if isinstance(vix, pd.Series) else out

    def dlam_dvix(self, vix: float | np.ndarray) -> float:
        """d lam / d VIX at ``vix`` (a level, or a past path whose last level is today's).

        The base class differentiates ``__call__`` at the last level by a central difference
        with step ``1e-4 * max(1, |VIX|)`` index points (relative error about 1e-8 for a
        smooth rule); subclasses with a closed form override it.
        """
        v = _check_vix(np.asarray(vix, dtype=float).reshape(-1)[-1])
        h = 1e-4 * max(1.0, abs(v))
        return (self(v + h) - self(v - h)) / (2.0 * h)


@dataclass(frozen=True)
class VixLinear(RiskAversionRule):
    """``lam = lam0 * (1 + eta * VIX)``, optionally clipped, optionally smoothed along a path.

    Parameters
    ----------
    lam0 : float, default 2.0
        Risk aversion at VIX = 0 (>= 0).
    eta : float, default 0.05
        Sensitivity per VIX point.
    clip : (float, float) or None
        Bounds ``(lo, hi)`` applied to lam.
    smoothing : float or None
        Half-life in observations of an EWMA applied to the VIX series by :meth:`path` before the
        rule (past-only, so no look-ahead).  ``__call__`` on one level never smooths.
    """

    lam0: float = DEFAULT_LAM0
    eta: float = DEFAULT_ETA
    clip: tuple[float, float] | None = None
    smoothing: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lam0) and self.lam0 >= 0):
            raise ConfigError(f"`lam0` must be a finite float >= 0, got {self.lam0!r}")
        if not math.isfinite(self.eta):
            raise ConfigError(f"`eta` must be finite, got {self.eta!r}")
        if self.clip is not None and not (0 <= self.clip[0] <= self.clip[1]):
            raise ConfigError(f"`clip` must be (lo, hi) with 0 <= lo <= hi, got {self.clip!r}")
        if self.smoothing is not None and not self.smoothing > 0:
            raise ConfigError(
                f"`smoothing` must be a positive half-life or None, got {self.smoothing!r}"
            )

    def _rule(self, v: np.ndarray) -> np.ndarray:
        lam = self.lam0 * (1.0 + self.eta * v)
        if self.clip is not None:
            lam = np.clip(lam, self.clip[0], self.clip[1])
        return np.maximum(lam, 0.0)

    def __call__(self, vix: float) -> float:
        return float(self._rule(np.array(_check_vix(vix))))

    def path(self, vix: pd.Series | np.ndarray) -> pd.Series | np.ndarray:
        s = pd.Series(np.asarray(vix, dtype=float))
        if self.smoothing is not None:
            s = s.ewm(halflife=self.smoothing, ignore_na=True).mean()
        out = self._rule(s.to_numpy(dtype=float, copy=True))
        return pd.Series(out, index=vix.index, name="lam") if isinstance(vix, pd.Series) else out

    def dlam_dvix(self, vix: float | np.ndarray) -> float:
        """d lam / d VIX_t, closed form: ``lam0 * eta`` times the weight of today's level.

        ``vix`` is a level, or (with ``smoothing``) the past path whose last level is today's:
        the EWMA gives today's level the weight ``alpha / (1 - (1 - alpha)^m)`` with
        ``alpha = 1 - 2^(-1/halflife)`` and m the path's finite levels (pandas' ``adjust=True``).
        Zero where ``clip`` or the floor at 0 binds (the one-sided derivative away from it).
        """
        levels = np.asarray(vix, dtype=float).reshape(-1)
        if self.smoothing is not None:
            level = float(self.path(levels)[-1])
            lam_raw = self.lam0 * (1.0 + self.eta * _ewm_level(levels, self.smoothing))
            alpha = 1.0 - 0.5 ** (1.0 / self.smoothing)
            m = int(np.isfinite(levels).sum())
            weight = alpha / (1.0 - (1.0 - alpha) ** m)
        else:
            v = _check_vix(levels[-1])
            lam_raw = self.lam0 * (1.0 + self.eta * v)
            level = lam_raw if self.clip is None else min(max(lam_raw, self.clip[0]), self.clip[1])
            level = max(level, 0.0)
            weight = 1.0
        if level != lam_raw:  # the clip or the floor at 0 binds
            return 0.0
        return self.lam0 * self.eta * weight


@dataclass(frozen=True)
class Constant(RiskAversionRule):
    """A constant ``lam`` whatever the VIX."""

    lam: float = DEFAULT_LAM0

    def __post_init__(self) -> None:
        _check_lam(float(self.lam), "`lam`")

    def __call__(self, vix: float) -> float:
        return float(self.lam)

    def dlam_dvix(self, vix: float | np.ndarray) -> float:
        """Zero: a constant does not move with the index."""
        return 0.0


@dataclass(frozen=True)
class Callable(RiskAversionRule):
    """Wrap a user function ``func(vix: float) -> float``; its output is checked (finite, >= 0)."""

    func: _Fn[[float], float]

    def __call__(self, vix: float) -> float:
        return _check_lam(float(self.func(_check_vix(vix))), "the risk-aversion callable")
