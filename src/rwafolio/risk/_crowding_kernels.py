"""Multi-agent crowding kernels: one scenario's days, K re-optimizing agents, price impact.

Per day t of a scenario (see :mod:`rwafolio.risk.crowding` for the model and its defaults):

1. exogenous asset returns ``x_t`` (the same draws as the agent-free run: common random numbers);
2. realized returns ``r_t = (1 + x_t)(1 + imp_{t-1}) - 1``: yesterday's aggregate trades moved
   the prices by ``imp_{t-1} = alpha * flow_{t-1}`` (``imp_{-1} = 0``);
3. our portfolio (and its agent-free twin, on ``x_t``) is marked and rebalanced by the rules of
   :mod:`rwafolio.risk._kernels`;
4. every agent k: weights drift with ``r_t``; EWMA estimates (annualized) update:
   ``R_k <- d R_k + (1 - d) P r_t`` and ``S_k <- d S_k + (1 - d) P r_t r_t'``; risk aversion
   ``lam_k,t = lam_k (1 + eta * VIX_k,t)`` with ``VIX_k,t = 100 sqrt(v' S_k v)``; it re-solves
   ``max w'R_k - lam_k,t w'S_k w - sum C |w - w_drift|`` with the optimizer's ``solve_nb``
   (warm-started at the drifted weights; a non-optimal status holds the drifted weights); pays
   its costs; ``flow += share_k * V_k * dw_k``;
5. ``imp_t = max(alpha * flow, -0.99)``.

The kernel's inputs come in three bundles (:class:`Draws`, :class:`Book`, :class:`Agents`,
NamedTuples that numba passes as records) and its outputs are named (:class:`Outcomes`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from rwafolio.optimize import solve_nb

__all__ = ["Agents", "Book", "Draws", "Outcomes", "crowding_paths_nb", "crowding_paths_np"]


class Draws(NamedTuple):
    """Where a scenario's exogenous per-period returns come from (as in
    :func:`rwafolio.risk._kernels.simulate_paths_nb`).

    Attributes
    ----------
    z : ndarray (n_scen * horizon, k)
        Standard draws of the factor model (unused when bootstrapping).
    factor : ndarray (n, k)
        Square-root factor of the per-period covariance.
    mu : ndarray (n,)
        Per-period mean.
    scale : ndarray (n_scen * horizon,) or (0,)
        Per-row scale of the draws (Student-t per path); empty: 1.
    hist : ndarray (T, n)
        Historical returns to bootstrap from.
    idx : ndarray of int64 (n_scen * horizon,) or (0,)
        Bootstrap rows of ``hist``; empty: use the factor model.
    """

    z: np.ndarray
    factor: np.ndarray
    mu: np.ndarray
    scale: np.ndarray
    hist: np.ndarray
    idx: np.ndarray


class Book(NamedTuple):
    """Our portfolio and its rules.

    Attributes
    ----------
    w : ndarray (n,)
        Target weights (cash = 1 - sum).
    costs : ndarray (n,)
        One-off cost rates, for us and the agents.
    horizon : int
        Periods per scenario.
    every : int
        Rebalance every ``every`` periods (0: buy and hold).
    additive : bool
        Sum per-period returns (True) or compound them.
    """

    w: np.ndarray
    costs: np.ndarray
    horizon: int
    every: int
    additive: bool


class Agents(NamedTuple):
    """The K re-optimizing agents and the price impact of their trades.

    Attributes
    ----------
    lam : ndarray (K,)
        Base risk aversion of each agent.
    shares : ndarray (K,)
        Each agent's share of the agents' combined capital (sums to 1).
    r0 : ndarray (K, n)
        Each agent's starting expected returns (annualized, noisy).
    s0 : ndarray (K, n, n)
        Each agent's starting covariance (annualized, noisy).
    w0 : ndarray (K, n)
        Each agent's starting weights.
    alpha : ndarray (n,)
        Relative price move per unit of aggregate flow (fraction of combined agent capital).
    ppy : float
        Periods per year (annualization of the agents' estimates).
    decay, eta : float
        EWMA decay; VIX sensitivity of the risk aversion.
    vix_w : ndarray (n,)
        Weights of the portfolio whose EWMA volatility is the agents' VIX proxy.
    tol : float
    max_iter : int
        Passed to ``solve_nb``.
    """

    lam: np.ndarray
    shares: np.ndarray
    r0: np.ndarray
    s0: np.ndarray
    w0: np.ndarray
    alpha: np.ndarray
    ppy: float
    decay: float
    eta: float
    vix_w: np.ndarray
    tol: float
    max_iter: int


class Outcomes(NamedTuple):
    """Per scenario (each an ndarray of shape (n_scen,)), written by the kernels.

    ``base_*`` is the agent-free run, ``crowd_*`` the run with the agents: ``*_outcome`` the
    horizon return (compound or summed), ``*_drawdown`` the worst drawdown, ``*_cost`` the costs
    paid; ``cos_sum`` the sum over days of the agents' pairwise cosine similarities of trades,
    ``pairs`` their number, ``turnover`` the agents' total turnover, ``fails`` the agents'
    non-optimal solves.
    """

    base_outcome: np.ndarray
    base_drawdown: np.ndarray
    base_cost: np.ndarray
    crowd_outcome: np.ndarray
    crowd_drawdown: np.ndarray
    crowd_cost: np.ndarray
    cos_sum: np.ndarray
    pairs: np.ndarray
    turnover: np.ndarray
    fails: np.ndarray

    @classmethod
    def empty(cls, n_scen: int) -> Outcomes:
        return cls(*(np.zeros(n_scen) for _ in cls._fields))

    def rows(self, lo: int, hi: int) -> Outcomes:
        """Views of scenarios ``lo:hi`` (the kernel writes into them)."""
        return Outcomes(*(a[lo:hi] for a in self))


@njit(cache=True, nogil=True)
def port_step_nb(
    h: np.ndarray,
    st: np.ndarray,
    r: np.ndarray,
    w: np.ndarray,
    w_cash: float,
    costs: np.ndarray,
    t: int,
    horizon: int,
    every: int,
    additive: bool,
) -> None:
    """One period of the portfolio accounting of :func:`rwafolio.risk._kernels.simulate_paths_nb`.

    ``h`` (n,) holdings in value units and ``st = [cash, value, acc, peak, worst, paid, level]``
    are updated in place. The same arithmetic stands inline in ``simulate_paths_nb`` on purpose:
    calling this function from there (even with ``inline="always"``) kept the state in memory
    and made a 10,000 x 30 x 10 forecast 45% slower (17.6 -> 25.4 ms, benchmarks/risk.py).
    ``tests/risk/test_crowding.py`` checks the agent-free crowding run equals ``forecast`` to 1e-14.
    """
    n = w.shape[0]
    cash = st[0]
    value = st[1]
    new_value = cash
    gain = 0.0
    for i in range(n):
        g = h[i] * r[i]
        gain += g
        h[i] += g
        new_value += h[i]
    if additive:
        st[2] += gain / value
        level = 1.0 + st[2]
    else:
        level = new_value
    value = new_value
    if every > 0 and (t + 1) % every == 0 and t + 1 < horizon:
        c = 0.0
        for i in range(n):
            c += costs[i] * abs(w[i] * value - h[i])
        c /= value
        if additive:
            st[5] += c
            st[2] -= c
            level = 1.0 + st[2]
        else:
            st[5] += c * value
            level = value * (1.0 - c)
        value *= 1.0 - c
        for i in range(n):
            h[i] = w[i] * value
        cash = w_cash * value
    if level > st[3]:
        st[3] = level
    dd = level / st[3] - 1.0
    if dd < st[4]:
        st[4] = dd
    st[0] = cash
    st[1] = value
    st[6] = level


@njit(cache=True, nogil=True)
def _agent_day_nb(
    a: int,
    rc: np.ndarray,
    agents: Agents,
    costs: np.ndarray,
    wk: np.ndarray,
    rk: np.ndarray,
    sk: np.ndarray,
    vk: np.ndarray,
    trades: np.ndarray,
    norms: np.ndarray,
    turnover: float,
) -> tuple[float, float]:
    """Agent ``a``'s day (step 4 of the module docstring), updating its rows of the state arrays
    in place; returns ``turnover`` plus its trades' turnover (added term by term, as the running
    total always was) and 1.0 if its solve was not optimal (else 0.0)."""
    n = rc.shape[0]
    decay, ppy = agents.decay, agents.ppy
    gp = 0.0
    for i in range(n):
        gp += wk[a, i] * rc[i]
    vk[a] *= 1.0 + gp
    for i in range(n):
        wk[a, i] = wk[a, i] * (1.0 + rc[i]) / (1.0 + gp)
        rk[a, i] = decay * rk[a, i] + (1.0 - decay) * ppy * rc[i]
        for j in range(n):
            sk[a, i, j] = decay * sk[a, i, j] + (1.0 - decay) * ppy * rc[i] * rc[j]
    var = 0.0
    for i in range(n):
        for j in range(n):
            var += agents.vix_w[i] * sk[a, i, j] * agents.vix_w[j]
    lam_t = agents.lam[a] * (1.0 + agents.eta * 100.0 * np.sqrt(max(var, 0.0)))
    prev = wk[a].copy()
    lo = np.zeros(n)
    hi = np.ones(n)
    wn, _it, status = solve_nb(
        rk[a], sk[a], costs, prev, lam_t, lo, hi, prev, agents.tol, agents.max_iter
    )
    failed = 0.0
    if status != 0:
        failed = 1.0
        wn = prev
    tc = 0.0
    nrm = 0.0
    for i in range(n):
        d = wn[i] - prev[i]
        trades[a, i] = d
        tc += costs[i] * abs(d)
        nrm += d * d
        turnover += abs(d)
        wk[a, i] = wn[i]
    norms[a] = np.sqrt(nrm)
    vk[a] *= 1.0 - tc
    return turnover, failed


@njit(cache=True, nogil=True)
def _cosines_nb(trades: np.ndarray, norms: np.ndarray) -> tuple[float, float]:
    """Sum and count of the pairwise cosine similarities of the agents' trades that day."""
    total = 0.0
    count = 0.0
    k = trades.shape[0]
    for a in range(k):
        if norms[a] <= 1e-12:
            continue
        for b in range(a + 1, k):
            if norms[b] <= 1e-12:
                continue
            dot = 0.0
            for i in range(trades.shape[1]):
                dot += trades[a, i] * trades[b, i]
            total += dot / (norms[a] * norms[b])
            count += 1.0
    return total, count


@njit(cache=True, nogil=True)
def crowding_paths_nb(draws: Draws, book: Book, agents: Agents, out: Outcomes) -> None:
    """Simulate a block of scenarios with and without the agents (in place).

    Parameters
    ----------
    draws : Draws
    book : Book
    agents : Agents
    out : Outcomes
        Columns of shape (n_scen,) written per scenario.
    """
    z, factor, mu, scale, hist, idx = draws
    w, costs, horizon, every, additive = book
    shares, r0, s0, w0, alpha = agents.shares, agents.r0, agents.s0, agents.w0, agents.alpha
    n = w.shape[0]
    k_fac = factor.shape[1]
    n_agents = shares.shape[0]
    n_scen = out.base_outcome.shape[0]
    boot = idx.shape[0] > 0
    scaled = scale.shape[0] > 0
    w_cash = 1.0 - np.sum(w)
    x = np.empty(n)
    rc = np.empty(n)
    imp = np.empty(n)
    flow = np.empty(n)
    hb = np.empty(n)
    hc = np.empty(n)
    stb = np.empty(7)
    stc = np.empty(7)
    wk = np.empty((n_agents, n))
    rk = np.empty((n_agents, n))
    sk = np.empty((n_agents, n, n))
    vk = np.empty(n_agents)
    trades = np.empty((n_agents, n))
    norms = np.empty(n_agents)
    for m in range(n_scen):
        for i in range(n):
            hb[i] = w[i]
            hc[i] = w[i]
            imp[i] = 0.0
        for st in (stb, stc):
            st[0] = w_cash
            st[1] = 1.0
            st[2] = 0.0
            st[3] = 1.0
            st[4] = 0.0
            st[5] = 0.0
            st[6] = 1.0
        wk[:, :] = w0
        rk[:, :] = r0
        sk[:, :, :] = s0
        vk[:] = 1.0
        cos_sum = 0.0
        cos_cnt = 0.0
        turnover = 0.0
        fails = 0.0
        for t in range(horizon):
            row = m * horizon + t
            if boot:
                for i in range(n):
                    x[i] = hist[idx[row], i]
            else:
                s = scale[row] if scaled else 1.0
                for i in range(n):
                    acc = 0.0
                    for j in range(k_fac):
                        acc += factor[i, j] * z[row, j]
                    x[i] = mu[i] + s * acc
            for i in range(n):
                rc[i] = (1.0 + x[i]) * (1.0 + imp[i]) - 1.0
            port_step_nb(hb, stb, x, w, w_cash, costs, t, horizon, every, additive)
            port_step_nb(hc, stc, rc, w, w_cash, costs, t, horizon, every, additive)
            for i in range(n):
                flow[i] = 0.0
            for a in range(n_agents):
                turnover, failed = _agent_day_nb(
                    a, rc, agents, costs, wk, rk, sk, vk, trades, norms, turnover
                )
                fails += failed
                for i in range(n):
                    flow[i] += shares[a] * vk[a] * trades[a, i]
            day_sum, day_cnt = _cosines_nb(trades, norms)
            cos_sum += day_sum
            cos_cnt += day_cnt
            for i in range(n):
                imp[i] = max(alpha[i] * flow[i], -0.99)
        out.base_outcome[m] = stb[6] - 1.0
        out.base_drawdown[m] = stb[4]
        out.base_cost[m] = stb[5]
        out.crowd_outcome[m] = stc[6] - 1.0
        out.crowd_drawdown[m] = stc[4]
        out.crowd_cost[m] = stc[5]
        out.cos_sum[m] = cos_sum
        out.pairs[m] = cos_cnt
        out.turnover[m] = turnover
        out.fails[m] = fails


def crowding_paths_np(x: np.ndarray, book: Book, agents: Agents) -> Outcomes:
    """Numpy twin of :func:`crowding_paths_nb`, vectorized over scenarios (slow: small tests).

    ``x`` (n_scen * horizon, n) are the exogenous per-period returns. Agents' problems are solved
    one by one with ``solve_nb``.
    """
    w, costs, horizon, every, additive = book
    lam, shares, r0, s0, w0, alpha, ppy, decay, eta, vix_w, tol, max_iter = agents
    n = w.shape[0]
    x3 = x.reshape(-1, horizon, n)
    ms = x3.shape[0]
    k = lam.shape[0]
    lo, hi = np.zeros(n), np.ones(n)
    w_cash = 1.0 - w.sum()
    out = np.zeros((ms, 10))
    wk = np.broadcast_to(w0, (ms, k, n)).copy()
    rk = np.broadcast_to(r0, (ms, k, n)).copy()
    sk = np.broadcast_to(s0, (ms, k, n, n)).copy()
    vk = np.ones((ms, k))
    imp = np.zeros((ms, n))
    states = []
    for _ in range(2):
        states.append(
            {"h": np.tile(w, (ms, 1)), "cash": np.full(ms, w_cash), "value": np.ones(ms),
             "acc": np.zeros(ms), "peak": np.ones(ms), "worst": np.zeros(ms),
             "paid": np.zeros(ms), "level": np.ones(ms)}
        )  # fmt: skip
    for t in range(horizon):
        xt = x3[:, t, :]
        rc = (1.0 + xt) * (1.0 + imp) - 1.0
        for st, r in zip(states, (xt, rc)):
            g = st["h"] * r
            st["h"] = st["h"] + g
            nv = st["cash"] + st["h"].sum(axis=1)
            if additive:
                st["acc"] = st["acc"] + g.sum(axis=1) / st["value"]
                st["level"] = 1.0 + st["acc"]
            else:
                st["level"] = nv
            st["value"] = nv
            if every > 0 and (t + 1) % every == 0 and t + 1 < horizon:
                c = (costs * np.abs(w * nv[:, None] - st["h"])).sum(axis=1) / nv
                if additive:
                    st["paid"] = st["paid"] + c
                    st["acc"] = st["acc"] - c
                    st["level"] = 1.0 + st["acc"]
                else:
                    st["paid"] = st["paid"] + c * nv
                    st["level"] = nv * (1.0 - c)
                st["value"] = nv * (1.0 - c)
                st["h"] = w * st["value"][:, None]
                st["cash"] = w_cash * st["value"]
            st["peak"] = np.maximum(st["peak"], st["level"])
            st["worst"] = np.minimum(st["worst"], st["level"] / st["peak"] - 1.0)
        gp = (wk * rc[:, None, :]).sum(axis=2)
        vk = vk * (1.0 + gp)
        wk = wk * (1.0 + rc[:, None, :]) / (1.0 + gp)[:, :, None]
        rk = decay * rk + (1.0 - decay) * ppy * rc[:, None, :]
        sk = decay * sk + (1.0 - decay) * ppy * (rc[:, :, None] * rc[:, None, :])[:, None, :, :]
        vix = 100.0 * np.sqrt(np.maximum(np.einsum("i,mkij,j->mk", vix_w, sk, vix_w), 0.0))
        lam_t = lam[None, :] * (1.0 + eta * vix)
        trades = np.zeros((ms, k, n))
        for m in range(ms):
            for a in range(k):
                prev = np.ascontiguousarray(wk[m, a])
                wn, _it, status = solve_nb(
                    np.ascontiguousarray(rk[m, a]), np.ascontiguousarray(sk[m, a]), costs,
                    prev, float(lam_t[m, a]), lo, hi, prev, tol, max_iter,
                )  # fmt: skip
                if status != 0:
                    out[m, 9] += 1
                    wn = prev
                trades[m, a] = wn - prev
        wk = wk + trades
        vk = vk * (1.0 - (costs * np.abs(trades)).sum(axis=2))
        out[:, 8] += np.abs(trades).sum(axis=(1, 2))
        flow = (shares[None, :, None] * vk[:, :, None] * trades).sum(axis=1)
        norms = np.linalg.norm(trades, axis=2)
        for a in range(k):
            for b in range(a + 1, k):
                ok = (norms[:, a] > 1e-12) & (norms[:, b] > 1e-12)
                dot = (trades[:, a] * trades[:, b]).sum(axis=1)
                out[:, 6] += np.where(ok, dot / np.where(ok, norms[:, a] * norms[:, b], 1.0), 0.0)
                out[:, 7] += ok
        imp = np.maximum(alpha * flow, -0.99)
    for col, st in ((0, states[0]), (3, states[1])):
        out[:, col] = st["level"] - 1.0
        out[:, col + 1] = st["worst"]
        out[:, col + 2] = st["paid"]
    return Outcomes(*(np.ascontiguousarray(out[:, j]) for j in range(len(Outcomes._fields))))
