"""VaR backtests: Kupiec's proportion of failures, Christoffersen's independence and conditional
coverage, and the Basel traffic light.

``level`` is always the VaR CONFIDENCE (0.95 for a 95% VaR), so the expected failure (breach)
rate is ``p = 1 - level``. A failure is a realized return below the VaR (both are returns,
negative = loss; see :mod:`rwafolio.risk.forecast`). Likelihood ratios use ``0 * log(0) = 0``, so
zero failures and all failures are handled exactly.

Power: :func:`kupiec_power` and :func:`traffic_light_power` are exact binomial sums against a
stated alternative breach rate (default twice ``1 - level``); the Christoffersen tests have no
binomial form and get a seeded simulation (:func:`simulated_power`). :func:`rolling_traffic_light`
gives the zone of every rolling window (250 forecasts for the Basel 1-day VaR99).

References: Kupiec (1995), "Techniques for verifying the accuracy of risk measurement models";
Christoffersen (1998), "Evaluating interval forecasts"; Basel Committee (1996), "Supervisory
framework for the use of backtesting" (zones from the binomial cumulative probability: green
below 95%, yellow below 99.99%, red otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import xlogy
from scipy.stats import binom, chi2

from rwafolio.exceptions import ConfigError, DataError, describe

Zone = Literal["green", "yellow", "red"]


@dataclass(frozen=True)
class TestResult:
    """One likelihood-ratio test of VaR breaches.

    Attributes
    ----------
    name : str
    statistic : float
        Likelihood-ratio statistic (chi-square distributed under the null).
    df : int
        Degrees of freedom of the reference chi-square.
    p_value : float
    n_obs, n_failures : int
    expected_rate : float or None
        ``1 - level`` (None for the independence test, which does not use it).
    reject : bool
        ``p_value < alpha``.
    alpha : float
        Significance used for the verdict.
    verdict : str
        Human-readable conclusion.
    """

    name: str
    statistic: float
    df: int
    p_value: float
    n_obs: int
    n_failures: int
    expected_rate: float | None
    reject: bool
    alpha: float
    verdict: str


@dataclass(frozen=True)
class TrafficLight:
    """Basel traffic-light zone of a failure count.

    Attributes
    ----------
    zone : {"green", "yellow", "red"}
    cumulative_probability : float
        ``P(X <= n_failures)`` for ``X ~ Binomial(n_obs, 1 - level)``.
    n_obs, n_failures : int
    level : float
    yellow_from, red_from : int
        Smallest failure counts in the yellow and red zones for this ``n_obs`` and ``level``.
    verdict : str
    """

    zone: Zone
    cumulative_probability: float
    n_obs: int
    n_failures: int
    level: float
    yellow_from: int
    red_from: int
    verdict: str


def _check_level(level: float) -> float:
    if not isinstance(level, (int, float, np.floating)) or not (0.0 < float(level) < 1.0):
        raise ConfigError(f"`level` must be a VaR confidence in (0, 1), e.g. 0.95, got {level!r}")
    return float(level)


def _check_counts(n_obs: int, n_failures: int) -> tuple[int, int]:
    if not isinstance(n_obs, (int, np.integer)) or isinstance(n_obs, bool) or n_obs < 1:
        raise DataError(f"`n_obs` must be a positive int, got {n_obs!r}")
    if (
        not isinstance(n_failures, (int, np.integer))
        or isinstance(n_failures, bool)
        or not 0 <= n_failures <= n_obs
    ):
        raise DataError(f"`n_failures` must be an int in [0, n_obs={n_obs}], got {n_failures!r}")
    return int(n_obs), int(n_failures)


def _breaches(breaches: Sequence[bool] | np.ndarray | pd.Series) -> np.ndarray:
    b = np.asarray(breaches.to_numpy() if isinstance(breaches, pd.Series) else breaches)
    if b.ndim != 1 or b.shape[0] < 2:
        raise DataError(
            f"`breaches` must be a 1D sequence of at least 2 booleans, got {describe(b)}"
        )
    if b.dtype != bool:
        if not np.all(np.isin(b, (0, 1))):
            raise DataError("`breaches` must hold booleans (or 0/1)")
        b = b.astype(bool)
    return b


def _verdict(name: str, reject: bool, alpha: float, what: str) -> str:
    if reject:
        return f"{name}: reject at {alpha:.0%} ({what} is rejected)"
    return f"{name}: do not reject at {alpha:.0%} ({what} is consistent with the data)"


def _lr_pof(n: int, x: int, p: float) -> float:
    """-2 log of the likelihood ratio of rate p against the observed rate x/n (0 log 0 = 0)."""
    phat = x / n
    ll0 = xlogy(n - x, 1.0 - p) + xlogy(x, p)
    ll1 = xlogy(n - x, 1.0 - phat) + xlogy(x, phat)
    return float(max(-2.0 * (ll0 - ll1), 0.0))


def kupiec_pof(n_obs: int, n_failures: int, level: float, *, alpha: float = 0.05) -> TestResult:
    """Kupiec's proportion-of-failures (unconditional coverage) test.

    ``LR = -2 [log((1-p)^(N-x) p^x) - log((1-x/N)^(N-x) (x/N)^x)]``, chi-square with 1 dof,
    with ``p = 1 - level``.

    Parameters
    ----------
    n_obs : int
        N, number of forecasts checked.
    n_failures : int
        x, number of breaches (realized return below the VaR).
    level : float
        VaR confidence (0.95).
    alpha : float
        Significance of the verdict.
    """
    n, x = _check_counts(n_obs, n_failures)
    lv = _check_level(level)
    p = 1.0 - lv
    lr = _lr_pof(n, x, p)
    pv = float(chi2.sf(lr, 1))
    reject = pv < alpha
    what = f"a failure rate of {p:.2%} (observed {x}/{n} = {x / n:.2%})"
    return TestResult(
        "Kupiec POF", lr, 1, pv, n, x, p, reject, alpha, _verdict("Kupiec POF", reject, alpha, what)
    )


def _transitions(b: np.ndarray) -> tuple[int, int, int, int]:
    prev, cur = b[:-1], b[1:]
    n00 = int(np.sum(~prev & ~cur))
    n01 = int(np.sum(~prev & cur))
    n10 = int(np.sum(prev & ~cur))
    n11 = int(np.sum(prev & cur))
    return n00, n01, n10, n11


def _lr_ind(b: np.ndarray) -> float:
    n00, n01, n10, n11 = _transitions(b)
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    pi01 = n01 / (n00 + n01) if n00 + n01 > 0 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 > 0 else 0.0
    ll0 = xlogy(n00 + n10, 1.0 - pi) + xlogy(n01 + n11, pi)
    ll1 = xlogy(n00, 1.0 - pi01) + xlogy(n01, pi01) + xlogy(n10, 1.0 - pi11) + xlogy(n11, pi11)
    return float(max(-2.0 * (ll0 - ll1), 0.0))


def christoffersen_independence(
    breaches: Sequence[bool] | np.ndarray | pd.Series, *, alpha: float = 0.05
) -> TestResult:
    """Christoffersen's test that breaches are independent (first-order Markov alternative).

    With transition counts ``n_ij`` (state i followed by state j, 1 = breach) over the T - 1
    consecutive pairs, ``pi01 = n01 / (n00 + n01)``, ``pi11 = n11 / (n10 + n11)`` and
    ``pi = (n01 + n11) / (T - 1)``:
    ``LR = -2 [log L(pi) - log L(pi01, pi11)]``, chi-square with 1 dof.

    Parameters
    ----------
    breaches : sequence of bool, length T >= 2
        Breach indicator per forecast, in time order (non-overlapping windows recommended).
    """
    b = _breaches(breaches)
    lr = _lr_ind(b)
    pv = float(chi2.sf(lr, 1))
    reject = pv < alpha
    return TestResult(
        "Christoffersen independence", lr, 1, pv, int(b.shape[0]), int(b.sum()), None, reject,
        alpha, _verdict("Christoffersen independence", reject, alpha, "independence of breaches"),
    )  # fmt: skip


def conditional_coverage(
    breaches: Sequence[bool] | np.ndarray | pd.Series, level: float, *, alpha: float = 0.05
) -> TestResult:
    """Christoffersen's conditional coverage: ``LR_cc = LR_pof + LR_ind``, chi-square 2 dof.

    ``LR_pof`` is Kupiec's statistic on all T observations; ``LR_ind`` the independence one.
    """
    b = _breaches(breaches)
    p = 1.0 - _check_level(level)
    n, x = int(b.shape[0]), int(b.sum())
    lr = _lr_pof(n, x, p) + _lr_ind(b)
    pv = float(chi2.sf(lr, 2))
    reject = pv < alpha
    what = f"independent breaches at rate {p:.2%}"
    return TestResult(
        "Conditional coverage", lr, 2, pv, n, x, p, reject, alpha,
        _verdict("Conditional coverage", reject, alpha, what),
    )  # fmt: skip


def traffic_light(n_obs: int, n_failures: int, level: float) -> TrafficLight:
    """Basel traffic light, scaled to ``n_obs`` and ``level``.

    ``P = P(X <= n_failures)`` with ``X ~ Binomial(n_obs, 1 - level)``: green if ``P < 0.95``,
    yellow if ``P < 0.9999``, red otherwise. At 250 observations and 99% this gives the Basel
    table: green 0-4, yellow 5-9, red 10 or more.
    """
    n, x = _check_counts(n_obs, n_failures)
    lv = _check_level(level)
    p = 1.0 - lv
    cdf = float(binom.cdf(x, n, p))
    zone: Zone = "green" if cdf < 0.95 else ("yellow" if cdf < 0.9999 else "red")
    ks = np.arange(n + 1)
    cdfs = binom.cdf(ks, n, p)
    yellow_from = int(ks[np.argmax(cdfs >= 0.95)]) if np.any(cdfs >= 0.95) else n + 1
    red_from = int(ks[np.argmax(cdfs >= 0.9999)]) if np.any(cdfs >= 0.9999) else n + 1
    verdict = (
        f"{zone}: {x} failures in {n} at {lv:.2%} VaR (P(X <= {x}) = {cdf:.4f}; "
        f"yellow from {yellow_from}, red from {red_from})"
    )
    return TrafficLight(zone, cdf, n, x, lv, yellow_from, red_from, verdict)


@dataclass(frozen=True)
class BacktestSuite:
    """The four VaR backtests on one breach series, with the sampling that produced it.

    Attributes
    ----------
    level : float
    sampling : str
        How the breach series was sampled (e.g. "non-overlapping: every forecast at least H
        periods after the previous one").
    breaches : Series of bool
        The series tested, indexed by forecast date.
    kupiec, independence, conditional : TestResult
    traffic : TrafficLight
    """

    level: float
    sampling: str
    breaches: pd.Series
    kupiec: TestResult
    independence: TestResult
    conditional: TestResult
    traffic: TrafficLight

    def to_frame(self) -> pd.DataFrame:
        """One row per test: statistic, p_value, reject, verdict."""
        rows = [
            {"test": t.name, "statistic": t.statistic, "p_value": t.p_value, "reject": t.reject,
             "verdict": t.verdict}
            for t in (self.kupiec, self.independence, self.conditional)
        ]  # fmt: skip
        rows.append(
            {"test": "Basel traffic light", "statistic": float(self.traffic.n_failures),
             "p_value": self.traffic.cumulative_probability,
             "reject": self.traffic.zone == "red", "verdict": self.traffic.verdict}
        )  # fmt: skip
        return pd.DataFrame(rows).set_index("test")


def run_all(
    breaches: pd.Series, level: float, sampling: str, *, alpha: float = 0.05
) -> BacktestSuite:
    """Run the four tests on one breach series (needs at least 2 observations)."""
    b = _breaches(breaches)
    n, x = int(b.shape[0]), int(b.sum())
    return BacktestSuite(
        level=float(level),
        sampling=sampling,
        breaches=breaches.astype(bool).copy(),
        kupiec=kupiec_pof(n, x, level, alpha=alpha),
        independence=christoffersen_independence(b, alpha=alpha),
        conditional=conditional_coverage(b, level, alpha=alpha),
        traffic=traffic_light(n, x, level),
    )


def _lr_pof_all(n: int, p: float) -> np.ndarray:
    """Kupiec's statistic for every failure count 0..n (vectorized :func:`_lr_pof`)."""
    x = np.arange(n + 1, dtype=float)
    phat = x / n
    ll0 = xlogy(n - x, 1.0 - p) + xlogy(x, p)
    ll1 = xlogy(n - x, 1.0 - phat) + xlogy(x, phat)
    return np.maximum(-2.0 * (ll0 - ll1), 0.0)


def alternative_rate(level: float, alt_rate: float | None = None) -> float:
    """The breach rate the power is computed against: ``alt_rate``, or twice ``1 - level``."""
    p = 1.0 - _check_level(level)
    q = 2.0 * p if alt_rate is None else float(alt_rate)
    if not (0.0 < q < 1.0):
        raise ConfigError(f"`alt_rate` must be a breach rate in (0, 1), got {alt_rate!r}")
    return q


def kupiec_power(
    n_obs: int, level: float, *, alt_rate: float | None = None, alpha: float = 0.05
) -> float:
    """Exact power of :func:`kupiec_pof` against a true breach rate ``alt_rate``.

    ``P(p_value(X) < alpha)`` for ``X ~ Binomial(n_obs, alt_rate)``, summed over the failure
    counts the test rejects (no approximation). ``alt_rate`` defaults to ``2 * (1 - level)``;
    with ``alt_rate = 1 - level`` it is the test's exact size.
    """
    n, _ = _check_counts(n_obs, 0)
    p = 1.0 - _check_level(level)
    q = alternative_rate(level, alt_rate)
    rejects = chi2.sf(_lr_pof_all(n, p), 1) < alpha
    return float(binom.pmf(np.flatnonzero(rejects), n, q).sum())


def traffic_light_power(n_obs: int, level: float, *, alt_rate: float | None = None) -> float:
    """Exact probability that the traffic light leaves green when the true rate is ``alt_rate``.

    ``P(X >= yellow_from)`` for ``X ~ Binomial(n_obs, alt_rate)`` (default ``2 * (1 - level)``).
    """
    q = alternative_rate(level, alt_rate)
    tl = traffic_light(n_obs, 0, level)
    return float(binom.sf(tl.yellow_from - 1, tl.n_obs, q))


def simulated_power(
    test: Literal["independence", "conditional"],
    n_obs: int,
    level: float,
    *,
    alpha: float = 0.05,
    n_sims: int = 2000,
    rng: np.random.Generator | int = 0,
) -> float:
    """Seeded Monte Carlo power of the Christoffersen tests (they have no binomial form).

    Alternatives, stated: ``"conditional"``: independent breaches at twice the rate ``1 - level``;
    ``"independence"``: clustered breaches, a first-order Markov chain with the stationary rate
    ``1 - level`` whose breach is followed by another with probability ``min(10 (1 - level),
    0.5)``.
    """
    n, _ = _check_counts(n_obs, 0)
    if n < 2:
        return float("nan")
    p = 1.0 - _check_level(level)
    gen = np.random.default_rng(rng)
    u = gen.random((n_sims, n))
    if test == "conditional":
        paths = u < 2.0 * p
    else:
        p11 = min(10.0 * p, 0.5)
        p01 = p * (1.0 - p11) / (1.0 - p)  # keeps the stationary rate at p
        paths = np.empty((n_sims, n), dtype=bool)
        paths[:, 0] = u[:, 0] < p
        for t in range(1, n):
            paths[:, t] = u[:, t] < np.where(paths[:, t - 1], p11, p01)
    hits = 0
    for b in paths:
        lr = _lr_ind(b) + (_lr_pof(n, int(b.sum()), p) if test == "conditional" else 0.0)
        hits += chi2.sf(lr, 2 if test == "conditional" else 1) < alpha
    return hits / n_sims


@dataclass(frozen=True)
class RollingZones:
    """The Basel traffic light on every rolling window of a breach series.

    Attributes
    ----------
    window : int
        Forecasts per window (250 for the Basel standard).
    counts : Series of int
        Breaches in the window ending at each date (from the ``window``-th forecast on).
    zones : Series of str
        Zone of each window.
    n_green, n_yellow, n_red : int
        Windows per zone.
    worst : {"green", "yellow", "red"}
    yellow_from, red_from : int
        Breach counts at which a window turns yellow and red.
    """

    window: int
    counts: pd.Series
    zones: pd.Series
    n_green: int
    n_yellow: int
    n_red: int
    worst: Zone
    yellow_from: int
    red_from: int


def rolling_traffic_light(breaches: pd.Series, level: float, window: int = 250) -> RollingZones:
    """Zone of every window of ``window`` consecutive forecasts (step one forecast).

    Raises
    ------
    DataError
        If the series is shorter than one window.
    """
    b = _breaches(breaches).astype(np.int64)
    if not isinstance(window, int) or window < 1:
        raise ConfigError(f"`window` must be a positive int, got {window!r}")
    if b.shape[0] < window:
        raise DataError(f"`breaches` has {b.shape[0]} forecasts, fewer than one window ({window})")
    csum = np.concatenate([[0], np.cumsum(b)])
    counts = csum[window:] - csum[:-window]
    tl = traffic_light(window, 0, level)
    zones = np.where(
        counts >= tl.red_from, "red", np.where(counts >= tl.yellow_from, "yellow", "green")
    )
    index = breaches.index[window - 1 :] if isinstance(breaches, pd.Series) else None
    n_red, n_yellow = int((zones == "red").sum()), int((zones == "yellow").sum())
    worst: Zone = "red" if n_red else ("yellow" if n_yellow else "green")
    return RollingZones(
        window=window,
        counts=pd.Series(counts, index=index, name="breaches"),
        zones=pd.Series(zones, index=index, name="zone"),
        n_green=int(counts.shape[0] - n_red - n_yellow),
        n_yellow=n_yellow,
        n_red=n_red,
        worst=worst,
        yellow_from=tl.yellow_from,
        red_from=tl.red_from,
    )
