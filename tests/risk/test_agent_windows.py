"""The agents' shared rolling estimates equal the one-pass estimator on every agent's window."""

from __future__ import annotations

import numpy as np

from rwafolio.risk._agent_windows import estimate_windows_nb, start_windows_nb
from rwafolio.strategies._decide_kernels import lw_correlation_nb


def test_shared_windows_roll_to_the_one_pass_estimates() -> None:
    gen = np.random.default_rng(1)
    vols = np.array([0.04, 0.012, 0.0008])
    x = 3e-4 + gen.standard_normal((160, 3)) * vols
    x[100:125, 2] = 0.0  # a pegged stablecoin stops moving for a while: the one-pass fallback
    windows = np.array([15, 30, 30, 60, 21], dtype=np.int64)
    lengths, slot, shift, s1, s2, s3, s4 = start_windows_nb(windows, x[:60])
    assert list(lengths) == [15, 21, 30, 60] and list(slot) == [0, 2, 2, 3, 1]
    np.testing.assert_allclose(shift, x[:60].mean(axis=0), rtol=1e-14)
    est_mu, est_cov = np.empty((4, 3)), np.empty((4, 3, 3))
    flat = 0
    for end in range(61, x.shape[0] + 1):
        estimate_windows_nb(x, end, lengths, shift, s1, s2, s3, s4, est_mu, est_cov)
        for k, L in enumerate(windows):  # every agent's window, read through its slot
            mu, cov = lw_correlation_nb(x[end - L : end])
            sd = np.sqrt(np.diag(cov))
            if sd[2] == 0.0:
                flat += 1
                np.testing.assert_array_equal(est_cov[slot[k]], cov)  # re-read exactly
            unit = np.where(sd > 0.0, sd, 1.0)  # compare in units of the volatilities
            scale = np.outer(unit, unit)
            np.testing.assert_allclose((est_cov[slot[k]] - cov) / scale, 0.0, atol=1e-11)
            np.testing.assert_allclose(est_mu[slot[k]], mu, rtol=0, atol=1e-12 * sd.max())
    assert flat > 0  # the flat stretch was seen by the short windows
