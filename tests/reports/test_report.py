"""The HTML report: sections (left out when their input is missing), escaping, numbers read
back, atomic writes."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from markupsafe import Markup

from rwafolio.exceptions import ConfigError, OutputError
from rwafolio.reports import collect, render_html, write_atomic
from rwafolio.reports import render as render_mod
from rwafolio.reports.figures import downsample
from tests.reports.report_fixtures import EVIL, EVIL_PROXY

SECTION_IDS = ("summary", "header", "performance", "returns", "rolling", "relative", "allocation",
               "risk", "scenario")  # fmt: skip
#: Sections that need an input beyond the backtest (benchmarks, forecasts, scenarios, a
#: walk-forward).
OPTIONAL_IDS = ("relative", "risk", "scenario", "walkforward")


class _Doc(HTMLParser):
    """Collects scripts, table cells (with data-value) and elements by id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.ids: set[str] = set()
        self.tables: dict[str, list[list[tuple[str, str | None]]]] = {}
        self.placeholders: list[str] = []
        self._script: dict[str, str | None] | None = None
        self._table: str | None = None
        self._cell: tuple[str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if a.get("data-placeholder"):
            self.placeholders.append(str(a["data-placeholder"]))
        if tag == "script":
            self._script, self._text = a, []
        elif tag == "table":
            self._table = str(a.get("id"))
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell, self._text = (a.get("data-value"),), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._text)))
            self._script = None
        elif tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append(("".join(self._text).strip(), self._cell[0]))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._script is not None or self._cell is not None:
            self._text.append(data)


def parse(path: Path) -> tuple[str, _Doc]:
    text = path.read_text(encoding="utf-8")
    doc = _Doc()
    doc.feed(text)
    return text, doc


@pytest.fixture(scope="module")
def full_report(run_inputs: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rep") / "report.html"
    return render_html(
        run_inputs["result"], run_inputs["forecasts"], path=path,
        benchmarks=run_inputs["benchmarks"], crowding=run_inputs["crowding"],
        scenario=run_inputs["scenario"],
        extra_sections=[
            ("Extra text", "<i>plain text</i>", "escaped note <u>"),
            ("Extra html", Markup("<em id='trusted-html'>trusted</em>"), None),
            ("Extra table", pd.DataFrame({"x": [1.5, 2.5]}, index=pd.Index(["a", EVIL], name="k")), ""),
        ],
    )  # fmt: skip


def test_every_section_and_chart_is_present(full_report: Path) -> None:
    text, doc = parse(full_report)
    for sid in SECTION_IDS:
        assert sid in doc.ids, sid
    figures = [a["data-figure"] for a, _ in doc.scripts if a.get("data-figure")]
    for fid in ("fig-equity", "fig-underwater", "fig-monthly", "fig-yearly", "fig-distribution",
                "fig-rolling-sharpe", "fig-rolling-vol", "fig-weights", "fig-lam-vix",
                "fig-turnover", "fig-var-h10", "fig-dar-h10", "fig-scenario", "fig-crowding"):  # fmt: skip
        assert fid in figures, fid
        assert fid in doc.ids
    # A "how to read this" note under each chart, sign conventions once, the synthetic banner.
    assert len(re.findall(r'<div class="figure" id=', text)) == len(figures)
    for fid in figures:
        start = text.index(f'id="block-{fid}"')
        end = text.find('<div class="block ', start)
        assert 'class="note"' in text[start : end if end > 0 else None], fid
    assert text.count('id="sign-conventions"') == 1
    assert "SYNTHETIC DATA" in text and "synthetic-banner" in doc.ids
    # No walk-forward was given: its section is left out, and nothing is a placeholder.
    assert "walkforward" not in doc.ids
    assert doc.placeholders == []
    # plotly.js is inlined exactly once and nothing points to the network.
    big = [s for a, s in doc.scripts if len(s) > 1_000_000]
    assert len(big) == 1
    ours = text.replace(big[0], "")
    assert "Not available" not in ours and "placeholder" not in ours
    assert not re.search(r'(src|href)="(https?:)?//', ours)
    assert "cdn.plot.ly" not in ours and "<link" not in ours and "@import" not in ours
    assert "mathjax" not in ours.lower().replace("mathjaxconfig", "")


def test_sections_without_input_are_left_out(run_inputs: dict[str, Any], tmp_path: Path) -> None:
    from rwafolio.backtest import run
    from rwafolio.strategies import EqualWeight

    ew = run(EqualWeight(), run_inputs["result"].panel, progress=False)
    out = render_html(ew, path=tmp_path / "r.html")
    text, doc = parse(out)
    for sid in SECTION_IDS:
        assert (sid in doc.ids) == (sid not in OPTIONAL_IDS), sid
    for sid in OPTIONAL_IDS:
        assert f'href="#{sid}"' not in text, sid
    # equal weight sets no lam_t; a lone run has no benchmark to be relative to
    assert "fig-lam-vix" not in doc.ids and "relative-table" not in doc.ids
    assert doc.placeholders == [] and "Not available in this run" not in text


def test_user_text_is_escaped(full_report: Path) -> None:
    text, doc = parse(full_report)
    assert EVIL not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<b>&</b>" not in text and "&lt;b&gt;&amp;&lt;/b&gt;" in text
    assert "<i>plain text</i>" not in text and "&lt;i&gt;plain text&lt;/i&gt;" in text
    assert "<u>" not in text
    assert "id='trusted-html'" in text  # Markup is the caller's explicit opt-in
    # Every script is one of ours; figure JSON never holds a raw "<".
    for attrs, body in doc.scripts:
        if attrs.get("data-figure"):
            assert attrs.get("type") == "application/json"
            assert "<" not in body and ">" not in body
            for m in re.finditer(r"alert\(1\)", body):
                assert body[m.start() - 24 : m.start()] == "\\u0026lt;script\\u0026gt;"
    kinds = sorted(
        "figure" if a.get("data-figure") else ("plotly" if len(s) > 1_000_000 else "inline")
        for a, s in doc.scripts
    )
    assert kinds.count("plotly") == 1 and kinds.count("inline") == 2
    universe = doc.tables["universe"]
    assert [r[0][0] for r in universe[1:]] == ["BTC-USD", EVIL, "VNQ"]
    assert universe[3][-1][0] == EVIL_PROXY


def _stats_from_html(doc: _Doc) -> pd.DataFrame:
    rows = doc.tables["stats-table"]
    names = [c for c, _ in rows[0][1:]]
    data = {n: [float(r[i + 1][1]) for r in rows[1:]] for i, n in enumerate(names)}  # type: ignore[arg-type]
    shown = {n: [r[i + 1][0] for r in rows[1:]] for i, n in enumerate(names)}
    return pd.DataFrame(data), pd.DataFrame(shown)  # type: ignore[return-value]


def test_numbers_equal_the_result_objects(run_inputs: dict[str, Any], full_report: Path) -> None:
    _, doc = parse(full_report)
    exact, shown = _stats_from_html(doc)
    runs = {"dynamic": run_inputs["result"], **run_inputs["benchmarks"]}
    assert list(exact.columns) == list(runs)
    for name, res in runs.items():
        ref = res.stats().to_numpy(dtype=float)
        np.testing.assert_allclose(exact[name].to_numpy(), ref, rtol=0, atol=0)
        # Displayed text rounds the same number: percentages to 0.005%, ratios to 0.005.
        for txt, val in zip(shown[name], ref):
            got = float(txt.rstrip("%").replace(",", "")) / (100 if txt.endswith("%") else 1)
            tol = 5.1e-5 if txt.endswith("%") else 5.1e-3
            assert abs(got - val) <= tol, (name, txt, val)
    # Costs in the universe table are the assets' costs.
    costs = [float(r[3][1]) for r in doc.tables["universe"][1:]]  # type: ignore[arg-type]
    np.testing.assert_array_equal(costs, run_inputs["result"].panel.universe.costs)
    # Held-back trades: the count is len(result.skipped).
    held = {r[0][0]: r[1] for r in doc.tables["threshold-summary"][1:]}
    assert float(held["trades held back by the threshold"][1]) == len(run_inputs["result"].skipped)
    # VaR backtests: statistics and p-values are those of forecasts.backtest().
    fc = run_inputs["forecasts"]
    tests = doc.tables["tests-table"][1:]
    for level in fc.levels:
        suite = fc.backtest(level)
        label = f"VaR {level:.0%}"
        mine = {r[1][0]: r for r in tests if r[0][0] == label}
        for t in (suite.kupiec, suite.independence, suite.conditional):
            row = mine[t.name]
            assert float(row[4][1]) == t.statistic and float(row[5][1]) == t.p_value
            assert int(float(row[3][1])) == t.n_failures and int(float(row[2][1])) == t.n_obs
        tl = mine["Basel traffic light"]
        assert tl[6][0] == suite.traffic.zone
        assert float(tl[5][1]) == suite.traffic.cumulative_probability
    # Breach table: exactly the sampled rows where the realized return fell below the VaR.
    t = fc.table
    keep = fc.sample_mask().to_numpy()
    lab = "95"
    ref = t.loc[keep & (t["realized_return"] < t[f"var_{lab}"]).to_numpy()]
    rows = [r for r in doc.tables["breach-table"][1:] if r[2][0] == "VaR 95%"]
    assert [r[0][0] for r in rows] == [d.strftime("%Y-%m-%d") for d in ref.index]
    np.testing.assert_array_equal([float(r[4][1]) for r in rows], ref["realized_return"].to_numpy())  # type: ignore[arg-type]
    np.testing.assert_array_equal([float(r[3][1]) for r in rows], ref[f"var_{lab}"].to_numpy())  # type: ignore[arg-type]


def test_downsampling_keeps_what_is_visible() -> None:
    rng = np.random.default_rng(0)
    idx = pd.date_range("2018-01-01", periods=7 * 365, freq="D")
    v = pd.Series(np.cumprod(1 + rng.normal(0, 0.02, len(idx))), index=idx)
    dd = v / v.cummax() - 1
    weekly_last = downsample(v, "last")
    weekly_min = downsample(dd, "min")
    assert 360 <= len(weekly_last) <= 370
    # Hand reference: group by ISO week ending Sunday.
    for d, x in list(weekly_last.items())[:20] + list(weekly_last.items())[-3:]:
        assert v[d] == x and (d.day_of_week == 6 or d == idx[-1])
    assert weekly_min.min() == dd.min()  # the max drawdown survives
    assert weekly_last.index[-1] == idx[-1] and weekly_last.iloc[-1] == v.iloc[-1]
    short = v.iloc[: 2 * 365]
    assert downsample(short, "last") is short


def test_atomic_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             run_inputs: dict[str, Any]) -> None:  # fmt: skip
    target = tmp_path / "report.html"
    target.write_text("GOOD")

    def chunks() -> Any:
        yield "<html>half a report"
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError, match="crash mid-write"):
        write_atomic(target, chunks())
    assert target.read_text() == "GOOD"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]

    # A crash in the middle of rendering the template (a figure that cannot be serialized).
    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("render failed")

    monkeypatch.setattr(render_mod, "plotly_js", boom)
    with pytest.raises(RuntimeError, match="render failed"):
        render_html(run_inputs["result"], path=target)
    assert target.read_text() == "GOOD"
    monkeypatch.undo()

    # A failing rename leaves the old file and no temporary file.
    def bad_replace(a: Any, b: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(render_mod.os, "replace", bad_replace)
    # (an OS failure of the write is the typed OutputError naming the path, not a traceback)
    with pytest.raises(OutputError, match="disk full"):
        render_html(run_inputs["result"], path=target)
    monkeypatch.undo()
    assert target.read_text() == "GOOD"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    # Success replaces it, readable by others.
    render_html(run_inputs["result"], path=target)
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert os.stat(target).st_mode & 0o044 == 0o044
    with pytest.raises(ConfigError, match="path"):
        render_html(run_inputs["result"], path=tmp_path / "missing" / "r.html")


def test_bad_inputs_fail_loudly(run_inputs: dict[str, Any], tmp_path: Path) -> None:
    res = run_inputs["result"]
    with pytest.raises(ConfigError, match="result"):
        collect("not a result")
    with pytest.raises(ConfigError, match="scenario"):
        collect(res, scenario=[1, 2])
    with pytest.raises(ConfigError, match="extra_sections"):
        collect(res, extra_sections=[object()])
    with pytest.raises(ConfigError, match="benchmarks"):
        collect(res, benchmarks={"dynamic": res})
    rec = collect(res)
    with pytest.raises(ConfigError, match="forecasts"):
        render_html(rec, run_inputs["forecasts"], path=tmp_path / "x.html")


def test_crowding_table_shows_the_results_impact_share(
    run_inputs: dict[str, Any], full_report: Path
) -> None:
    """One definition: the report's 'Share of the crowded VaR loss' is the result's
    ``impact_share`` (:func:`rwafolio.risk.impact_share`), printed to 0.1%."""
    c = run_inputs["crowding"]
    text, _doc = parse(full_report)
    for share in c.impact_share:
        if np.isfinite(share):
            assert f"{share:.1%}" in text


def test_the_risk_section_says_what_it_forecast(full_report: Path) -> None:
    """The fixture's rolling forecasts are the default top-down forecast of the strategy's net
    value: the section says so (it used to describe every target as the held portfolio)."""
    text, _doc = parse(full_report)
    start = text.index('id="risk"')
    intro = text[start : text.index("</p>", start)]
    assert "paths of the strategy&#39;s net value over H = 10 periods, top-down" in intro
    assert "held portfolio" not in intro and "zero mean" in intro


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("pnl", "of the strategy's net value over H = 30 periods, top-down"),
        ("strategy", "the strategy re-deciding on every simulated date"),
        ("book", "of the held portfolio over H = 30 periods (not the strategy"),
        (None, "Monte Carlo paths over H = 30 periods, ewma-fhs shocks"),
    ],
)
def test_forecast_description_per_target(target: str | None, words: str) -> None:
    from rwafolio.reports.layout_risk import _fc_meta_text

    fm: dict[str, Any] = {
        "distribution": "ewma-fhs", "nu": 5.0, "every": 5, "n_scenarios": 1000, "horizon": 30,
        "rebalance": "drift", "aggregation": "compound", "seed": 7, "alpha": 0.05,
        "sampling": "non-overlapping", "mean": "zero",
    }  # fmt: skip
    if target is not None:
        fm["target"] = target
    text = _fc_meta_text(fm)
    assert words in text and text.endswith("significance 5%.")
    assert ("zero mean" in text) == (target is not None)
