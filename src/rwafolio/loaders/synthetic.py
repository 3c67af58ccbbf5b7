"""A seeded, offline generator of a realistic mixed crypto / RWA-proxy market (all synthetic).

What it produces (symbols look familiar, but every number is made up and labelled synthetic):

=========  ============  ===================================================================
symbol     class         calibrated to (annualized; 2019-2024 unless noted)
=========  ============  ===================================================================
BTC-USD    crypto, 24/7  realized vol ~60-80% (calm 55%, stress 100%)
ETH-USD    crypto, 24/7  realized vol ~75-95% (calm 70%, stress 120%); corr with BTC 0.75-0.85
USDT-USD   stable, 24/7  |P-1| ~ 0.1% day to day; rare depegs of 2-6% (about 1 in 3 years calm,
                         1 in 5 months of stress) that decay with a ~2.4-day half-life
VNQ        rwa, XNYS     vol ~20% (calm 15%, stress 40%, cf. 2020 and 2022)
BIL        rwa, XNYS     T-bill fund: vol ~0.3%, positive drift ~2%/yr (0-5% yields 2019-24)
GLD        rwa, XNYS     vol ~15% (calm 13%, stress 20%), ~uncorrelated
VIX        index, XNYS   mean ~19 (CBOE 1990-2024 average 19.5), calm ~15, stress 30-80
                         (peak close 82.7 on 2020-03-16); published on NYSE sessions only
=========  ============  ===================================================================

Mechanics, day by day on the calendar:

- a two-state Markov regime (calm / stress): P(calm->stress) = 1/180 a day, P(stress->calm) = 1/45,
  so about 20% of days are stressed, in episodes of ~6 weeks (COVID 2020, 2022 bear market);
- multivariate Student-t shocks (4 degrees of freedom, scaled to unit variance) through the
  regime's correlation matrix; in stress real estate's correlation with crypto rises from 0.1 to
  0.5 (the 2020/2022 pattern of crypto trading as a risk asset);
- GARCH(1,1) volatility clustering per asset (alpha 0.08, beta 0.90, unit long-run variance);
- crypto moves every calendar day (daily vol = annual / sqrt(365)); exchange proxies move on NYSE
  sessions only (per-session vol = annual / sqrt(252)) and have no rows when the NYSE is closed;
- the VIX-like index mean-reverts in logs toward 14 (calm) or 32 (stress), jumps up on large
  negative equity-proxy shocks and is kept within [9, 85].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError
from rwafolio.loaders.calendar import nyse_sessions
from rwafolio.loaders.frames import as_date

DEFAULT_SEED = 7
DEFAULT_START = "2019-01-01"
DEFAULT_END = "2024-12-31"

#: (symbol, calendar, annual vol calm, annual vol stress, annual drift calm, annual drift stress);
#: drifts are arithmetic (the log drift is drift - vol**2 / 2), so the calm/stress mix gives
#: BTC ~ +14%/yr, ETH ~ +6%/yr, VNQ ~ +4%/yr, BIL ~ +2%/yr, GLD ~ +4%/yr in log terms.
RISKY: tuple[tuple[str, str, float, float, float, float], ...] = (
    ("BTC-USD", "24/7", 0.55, 1.00, 0.60, -0.60),
    ("ETH-USD", "24/7", 0.70, 1.20, 0.70, -0.80),
    ("VNQ", "XNYS", 0.15, 0.40, 0.12, -0.20),
    ("BIL", "XNYS", 0.003, 0.005, 0.02, 0.02),
    ("GLD", "XNYS", 0.13, 0.20, 0.05, 0.05),
)
STABLE = "USDT-USD"
SYMBOLS: tuple[str, ...] = ("BTC-USD", "ETH-USD", STABLE, "VNQ", "BIL", "GLD")


def _corr(btc_eth: float, crypto_re: float, gold: float) -> np.ndarray:
    """Correlation over (BTC, ETH, VNQ, BIL, GLD)."""
    c = np.eye(5)
    pairs = {
        (0, 1): btc_eth,
        (0, 2): crypto_re,
        (1, 2): crypto_re,
        (0, 4): gold,
        (1, 4): gold,
        (2, 4): gold,
        (2, 3): 0.05,
        (3, 4): 0.05,
    }
    for (i, j), v in pairs.items():
        c[i, j] = c[j, i] = v
    return c


CORR_CALM = _corr(0.75, 0.10, 0.05)
CORR_STRESS = _corr(0.85, 0.50, 0.10)
P_CALM_TO_STRESS, P_STRESS_TO_CALM = 1 / 180, 1 / 45
T_DF = 4.0
GARCH_ALPHA, GARCH_BETA = 0.08, 0.90


@dataclass(frozen=True)
class SyntheticMarket:
    """Raw output of :func:`generate`: each symbol on its own open days, plus the index.

    Attributes
    ----------
    prices : dict of symbol -> Series
        Crypto and the stablecoin on every calendar day; exchange proxies on NYSE sessions only.
    vix : Series
        VIX-like level (annualized percent) on NYSE sessions.
    regime : Series of int
        0 calm, 1 stress, every calendar day.
    seed : int or None
    """

    prices: Mapping[str, pd.Series]
    vix: pd.Series
    regime: pd.Series
    seed: int | None
    volume: Mapping[str, pd.Series] | None = None


def generate(
    seed: np.random.Generator | int | None = DEFAULT_SEED,
    start: object = DEFAULT_START,
    end: object = DEFAULT_END,
) -> SyntheticMarket:
    """Simulate the synthetic market (see the module docstring for the calibration).

    Parameters
    ----------
    seed : Generator, int or None
        Normalised with ``np.random.default_rng``; the int (if given) is recorded.
    start, end : date-like
        Inclusive calendar range; at least 60 days.
    """
    t0, t1 = as_date(start, "start"), as_date(end, "end")
    days = pd.date_range(t0, t1, freq="D", name="date")
    if len(days) < 60:
        raise ConfigError(f"`start`..`end` must span at least 60 days, got {len(days)}")
    rng = np.random.default_rng(seed)
    sessions = nyse_sessions(t0, t1)
    is_session = days.isin(sessions)
    n, k = len(days), len(RISKY)
    # Regimes.
    u = rng.random(n)
    regime = np.zeros(n, dtype=np.int64)
    for t in range(1, n):
        p = P_CALM_TO_STRESS if regime[t - 1] == 0 else 1 - P_STRESS_TO_CALM
        regime[t] = int(u[t] < p)
    # Student-t shocks with the regime's correlation, unit variance.
    chol = np.stack([np.linalg.cholesky(CORR_CALM), np.linalg.cholesky(CORR_STRESS)])
    normal = rng.standard_normal((n, k))
    scale = np.sqrt((T_DF - 2) / rng.chisquare(T_DF, n))
    shocks = np.einsum("tij,tj->ti", chol[regime], normal) * scale[:, None]
    vol = np.array([[r[2] for r in RISKY], [r[3] for r in RISKY]])
    drift = np.array([[r[4] for r in RISKY], [r[5] for r in RISKY]])
    per_year = np.array([365.0 if r[1] == "24/7" else 252.0 for r in RISKY])
    moves = np.array([[r[1] == "24/7" or s for r in RISKY] for s in is_session])
    logret = np.zeros((n, k))
    h = np.ones(k)
    omega = 1 - GARCH_ALPHA - GARCH_BETA
    for t in range(n):
        sig = vol[regime[t]] / np.sqrt(per_year) * np.sqrt(h)
        mu = drift[regime[t]] / per_year
        logret[t] = np.where(moves[t], mu - 0.5 * sig**2 + sig * shocks[t], 0.0)
        h = np.where(moves[t], omega + GARCH_ALPHA * shocks[t] ** 2 + GARCH_BETA * h, h)
    start_px = np.array([3800.0, 140.0, 80.0, 91.5, 120.0])
    levels = start_px * np.exp(np.cumsum(logret, axis=0))
    prices: dict[str, pd.Series] = {}
    for j, (sym, cal, *_rest) in enumerate(RISKY):
        mask = np.ones(n, dtype=bool) if cal == "24/7" else is_session
        prices[sym] = pd.Series(levels[mask, j], index=days[mask], name=sym)
    # Stablecoin: small AR(1) noise around 1 plus rare depegs that decay.
    noise = np.zeros(n)
    depeg = np.zeros(n)
    eps = rng.standard_normal(n) * 0.0008
    p_depeg = np.where(regime == 1, 1 / 150, 1 / 1000)
    hit = rng.random(n) < p_depeg
    size = rng.uniform(0.02, 0.06, n)
    for t in range(1, n):
        noise[t] = 0.7 * noise[t - 1] + eps[t]
        depeg[t] = 0.75 * depeg[t - 1] - (size[t] if hit[t] else 0.0)
    prices[STABLE] = pd.Series(1.0 + noise + depeg, index=days, name=STABLE)
    prices = {s: prices[s] for s in SYMBOLS}
    # VIX-like index: log OU toward the regime's level, kicked by equity-proxy selloffs.
    target = np.log(np.where(regime == 1, 32.0, 14.0))
    vix_eps = rng.standard_normal(n) * 0.05
    eq = shocks[:, 2]
    lv = np.empty(n)
    lv[0] = np.log(15.0)
    for t in range(1, n):
        lv[t] = lv[t - 1] + 0.06 * (target[t] - lv[t - 1]) + vix_eps[t] + 0.02 * max(-eq[t], 0.0)
        lv[t] = min(max(lv[t], np.log(9.0)), np.log(85.0))
    vix = pd.Series(np.exp(lv[is_session]), index=days[is_session], name="vix")
    volume = _volume(rng, prices, np.abs(np.column_stack([shocks, eps / 0.0008])))
    seed_value = seed if isinstance(seed, (int, np.integer)) else None
    return SyntheticMarket(
        prices,
        vix,
        pd.Series(regime, index=days, name="regime"),
        None if seed_value is None else int(seed_value),
        volume,
    )


#: Typical daily traded value (USD) of each synthetic asset, of the order of its real namesake's
#: (2018-2024 averages from the real files: BTC $26bn, ETH $13bn, USDT $44bn, VNQ $0.46bn,
#: BIL $0.36bn, GLD $1.4bn).
ADV_USD: Mapping[str, float] = {
    "BTC-USD": 2.5e10,
    "ETH-USD": 1.2e10,
    STABLE: 4.0e10,
    "VNQ": 4.5e8,
    "BIL": 3.5e8,
    "GLD": 1.4e9,
}


def _volume(
    rng: np.random.Generator, prices: Mapping[str, pd.Series], abs_shock: np.ndarray
) -> dict[str, pd.Series]:
    """Daily traded value (USD) on each asset's own dates: lognormal noise around its ADV, higher
    on large moves (the mean of ``1 + 0.5 |shock|`` is about 1.4). Drawn after every other draw,
    so prices and the index are the same with or without it."""
    noise = rng.standard_normal(abs_shock.shape)
    out = {}
    cols = [r[0] for r in RISKY] + [STABLE]
    for j, sym in enumerate(cols):
        px = prices[sym]
        # Rows of this asset's own dates inside the generator's day grid.
        pos = np.searchsorted(pd.DatetimeIndex(prices[STABLE].index), px.index)
        z, a = noise[pos, j], np.minimum(abs_shock[pos, j], 6.0)
        level = ADV_USD[sym] * np.exp(0.35 * z - 0.35**2 / 2) * (1.0 + 0.5 * a) / 1.4
        out[sym] = pd.Series(level, index=px.index, name=sym)
    return out
