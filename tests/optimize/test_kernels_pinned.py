"""The solver kernels pinned bit for bit: splitting or refactoring them must change no number.

The digests below were computed on commit 22ba6ea (before ``_kernels.py`` was split into
``_prox_kernels``, ``_polish_kernels`` and ``_kernels`` and ``polish_nb`` into helpers) with
exactly the runs of :func:`solve_digest` and :func:`polish_digest`; the same runs must give the
same bytes. A digest is the first 16 hex digits of the SHA-256 of every output (weights,
iterations, status, KKT residual, objective) as float64. If a change is *meant* to move numbers,
recompute them and say why in the commit (they were recomputed once, when the least-squares end of
the reduced solve (singular Sigma) gained a step of iterative refinement: 22 of the 96 solves
moved by at most 3.3e-15 in the weights, the worst KKT residual fell from 1.1e-13 to 5.3e-14, and
a problem the fast solver had handed to cvxpy after 20,000 iterations is solved in one step,
``test_properties.test_prohibitive_costs_on_a_singular_covariance``). Correctness itself is proved elsewhere (against cvxpy
and the numpy twins in ``test_solver.py``); this test only guards against drift.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from rwafolio.optimize._kernels import polish_nb, prox_nb, solve_full_nb

from .conftest import random_problem

KINDS = ("generic", "dup", "stable", "pd")
SIZES = (2, 3, 5, 10, 30, 60)

PINNED = {
    "solve": "d960aa41269e094f",
    "polish": "4c19abf490523330",
}


def _problems(seed: int):  # type: ignore[no-untyped-def]
    """Seeded problems over the kinds and sizes, with boxes tightened on every third problem."""
    rng = np.random.default_rng(seed)
    for kind in KINDS:
        for n in SIZES:
            for rep in range(4):
                prob = random_problem(rng, n, kind)
                if rep % 3 == 2:
                    prob["lo"] = np.full(n, 0.2 / n)
                    prob["hi"] = np.full(n, min(1.0, 2.5 / n))
                C = np.asarray(prob["C"], dtype=float)
                prob["C"] = np.ascontiguousarray(np.broadcast_to(C, (n,)), dtype=float)
                warm = rng.dirichlet(np.ones(n)) if rep % 2 else prob["w_prev"].copy()
                yield prob, warm, rng


def _hash(parts: list[float | np.ndarray]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(np.ascontiguousarray(np.asarray(part, dtype=float)).tobytes())
    return h.hexdigest()[:16]


def _objective_products(
    w: np.ndarray, R: np.ndarray, Sigma: np.ndarray, C: np.ndarray, p: np.ndarray, lam: float
) -> float:
    """The objective as the pinned run computed it (numpy's products; the kernel now loops)."""
    return float(w @ R - lam * (w @ Sigma @ w) - C @ np.abs(w - p))


def solve_digest(seed: int = 11) -> str:
    """Digest of ``solve_full_nb`` on every problem, cold (warm = w_prev) and warm-started."""
    parts: list[float | np.ndarray] = []
    for prob, warm, _rng in _problems(seed):
        args = (prob["R"], prob["Sigma"], prob["C"], prob["w_prev"], prob["lam"])
        w, iters, status, res = solve_full_nb(*args, prob["lo"], prob["hi"], warm, 1e-10, 20000)
        parts += [w, float(iters), float(status), res, _objective_products(w, *args)]
    return _hash(parts)


def polish_digest(seed: int = 12) -> str:
    """Digest of ``polish_nb`` from a prox step of a random point (few steps, so it can stop early)."""
    parts: list[float | np.ndarray] = []
    for prob, _warm, rng in _problems(seed):
        n = prob["R"].shape[0]
        x = np.empty(n)
        v = rng.normal(1.0 / n, 0.3, n)
        prox_nb(v, 0.5, prob["C"], prob["w_prev"], prob["lo"], prob["hi"], 0.0, x)
        for max_steps in (3, 30):
            args = (prob["R"], prob["Sigma"], prob["C"], prob["w_prev"], prob["lam"])
            w, ok, steps, res = polish_nb(x, *args, prob["lo"], prob["hi"], 1e-10, max_steps)
            parts += [w, float(ok), float(steps), res]
    return _hash(parts)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_kernels_are_bit_identical_to_the_pinned_run(name: str) -> None:
    got = solve_digest() if name == "solve" else polish_digest()
    assert got == PINNED[name]
