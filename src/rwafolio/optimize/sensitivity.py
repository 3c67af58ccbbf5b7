"""Sensitivities of the optimal weights to the model's inputs, their ranking, and their path.

The problem (a maximisation, see :mod:`rwafolio.optimize.model`)::

    maximize  U(w) = w'R - lam w'Sigma w - sum_i C_i |w_i - p_i|
    s.t.      sum_i w_i = 1,  lo_i <= w_i <= hi_i,
    Sigma = D rho D (D = diag(sigma)),  lam = lam0 (1 + eta VIX).

**Exact derivatives by implicit differentiation.** At the optimum w* every asset is either *free*
(strictly inside its bounds and off its kink, with trade sign s_i = sign(w_i - p_i)) or *fixed*
(at lo, at hi, or not traded because of the cost kink w_i = p_i). On the free set F::

    2 lam Sigma_FF w_F + nu 1 = R_F - C_F s_F - 2 lam Sigma_FX w_X,   1'w_F = 1 - 1'w_X.

Fixed weights do not move with the inputs, so differentiating gives, for every input theta,
``K [dw_F; dnu] = [b_F; 0]`` with ``K = [[2 lam Sigma_FF, 1], [1', 0]]`` and
``b = d(R - 2 lam Sigma w)/d theta`` at fixed w:

- R_i: ``b = e_i``;
- sigma_k: ``b = -2 lam (e_k (rho D w)_k + sigma * rho[:, k] w_k)``;
- rho_kl (k < l, rho kept symmetric): ``b = -2 lam sigma_k sigma_l (e_k w_l + e_l w_k)``;
- VIX: ``b = -2 (dlam/dVIX) Sigma w`` with ``dlam/dVIX = lam0 eta`` for the linear rule.

**Non-differentiable points.** A fixed asset whose multiplier is zero (strict complementarity
fails: it sits exactly on a bound or kink with no margin, within ``margin_tol``) may start trading
on one side of the input and not on the other. There the derivative is replaced by the two
one-sided (directional) derivatives, computed exactly as the solution of the directional QP::

    maximize  b'd - lam d'Sigma d   s.t.  1'd = 0,  d_i = 0 (strictly fixed),
              d_i >= 0 (weakly active, may move up), d_i <= 0 (weakly active, may move down),

solved by enumerating which weakly-active assets are released (each case is one linear system).
``jac_plus`` is the derivative for the input increasing, ``jac_minus`` the derivative from the
left; they are equal where w* is differentiable, and the input is flagged otherwise.

**Ranking.** A typical move of each input is one standard error of its estimate over the
window of T observations: mean ``sigma_i sqrt(ppy / T)`` (annualized R; ``sigma_i / sqrt(T)`` in
per-period units), volatility ``sigma_i / sqrt(2T)``, correlation ``(1 - rho^2) / sqrt(T)``; and a
5-point VIX move. Its impact is the L1 turnover the move would cause (``sum |dw|``, first order)
and the change in the optimal portfolio's annualized volatility ``sqrt(w'Sigma w)``.

Units: R and Sigma annualized (by ``periods_per_year``); C one-off cost fractions (amortized as the
caller chose); lam multiplies w'Sigma w with no 1/2.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError, OptimizationError
from rwafolio.optimize.model import kkt_residual, validate_problem

__all__ = [
    "AssetState",
    "Sensitivity",
    "active_set",
    "corr_from_cov",
    "input_directions",
    "rank_inputs",
    "sensitivities",
    "typical_moves",
]

AssetState = Literal["free", "lower", "upper", "kink", "frozen"]
InputKind = Literal["mean", "vol", "corr", "vix"]

#: Most weakly-active assets enumerated for one-sided derivatives (2**k linear systems).
MAX_DEGENERATE = 12


# --------------------------------------------------------------------------- kernels (plain arrays)
def corr_from_cov(Sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Volatilities (shape (n,)) and correlation (shape (n, n)) of a covariance; a zero-variance
    asset gets correlation 0 with the others and 1 with itself."""
    sigma = np.sqrt(np.clip(np.diag(Sigma), 0.0, None))
    safe = np.where(sigma > 0, sigma, 1.0)
    rho = Sigma / np.outer(safe, safe)
    rho[sigma == 0, :] = 0.0
    rho[:, sigma == 0] = 0.0
    np.fill_diagonal(rho, 1.0)
    return sigma, np.clip(0.5 * (rho + rho.T), -1.0, 1.0)


def active_set(
    w: np.ndarray,
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    w_prev: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classify assets and snap fixed ones exactly onto their bound or kink.

    Returns
    -------
    state : ndarray of int8, shape (n,)
        0 free, 1 lower, 2 upper, 3 kink, 4 frozen (lo == hi).
    sign : ndarray of shape (n,)
        Trade sign s_i of free assets (0 for fixed ones).
    w_snap : ndarray of shape (n,)
        ``w`` with fixed assets set exactly to lo, hi or w_prev, and the free ones re-solved from
        the KKT system on that active set when that is consistent (else left as given).
    """
    n = w.shape[0]
    state = np.zeros(n, dtype=np.int8)
    snap = w.copy()
    kinked = C > 0
    for i in range(n):
        if hi[i] - lo[i] <= tol:
            state[i], snap[i] = 4, lo[i]
        elif w[i] <= lo[i] + tol:
            state[i], snap[i] = 1, lo[i]
        elif w[i] >= hi[i] - tol:
            state[i], snap[i] = 2, hi[i]
        elif kinked[i] and abs(w[i] - w_prev[i]) <= tol:
            state[i], snap[i] = 3, w_prev[i]
    free = state == 0
    sign = np.where(free, np.sign(w - w_prev), 0.0)
    sign[free & ~kinked] = 0.0
    if free.any():
        F, X = np.flatnonzero(free), np.flatnonzero(~free)
        rhs = R[F] - C[F] * sign[F] - 2.0 * lam * Sigma[np.ix_(F, X)] @ snap[X]
        sol = _kkt_solve(lam, Sigma[np.ix_(F, F)], np.append(rhs, 1.0 - snap[X].sum()))[0]
        wf = sol[:-1]
        same_side = np.all((sign[F] == 0) | (np.sign(wf - w_prev[F]) == sign[F]))
        if np.all(np.isfinite(wf)) and np.all(wf > lo[F]) and np.all(wf < hi[F]) and same_side:
            trial = snap.copy()
            trial[F] = wf
            if kkt_residual(trial, R, Sigma, C, w_prev, lam, lo, hi, tol) <= kkt_residual(
                snap, R, Sigma, C, w_prev, lam, lo, hi, tol
            ):
                snap = trial
    return state, sign, snap


def _kkt_solve(lam: float, S_ff: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, bool]:
    """Solve ``[[2 lam S_ff, 1], [1', 0]] x = rhs`` (rhs of shape (m+1,) or (m+1, k)).

    Returns the solution and whether the matrix was singular (then a least-squares answer)."""
    m = S_ff.shape[0]
    K = np.zeros((m + 1, m + 1))
    K[:m, :m] = 2.0 * lam * S_ff
    K[:m, m] = 1.0
    K[m, :m] = 1.0
    cond = np.linalg.cond(K)
    if np.isfinite(cond) and cond < 1e12:
        return np.linalg.solve(K, rhs), False
    return np.linalg.lstsq(K, rhs, rcond=None)[0], True


def input_directions(
    w: np.ndarray, Sigma: np.ndarray, lam: float, dlam_dvix: float
) -> tuple[list[tuple[str, int, int]], np.ndarray, np.ndarray]:
    """Inputs and, for each, ``b = d(R - 2 lam Sigma w)/d theta`` and ``w' (dSigma/d theta) w``.

    Returns
    -------
    inputs : list of (kind, i, j)
        ``("mean", i, -1)``, ``("vol", i, -1)``, ``("corr", i, j)`` with i < j, ``("vix", -1, -1)``.
    B : ndarray of shape (n_inputs, n)
        Rows b for each input.
    dquad : ndarray of shape (n_inputs,)
        Direct effect on the portfolio variance at fixed w.
    """
    n = w.shape[0]
    sigma, rho = corr_from_cov(Sigma)
    rDw = rho @ (sigma * w)
    inputs: list[tuple[str, int, int]] = []
    rows: list[np.ndarray] = []
    dquad: list[float] = []
    for i in range(n):
        inputs.append(("mean", i, -1))
        rows.append(np.eye(1, n, i)[0])
        dquad.append(0.0)
    for k in range(n):
        v = sigma * rho[:, k] * w[k]
        v[k] += rDw[k]
        inputs.append(("vol", k, -1))
        rows.append(-2.0 * lam * v)
        dquad.append(2.0 * w[k] * rDw[k])
    for k, m in itertools.combinations(range(n), 2):
        v = np.zeros(n)
        v[k], v[m] = sigma[k] * sigma[m] * w[m], sigma[k] * sigma[m] * w[k]
        inputs.append(("corr", k, m))
        rows.append(-2.0 * lam * v)
        dquad.append(2.0 * sigma[k] * sigma[m] * w[k] * w[m])
    inputs.append(("vix", -1, -1))
    rows.append(-2.0 * dlam_dvix * (Sigma @ w))
    dquad.append(0.0)
    return inputs, np.array(rows), np.array(dquad)


def _margins(
    state: np.ndarray,
    sign: np.ndarray,
    w: np.ndarray,
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    w_prev: np.ndarray,
    lam: float,
    tol: float,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Budget multiplier nu and each fixed asset's margins (>= 0 at an optimum).

    ``up[i] = nu - (gain of moving i up)`` where moving up is allowed, ``dn[i] = (h_i +/- C_i)
    - nu`` where moving down is allowed, +inf elsewhere. With no free asset nu is the middle of
    its feasible interval.

    Which side of the cost kink an asset stands on is decided with the tolerance ``tol``, as in
    :func:`~rwafolio.optimize.model.kkt_residual`: an asset within ``tol`` of its previous weight
    is at the kink and pays C in both directions. An exact comparison would put an asset at a
    bound whose drifted previous weight sits round-off away from it (5e-17 after a full sale,
    1 - 1e-12 after a full buy) on the wrong side for all but the first 1e-12 of a move, and
    turn a margin of ~2 C negative.
    """
    h = R - 2.0 * lam * (Sigma @ w)
    free = state == 0
    at_kink = (state == 3) | (np.abs(w - w_prev) <= tol)
    up_gain = np.where(at_kink | (w >= w_prev), h - C, h + C)
    dn_lim = np.where(at_kink | (w <= w_prev), h + C, h - C)
    may_up = (state == 1) | (state == 3)
    may_dn = (state == 2) | (state == 3)
    if free.any():
        nu = float(np.mean(h[free] - C[free] * sign[free]))
    else:
        lo_nu = float(up_gain[may_up].max()) if may_up.any() else -np.inf
        hi_nu = float(dn_lim[may_dn].min()) if may_dn.any() else np.inf
        if np.isfinite(lo_nu) and np.isfinite(hi_nu):
            nu = 0.5 * (lo_nu + hi_nu)
        else:
            nu = lo_nu if np.isfinite(lo_nu) else (hi_nu if np.isfinite(hi_nu) else 0.0)
    up = np.where(may_up, nu - up_gain, np.inf)
    dn = np.where(may_dn, dn_lim - nu, np.inf)
    return nu, up, dn


def _directional(
    b: np.ndarray,
    lam: float,
    Sigma: np.ndarray,
    free: np.ndarray,
    weak_up: np.ndarray,
    weak_dn: np.ndarray,
    eps: float,
) -> tuple[np.ndarray, bool]:
    """Solve the directional QP for one direction b by enumerating released weak assets.

    Returns dw (shape (n,)) and whether the KKT matrix was singular."""
    n = b.shape[0]
    weak = np.flatnonzero(weak_up | weak_dn)
    best, best_viol, best_sing = np.zeros(n), np.inf, False
    for r in range(len(weak) + 1):
        for released in itertools.combinations(weak, r):
            A = np.flatnonzero(free)
            A = np.sort(np.concatenate([A, np.asarray(released, dtype=int)]))
            d = np.zeros(n)
            singular = False
            if A.size:
                x, singular = _kkt_solve(lam, Sigma[np.ix_(A, A)], np.append(b[A], 0.0))
                d[A] = x[:-1]
                red = b - 2.0 * lam * (Sigma @ d) - x[-1]
                rel = np.asarray(released, dtype=int)
                viol = float(np.sum(np.clip(-d[rel[weak_up[rel]]], 0, None)))
                viol += float(np.sum(np.clip(d[rel[weak_dn[rel]]], 0, None)))
                kept = np.setdiff1d(weak, rel)
                viol += float(np.sum(np.clip(red[kept[weak_up[kept]]], 0, None)))
                viol += float(np.sum(np.clip(-red[kept[weak_dn[kept]]], 0, None)))
            else:
                lo_nu = b[weak_up].max() if weak_up.any() else -np.inf
                hi_nu = b[weak_dn].min() if weak_dn.any() else np.inf
                viol = float(max(0.0, lo_nu - hi_nu))
            if viol <= eps:
                return d, singular
            if viol < best_viol:
                best, best_viol, best_sing = d, viol, singular
    return best, best_sing


def _jacobians(
    B: np.ndarray,
    lam: float,
    Sigma: np.ndarray,
    free: np.ndarray,
    weak_up: np.ndarray,
    weak_dn: np.ndarray,
    margin_tol: float,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Right and left derivatives (each of shape (n_inputs, n)) for the input directions ``B``,
    and whether a KKT matrix was singular: one linear solve on the free set when no asset is
    weakly active, else the directional QP per input and side."""
    n_in, n = B.shape
    singular = False
    Jp = np.zeros((n_in, n))
    Jm = np.zeros((n_in, n))
    if not (weak_up | weak_dn).any():
        if free.any():
            F = np.flatnonzero(free)
            rhs = np.vstack([B[:, F].T, np.zeros((1, n_in))])
            x, singular = _kkt_solve(lam, Sigma[np.ix_(F, F)], rhs)
            Jp[:, F] = x[:-1].T
        return Jp, Jp.copy(), singular
    for k in range(n_in):
        Jp[k], s1 = _directional(B[k], lam, Sigma, free, weak_up, weak_dn, margin_tol)
        dneg, s2 = _directional(-B[k], lam, Sigma, free, weak_up, weak_dn, margin_tol)
        Jm[k] = -dneg
        singular = singular or s1 or s2
    return Jp, Jm, singular


def _input_table(
    inputs: list[tuple[str, int, int]],
    names: list[str],
    R: np.ndarray,
    Sigma: np.ndarray,
    vix: float,
) -> pd.DataFrame:
    """One row per input, indexed by its label: ``kind``, ``asset_i``, ``asset_j``, ``value``."""
    sigma, rho = corr_from_cov(Sigma)
    labels, rows = [], []
    for kind, i, j in inputs:
        if kind == "mean":
            lab, val = f"R[{names[i]}]", R[i]
        elif kind == "vol":
            lab, val = f"sigma[{names[i]}]", sigma[i]
        elif kind == "corr":
            lab, val = f"rho[{names[i]},{names[j]}]", rho[i, j]
        else:
            lab, val = "VIX", vix
        labels.append(lab)
        rows.append(
            {
                "kind": kind,
                "asset_i": names[i] if i >= 0 else "",
                "asset_j": names[j] if j >= 0 else "",
                "value": float(val),
            }
        )
    return pd.DataFrame(rows, index=pd.Index(labels, name="input"))


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class Sensitivity:
    """Derivatives of the optimal weights with respect to every input at one solved problem.

    Attributes
    ----------
    weights : Series of shape (n_assets,)
        The optimum w* (snapped exactly onto bounds and kinks).
    state : Series of shape (n_assets,)
        "free", "lower", "upper", "kink" (not traded because of the cost) or "frozen".
    inputs : DataFrame of shape (n_inputs, ...)
        One row per input, indexed by its name (``"R[BTC]"``, ``"sigma[ETH]"``,
        ``"rho[BTC,VNQ]"``, ``"VIX"``): ``kind``, ``asset_i``, ``asset_j``, ``value``,
        ``differentiable``.
    jac_plus, jac_minus : DataFrame of shape (n_inputs, n_assets)
        Right and left derivatives dw*/d(input); equal where ``differentiable``. Units: weight per
        unit of the input (per 1.0 of annualized return or volatility, per 1.0 of correlation,
        per VIX point).
    drisk_plus, drisk_minus : Series of shape (n_inputs,)
        Right and left derivatives of the optimal portfolio's annualized volatility
        ``sqrt(w*'Sigma w*)`` (w* and Sigma both move).
    drisk_weights_plus, drisk_weights_minus : Series of shape (n_inputs,)
        The part of it due to the weights moving (at fixed Sigma).
    degenerate : tuple of str
        Assets whose bound or kink has a zero multiplier (within ``margin_tol``).
    nu : float
        Budget multiplier (units of R).
    lam, dlam_dvix, vix : float
    singular : bool
        The KKT matrix on the free set was singular (e.g. lam = 0); least-squares values.
    kkt_residual : float
        Of ``weights`` (see ``model.kkt_residual``).
    """

    weights: pd.Series
    state: pd.Series
    inputs: pd.DataFrame
    jac_plus: pd.DataFrame
    jac_minus: pd.DataFrame
    drisk_plus: pd.Series
    drisk_minus: pd.Series
    drisk_weights_plus: pd.Series
    drisk_weights_minus: pd.Series
    degenerate: tuple[str, ...]
    nu: float
    lam: float
    dlam_dvix: float
    vix: float
    singular: bool
    kkt_residual: float

    @property
    def jacobian(self) -> pd.DataFrame:
        """dw*/d(input), the average of the one-sided derivatives (exact where differentiable)."""
        return 0.5 * (self.jac_plus + self.jac_minus)

    @property
    def differentiable(self) -> bool:
        """Whether w* is differentiable in every input."""
        return bool(self.inputs["differentiable"].all())


def _labels(obj: object, n: int) -> list[str]:
    if isinstance(obj, pd.Series):
        return [str(s) for s in obj.index]
    if isinstance(obj, pd.DataFrame):
        return [str(s) for s in obj.columns]
    return [f"x{i}" for i in range(n)]


def sensitivities(
    R: object,
    Sigma: object,
    costs: object,
    w_prev: object,
    lam: float,
    *,
    lo: object = None,
    hi: object = None,
    weights: object = None,
    dlam_dvix: float = 0.1,
    vix: float = float("nan"),
    symbols: list[str] | None = None,
    tol: float = 1e-8,
    margin_tol: float = 1e-7,
) -> Sensitivity:
    """Exact sensitivities of the optimal weights to R, sigma, rho and the VIX.

    Parameters
    ----------
    R : ndarray or Series of shape (n_assets,)
        Expected returns (annualized by default).
    Sigma : ndarray or DataFrame of shape (n_assets, n_assets)
        Covariance, same units as R; decomposed as ``D rho D``.
    costs : float or array-like of shape (n_assets,)
        C_i per unit of weight traded, in the units of R (one-off cost / amortization horizon).
    w_prev : array-like of shape (n_assets,)
        Drifted current weights p.
    lam : float
        Risk aversion (no 1/2), > 0 for a unique optimum.
    lo, hi : float or array-like of shape (n_assets,), optional
        Bounds (default 0 and 1).
    weights : array-like of shape (n_assets,), optional
        The optimum, if already known; it is snapped and verified. None: solve with
        :func:`rwafolio.optimize.solve_arrays`.
    dlam_dvix : float, default 0.1
        d lam / d VIX at this point (``lam0 * eta`` for the linear rule; 2.0 * 0.05 by default).
    vix : float
        The index level (recorded only).
    symbols : list of str, optional
        Asset labels (default: the pandas labels of the inputs, else ``x0, x1, ...``).
    tol : float, default 1e-8
        Distance to a bound or kink under which an asset counts as sitting on it.
    margin_tol : float, default 1e-7
        Multiplier (units of R) under which a bound or kink counts as weakly active, so that w*
        is not differentiable there.

    Returns
    -------
    Sensitivity

    Raises
    ------
    DataError, ConfigError
        Invalid inputs, naming the argument.
    OptimizationError
        ``weights`` is not optimal (KKT residual above ``1e3 * margin_tol``) or too many
        degenerate assets to enumerate.
    """
    p = validate_problem(R, Sigma, costs, w_prev, lam, lo, hi)
    n = p.R.shape[0]
    names = (
        list(symbols)
        if symbols is not None
        else _labels(R if isinstance(R, pd.Series) else Sigma, n)
    )
    if len(names) != n:
        raise ConfigError(f"`symbols` must have {n} labels, got {len(names)}")
    if not np.isfinite(dlam_dvix):
        raise ConfigError(f"`dlam_dvix` must be finite, got {dlam_dvix!r}")
    if weights is None:
        from rwafolio.optimize.solver import solve_arrays

        sol = solve_arrays(p.R, p.Sigma, p.C, p.w_prev, p.lam, p.lo, p.hi)
        w0 = np.asarray(sol.weights, dtype=float)
    else:
        w0 = np.array(weights, dtype=float).reshape(-1)
        if w0.shape != (n,) or not np.all(np.isfinite(w0)):
            raise DataError(f"`weights` must be {n} finite numbers, got shape {w0.shape}")
    state, sign, w = active_set(w0, p.R, p.Sigma, p.C, p.w_prev, p.lam, p.lo, p.hi, tol)
    res = kkt_residual(w, p.R, p.Sigma, p.C, p.w_prev, p.lam, p.lo, p.hi, tol)
    if res > 1e3 * margin_tol:
        raise OptimizationError(f"`weights` are not optimal: KKT residual {res:.3g}")
    nu, up, dn = _margins(state, sign, w, p.R, p.Sigma, p.C, p.w_prev, p.lam, tol)
    if float(min(up.min(initial=np.inf), dn.min(initial=np.inf))) < -1e3 * margin_tol:
        raise OptimizationError(
            f"a bound or kink has a negative margin ({min(up.min(), dn.min()):.3g}): the "
            "active set is not optimal"
        )
    weak_up, weak_dn = up <= margin_tol, dn <= margin_tol
    if int((weak_up | weak_dn).sum()) > MAX_DEGENERATE:
        raise OptimizationError(
            f"{int((weak_up | weak_dn).sum())} degenerate assets; at most {MAX_DEGENERATE} enumerated"
        )
    inputs, B, dquad = input_directions(w, p.Sigma, p.lam, float(dlam_dvix))
    free = state == 0
    Jp, Jm, singular = _jacobians(B, p.lam, p.Sigma, free, weak_up, weak_dn, margin_tol)
    scale = max(1.0, float(np.abs(Jp).max(initial=0.0)))
    diff = np.all(np.abs(Jp - Jm) <= 1e-9 * scale, axis=1)
    Sw = p.Sigma @ w
    var = float(w @ Sw)
    vol = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        dvw_p = (2.0 * (Jp @ Sw)) / (2.0 * vol) if vol > 0 else np.zeros(len(inputs))
        dvw_m = (2.0 * (Jm @ Sw)) / (2.0 * vol) if vol > 0 else np.zeros(len(inputs))
        direct = dquad / (2.0 * vol) if vol > 0 else np.zeros(len(inputs))
    table = _input_table(inputs, names, p.R, p.Sigma, vix)
    table["differentiable"] = diff
    state_names = np.array(["free", "lower", "upper", "kink", "frozen"])[state]
    idx = table.index
    return Sensitivity(
        weights=pd.Series(w, index=names, name="weights"),
        state=pd.Series(state_names, index=names, name="state"),
        inputs=table,
        jac_plus=pd.DataFrame(Jp, index=idx, columns=names),
        jac_minus=pd.DataFrame(Jm, index=idx, columns=names),
        drisk_plus=pd.Series(dvw_p + direct, index=idx, name="drisk_plus"),
        drisk_minus=pd.Series(dvw_m + direct, index=idx, name="drisk_minus"),
        drisk_weights_plus=pd.Series(dvw_p, index=idx, name="drisk_weights_plus"),
        drisk_weights_minus=pd.Series(dvw_m, index=idx, name="drisk_weights_minus"),
        degenerate=tuple(names[i] for i in np.flatnonzero(weak_up | weak_dn)),
        nu=float(nu),
        lam=p.lam,
        dlam_dvix=float(dlam_dvix),
        vix=float(vix),
        singular=bool(singular),
        kkt_residual=float(res),
    )


# The ranking of inputs lives in :mod:`rwafolio.optimize.ranking` (re-exported here).
from rwafolio.optimize.ranking import rank_inputs, typical_moves  # noqa: E402
