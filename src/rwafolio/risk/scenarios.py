"""Monte Carlo scenario engine: M paths of H periods for n assets, batched and seeded.

Distributions (all per period, simple returns):

* ``"normal"``: ``r = mu + L z`` with ``z ~ N(0, I)`` and ``L L' = Sigma``.
* ``"student_t"``: multivariate Student-t with ``nu > 2`` degrees of freedom scaled so that its
  covariance is ``Sigma``: ``r = mu + sqrt((nu - 2) / g) L z`` with ``g ~ chi2(nu)`` shared by the
  assets and drawn per ``mixing`` unit: ``"period"`` (each scenario and period: the sum over H
  periods is nearly normal), ``"block"`` (each run of ``block`` periods) or ``"path"`` (once per
  scenario: the H-period sum is itself Student-t, so the fat tail survives aggregation).
* ``"bootstrap"``: circular block bootstrap of a historical window: each scenario is made of
  consecutive blocks of ``block`` periods starting at uniformly drawn rows of ``history``
  (wrapping around its end). ``mu`` and ``Sigma`` are not used.

The factor ``L`` is a Cholesky factor when Sigma is positive definite, and otherwise the
eigen-factor of its positive part (a zero-volatility stablecoin makes Sigma singular); with a
rank-k Sigma only k normals are drawn per period.

Randomness and speed: the scenarios are cut into fixed chunks of ``CHUNK`` scenarios; chunk c
draws from its own generator ``Generator(SFC64(SeedSequence(seed).spawn(...)[c]))``. Chunks run
on a small thread pool (numpy's fill and the numba kernel both release the GIL), so the numbers
depend only on the seed, never on the number of threads.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from rwafolio.exceptions import ConfigError, DataError, describe
from rwafolio.risk._kernels import simulate_paths_nb
from rwafolio.utils.progress import Progress

Distribution = Literal["normal", "student_t", "bootstrap"]
Aggregation = Literal["compound", "sum"]
Mixing = Literal["period", "block", "path"]
DISTRIBUTIONS: tuple[str, ...] = get_args(Distribution)
AGGREGATIONS: tuple[str, ...] = get_args(Aggregation)
MIXINGS: tuple[str, ...] = get_args(Mixing)

#: Scenarios per random-number chunk (fixed: the numbers depend on it, not on the thread count).
CHUNK = 1024


@dataclass(frozen=True)
class Scenarios:
    """Raw per-scenario outcomes of one simulation (arrays are read-only).

    Attributes
    ----------
    outcomes : ndarray of shape (n_scenarios,)
        Horizon return net of rebalancing costs, ``R_p - C_p`` (negative = loss).
    max_drawdowns : ndarray of shape (n_scenarios,)
        Maximum drawdown along each path, ``<= 0`` (negative = loss from the running peak).
    costs_paid : ndarray of shape (n_scenarios,)
        ``C_p``: rebalancing costs paid over the horizon, fraction of the starting value.
    seed : int
        Root of every random number used.
    """

    outcomes: np.ndarray
    max_drawdowns: np.ndarray
    costs_paid: np.ndarray
    seed: int


def resolve_seed(rng: np.random.Generator | int | None) -> int:
    """Normalise ``rng`` to an integer seed that reproduces the run.

    An int is used as is; a Generator gives one draw (so it advances); None draws fresh entropy.
    """
    if rng is None:
        entropy = np.random.SeedSequence().entropy
        return int(entropy) % (2**63)  # type: ignore[arg-type]
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if int(rng) < 0:
            raise ConfigError(f"`rng` must be a non-negative seed, got {int(rng)}")
        return int(rng)
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**63 - 1))
    raise ConfigError(f"`rng` must be a numpy Generator, an int seed or None, got {describe(rng)}")


def covariance_factor(sigma: np.ndarray, *, tol: float = 1e-12) -> np.ndarray:
    """Factor ``F`` of shape (n, k) with ``F @ F.T == sigma``, k = numerical rank.

    Cholesky when ``sigma`` is positive definite; otherwise the eigen-factor of its positive
    eigenvalues (eigenvalues below ``tol * max eigenvalue`` are treated as zero).

    Raises
    ------
    DataError
        If ``sigma`` is not symmetric positive semi-definite.
    """
    sigma = np.asarray(sigma, dtype=float)
    try:
        return np.ascontiguousarray(np.linalg.cholesky(sigma))
    except np.linalg.LinAlgError:
        pass
    vals, vecs = np.linalg.eigh(sigma)
    top = max(float(vals.max(initial=0.0)), 0.0)
    if vals.min(initial=0.0) < -max(tol * top, 1e-300) * 1e3:
        raise DataError(
            f"`Sigma` must be positive semi-definite, got smallest eigenvalue {vals.min():.3g}"
        )
    keep = vals > tol * top
    return np.ascontiguousarray(vecs[:, keep] * np.sqrt(vals[keep]))


def bootstrap_indices(
    gen: np.random.Generator, n_scen: int, horizon: int, n_hist: int, block: int
) -> np.ndarray:
    """Row indices into a history of ``n_hist`` rows, shape (n_scen * horizon,), int64.

    Circular block bootstrap: ``ceil(horizon / block)`` uniform block starts per scenario.
    """
    n_blocks = -(-horizon // block)
    starts = gen.integers(0, n_hist, size=(n_scen, n_blocks))
    t = np.arange(horizon)
    idx = (starts[:, t // block] + (t % block)) % n_hist
    return np.ascontiguousarray(idx.reshape(-1), dtype=np.int64)


def draw_chunk(
    gen: np.random.Generator,
    n_scen: int,
    horizon: int,
    k: int,
    distribution: str,
    nu: float,
    zbuf: np.ndarray,
    sbuf: np.ndarray,
    n_hist: int,
    block: int,
    mixing: str = "period",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw one chunk's random inputs of :func:`simulate_paths_nb`: ``(z, scale, idx)``.

    ``z`` (rows, k) standard normals written into ``zbuf``; ``scale`` (rows,) the Student-t
    multipliers ``sqrt((nu - 2) / chi2_nu)`` written into ``sbuf`` (empty otherwise), one per
    row, per block of ``block`` periods or per path (``mixing``); ``idx`` the bootstrap rows
    (empty otherwise). Order of draws: normals, then gammas.
    """
    rows = n_scen * horizon
    empty_f = np.zeros(0)
    if distribution == "bootstrap":
        idx = bootstrap_indices(gen, n_scen, horizon, n_hist, block)
        return np.zeros((rows, 0)), empty_f, idx
    z = zbuf[:rows]
    gen.standard_normal(out=z)
    if distribution != "student_t":
        return z, empty_f, np.zeros(0, dtype=np.int64)
    scale = sbuf[:rows]
    if mixing == "period":
        gen.standard_gamma(nu / 2.0, out=scale)
    else:
        per = horizon if mixing == "path" else block
        n_units = -(-horizon // per)
        g = gen.standard_gamma(nu / 2.0, size=(n_scen, n_units))
        scale[:] = g[:, np.arange(horizon) // per].reshape(-1)
    # chi2(nu) = 2 * Gamma(nu / 2); multiplier sqrt((nu - 2) / chi2)
    np.divide((nu - 2.0) / 2.0, scale, out=scale)
    np.sqrt(scale, out=scale)
    return z, scale, np.zeros(0, dtype=np.int64)


def _default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def run_chunks(
    body: Callable[[int, int, np.ndarray, np.ndarray, np.ndarray], None],
    *,
    n_scenarios: int,
    seed: int,
    horizon: int,
    k: int,
    distribution: str,
    nu: float,
    n_hist: int,
    block: int,
    workers: int | None,
    pool: Executor | None = None,
    mixing: str = "period",
) -> None:
    """Draw the random inputs chunk by chunk and hand each chunk to ``body`` on a thread pool.

    ``body(lo, hi, z, scale, idx)`` processes scenarios ``lo:hi`` (see :func:`draw_chunk`); it
    must release the GIL to run in parallel (numba ``nogil=True``). Chunk c always draws from
    ``SeedSequence(seed).spawn(n_chunks)[c]``, so results do not depend on ``workers``.
    ``pool``: an existing executor to reuse (e.g. across the dates of a rolling run); it must have
    at least ``workers - 1`` threads. The calling thread always processes one share itself.
    """
    n_chunks = -(-n_scenarios // CHUNK)
    children = np.random.SeedSequence(seed).spawn(n_chunks)
    rows_max = CHUNK * horizon

    def run(chunk_ids: range) -> None:
        zbuf = np.empty((rows_max, k)) if distribution != "bootstrap" else np.zeros((0, 0))
        sbuf = np.empty(rows_max) if distribution == "student_t" else np.zeros(0)
        for ci in chunk_ids:
            lo = ci * CHUNK
            hi = min(lo + CHUNK, n_scenarios)
            gen = np.random.Generator(np.random.SFC64(children[ci]))
            z, scale, idx = draw_chunk(
                gen, hi - lo, horizon, k, distribution, nu, zbuf, sbuf, n_hist, block, mixing
            )
            body(lo, hi, z, scale, idx)

    n_workers = min(workers or _default_workers(), n_chunks)
    if n_workers <= 1:
        run(range(n_chunks))
        return
    bounds = np.linspace(0, n_chunks, n_workers + 1).round().astype(int)
    groups = [range(int(bounds[i]), int(bounds[i + 1])) for i in range(n_workers)]
    if pool is None:
        with ThreadPoolExecutor(n_workers - 1) as own:
            futures = [own.submit(run, g) for g in groups[1:]]
            run(groups[0])  # the calling thread takes a share too
            for f in futures:
                f.result()
        return
    futures = [pool.submit(run, g) for g in groups[1:]]
    run(groups[0])
    for f in futures:
        f.result()


def simulate(
    weights: np.ndarray,
    mu: np.ndarray | None,
    sigma: np.ndarray | None,
    *,
    seed: int,
    horizon: int = 30,
    n_scenarios: int = 10_000,
    distribution: Distribution = "normal",
    nu: float = 5.0,
    every: int = 0,
    costs: np.ndarray | None = None,
    history: np.ndarray | None = None,
    block: int = 5,
    aggregation: Aggregation = "compound",
    workers: int | None = None,
    pool: Executor | None = None,
    mixing: Mixing = "period",
    progress: bool | None = False,
) -> Scenarios:
    """Simulate scenario paths of a portfolio (inputs already validated, float arrays).

    Parameters
    ----------
    weights : ndarray of shape (n,)
        Weights at the start (fractions of value; cash = 1 - sum).
    mu : ndarray of shape (n,) or None
        Expected return PER PERIOD (None only for the bootstrap).
    sigma : ndarray of shape (n, n) or None
        Covariance PER PERIOD (None only for the bootstrap).
    seed : int
        Root seed.
    horizon, n_scenarios : int
        H periods per path, M paths.
    distribution : {"normal", "student_t", "bootstrap"}
    nu : float
        Student-t degrees of freedom (> 2).
    every : int
        0 = drift; k = rebalance to ``weights`` after every k-th period.
    costs : ndarray of shape (n,) or None
        One-off cost per unit of traded weight (None = free).
    history : ndarray of shape (T, n) or None
        Per-period historical returns for the bootstrap.
    block : int
        Bootstrap block length in periods.
    aggregation : {"compound", "sum"}
        Compound the value path, or sum per-period returns (the model's convention).
    workers : int or None
        Threads (default: the CPU count, at most 8). Results do not depend on it.
    pool : Executor or None
        Thread pool to reuse (see :func:`run_chunks`).
    mixing : {"period", "block", "path"}
        Student-t mixing unit (module docstring).
    progress : bool or None
        Report the scenarios done on stderr when the run lasts over ~2 s (None or True: on;
        default False: an inner step of a larger run, which reports its own progress).
    """
    w = np.ascontiguousarray(weights, dtype=float)
    n = w.shape[0]
    c = np.zeros(n) if costs is None else np.ascontiguousarray(costs, dtype=float)
    boot = distribution == "bootstrap"
    if boot:
        assert history is not None
        hist = np.ascontiguousarray(history, dtype=float)
        factor = np.zeros((n, 0))
        mu_v = np.zeros(n)
    else:
        assert mu is not None and sigma is not None
        hist = np.zeros((1, n))
        factor = covariance_factor(sigma)
        mu_v = np.ascontiguousarray(mu, dtype=float)
    out = np.empty(n_scenarios)
    mdd = np.empty(n_scenarios)
    paid = np.empty(n_scenarios)
    additive = aggregation == "sum"

    def body(lo: int, hi: int, z: np.ndarray, scale: np.ndarray, idx: np.ndarray) -> None:
        simulate_paths_nb(
            z, factor, mu_v, scale, hist, idx, w, c, horizon, every, additive,
            out[lo:hi], mdd[lo:hi], paid[lo:hi],
        )  # fmt: skip
        bar.update(hi - lo)

    with Progress(
        n_scenarios, f"Monte Carlo ({distribution})", "scenario", enabled=progress is not False
    ) as bar:
        run_chunks(
            body, n_scenarios=n_scenarios, seed=seed, horizon=horizon, k=factor.shape[1],
            distribution=distribution, nu=nu, n_hist=hist.shape[0], block=block,
            workers=workers, pool=pool, mixing=mixing,
        )  # fmt: skip
    for a in (out, mdd, paid):
        a.flags.writeable = False
    return Scenarios(outcomes=out, max_drawdowns=mdd, costs_paid=paid, seed=seed)


def draw_asset_returns(
    mu: np.ndarray,
    sigma: np.ndarray,
    *,
    seed: int,
    horizon: int,
    n_scenarios: int,
    distribution: Distribution = "normal",
    nu: float = 5.0,
    history: np.ndarray | None = None,
    block: int = 5,
    mixing: Mixing = "period",
) -> np.ndarray:
    """The per-period asset returns :func:`simulate` uses, materialised (numpy, for tests).

    Returns
    -------
    ndarray of shape (n_scenarios * horizon, n)
        Scenario-major rows, identical to what the fused kernel computes from the same seed.
    """
    n = len(mu) if distribution != "bootstrap" else np.asarray(history).shape[1]
    if distribution == "bootstrap":
        assert history is not None
        hist = np.asarray(history, dtype=float)
    else:
        factor = covariance_factor(sigma)
    n_chunks = -(-n_scenarios // CHUNK)
    children = np.random.SeedSequence(seed).spawn(n_chunks)
    parts = []
    for ci in range(n_chunks):
        m = min(CHUNK, n_scenarios - ci * CHUNK)
        gen = np.random.Generator(np.random.SFC64(children[ci]))
        if distribution == "bootstrap":
            parts.append(hist[bootstrap_indices(gen, m, horizon, hist.shape[0], block)])
            continue
        z = gen.standard_normal((m * horizon, factor.shape[1]))
        y = z @ factor.T
        if distribution == "student_t":
            if mixing == "period":
                g = gen.standard_gamma(nu / 2.0, size=m * horizon)
            else:  # one mixing draw per path or block, repeated over its periods
                per = horizon if mixing == "path" else block
                units = gen.standard_gamma(nu / 2.0, size=(m, -(-horizon // per)))
                g = np.repeat(units, per, axis=1)[:, :horizon].reshape(-1)
            y *= np.sqrt((nu - 2.0) / (2.0 * g))[:, None]
        parts.append(np.asarray(mu, dtype=float) + y)
    return np.concatenate(parts, axis=0).reshape(-1, n)
