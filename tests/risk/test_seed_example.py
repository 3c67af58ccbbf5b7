"""The model's worked example (examples/seed_example.py)."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

from rwafolio.risk import forecast, normal_var

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "seed_example.py"


def test_closed_form_number() -> None:
    # 30/252 of the annual moments: mean 0.059 * 30/252, variance 0.047441 * 30/252.
    w = np.array([0.5, 0.3, 0.2])
    mu = np.array([0.08, 0.05, 0.02]) / 252
    sig = np.diag(np.array([0.4, 0.15, 0.02]) ** 2) / 252
    sig[0, 1] = sig[1, 0] = 0.3 * 0.4 * 0.15 / 252
    m = 0.059 * 30 / 252
    s = np.sqrt(0.047441 * 30 / 252)
    assert normal_var(w, mu, sig, 30, 0.95) == pytest.approx(m + norm.ppf(0.05) * s, abs=1e-12)
    assert normal_var(w, mu, sig, 30, 0.95) == pytest.approx(-0.1166, abs=5e-5)
    # cost-free Monte Carlo agrees with it within its own Monte Carlo error
    f = forecast(w, mu, sig, rebalance=1, aggregation="sum", rng=1, n_scenarios=200_000)
    assert abs(f.var[0] - (-0.11659)) < 4 * f.var_se[0]


@pytest.mark.slow
def test_seed_example_script(capsys: pytest.CaptureFixture[str]) -> None:
    ns = runpy.run_path(str(EXAMPLE), run_name="not_main")
    res = ns["main"]()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "VaR95 without agents: -11.7%"
    assert re.fullmatch(r"VaR95 with 10 agents: -\d+\.\d%", lines[1])
    assert "-12%" in lines[2] and "-15%" in lines[2]
    # the cost-free forecast reproduces the closed form within its Monte Carlo error
    assert abs(res["var_without"] - res["closed_form"]) < 4 * res["var_without_se"]
    # "with 10 agents" is the 1M-scenario line plus the crowding difference on common draws
    shift = res["crowd_with"] - res["crowd_without"]
    assert res["var_with"] == pytest.approx(res["var_without"] + shift, abs=1e-15)
    text = "\n".join(lines)
    assert "VaR95 over agents (rows)" in text
    assert text.count("reproduces the source's -15%") + text.count("needs the token") == 2
