"""Market impact: the square-root law with a permanent part that decays, calibrated per asset.

The model
---------
A signed flow of ``q`` (quote currency, buying positive) traded in one day in an asset with daily
volume ``V`` and daily volatility ``sigma`` moves its price by

    I(q) = sign(q) * Y * sigma * sqrt(|q| / V)                      (square-root law)

The trader pays all of ``I`` on the day (temporary impact). A share ``phi`` of it stays in the
price and decays geometrically with half-life ``h`` days (a propagator ``G(tau) = phi * 2**(-tau / h)``,
``h = inf`` being permanent), so the price displacement follows

    D_t = 2**(-1/h) * D_{t-1} + phi * I(q_t)

and the day-t return an outsider sees gains ``D_t - D_{t-1}`` (with ``D_{-1} = 0``).

Defaults and their sources
--------------------------
* ``Y = 1.0``: the square-root law's prefactor is of order one across equities, futures and
  options (Toth et al., "Anomalous price impact and the critical nature of liquidity in financial
  markets", Phys. Rev. X 1, 021006, 2011; Bouchaud, Bonart, Donier and Gould, *Trades, Quotes and
  Prices*, Cambridge UP 2018, ch. 12, who quote Y ~ 0.5-1) and on Bitcoin (Donier and Bonart,
  "A million metaorder analysis of market impact on the Bitcoin", Market Microstructure and
  Liquidity 1(2), 2015).
* ``permanent_share = 2/3``: after a metaorder ends its impact relaxes to about two thirds of the
  peak (Bershova and Rakhlin, "The non-linear market impact of large trades", Quantitative
  Finance 13(11), 2013; Moro et al., Phys. Rev. E 80, 066102, 2009, find 0.5-0.7).
* ``half_life = 5`` days: impact keeps decaying for days after execution (Brokmann et al., "Slow
  decay of impact in equity markets", Market Microstructure and Liquidity 1(2), 2015). The value
  5 is our documented assumption, not a fit.

Liquidity
---------
Per asset, the daily volume comes from the panel (its own sessions, past only) when the asset
*is* what trades there (crypto, stablecoins). For an RWA proxy the panel's volume belongs to the
ETF, not to the token: a token's volume and spread come from a :class:`LiquidityProfile` the user
gives, or from :data:`TOKEN_PROFILE`, our documented assumption by what the token stands in for.
The proxy's ETF volume never stands in for the token's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numba as nb
import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError
from rwafolio.loaders.volume import Liquidity
from rwafolio.universe import Asset, Universe


def _ro(d: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(d))


#: Assumed daily secondary-market volume (USD) of the tokenized asset an RWA proxy stands in for.
#: Tokenized real estate trades thinly ($0.1-1m a day is plausible; we take the geometric middle);
#: tokenized T-bill funds and tokenized gold trade more. Assumptions, not fits: override them.
TOKEN_PROFILE: Mapping[str, float] = _ro(
    {
        "tokenized real estate": 3e5,
        "tokenized T-bills": 5e6,
        "tokenized gold": 2e7,
        "tokenized long treasuries": 2e6,
    }
)
#: Daily volume assumed for an RWA proxy whose ``proxies`` text is not in :data:`TOKEN_PROFILE`.
DEFAULT_TOKEN_VOLUME = 1e6


@dataclass(frozen=True)
class LiquidityProfile:
    """User-given liquidity of assets whose panel volume is not theirs (tokens behind proxies).

    Parameters
    ----------
    daily_volume : mapping symbol -> float
        Daily traded value in the quote currency (USD).
    spread : mapping symbol -> float
        Quoted bid-ask spread as a fraction of price (0.002 = 20 bp); half of it is paid on each
        trade on top of impact. Missing symbols pay none.
    """

    daily_volume: Mapping[str, float] = field(default_factory=dict)
    spread: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("daily_volume", "spread"):
            for sym, v in getattr(self, name).items():
                bad = not np.isfinite(v) or v < 0 or (name == "daily_volume" and v == 0)
                if bad:
                    raise ConfigError(f"`{name}[{sym!r}]` must be a finite number > 0, got {v!r}")
        object.__setattr__(self, "daily_volume", _ro(self.daily_volume))
        object.__setattr__(self, "spread", _ro(self.spread))


@dataclass(frozen=True)
class ImpactModel:
    """Square-root temporary impact with a decaying permanent share (see the module docstring).

    Parameters
    ----------
    y : float, default 1.0
        Prefactor Y of the square-root law.
    permanent_share : float, default 2/3
        Share phi of the day's impact that stays in the price after the day.
    half_life : float, default 5.0
        Days for the permanent part to halve; ``inf`` keeps it forever.
    """

    y: float = 1.0
    permanent_share: float = 2.0 / 3.0
    half_life: float = 5.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.y) and self.y >= 0):
            raise ConfigError(f"`y` must be a finite number >= 0, got {self.y!r}")
        if not 0.0 <= self.permanent_share <= 1.0:
            raise ConfigError(f"`permanent_share` must be in [0, 1], got {self.permanent_share!r}")
        if not self.half_life > 0:
            raise ConfigError(f"`half_life` must be > 0 days (inf allowed), got {self.half_life!r}")

    @property
    def retention(self) -> float:
        """Share of yesterday's displacement left today: ``2 ** (-1 / half_life)``."""
        return float(2.0 ** (-1.0 / self.half_life))

    def impact(self, flow: np.ndarray, volume: np.ndarray, sigma_daily: np.ndarray) -> np.ndarray:
        """Temporary impact of one day's signed flow, as a fraction of price, same shape as flow."""
        return sqrt_impact(np.asarray(flow, float), np.asarray(volume, float),
                           np.asarray(sigma_daily, float), self.y)  # fmt: skip

    def displacement(
        self, flows: np.ndarray, volume: np.ndarray, sigma_daily: np.ndarray
    ) -> np.ndarray:
        """Price displacement D_t after each day of flows, shape (n_days, n_assets)."""
        f = np.ascontiguousarray(flows, dtype=float)
        return propagate_nb(
            f,
            np.ascontiguousarray(volume, dtype=float),
            np.ascontiguousarray(sigma_daily, dtype=float),
            float(self.y),
            float(self.permanent_share),
            self.retention,
        )


def sqrt_impact(flow: np.ndarray, volume: np.ndarray, sigma: np.ndarray, y: float) -> np.ndarray:
    """``sign(q) * y * sigma * sqrt(|q| / V)``, broadcast over the last axis (assets)."""
    return np.sign(flow) * y * sigma * np.sqrt(np.abs(flow) / volume)


@nb.njit(cache=True)
def propagate_nb(
    flows: np.ndarray, volume: np.ndarray, sigma: np.ndarray, y: float, phi: float, keep: float
) -> np.ndarray:  # pragma: no cover - compiled; the twin is propagate_py
    """Displacement recursion ``D_t = keep * D_{t-1} + phi * I(q_t)``; flows (n_days, n_assets)."""
    n_days, n_assets = flows.shape
    out = np.empty((n_days, n_assets))
    for j in range(n_assets):
        d = 0.0
        for t in range(n_days):
            q = flows[t, j]
            i = 0.0
            if q != 0.0:
                i = y * sigma[j] * np.sqrt(abs(q) / volume[j])
                if q < 0.0:
                    i = -i
            d = keep * d + phi * i
            out[t, j] = d
    return out


def propagate_py(
    flows: np.ndarray, volume: np.ndarray, sigma: np.ndarray, y: float, phi: float, keep: float
) -> np.ndarray:
    """Twin of :func:`propagate_nb` as an explicit convolution with the propagator ``phi*keep**tau``."""
    impacts = phi * sqrt_impact(flows, volume, sigma, y)
    n = flows.shape[0]
    lags = np.arange(n)
    kernel = np.tril(keep ** (lags[:, None] - lags[None, :]).astype(float))
    return kernel @ impacts


@dataclass(frozen=True)
class Calibration:
    """Per-asset inputs of the impact model and where each came from.

    Attributes
    ----------
    daily_volume : Series of shape (n_assets,)
        Quote-currency daily volume used for impact.
    sigma_daily : Series of shape (n_assets,)
        Daily volatility (from the panel's own sessions).
    spread : Series of shape (n_assets,)
        Quoted spread, fraction of price (0 where not given).
    source : Series of str
        ``"panel ADV"``, ``"profile"`` or ``"assumed token profile: <what it proxies>"``.
    """

    daily_volume: pd.Series
    sigma_daily: pd.Series
    spread: pd.Series
    source: pd.Series

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "daily_volume": self.daily_volume,
                "sigma_daily": self.sigma_daily,
                "spread": self.spread,
                "source": self.source,
            }
        )


def own_volume(asset: Asset) -> bool:
    """Whether the panel's volume of this asset is the traded asset's own.

    Crypto and stablecoins trade as themselves; so does an RWA that trades 24/7 (it is itself a
    token, e.g. PAXG). An exchange-traded RWA proxy's volume is the ETF's, not the token's.
    """
    return asset.asset_class in ("crypto", "stable") or asset.calendar == "24/7"


def calibrate(
    universe: Universe,
    liquidity: Liquidity,
    profile: LiquidityProfile | None = None,
) -> Calibration:
    """Daily volume, volatility and spread per asset for the impact model.

    A symbol in ``profile.daily_volume`` takes that volume. Otherwise a crypto asset or a
    stablecoin (or a 24/7 token such as PAXG) takes its panel ADV (it is what trades), and an
    exchange-traded RWA proxy (or an asset with no
    volume in the panel) takes :data:`TOKEN_PROFILE` by what it stands in for, else
    :data:`DEFAULT_TOKEN_VOLUME`: the proxy's ETF volume never stands in for the token's.

    Raises
    ------
    ConfigError
        ``profile`` names a symbol outside the universe, or an asset has no daily volatility.
    """
    profile = profile or LiquidityProfile()
    symbols = universe.symbols
    for name in ("daily_volume", "spread"):
        extra = sorted(set(getattr(profile, name)) - set(symbols))
        if extra:
            raise ConfigError(f"`profile.{name}` names {extra}, which are not in the universe")
    vol, src = [], []
    for sym in symbols:
        asset = universe[sym]
        adv = float(liquidity.adv.get(sym, np.nan))
        if sym in profile.daily_volume:
            vol.append(float(profile.daily_volume[sym]))
            src.append("profile")
        elif own_volume(asset) and np.isfinite(adv) and adv > 0:
            vol.append(adv)
            src.append("panel ADV")
        else:
            what = asset.proxies or asset.asset_class
            vol.append(float(TOKEN_PROFILE.get(what, DEFAULT_TOKEN_VOLUME)))
            src.append(f"assumed token profile: {what}")
    sigma = liquidity.sigma_daily.reindex(symbols)
    if not np.all(np.isfinite(sigma.to_numpy(dtype=float))):
        bad = sigma.index[~np.isfinite(sigma.to_numpy(dtype=float))].tolist()
        raise ConfigError(f"no daily volatility for {bad}: the panel has too few sessions")
    spread = pd.Series([float(profile.spread.get(s, 0.0)) for s in symbols], index=symbols)
    return Calibration(
        daily_volume=pd.Series(vol, index=symbols, name="daily_volume"),
        sigma_daily=sigma.rename("sigma_daily"),
        spread=spread.rename("spread"),
        source=pd.Series(src, index=symbols, name="source"),
    )
