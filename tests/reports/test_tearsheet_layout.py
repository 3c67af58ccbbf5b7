"""The tearsheet's layout pieces: numbers in its tables equal the statistics module's, the
figures' axes read (log ticks, the lam/VIX mapping, percent scales), tables use human names,
and parameters show the default in force instead of None."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from rwafolio.backtest import tearsheet_stats as ts
from rwafolio.reports import collect
from rwafolio.reports import figures as F
from rwafolio.reports import figures_studies as S
from rwafolio.reports import tearsheet as TS
from rwafolio.reports.blocks import frame_table
from rwafolio.reports.header import param_value
from rwafolio.reports.layout import build_context
from rwafolio.reports.theme import TEMPLATE, themed_json


@pytest.fixture(scope="module")
def record(run_inputs: dict[str, Any]) -> Any:
    return collect(run_inputs["result"], benchmarks=run_inputs["benchmarks"])


def _block(ctx: dict[str, Any], bid: str) -> dict[str, Any]:
    for s in ctx["sections"]:
        for b in s["blocks"]:
            if b.get("id") == bid:
                return b
    raise KeyError(bid)


def test_live_returns_are_the_results_returns(record: Any, run_inputs: dict[str, Any]) -> None:
    res = run_inputs["result"]
    r = TS.live_returns(record)["dynamic"]
    first = pd.Timestamp(res.params["first_decision"])
    np.testing.assert_allclose(
        r.to_numpy(), res.returns.loc[first:].to_numpy(), rtol=1e-12, atol=1e-15
    )
    # compounding them gives the stats() total return
    np.testing.assert_allclose(np.prod(1 + r) - 1, res.stats()["total_return"], rtol=1e-10)


def test_tables_hold_the_statistics(record: Any, run_inputs: dict[str, Any]) -> None:
    ctx = build_context(record)
    rets = TS.live_returns(record)
    rel = _block(ctx, "relative")["table"]
    assert rel["columns"][0] == "Run" and "Information ratio" in rel["columns"]
    row = next(r for r in rel["rows"] if r[0]["text"] == "dynamic")
    ref = ts.relative_to(rets["dynamic"], rets["equal_weight"], 365)
    assert float(row[1]["value"]) == ref["alpha"] and float(row[2]["value"]) == ref["beta"]
    assert row[1]["text"].endswith("%")
    dd = _block(ctx, "drawdowns")["table"]
    first = run_inputs["result"].params["first_decision"]
    ep = ts.drawdown_episodes(record.tables["values"]["dynamic"].loc[first:])
    assert float(dd["rows"][0][4]["value"]) == pytest.approx(ep["depth"].iloc[0], abs=1e-12)
    cards = {c["label"]: c["value"] for c in ctx["kpis"]}
    assert cards["Total return"] == f"{run_inputs['result'].stats()['total_return']:.2%}"
    assert cards["Alpha"] == f"{ref['alpha']:.2%}"


def test_log_ticks_label_values_below_one() -> None:
    ticks = F.log_ticks(0.62, 1.9)
    assert 0.7 in ticks and 0.8 in ticks and 1.0 in ticks and 1.2 in ticks
    assert all(0.6 <= t <= 1.95 and t == round(t, 6) for t in ticks)
    wide = F.log_ticks(0.5, 40.0)
    assert wide == [0.5, 1.0, 2.0, 5.0, 10.0, 20.0]


def test_lam_axis_is_the_vix_axis_mapped_through_the_rule(record: Any) -> None:
    fig = F.lam_vix_figure(record.tables["decisions"], None, 25.0)
    assert fig is not None
    lo, hi = fig.layout.yaxis.range
    lam_lo, lam_hi = fig.layout.yaxis2.range
    lam0, eta = record.meta["params"]["lam0"], record.meta["params"]["eta"]
    np.testing.assert_allclose(
        [lam_lo, lam_hi], [lam0 * (1 + eta * lo), lam0 * (1 + eta * hi)], rtol=1e-9
    )
    assert any(s.y0 == 25.0 for s in fig.layout.shapes)  # the stress level is drawn
    assert lo <= 25.0 <= hi


def test_every_chart_uses_the_template() -> None:
    plain = go.Figure(go.Bar(x=[1], y=[2]))
    spec = json.loads(themed_json(str(plain.to_json())))
    assert spec["layout"]["template"]["layout"]["plot_bgcolor"] == TEMPLATE.layout.plot_bgcolor
    own = go.Figure(layout={"template": "plotly_dark"})
    assert (
        json.loads(themed_json(str(own.to_json())))["layout"]["template"]["layout"]["plot_bgcolor"]
        != TEMPLATE.layout.plot_bgcolor
    )  # a figure's own (non-default) template is kept


def test_tables_use_human_names_and_percent() -> None:
    df = pd.DataFrame({"level": [0.95], "var_without": [-0.0123], "impact_share_tail": [0.5]})
    t = frame_table(df, "x", index=False)
    assert t["columns"] == [
        "Confidence level",
        "VaR, book alone",
        "Same, averaged over the crowded tail",
    ]
    assert [c["text"] for c in t["rows"][0]] == ["95%", "-1.23%", "50.00%"]


def test_parameters_show_the_default_in_force() -> None:
    assert param_value("cost_horizon", None, 30).startswith("default: the estimation window (30")
    assert param_value("bounds", None) == "default: 0 <= weight <= 1 for every asset"
    assert param_value("threshold", 0.01) == "0.01"
    assert param_value("something_new", None) == "not set"


def test_tornado_leaves_out_inputs_that_change_nothing() -> None:
    ranking = pd.DataFrame({
        "input": ["R[A]", "R[B]", "sigma[A]", "rho[A,B]"],
        "turnover": [0.4, 0.2, 0.0, 0.0],
        "drisk_up": [0.01, -0.02, 0.0, np.nan],
        "drisk_down": [-0.01, 0.015, 0.0, np.nan],
    })  # fmt: skip
    fig = S.tornado_figure(ranking, top=10)
    labels = list(fig.data[0].y)
    assert len(labels) == 2 and labels[-1].startswith("R[A]") and "turnover 40%" in labels[-1]
    assert all(tr.text is None for tr in fig.data)  # no text beside the bars to collide


def test_costs_risk_scatter_axes_are_in_range() -> None:
    rows = [
        {"crypto": c, "rwa": r, "stress_vix": s, "volatility": 0.3 + 0.01 * i,
         "costs_paid": 0.05 * (i + 1), "sharpe": 0.5, "utility_lost": 0.01 * i}
        for i, (c, r, s) in enumerate([("daily", "weekly", 25.0), ("weekly", "monthly", 25.0),
                                       ("daily", "weekly", np.nan)])
    ]  # fmt: skip
    fig = S.costs_risk_figure(pd.DataFrame(rows))
    assert len({tr.xaxis for tr in fig.data}) == 2  # one panel per stress setting
    lo, hi = fig.layout.yaxis.range
    assert lo == 0.0 and 0.15 <= hi < 0.2
    sizes = {tr.marker.size for tr in fig.data}
    assert sizes == {11}  # one marker size: no giant bubbles


def test_study_tables_have_human_names_and_percent() -> None:
    t = pd.DataFrame({"crypto": ["daily", "weekly"], "rwa": ["weekly", "monthly"],
                      "stress_vix": [25.0, np.nan], "costs_paid": [0.1234, 0.05],
                      "sharpe": [0.81234, 1.2], "n_trades": [10, 4]})  # fmt: skip
    shown = S.schedule_table(t)
    assert list(shown.index) == ["crypto daily / RWA weekly", "crypto weekly / RWA monthly"]
    assert list(shown["Stress override"]) == ["VIX > 25", "none"]
    assert (
        shown["Costs paid (%)"].tolist() == [12.34, 5.0] and shown["Sharpe ratio"].iloc[0] == 0.81
    )
    by_kind = pd.DataFrame(
        {"mean": [0.8], "vol": [0.2], "n_dates": [3]}, index=pd.Index(["calm"], name="regime")
    )
    shown = S.sensitivity_table(by_kind)
    assert list(shown.columns) == ["Expected returns (%)", "Volatilities (%)", "Dates"]
    assert shown.index.name == "Regime" and shown.iloc[0, 0] == 80.0


def test_turnover_and_costs_each_have_their_own_axis(record: Any) -> None:
    fig = F.turnover_costs_figure(record.tables["flows"], record.meta["params"]["first_decision"])
    # two stacked panels, no overlaid secondary axis whose ticks must align with the first
    assert fig.layout.yaxis.overlaying is None and fig.layout.yaxis2.overlaying is None
    assert fig.layout.yaxis.tickformat == ".0%" and fig.layout.yaxis2.tickformat == ".1%"
    assert "%" in fig.layout.yaxis.title.text and "%" in fig.layout.yaxis2.title.text
    cum = fig.data[1].y
    np.testing.assert_allclose(
        cum[-1], record.tables["stats"].loc["costs_paid", "dynamic"], rtol=1e-9
    )
