"""Benchmark: rwafolio's fast solver against the compiled cvxpy reference on the same problems.

Run: ``NUMBA_CACHE_DIR=.numba_cache .venv/bin/python benchmarks/optimizer.py``.  A script, not a
test: it prints a table and asserts nothing.

Problems: simulated correlated daily returns (a 3-factor model plus a zero-volatility stablecoin),
a rolling 60-day window estimated by Ledoit-Wolf (``--estimator sample`` for the singular sample
covariance), annualized with 365; lam = 2 (1 + 0.05 VIX) with a random-walk VIX; w_prev = the
previous target drifted by that day's returns; costs 10-50 bp; the fast solver is warm-started
from the previous solution.  Both solvers see the same sequence in one process.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rwafolio.optimize._kernels import solve_full_nb
from rwafolio.optimize.estimators import ledoit_wolf, sample
from rwafolio.optimize.model import kkt_residual, objective
from rwafolio.optimize.reference import ReferenceSolver, sqrt_factor


def problems(n: int, steps: int, seed: int, estimator: str):
    rng = np.random.default_rng(seed)
    window = 60
    days = window + steps
    k = 3
    B = rng.normal(0, 0.01, (n, k))
    eps = rng.normal(size=(days, n)) * rng.uniform(0.005, 0.03, n)
    rets = rng.normal(size=(days, k)) @ B.T + eps + rng.normal(0.0003, 0.0002, n)
    rets[:, -1] = 0.0001  # stablecoin: constant yield, zero variance
    costs = rng.uniform(0.001, 0.005, n)
    vix = 20.0 + np.cumsum(rng.normal(0, 1.0, days))
    est = ledoit_wolf if estimator == "lw" else sample
    for t in range(window, days):
        mu, S = est(rets[t - window : t], annualize=365)
        lam = 2.0 * (1.0 + 0.05 * max(vix[t], 5.0))
        yield mu, np.ascontiguousarray(S), costs, lam, rets[t]


def run(n: int, steps: int, estimator: str, seed: int = 0):
    ref = ReferenceSolver(n)
    lo, hi = np.zeros(n), np.ones(n)
    w_prev = np.full(n, 1.0 / n)
    warm = w_prev.copy()
    t_fast, t_ref, gaps, kkts, iters = [], [], [], [], []
    fails = 0
    for mu, S, C, lam, r in problems(n, steps, seed, estimator):
        t0 = time.perf_counter()
        w, it, status, _res = solve_full_nb(mu, S, C, w_prev, lam, lo, hi, warm, 1e-10, 20000)
        t1 = time.perf_counter()
        G = sqrt_factor(S)  # the factor is part of the reference's work per date
        wr = ref.solve(mu, None, C, w_prev, lam, lo, hi, factor=G).weights
        t2 = time.perf_counter()
        t_fast.append(t1 - t0)
        t_ref.append(t2 - t1)
        u, ur = objective(w, mu, S, C, w_prev, lam), objective(wr, mu, S, C, w_prev, lam)
        gaps.append((ur - u) / (1 + abs(u)))
        kkts.append(kkt_residual(w, mu, S, C, w_prev, lam, lo, hi, active_tol=0.0))
        iters.append(it)
        fails += status != 0
        warm = w
        drift = w * (1 + r)
        w_prev = drift / drift.sum()
    return np.median(t_fast), np.median(t_ref), max(gaps), max(kkts), np.mean(iters), fails


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--estimator", choices=["lw", "sample"], default="lw")
    args = ap.parse_args()
    # Compile the kernels once before timing.
    run(3, 2, args.estimator)
    print(f"estimator={args.estimator}; times are medians per solve")
    print(f"{'n':>5} {'solves':>7} {'ours [ms]':>10} {'cvxpy [ms]':>11} {'ratio':>8} "
          f"{'max rel gap':>12} {'max KKT':>10} {'mean it':>8} {'fails':>6}")  # fmt: skip
    for n, steps in ((3, 300), (10, 300), (50, 200), (200, 40), (500, 10)):
        tf, tr, gap, kkt, it, fails = run(n, steps, args.estimator)
        print(f"{n:>5} {steps:>7} {tf * 1e3:>10.4f} {tr * 1e3:>11.3f} {tr / tf:>8.1f} "
              f"{gap:>12.2e} {kkt:>10.2e} {it:>8.1f} {fails:>6}")  # fmt: skip


if __name__ == "__main__":
    main()
