"""Multi-agent crowding kernels: one scenario's days, K allocating agents, square-root impact.

Per day t of a scenario (see :mod:`rwafolio.risk.crowding` for the model and its defaults):

1. exogenous asset returns ``x_t`` (the same draws as the agent-free run: common random numbers);
2. realized returns ``r_t = x_t + (1 + x_t) m_{t-1}``, where ``m_{t-1} = (D_{t-1} - D_{t-2}) /
   (1 + D_{t-2})`` is the move of the price displacement ``D`` left by yesterday's trades
   (``D_{-1} = D_{-2} = 0``; with no flow ``m = 0`` and ``r_t = x_t`` bit for bit);
3. our book (and its agent-free twin, on ``x_t``) is marked and rebalanced by the rules of
   :mod:`rwafolio.risk._kernels` (:func:`port_step_nb`);
4. every agent k is the strategy run forward, as in the strategy-aware Monte Carlo: its book
   drifts with ``r_t`` (:func:`rwafolio.backtest.book.drift_nb`); it decides on its own window of
   the realized returns plus its view bias with the strategy's step
   (:func:`rwafolio.strategies._decide_kernels.choose_nb`: the window or Black-Litterman mean,
   annualized, lam rule, amortized costs, exact solve with the no-trade certificate, threshold
   rule) fed with the window's Ledoit-Wolf estimate, kept up to date in O(n^2) a day and shared
   by the agents with the same window length (:mod:`rwafolio.risk._agent_windows`); or, in
   forced selling (its drawdown beyond ``fire_dd``), it sells ``fire_frac`` of every holding; it
   trades self-financed paying its fee rates (one-off cost plus half the spread) with
   :func:`rwafolio.backtest.book.trade_nb`;
5. the day's net dollar flow ``Q_i = sum_k AUM_k V_k dw_k,i`` moves asset i by the square-root law
   ``I_i = sign(Q_i) Y sigma_i sqrt(|Q_i| / ADV_i)`` (:mod:`rwafolio.risk.impact`); every agent pays
   ``dw_k,i I_i`` of its value (temporary impact: traders with the crowd pay, against it earn), and
   the displacement ``D_t = keep D_{t-1} + phi I_t`` (``D >= -0.99``) reaches tomorrow's prices.

Nothing here re-implements the book step, the estimator or the strategy's decision. The
kernel's inputs come in bundles (:class:`Draws`, :class:`Book`, :class:`Agents`, :class:`Market`,
NamedTuples that numba passes as records) and its outputs are named (:class:`Outcomes`). The numpy twin is
:func:`rwafolio.risk._crowding_twins.crowding_paths_np`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from rwafolio.backtest.book import drift_nb, trade_nb
from rwafolio.risk._agent_windows import estimate_windows_nb, start_windows_nb
from rwafolio.strategies._decide_kernels import choose_nb

__all__ = [
    "Agents",
    "Book",
    "Draws",
    "Market",
    "Outcomes",
    "crowding_paths_nb",
]


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
        One-off cost rates our book pays (it is a price-taker: no impact).
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
    """The K allocating agents (each the strategy's step with its own parameters).

    Attributes
    ----------
    lam : ndarray (K,)
        Base risk aversion lam0 of each agent (its rule: ``lam0 (1 + eta vix)``).
    eta, vix : float
        Index sensitivity of the rule; the index level (held over the horizon).
    window : ndarray of int64 (K,)
        Estimation window of each agent (periods), at most ``hist0.shape[0]``.
    bias : ndarray (K, n)
        Per-period view bias added to every return an agent estimates from.
    opt_costs : ndarray (K, n)
        The optimizer's amortized costs per agent (annualized return per unit of weight).
    rates : ndarray (n,)
        Fee rates the agents pay: one-off cost plus half the quoted spread.
    aum : ndarray (K,)
        Starting capital of each agent, quote currency.
    w0 : ndarray (K, n)
        Starting weights (fractions of value; cash = 1 - sum).
    hist0 : ndarray (W, n)
        Per-period returns before the horizon, the agents' starting windows (last rows).
    box_lo, box_hi : ndarray (n,)
        Weight bounds.
    ppy, tau : float
        Periods per year; the threshold.
    mode : int
        Threshold rule: 0 none, 1 per_asset, 2 portfolio.
    fire_dd, fire_frac : float
        Forced selling: an agent whose value is more than ``fire_dd`` below its peak sells
        ``fire_frac`` of every holding that day instead of deciding (``fire_dd = inf``: off).
    prior_obs, w_ref, ref_lam : float, ndarray (n,), float
        The strategy's mean: the window mean (``prior_obs = 0``) or the Black-Litterman posterior
        with that prior weight, reference weights and reference lam (NaN: the date's lam), as
        :func:`rwafolio.strategies._decide_kernels.decide_nb` reads them.
    """

    lam: np.ndarray
    eta: float
    vix: float
    window: np.ndarray
    bias: np.ndarray
    opt_costs: np.ndarray
    rates: np.ndarray
    aum: np.ndarray
    w0: np.ndarray
    hist0: np.ndarray
    box_lo: np.ndarray
    box_hi: np.ndarray
    ppy: float
    tau: float
    mode: int
    fire_dd: float
    fire_frac: float
    prior_obs: float
    w_ref: np.ndarray
    ref_lam: float


class Market(NamedTuple):
    """Liquidity and impact (see :mod:`rwafolio.risk.impact`).

    Attributes
    ----------
    volume : ndarray (n,)
        Daily volume, quote currency.
    sigma : ndarray (n,)
        Daily volatility of each asset.
    y, phi, keep : float
        Square-root prefactor, permanent share, daily retention ``2 ** (-1 / half_life)``.
    """

    volume: np.ndarray
    sigma: np.ndarray
    y: float
    phi: float
    keep: float


class Outcomes(NamedTuple):
    """Per scenario (each an ndarray of shape (n_scen,)), written by the kernels.

    ``base_*`` is the agent-free run, ``crowd_*`` the run with the agents: ``*_outcome`` the
    horizon return (compound or summed), ``*_drawdown`` the worst drawdown, ``*_cost`` the costs
    paid; ``cos_sum`` the sum over days of the agents' pairwise cosine similarities of trades,
    ``pairs`` their number, ``turnover`` the agents' total turnover (sum |dw|), ``impact_paid``
    the agents' total impact cost (fractions of their value, summed over agents and days),
    ``fire_days`` the agent-days spent in forced selling.
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
    impact_paid: np.ndarray
    fire_days: np.ndarray

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
def _agent_trade_nb(
    a: int,
    r: np.ndarray,
    mu: np.ndarray,
    cov: np.ndarray,
    t_obs: float,
    agents: Agents,
    may: np.ndarray,
    view: np.ndarray,
    wk: np.ndarray,
    cashk: np.ndarray,
    valk: np.ndarray,
    peakk: np.ndarray,
    vpre: np.ndarray,
    warmk: np.ndarray,
    trades: np.ndarray,
) -> bool:
    """Agent ``a`` at a day's close (step 4 of the module docstring), in place.

    ``r`` (n,) are today's realized returns; ``mu`` (n,) and ``cov`` (n, n) the mean and
    Ledoit-Wolf covariance of the agent's window of realized returns (``t_obs`` rows), before
    its view bias (``may`` (n,) all True and ``view`` (n,) scratch space, both reused across
    calls). Writes the agent's value before trading to ``vpre[a]`` and its traded weights
    (fractions of that value) to ``trades[a]``; returns whether it was in forced selling.
    """
    n = wk.shape[1]
    w, cash, growth = drift_nb(wk[a], cashk[a], r)
    valk[a] *= growth
    vpre[a] = valk[a]
    if valk[a] > peakk[a]:
        peakk[a] = valk[a]
    fired = valk[a] / peakk[a] - 1.0 < -agents.fire_dd
    if fired:
        target = np.full(n, np.nan)
        for i in range(n):
            if w[i] > 0.0:
                target[i] = w[i] * (1.0 - agents.fire_frac)
    else:
        for i in range(n):
            view[i] = mu[i] + agents.bias[a, i]
        target, warm = choose_nb(
            view, cov, t_obs, agents.vix, w, may, agents.lam[a], agents.eta,
            agents.opt_costs[a], agents.box_lo, agents.box_hi, agents.ppy, agents.tau,
            agents.mode, warmk[a], agents.prior_obs, agents.w_ref, agents.ref_lam,
        )  # fmt: skip
        warmk[a] = warm
    traded = False
    for i in range(n):
        trades[a, i] = 0.0
        traded = traded or not np.isnan(target[i])
    if traded:
        mask = ~np.isnan(target)
        filled = np.where(mask, target, 0.0)
        w2, cash2, post, _fee, _turn, sent = trade_nb(w, cash, filled, mask, agents.rates)
        j = 0
        for i in range(n):
            if mask[i]:
                trades[a, i] = sent[j] - w[i]
                j += 1
        valk[a] *= post
        w, cash = w2, cash2
    wk[a] = w
    cashk[a] = cash
    return fired


@njit(cache=True, nogil=True)
def _impact_nb(
    agents: Agents,
    market: Market,
    vpre: np.ndarray,
    trades: np.ndarray,
    wk: np.ndarray,
    cashk: np.ndarray,
    valk: np.ndarray,
    disp: np.ndarray,
    move: np.ndarray,
) -> float:
    """Step 5: the day's flow, its impact, the agents' impact costs and the displacement.

    ``vpre`` (K,) are the agents' values before trading (fractions of their AUM). Updates the
    agents' books, ``disp`` (D) and ``move`` (tomorrow's ``m``) in place; returns the impact
    cost paid, summed over agents (fractions of their values).
    """
    k_agents, n = trades.shape
    paid = 0.0
    imp = np.zeros(n)
    for i in range(n):
        q = 0.0
        for a in range(k_agents):
            q += agents.aum[a] * vpre[a] * trades[a, i]
        if q != 0.0:
            imp[i] = market.y * market.sigma[i] * np.sqrt(abs(q) / market.volume[i])
            if q < 0.0:
                imp[i] = -imp[i]
    for a in range(k_agents):
        c = 0.0
        for i in range(n):
            c += trades[a, i] * imp[i]
        if c != 0.0:
            c *= vpre[a] / valk[a]
            post = 1.0 - c
            cashk[a] = (cashk[a] - c) / post
            for i in range(n):
                wk[a, i] /= post
            valk[a] *= post
            paid += c
    for i in range(n):
        d_new = max(market.keep * disp[i] + market.phi * imp[i], -0.99)
        move[i] = (d_new - disp[i]) / (1.0 + disp[i])
        disp[i] = d_new
    return paid


@njit(cache=True, nogil=True, inline="always")
def _reset_nb(
    w: np.ndarray,
    w_cash: float,
    agents: Agents,
    hb: np.ndarray,
    hc: np.ndarray,
    disp: np.ndarray,
    move: np.ndarray,
    stb: np.ndarray,
    stc: np.ndarray,
    wk: np.ndarray,
    warmk: np.ndarray,
    cashk: np.ndarray,
    valk: np.ndarray,
    peakk: np.ndarray,
) -> None:
    """A scenario's start, in place: both books at ``w`` (state as in :func:`port_step_nb`),
    no displacement, every agent at its starting weights with value and peak 1."""
    for i in range(w.shape[0]):
        hb[i] = w[i]
        hc[i] = w[i]
        disp[i] = 0.0
        move[i] = 0.0
    for st in (stb, stc):
        st[0] = w_cash
        st[1] = 1.0
        st[2] = 0.0
        st[3] = 1.0
        st[4] = 0.0
        st[5] = 0.0
        st[6] = 1.0
    for a in range(agents.w0.shape[0]):
        wk[a] = agents.w0[a]
        warmk[a] = agents.w0[a]
        cashk[a] = 1.0 - np.sum(agents.w0[a])
        valk[a] = 1.0
        peakk[a] = 1.0


@njit(cache=True, nogil=True, inline="always")
def _write_nb(
    out: Outcomes,
    m: int,
    stb: np.ndarray,
    stc: np.ndarray,
    cos_sum: float,
    cos_cnt: float,
    turnover: float,
    paid: float,
    fire_days: float,
) -> None:
    """Scenario ``m``'s row of ``out`` from the final states of both books (see
    :func:`port_step_nb`) and the agents' totals."""
    out.base_outcome[m] = stb[6] - 1.0
    out.base_drawdown[m] = stb[4]
    out.base_cost[m] = stb[5]
    out.crowd_outcome[m] = stc[6] - 1.0
    out.crowd_drawdown[m] = stc[4]
    out.crowd_cost[m] = stc[5]
    out.cos_sum[m] = cos_sum
    out.pairs[m] = cos_cnt
    out.turnover[m] = turnover
    out.impact_paid[m] = paid
    out.fire_days[m] = fire_days


@njit(cache=True, nogil=True)
def crowding_paths_nb(
    draws: Draws, book: Book, agents: Agents, market: Market, out: Outcomes
) -> None:
    """Simulate a block of scenarios with and without the agents (in place).

    Parameters
    ----------
    draws, book, agents, market
        The bundles above.
    out : Outcomes
        Columns of shape (n_scen,) written per scenario.

    Notes
    -----
    A scenario's start and its row of ``out`` are :func:`_reset_nb` and :func:`_write_nb`,
    inlined (as plain calls they made an agent-free run 5-13% slower, inlined 4-6%). The
    exogenous draw stays written out here: as a helper, even inlined, it cost 14% there.
    """
    z, factor, mu, scale, hist, idx = draws
    w, costs, horizon, every, additive = book
    n = w.shape[0]
    k_fac = factor.shape[1]
    n_agents = agents.lam.shape[0]
    n_hist0 = agents.hist0.shape[0]
    n_scen = out.base_outcome.shape[0]
    boot = idx.shape[0] > 0
    scaled = scale.shape[0] > 0
    w_cash = 1.0 - np.sum(w)
    x = np.empty(n)
    rc = np.empty(n)
    disp = np.empty(n)
    move = np.empty(n)
    hb = np.empty(n)
    hc = np.empty(n)
    stb = np.empty(7)
    stc = np.empty(7)
    buf = np.empty((n_hist0 + horizon, n))
    buf[:n_hist0] = agents.hist0
    wk = np.empty((n_agents, n))
    cashk = np.empty(n_agents)
    valk = np.empty(n_agents)
    peakk = np.empty(n_agents)
    vpre = np.empty(n_agents)
    warmk = np.empty((n_agents, n))
    trades = np.zeros((n_agents, n))
    norms = np.empty(n_agents)
    may = np.ones(n, dtype=np.bool_)
    view = np.empty(n)
    lengths, slot, shift, s1_0, s2_0, s3_0, s4_0 = start_windows_nb(agents.window, agents.hist0)
    s1, s2, s3, s4 = s1_0.copy(), s2_0.copy(), s3_0.copy(), s4_0.copy()
    est_mu = np.empty((lengths.shape[0], n))
    est_cov = np.empty((lengths.shape[0], n, n))
    for m in range(n_scen):
        _reset_nb(w, w_cash, agents, hb, hc, disp, move, stb, stc, wk, warmk, cashk, valk, peakk)
        cos_sum = cos_cnt = turnover = paid = fire_days = 0.0
        s1[:] = s1_0
        s2[:] = s2_0
        s3[:] = s3_0
        s4[:] = s4_0
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
                rc[i] = x[i] + (1.0 + x[i]) * move[i]
            port_step_nb(hb, stb, x, w, w_cash, costs, t, horizon, every, additive)
            port_step_nb(hc, stc, rc, w, w_cash, costs, t, horizon, every, additive)
            if n_agents == 0:
                continue
            buf[n_hist0 + t] = rc
            estimate_windows_nb(
                buf, n_hist0 + t + 1, lengths, shift, s1, s2, s3, s4, est_mu, est_cov
            )
            for a in range(n_agents):
                sl = slot[a]
                fired = _agent_trade_nb(
                    a, rc, est_mu[sl], est_cov[sl], float(lengths[sl]), agents, may, view, wk,
                    cashk, valk, peakk, vpre, warmk, trades,
                )  # fmt: skip
                fire_days += 1.0 if fired else 0.0
                nrm = 0.0
                for i in range(n):
                    nrm += trades[a, i] * trades[a, i]
                    turnover += abs(trades[a, i])
                norms[a] = np.sqrt(nrm)
            paid += _impact_nb(agents, market, vpre, trades, wk, cashk, valk, disp, move)
            day_sum, day_cnt = _cosines_nb(trades, norms)
            cos_sum += day_sum
            cos_cnt += day_cnt
        _write_nb(out, m, stb, stc, cos_sum, cos_cnt, turnover, paid, fire_days)
