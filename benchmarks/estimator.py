"""Benchmark: the Ledoit-Wolf kernel on a corpus of windows, timed inside a compiled loop.

Run: ``NUMBA_CACHE_DIR=.numba_cache .venv/bin/python benchmarks/estimator.py``. A script, not a
test: it prints a table and asserts nothing.

``lw_correlation_nb`` (mean and Ledoit-Wolf covariance, correlation target) runs once per decision
in every loop (the live bar, each simulated date of the strategy-aware Monte Carlo), so it is timed
where those loops call it: inside an njit loop over 2,000 seeded 30 x n windows (fat-tailed,
correlated, every seventh with a flat stablecoin column), no Python dispatch timed. The peer,
measured in the same run, is the sample covariance alone through BLAS (``D.T @ D / T`` of the
centred window, the product the estimator was built on before it became plain loops): the ratio
is the shrunk estimate's cost in units of a bare BLAS covariance. Best of ``REPEATS`` (shared
machine).
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from rwafolio.optimize._estimator_kernels import lw_correlation_nb

WINDOWS, T_OBS, REPEATS, SWEEPS = 2_000, 30, 7, 10


@njit(cache=True)
def _sample_cov_blas(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t_obs, n = X.shape
    mu = np.empty(n)
    for j in range(n):
        mu[j] = X[:, j].mean()
    D = X - mu
    return mu, D.T @ D / t_obs


@njit
def _loop_lw(corpus: np.ndarray, sweeps: int) -> float:
    acc = 0.0
    for _ in range(sweeps):
        for i in range(corpus.shape[0]):
            mu, cov = lw_correlation_nb(corpus[i])
            acc += mu[0] + cov[0, 1]
    return acc


@njit
def _loop_blas(corpus: np.ndarray, sweeps: int) -> float:
    acc = 0.0
    for _ in range(sweeps):
        for i in range(corpus.shape[0]):
            mu, cov = _sample_cov_blas(corpus[i])
            acc += mu[0] + cov[0, 1]
    return acc


def corpus(n: int, seed: int = 0) -> np.ndarray:
    """``WINDOWS`` windows of shape (T_OBS, n): Student-t(5) returns mixed across assets."""
    rng = np.random.default_rng(seed)
    mix = np.eye(n) + 0.3 * rng.normal(size=(n, n))
    vol = rng.uniform(0.0005, 0.05, n)
    X = rng.standard_t(5, size=(WINDOWS, T_OBS, n)) @ mix.T * vol
    X[::7, :, min(2, n - 1)] = 0.0001  # a pegged stablecoin: a zero-variance column
    return np.ascontiguousarray(X)


def best_us(loop, windows: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    loop(windows[:2], 1)  # compile
    best = np.inf
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        loop(windows, SWEEPS)
        best = min(best, time.perf_counter() - t0)
    return best / (windows.shape[0] * SWEEPS) * 1e6


def main() -> None:
    print(f"Ledoit-Wolf (correlation target) per {T_OBS} x n window, inside a compiled loop")
    for n in (6, 50):
        windows = corpus(n)
        lw, blas = best_us(_loop_lw, windows), best_us(_loop_blas, windows)
        print(
            f"  n = {n:2d}: lw_correlation_nb {lw:7.3f} us   sample covariance through BLAS "
            f"{blas:7.3f} us   ratio {lw / blas:.2f}"
        )


if __name__ == "__main__":
    main()
