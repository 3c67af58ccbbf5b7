"""Sensitivities along a real backtest, checked date by date against exact re-solves.

Every date flagged differentiable: the Jacobian against central differences of an exact re-solve
(the fast solver's active-set answer, KKT-certified to 1e-13). Every date flagged
non-differentiable: the flagged one-sided derivatives against one-sided differences, which must
differ (the kink is real).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rwafolio.backtest import run
from rwafolio.backtest.replay import problems
from rwafolio.loaders import load
from rwafolio.optimize import kkt_residual, solve_arrays
from rwafolio.optimize.problem import Problem
from rwafolio.optimize.sensitivity import corr_from_cov, sensitivities
from rwafolio.strategies import DynamicLambdaStrategy

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

SYMBOLS = ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"]
H = 1e-7


def exact(p: Problem, R: np.ndarray, S: np.ndarray, lam: float) -> np.ndarray:
    S = np.ascontiguousarray(0.5 * (S + S.T))
    sol = solve_arrays(np.ascontiguousarray(R), S, p.costs, p.held, lam, p.lo, p.hi, tol=1e-13)
    assert kkt_residual(sol.weights, R, S, p.costs, p.held, lam, p.lo, p.hi, 0.0) <= 1e-11
    return np.asarray(sol.weights)


def differences(p: Problem, w0: np.ndarray, side: str) -> np.ndarray:
    """Rows in the order of ``Sensitivity.inputs``: R_i, sigma_i, rho_ij (i < j), VIX."""
    n = p.n_assets
    sig, rho = corr_from_cov(p.Sigma)

    def at(dR: object = 0.0, dsig: object = 0.0, drho: object = 0.0, dvix: float = 0.0):  # type: ignore[no-untyped-def]
        sg = sig + dsig
        return exact(p, p.R + dR, (rho + drho) * np.outer(sg, sg), p.lam + p.dlam_dvix * dvix)

    def one(**kw: object) -> np.ndarray:
        if side == "plus":
            return (at(**kw) - w0) / H
        minus = at(**{k: -v for k, v in kw.items()})  # type: ignore[operator]
        return (w0 - minus) / H if side == "minus" else (at(**kw) - minus) / (2 * H)

    eye = np.eye(n) * H
    rows = [one(dR=eye[i]) for i in range(n)] + [one(dsig=eye[i]) for i in range(n)]
    for i, j in itertools.combinations(range(n), 2):
        E = np.zeros((n, n))
        E[i, j] = E[j, i] = H
        rows.append(one(drho=E))
    rows.append(one(dvix=H))
    return np.array(rows)


def test_sensitivities_along_the_real_backtest(shared_data) -> None:  # type: ignore[no-untyped-def]
    panel = load(
        "files",
        SYMBOLS,
        data_dirs=[
            shared_data / "Alexshch09__Stocks-prices",
            shared_data / "jmlestevez-source__taa-dashboard",
        ],
        vix=str(shared_data / "datasets__finance-vix" / "vix-daily.csv"),
        start="2018-01-01",
        end="2024-11-30",
    )
    result = run(DynamicLambdaStrategy(), panel, execute=False, progress=False)
    n_diff = n_kink = 0
    moved = 0.0
    for _, prob in problems(result):
        p = prob.unfrozen()
        s = sensitivities(
            p.R, p.Sigma, p.costs, p.held, p.lam, lo=p.lo, hi=p.hi, dlam_dvix=p.dlam_dvix
        )
        w0 = s.weights.to_numpy()
        if s.differentiable:
            n_diff += 1
            fd = differences(p, w0, "central")
            np.testing.assert_allclose(s.jacobian.to_numpy(), fd, atol=1e-5)
            moved = max(moved, float(np.abs(fd).max()))
        else:
            n_kink += 1
            flagged = ~s.inputs["differentiable"].to_numpy()
            plus, minus = differences(p, w0, "plus"), differences(p, w0, "minus")
            np.testing.assert_allclose(s.jac_plus.to_numpy(), plus, atol=1e-5)
            np.testing.assert_allclose(s.jac_minus.to_numpy(), minus, atol=1e-5)
            assert np.all(np.abs(plus - minus).max(axis=1)[flagged] > 1e-4)
    assert n_diff + n_kink == len(result.estimate_dates) > 2000
    assert moved > 1.0  # the comparison is not vacuous: some weights move a lot
