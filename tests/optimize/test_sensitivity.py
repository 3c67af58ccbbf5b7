"""Sensitivities of the optimum: against central finite differences re-solved with cvxpy,
one-sided derivatives at kinks and bounds, a closed form, and the ranking arithmetic."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import ConfigError, OptimizationError
from rwafolio.optimize.sensitivity import (
    corr_from_cov,
    rank_inputs,
    sensitivities,
    typical_moves,
)


def cvx_weights(R, Sigma, C, p, lam, lo, hi):
    """Independent reference: the model written directly in cvxpy, tight CLARABEL."""
    import cvxpy as cp

    n = len(R)
    ev, V = np.linalg.eigh(0.5 * (Sigma + Sigma.T))
    G = V * np.sqrt(np.clip(ev, 0, None))
    w = cp.Variable(n)
    obj = R @ w - lam * cp.sum_squares(G.T @ w) - C @ cp.abs(w - p)
    prob = cp.Problem(cp.Maximize(obj), [cp.sum(w) == 1, w >= lo, w <= hi])
    prob.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return np.asarray(w.value, dtype=float)


def test_cvx_helper_matches_closed_form() -> None:
    # Two assets, no costs, interior: w1 = 1/2 + (R1 - R2) / (4 lam (s11 + s22 - 2 s12)) + ...
    R = np.array([0.10, 0.05])
    S = np.array([[0.04, 0.01], [0.01, 0.09]])
    lam = 2.0
    a = S[0, 0] + S[1, 1] - 2 * S[0, 1]
    w1 = (R[0] - R[1] + 2 * lam * (S[1, 1] - S[0, 1])) / (2 * lam * a)
    w = cvx_weights(R, S, np.zeros(2), np.array([0.5, 0.5]), lam, np.zeros(2), np.ones(2))
    np.testing.assert_allclose(w, [w1, 1 - w1], atol=1e-8)


def random_case(rng: np.random.Generator, n: int) -> dict:
    rho = np.corrcoef(rng.normal(size=(n, 3 * n + 20)))
    sig = rng.uniform(0.1, 0.8, n)
    return {
        "R": rng.normal(0.1, 0.3, n),
        "sig": sig,
        "rho": rho,
        "C": rng.uniform(0.0, 0.05, n),
        "p": rng.dirichlet(np.ones(n)),
        "lam0": 2.0,
        "eta": 0.05,
        "vix": float(rng.uniform(12, 45)),
        "lo": np.zeros(n),
        "hi": np.full(n, 0.7),
    }


def exact_weights(R, Sigma, C, p, lam, lo, hi):
    """The package's exact solver (active-set polished), a second reference: cvxpy's interior
    point lands ~1e-7 off a kink, too coarse for one-sided differences."""
    from rwafolio.optimize import solve

    return np.asarray(solve(R, Sigma, C, p, lam, lo=lo, hi=hi, tol=1e-13).weights, dtype=float)


def weights_of(c: dict, dR=0.0, dsig=0.0, drho=0.0, dvix=0.0) -> np.ndarray:
    sig = c["sig"] + dsig
    S = (c["rho"] + drho) * np.outer(sig, sig)
    lam = c["lam0"] * (1 + c["eta"] * (c["vix"] + dvix))
    solver = exact_weights if c.get("solver") == "exact" else cvx_weights
    return solver(c["R"] + dR, S, c["C"], c["p"], lam, c["lo"], c["hi"])


def sens_of(c: dict, **kw):
    S = c["rho"] * np.outer(c["sig"], c["sig"])
    lam = c["lam0"] * (1 + c["eta"] * c["vix"])
    return sensitivities(
        c["R"], S, c["C"], c["p"], lam, lo=c["lo"], hi=c["hi"],
        dlam_dvix=c["lam0"] * c["eta"], vix=c["vix"], **kw,
    )  # fmt: skip


def fd_rows(c: dict, h: float, side: str) -> np.ndarray:
    """Finite differences, one row per input in the order of ``input_directions``."""
    n = len(c["R"])
    w0 = weights_of(c) if side != "central" else None

    def diff(**kw: object) -> np.ndarray:
        plus = weights_of(c, **{k: v for k, v in kw.items()})
        minus = weights_of(c, **{k: -v for k, v in kw.items()})  # type: ignore[operator]
        if side == "central":
            return (plus - minus) / (2 * h)
        return (plus - w0) / h if side == "plus" else (w0 - minus) / h

    rows = [diff(dR=np.eye(n)[i] * h) for i in range(n)]
    rows += [diff(dsig=np.eye(n)[i] * h) for i in range(n)]
    for i, j in itertools.combinations(range(n), 2):
        E = np.zeros((n, n))
        E[i, j] = E[j, i] = h
        rows.append(diff(drho=E))
    rows.append(diff(dvix=h))
    return np.array(rows)


@pytest.mark.parametrize("seed", range(6))
def test_matches_central_finite_differences(seed: int) -> None:
    rng = np.random.default_rng(seed)
    c = random_case(rng, 4)
    s = sens_of(c)
    # The optimum itself agrees with the independent solve.
    np.testing.assert_allclose(s.weights.to_numpy(), weights_of(c), atol=1e-7)
    assert s.differentiable, s.degenerate
    fd = fd_rows(c, 1e-5, "central")
    np.testing.assert_allclose(s.jacobian.to_numpy(), fd, atol=2e-4)
    assert np.abs(s.jacobian.to_numpy()).max() > 0.05  # not a vacuous comparison


def test_weights_sum_preserved_and_fixed_assets_do_not_move() -> None:
    c = random_case(np.random.default_rng(11), 5)
    s = sens_of(c)
    J = s.jacobian.to_numpy()
    np.testing.assert_allclose(J.sum(axis=1), 0.0, atol=1e-10)
    fixed = (s.state != "free").to_numpy()
    assert np.all(J[:, fixed] == 0.0)


def exact_weights_of(c: dict) -> np.ndarray:
    return weights_of({**c, "solver": "exact"})


def degenerate_case(seed: int, where: str) -> dict:
    """Put a free asset exactly on its kink (w_prev := w*) or its lower bound (lo := w*)."""
    rng = np.random.default_rng(seed)
    for _ in range(50):
        c = random_case(rng, 4)
        c["hi"] = np.ones(4)
        w = exact_weights_of(c)
        free = np.flatnonzero((w > 1e-4) & (np.abs(w - c["p"]) > 1e-4) & (w < 1 - 1e-4))
        if len(free) >= 3:
            i = int(free[0])
            c = dict(c)
            if where == "kink":
                c["p"] = c["p"].copy()
                c["p"][i] = w[i]
            else:
                c["lo"] = c["lo"].copy()
                c["lo"][i] = w[i]
            c["asset"] = i
            c["solver"] = "exact"
            # The kink/bound comes from the independent solve; the exact solver agrees with it.
            np.testing.assert_allclose(exact_weights_of(c), w, atol=1e-6)
            return c
    raise AssertionError("no suitable random case")


@pytest.mark.parametrize("where", ["kink", "bound"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_sided_derivatives_at_a_degenerate_point(where: str, seed: int) -> None:
    c = degenerate_case(seed, where)
    s = sens_of(c, margin_tol=1e-6)
    i = c["asset"]
    assert f"x{i}" in s.degenerate
    assert not s.differentiable
    # Raising or lowering the asset's own mean moves it off the kink/bound on one side only.
    r = f"R[x{i}]"
    assert not s.inputs.loc[r, "differentiable"]
    assert not np.allclose(s.jac_plus.loc[r], s.jac_minus.loc[r], atol=1e-6)
    h = 1e-5
    np.testing.assert_allclose(s.jac_plus.to_numpy(), fd_rows(c, h, "plus"), atol=5e-4)
    np.testing.assert_allclose(s.jac_minus.to_numpy(), fd_rows(c, h, "minus"), atol=5e-4)


def test_closed_form_two_assets() -> None:
    R = np.array([0.10, 0.05])
    sig = np.array([0.2, 0.3])
    rho12 = 0.25
    S = np.array([[sig[0] ** 2, rho12 * sig[0] * sig[1]], [rho12 * sig[0] * sig[1], sig[1] ** 2]])
    lam = 2.0
    s = sensitivities(R, S, 0.0, [0.5, 0.5], lam, dlam_dvix=0.1)
    a = S[0, 0] + S[1, 1] - 2 * S[0, 1]
    num = R[0] - R[1] + 2 * lam * (S[1, 1] - S[0, 1])
    # w1 = num / (2 lam a): d/dR1 = 1 / (2 lam a), d/drho = (-2 lam s1 s2 a + 2 s1 s2 num) / (2 lam a^2)
    np.testing.assert_allclose(s.jacobian.loc["R[x0]", "x0"], 1 / (2 * lam * a), rtol=1e-12)
    np.testing.assert_allclose(s.jacobian.loc["R[x1]", "x0"], -1 / (2 * lam * a), rtol=1e-12)
    s12 = sig[0] * sig[1]
    d_rho = (-2 * lam * s12 * (2 * lam * a) - num * 2 * lam * (-2 * s12)) / (2 * lam * a) ** 2
    np.testing.assert_allclose(s.jacobian.loc["rho[x0,x1]", "x0"], d_rho, rtol=1e-10)
    # d/dlam of num/(2 lam a) = -(R1 - R2) / (2 lam^2 a); times dlam/dVIX = 0.1.
    np.testing.assert_allclose(
        s.jacobian.loc["VIX", "x0"], -(R[0] - R[1]) / (2 * lam**2 * a) * 0.1, rtol=1e-10
    )


def test_no_trade_region_is_flat_and_differentiable() -> None:
    c = random_case(np.random.default_rng(5), 4)
    c["C"] = np.full(4, 5.0)  # huge costs: holding w_prev is strictly optimal
    c["p"] = np.full(4, 0.25)
    s = sens_of(c)
    assert (s.state == "kink").all()
    assert s.differentiable
    assert np.all(s.jacobian.to_numpy() == 0.0)


def test_risk_derivative_matches_finite_differences() -> None:
    c = random_case(np.random.default_rng(7), 4)
    s = sens_of(c)
    h = 1e-5

    def vol(dsig=0.0, dR=0.0):
        w = weights_of(c, dsig=dsig, dR=dR)
        sig = c["sig"] + dsig
        return float(np.sqrt(w @ (c["rho"] * np.outer(sig, sig)) @ w))

    e = np.eye(4)[1] * h
    fd = (vol(dsig=e) - vol(dsig=-e)) / (2 * h)
    np.testing.assert_allclose(s.drisk_plus["sigma[x1]"], fd, atol=1e-4)
    fd = (vol(dR=e) - vol(dR=-e)) / (2 * h)
    np.testing.assert_allclose(s.drisk_plus["R[x1]"], fd, atol=1e-4)


def test_typical_moves_and_ranking_arithmetic() -> None:
    c = random_case(np.random.default_rng(2), 3)
    s = sens_of(c)
    T, ppy = 30, 365
    moves = typical_moves(s.inputs, c["sig"], T, ppy, vix_move=5.0)
    sig, rho = c["sig"], c["rho"]
    expected = list(sig * np.sqrt(ppy / T)) + list(sig / np.sqrt(2 * T))
    expected += [(1 - rho[i, j] ** 2) / np.sqrt(T) for i, j in itertools.combinations(range(3), 2)]
    expected += [5.0]
    np.testing.assert_allclose(moves, expected, rtol=1e-12)
    table = rank_inputs(s, T, ppy)
    assert list(table["rank"]) == list(range(1, len(table) + 1))
    assert table["turnover"].is_monotonic_decreasing
    row = table.set_index("input").loc["rho[x0,x2]"]
    by_hand = np.abs(s.jac_plus.loc["rho[x0,x2]"].to_numpy() * row["move"]).sum()
    np.testing.assert_allclose(row["turnover_up"], by_hand, rtol=1e-12)


def test_pandas_labels_and_corr_decomposition() -> None:
    names = ["BTC", "ETH", "VNQ"]
    S = pd.DataFrame(np.diag([0.6, 0.7, 0.2]) ** 2, index=names, columns=names)
    S.loc["BTC", "ETH"] = S.loc["ETH", "BTC"] = 0.8 * 0.6 * 0.7
    R = pd.Series([0.3, 0.35, 0.08], index=names)
    s = sensitivities(R, S, 0.001, np.full(3, 1 / 3), 3.0)
    assert list(s.weights.index) == names
    assert "rho[BTC,ETH]" in s.jacobian.index
    sigma, rho = corr_from_cov(S.to_numpy())
    np.testing.assert_allclose(sigma, [0.6, 0.7, 0.2])
    np.testing.assert_allclose(rho[0, 1], 0.8)


def test_errors_name_the_parameter() -> None:
    S = np.eye(3) * 0.04
    with pytest.raises(OptimizationError, match="weights"):
        sensitivities(np.ones(3) * 0.1, S, 0.0, np.full(3, 1 / 3), 2.0, weights=[1.0, 0.0, 0.0])
    with pytest.raises(ConfigError, match="symbols"):
        sensitivities(np.ones(3) * 0.1, S, 0.0, np.full(3, 1 / 3), 2.0, symbols=["a"])
    with pytest.raises(ConfigError, match="n_obs"):
        s = sensitivities(np.ones(3) * 0.1, S, 0.0, np.full(3, 1 / 3), 2.0)
        rank_inputs(s, 1)


@pytest.mark.parametrize(
    "w_prev", [[0.0, 0.0, 1 - 1e-12], [5e-17, 0.0, 1 - 5e-17], [0.0, 0.0, 1.0]]
)
def test_round_off_beside_a_bound_is_at_the_kink(w_prev: list[float]) -> None:
    """Issue 11's reproduction: a drifted previous weight round-off away from 0 or 1 (after a full
    sale or buy) must not flip the side of the cost kink and flag a false non-differentiability."""
    R = np.array([0.30, 0.25, 0.05])
    Sigma = np.diag(np.array([0.6, 0.5, 0.15]) ** 2)
    C = np.array([0.1, 0.1, 1.0])
    p = np.array(w_prev)
    s = sensitivities(R, Sigma, C, p, 2.0)
    assert s.differentiable and s.degenerate == ()
    np.testing.assert_array_equal(s.jac_plus.to_numpy(), 0.0)
    np.testing.assert_array_equal(s.jac_minus.to_numpy(), 0.0)
    # cvxpy agrees: moving any R by +-0.01 leaves the optimum where it is.
    lo, hi = np.zeros(3), np.ones(3)
    w0 = cvx_weights(R, Sigma, C, p, 2.0, lo, hi)
    for i in range(3):
        e = np.eye(3)[i] * 0.01
        for sign in (1.0, -1.0):
            moved = cvx_weights(R + sign * e, Sigma, C, p, 2.0, lo, hi)
            np.testing.assert_allclose(moved, w0, atol=1e-7)
