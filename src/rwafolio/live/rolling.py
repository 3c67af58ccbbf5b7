"""Rolling-window mean and covariance, updated one observation at a time.

Each bar adds the newest return row and drops the oldest: a Welford-style update of the mean and
of the co-moment matrix ``M = sum (x - mean)(x - mean)'`` in O(n^2) per bar, with no sums of
squares that cancel. Rounding still accumulates over many add/drop pairs, so every
``recompute_every`` bars the statistics are recomputed exactly from the window buffer (which the
object keeps anyway: the oldest row must be known to drop it). Tests pin both to
:func:`rwafolio.optimize.estimators.sample` (before its PSD repair).
"""

from __future__ import annotations

import numpy as np

from rwafolio.exceptions import ConfigError, DataError

__all__ = ["IncrementalSample", "RollingMoments"]


class RollingMoments:
    """Mean and unbiased covariance of the last ``window`` rows of a stream.

    Parameters
    ----------
    n_assets : int
    window : int
        Rows in the window (>= 2).
    recompute_every : int, default 1000
        Bars between exact recomputations from the buffer.

    Attributes
    ----------
    buffer : ndarray of shape (window, n_assets)
        The window, oldest row first (valid once ``count >= window``).
    count : int
        Rows in the window (<= window).
    """

    def __init__(self, n_assets: int, window: int, recompute_every: int = 1000) -> None:
        if window < 2 or n_assets < 1 or recompute_every < 1:
            raise ConfigError(
                f"`window` must be >= 2, `n_assets` >= 1 and `recompute_every` >= 1, got "
                f"{window}, {n_assets}, {recompute_every}"
            )
        self.window = int(window)
        self.recompute_every = int(recompute_every)
        self.buffer = np.zeros((window, n_assets))
        self.count = 0
        self._head = 0  # next slot to write (ring buffer)
        self._mean = np.zeros(n_assets)
        self._m2 = np.zeros((n_assets, n_assets))
        self._since = 0

    def push(self, x: np.ndarray) -> None:
        """Add one row of returns, shape (n_assets,); drop the oldest once the window is full."""
        x = np.asarray(x, dtype=float)
        if x.shape != self._mean.shape or not np.all(np.isfinite(x)):
            raise DataError(f"a return row must be {self._mean.shape[0]} finite numbers")
        if self.count == self.window:
            old = self.buffer[self._head].copy()
            self.buffer[self._head] = x
            # Replace old by x with the count fixed: mean moves by (x - old) / N and
            # M += (x - old)(x - mean_new)' + (x - old)... written symmetric below.
            d_old = old - self._mean
            mean_new = self._mean + (x - old) / self.window
            d_new = x - mean_new
            self._m2 += np.outer(x - self._mean, d_new) - np.outer(d_old, old - mean_new)
            self._m2 = 0.5 * (self._m2 + self._m2.T)
            self._mean = mean_new
        else:
            self.buffer[self._head] = x
            self.count += 1
            delta = x - self._mean
            self._mean = self._mean + delta / self.count
            self._m2 += np.outer(delta, x - self._mean)
        self._head = (self._head + 1) % self.window
        self._since += 1
        if self._since >= self.recompute_every:
            self.recompute()

    def window_rows(self) -> np.ndarray:
        """The window in time order (oldest first), shape (count, n_assets); a copy."""
        if self.count < self.window:
            return self.buffer[: self.count].copy()
        return np.concatenate([self.buffer[self._head :], self.buffer[: self._head]])

    def load_sums(self, mean: list[float], m2: list[float], since: int) -> None:
        """Restore the running sums saved by a previous process (after refilling the buffer)."""
        n = self._mean.shape[0]
        self._mean = np.array(mean, dtype=float)
        self._m2 = np.array(m2, dtype=float).reshape(n, n)
        self._since = int(since)

    def recompute(self) -> None:
        """Exact mean and co-moments from the buffer (two-pass)."""
        X = self.window_rows()
        self._mean = X.mean(axis=0)
        D = X - self._mean
        self._m2 = D.T @ D
        self._since = 0

    @property
    def mean(self) -> np.ndarray:
        """Per-period mean, shape (n_assets,)."""
        return self._mean.copy()

    @property
    def cov(self) -> np.ndarray:
        """Unbiased (ddof = 1) covariance, shape (n_assets, n_assets); needs count >= 2."""
        if self.count < 2:
            raise DataError(f"the window holds {self.count} rows; a covariance needs >= 2")
        return self._m2 / (self.count - 1)


class IncrementalSample:
    """The sample estimator served from :class:`RollingMoments` instead of re-reading the window.

    Stands in for :class:`~rwafolio.optimize.estimators.SampleEstimator` in the live rebalancer:
    ``estimate(window)`` returns the rolling mean and the PSD-repaired rolling covariance
    (the same repair :func:`~rwafolio.optimize.estimators.sample` applies), in O(n^2) per bar
    plus the repair's eigen-decomposition. The window passed in must be the moments' window
    (checked by its length); its values are not read.
    """

    def __init__(self, moments: RollingMoments) -> None:
        self.moments = moments

    def estimate(
        self, window_returns: object, periods_per_year: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        from rwafolio.optimize.estimators import _scale, psd_repair

        rows = np.asarray(window_returns).shape[0]
        if rows != self.moments.count:
            raise DataError(
                f"the rolling moments hold {self.moments.count} rows, the window {rows}"
            )
        return _scale(self.moments.mean, psd_repair(self.moments.cov), periods_per_year)
