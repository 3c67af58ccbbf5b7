"""Validation of one problem: the compiled one-pass check against the descriptive checks, and
the refusal of an indefinite Sigma (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.optimize import solve
from rwafolio.optimize._checks import PSD_TOL
from rwafolio.optimize.model import fast_arrays, validate_problem
from tests.optimize.conftest import random_problem


def as_lists(prob: dict) -> dict:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in prob.items()}


@pytest.mark.parametrize("kind", ["generic", "pd", "dup", "stable"])
def test_fast_and_descriptive_paths_give_the_same_arrays(kind: str) -> None:
    rng = np.random.default_rng(3)
    for _ in range(40):
        n = int(rng.integers(1, 9))
        p = random_problem(rng, n, kind)
        args = (p["R"], p["Sigma"], np.asarray(p["C"] * np.ones(n)), p["w_prev"], p["lam"])
        fast = fast_arrays(*args, p["lo"], p["hi"])
        assert fast is not None  # plain float64 arrays take the compiled pass
        slow = validate_problem(*[a.tolist() if isinstance(a, np.ndarray) else a for a in args])
        for a, b in zip(
            fast, (slow.R, slow.Sigma, slow.C, slow.w_prev, slow.lam, slow.lo, slow.hi)
        ):
            np.testing.assert_array_equal(a, b)


BAD = [
    ({"R": np.array([0.1, np.nan])}, DataError, "`R`"),
    ({"Sigma": np.array([[1.0, 0.5], [0.0, 1.0]])}, DataError, "`Sigma` must be symmetric"),
    ({"Sigma": np.array([[-1.0, 0.0], [0.0, 1.0]])}, DataError, "`Sigma`"),
    ({"Sigma": np.array([[1.0, np.inf], [np.inf, 1.0]])}, DataError, "`Sigma`"),
    ({"Sigma": np.array([[1.0, 2.0], [2.0, 1.0]])}, DataError, "positive semi-definite"),
    ({"costs": np.array([-0.1, 0.0])}, ConfigError, "`costs`"),
    ({"w_prev": np.array([0.5, np.nan])}, DataError, "`w_prev`"),
    ({"lam": -1.0}, ConfigError, "`lam`"),
    ({"lo": np.array([0.6, 0.6])}, ConfigError, "`lo`"),
    ({"hi": np.array([0.4, 0.4])}, ConfigError, "`hi`"),
    ({"lo": np.array([0.5, 0.0]), "hi": np.array([0.4, 1.0])}, ConfigError, "`lo` must be <="),
    ({"costs": np.array([0.1, 0.0, 0.0])}, ConfigError, "`costs` must have length 2"),
]


@pytest.mark.parametrize("change, err, match", BAD)
def test_every_bad_input_is_named_on_both_paths(change: dict, err: type, match: str) -> None:
    base = {
        "R": np.array([0.1, 0.2]),
        "Sigma": np.array([[0.04, 0.01], [0.01, 0.09]]),
        "costs": np.array([0.001, 0.002]),
        "w_prev": np.array([0.5, 0.5]),
        "lam": 2.0,
        "lo": np.zeros(2),
        "hi": np.ones(2),
    }
    prob = {**base, **change}
    assert fast_arrays(**prob) is None  # the compiled pass finds it...
    with pytest.raises(err, match=match):  # ...and the descriptive checks name it
        validate_problem(**prob)
    with pytest.raises(err, match=match):
        validate_problem(**as_lists(prob))


def test_solve_refuses_an_indefinite_sigma() -> None:
    # Issue 14: an indefinite "covariance" was solved and reported optimal.
    Sigma = np.array([[0.04, 0.05, 0.0], [0.05, 0.04, 0.0], [0.0, 0.0, 0.01]])
    assert np.linalg.eigvalsh(Sigma)[0] < -0.005
    with pytest.raises(DataError, match="`Sigma` must be positive semi-definite"):
        solve(np.array([0.1, 0.12, 0.03]), Sigma, 0.001, np.full(3, 1 / 3), 2.0)


def test_psd_tolerance_is_relative_to_the_largest_variance() -> None:
    """Accepted: singular covariances and rounding-level negative eigenvalues. Refused: an
    eigenvalue below -PSD_TOL x the largest variance (eigvalsh is the reference)."""
    rng = np.random.default_rng(0)
    n = 6
    V = np.linalg.qr(rng.normal(size=(n, n)))[0]
    scale = 0.5
    for low, ok in ((0.0, True), (-1e-3 * PSD_TOL, True), (-1e3 * PSD_TOL, False)):
        ev = np.array([scale, 0.3, 0.2, 0.1, 0.05, low * scale])
        S = (V * ev) @ V.T
        S = 0.5 * (S + S.T)
        largest = np.diag(S).max()
        assert (np.linalg.eigvalsh(S)[0] >= -PSD_TOL * largest) == ok
        args = (np.full(n, 0.1), S, 0.0, np.full(n, 1 / n), 1.0)
        if ok:
            validate_problem(*args)
        else:
            with pytest.raises(DataError, match="positive semi-definite"):
                validate_problem(*args)
    # A zero-variance stablecoin and a sample covariance of fewer observations than assets.
    X = rng.normal(size=(3, n)) * 0.02
    X[:, -1] = 0.0
    validate_problem(np.full(n, 0.1), np.cov(X.T, ddof=0), 0.0, np.full(n, 1 / n), 1.0)
    validate_problem(np.zeros(2), np.zeros((2, 2)), 0.0, np.full(2, 0.5), 1.0)
    with pytest.raises(DataError, match="positive semi-definite"):  # zero variances, covariance
        validate_problem(np.zeros(2), np.array([[0.0, 0.1], [0.1, 0.0]]), 0.0, np.full(2, 0.5), 1.0)
