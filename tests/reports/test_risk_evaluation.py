"""The risk section's data and figure, from a default risk evaluation on a known market."""

from __future__ import annotations

import json

import numpy as np

from rwafolio.reports.risk_evaluation import evaluation_figure, evaluation_tables
from rwafolio.risk.evaluation import evaluate_risk
from tests.risk.test_rolling import _result


def test_tables_and_figure() -> None:
    ev = evaluate_risk(_result(n_days=700, step=1, seed=3), rng=1, n_scenarios=500)
    tabs = evaluation_tables(ev)
    hz, win = tabs["risk_horizons"], tabs["risk_windows"]
    assert hz["horizon"].tolist() == [h.horizon for h in ev.horizons]
    for h, (_, row) in zip(ev.horizons, hz.iterrows(), strict=True):
        part = win[win["horizon"] == h.horizon]
        assert len(part) == h.windows == row["windows"]
        assert int(part["breach"].sum()) == h.breaches == row["breaches"]
        assert int(part["dar_breach"].sum()) == h.drawdown_breaches
        assert np.all(part["cvar"] <= part["var"])
        assert row["verdict"] == h.verdict()
    json.dumps(ev.risk_tests(), allow_nan=False)  # JSON-ready
    fig = evaluation_figure(win, 1, 0.99)
    names = [t.name for t in fig.data]
    assert names[:3] == ["realized return", "VaR 99%", "CVaR 99%"] and "breach" in names
    assert len(fig.data[3].x) == ev.horizons[0].breaches


def test_sections_render_in_the_report(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rwafolio.reports import render_html
    from rwafolio.reports.risk_evaluation import risk_sections
    from rwafolio.reports.sections import normalize_sections

    res = _result(n_days=400, step=1, seed=5)
    ev = evaluate_risk(res, rng=1, n_scenarios=300)
    secs = risk_sections(ev)
    norm = normalize_sections(secs)
    assert [s.kind for s in norm] == ["table", *["figure"] * len(ev.horizons), "table"]
    assert "note: 10-period" in norm[0].note  # hand-built result: no strategy, top-down used
    path = render_html(res, path=tmp_path / "r.html", extra_sections=secs)
    text = path.read_text()
    assert "Risk forecasts by horizon" in text and "Breached windows" in text
