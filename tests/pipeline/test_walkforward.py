"""The walk-forward pipeline: precedence of arguments, the grid file and defaults; the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from rwafolio.config import RunConfig
from rwafolio.exceptions import ConfigError
from rwafolio.optimize import EWMAEstimator
from rwafolio.pipeline.walkforward import DEFAULT_GRID, run_walkforward, write_report
from tests.backtest.conftest import make_panel


def test_run_walkforward_precedence_and_report(tmp_path: Path) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text(
        '[strategy]\nname = "fixed_mix"\n'
        '[grid]\nweights = [{"BTC-USD" = 1.0}, {"VNQ" = 1.0}]\n'
        '[walkforward]\ntrain = "300D"\ntest = "60D"\nmetric = "calmar"\n'
    )
    panel = make_panel(500, seed=1)
    wf = run_walkforward(panel, grid=grid, test="90D", executor="serial")
    res = wf.result
    assert res.plan.test == "90D" and res.plan.train == "300D"  # argument beats file
    assert res.metric == "calmar"
    assert wf.plan.describe().startswith("walk-forward plan: rolling, train 300D, test 90D")
    assert wf.n_points == 2 and str(grid) in wf.summary()
    out = write_report(wf, tmp_path / "sub" / "wf.html", panel)
    assert out.is_file() and "Walk-forward" in out.read_text(encoding="utf-8")
    assert not list(out.parent.glob(".*tmp*"))  # written atomically
    grid.write_text(grid.read_text() + "bogus = 1\n")
    with pytest.raises(ConfigError, match="bogus"):
        run_walkforward(panel, grid=grid)


def test_default_grid_takes_the_config_and_flags() -> None:
    panel = make_panel(420, seed=2)
    cfg = RunConfig(strategy={"estimator": "ewma", "ewma_halflife": 5.0, "window": 20})
    wf = run_walkforward(
        panel, config=cfg, overrides={"threshold": 0.02}, train="200D", test="100D",
        executor="serial", var=False,
    )  # fmt: skip
    assert wf.grid_source == "default grid"
    assert wf.n_points == len(DEFAULT_GRID["lam0"]) * len(DEFAULT_GRID["eta"])
    chosen = [f.params for f in wf.result.folds if f.status == "ok"]
    assert chosen and all(set(p) == {"lam0", "eta"} for p in chosen)
    proto = wf.strategy.get_params()
    assert proto["threshold"] == 0.02 and proto["window"] == 20
    assert proto["estimator"] == EWMAEstimator(halflife=5.0)
