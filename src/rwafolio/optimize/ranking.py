"""Ranking the inputs of an optimum by what a typical move of each would do to the allocation.

See :mod:`rwafolio.optimize.sensitivity` for the derivatives and the definition of a typical
move (one standard error of each estimate over the estimation window, and a VIX move).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError

if TYPE_CHECKING:
    from rwafolio.optimize.sensitivity import Sensitivity

__all__ = ["rank_inputs", "typical_moves"]


def typical_moves(
    inputs: pd.DataFrame,
    sigma: np.ndarray,
    n_obs: int,
    periods_per_year: float = 1.0,
    vix_move: float = 5.0,
) -> np.ndarray:
    """One standard error of each estimate over ``n_obs`` observations (and ``vix_move`` points).

    Parameters
    ----------
    inputs : DataFrame
        ``Sensitivity.inputs`` (uses ``kind`` and ``value``).
    sigma : ndarray of shape (n_assets,)
        Volatilities in the units of R (annualized by ``periods_per_year``).
    n_obs : int
        T, the number of per-period returns in the estimation window.
    periods_per_year : float, default 1
        Factor that annualized R and Sigma from per-period estimates (1 if they are per period).
        The mean's standard error is ``sigma_period / sqrt(T)`` per period, i.e.
        ``sigma * sqrt(ppy / T)`` annualized.
    vix_move : float, default 5.0
        VIX points.

    Returns
    -------
    ndarray of shape (n_inputs,)
    """
    if not isinstance(n_obs, int | np.integer) or n_obs < 2:
        raise ConfigError(f"`n_obs` must be an integer >= 2, got {n_obs!r}")
    if not np.isfinite(periods_per_year) or periods_per_year <= 0:
        raise ConfigError(f"`periods_per_year` must be > 0, got {periods_per_year!r}")
    kinds = inputs["kind"].to_numpy()
    vals = inputs["value"].to_numpy(dtype=float)
    n = len(sigma)
    out = np.empty(len(inputs))
    out[kinds == "mean"] = sigma * np.sqrt(periods_per_year / n_obs)
    out[kinds == "vol"] = sigma / np.sqrt(2.0 * n_obs)
    out[kinds == "corr"] = (1.0 - vals[kinds == "corr"] ** 2) / np.sqrt(n_obs)
    out[kinds == "vix"] = vix_move
    if int((kinds == "mean").sum()) != n:
        raise DataError("`inputs` must hold one mean row per asset")
    return out


def rank_inputs(
    sens: Sensitivity,
    n_obs: int,
    periods_per_year: float = 1.0,
    vix_move: float = 5.0,
) -> pd.DataFrame:
    """Rank inputs by the first-order L1 turnover a typical move would cause.

    Parameters
    ----------
    sens : Sensitivity
    n_obs, periods_per_year, vix_move
        As in :func:`typical_moves`.

    Returns
    -------
    DataFrame
        One row per input, sorted by ``turnover`` (descending): ``input``, ``kind``, ``asset_i``,
        ``asset_j``, ``value``, ``move`` (the typical move), ``turnover_up`` / ``turnover_down``
        (``sum |dw|`` for +move / -move), ``turnover`` (the larger), ``drisk_up`` /
        ``drisk_down`` (change in annualized portfolio volatility, weights and Sigma moving),
        ``drisk_weights_up`` (the part due to the weights), ``differentiable``, ``rank`` (1 =
        largest).
    """
    sigma = sens.inputs.loc[sens.inputs["kind"] == "vol", "value"].to_numpy(dtype=float)
    move = typical_moves(sens.inputs, sigma, n_obs, periods_per_year, vix_move)
    up = sens.jac_plus.to_numpy() * move[:, None]
    dn = -sens.jac_minus.to_numpy() * move[:, None]
    out = sens.inputs.reset_index()
    out["move"] = move
    out["turnover_up"] = np.abs(up).sum(axis=1)
    out["turnover_down"] = np.abs(dn).sum(axis=1)
    out["turnover"] = np.maximum(out["turnover_up"], out["turnover_down"])
    out["drisk_up"] = sens.drisk_plus.to_numpy() * move
    out["drisk_down"] = -sens.drisk_minus.to_numpy() * move
    out["drisk_weights_up"] = sens.drisk_weights_plus.to_numpy() * move
    out = out.sort_values("turnover", ascending=False, kind="stable").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out
