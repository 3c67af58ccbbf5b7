"""The reports the CLI writes (demo, walk-forward, sensitivity, frequency), opened in headless
Chromium: every chart drawn with data at a non-zero size, the tearsheet's sections present by
their headings, no placeholder text, no console error, no network request.

Each report comes from the real command (``rwafolio.cli.main``) on a shortened synthetic
market, so these are the pages a user gets, only smaller.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rwafolio.cli import main

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Headings of the tearsheet every report carries (h2 or h3 text, exact).
TEARSHEET_HEADINGS = (
    "Key metrics",
    "Statistics, side by side",
    "Worst drawdowns",
    "Monthly returns",
    "Yearly returns",
    "Return distribution",
    "Best and worst",
    "Rolling Sharpe ratio",
    "Rolling volatility",
    "Average weights and time held",
    "Weights over time",
    "Turnover and costs",
)
#: Reports with benchmarks add these.
BENCHMARK_HEADINGS = ("Against the benchmark (equal_weight)",)
#: Text that must never reach a reader (the old placeholders told them to pass Python arguments).
PLACEHOLDER_TEXT = ("Not available", "placeholder", "forecasts=", "pass scenario", "crowding=...")


def _grid(tmp: Path) -> Path:
    path = tmp / "grid.toml"
    path.write_text('[strategy]\nname = "dynamic"\n\n[grid]\nlam0 = [1.0, 4.0]\n')
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("cli-reports")
    short = ["--source", "synthetic", "--start", "2021-07-01", "--end", "2024-06-30"]
    runs = {
        "demo": ["demo", "--start", "2021-01-01", "--end", "2024-06-30", "--every", "10"],
        "walkforward": ["walkforward", *short, "--grid", str(_grid(tmp)), "--train", "365D",
                        "--test", "180D", "--executor", "serial", "--no-var"],
        "sensitivity": ["sensitivity", *short, "--every", "20"],
        "frequency": ["frequency", "--source", "synthetic", "--start", "2023-07-01", "--end",
                      "2024-06-30", "--executor", "serial"],
    }  # fmt: skip
    out = {}
    for name, argv in runs.items():
        out[name] = tmp / f"{name}.html"
        assert main([*argv, "--out", str(out[name])]) == 0, name
    return out


def _open(browser: Any, path: Path) -> dict[str, Any]:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get("about:blank")
    browser.get_log("performance")
    browser.get_log("browser")
    browser.get(path.as_uri())
    WebDriverWait(browser, 90).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && "
            "document.querySelectorAll('.figure').length === "
            "document.querySelectorAll('.figure.js-plotly-plot').length"
        )
    )
    page = browser.execute_script(
        """
        var charts = {};
        document.querySelectorAll('.figure').forEach(function (el) {
          var box = el.getBoundingClientRect();
          charts[el.id] = {
            width: box.width, height: box.height,
            svgs: el.querySelectorAll('.main-svg').length,
            data: (el.calcdata || []).filter(function (cd) { return cd && cd.length > 0; }).length,
            drawn: el.querySelectorAll('.scatterlayer path.js-line, .scatterlayer path.point, '
              + '.barlayer path, .heatmaplayer image, .hm image').length
          };
        });
        var heads = Array.from(document.querySelectorAll('h2, h3')).map(function (h) {
          return h.textContent.trim(); });
        return {charts: charts, headings: heads, text: document.body.innerText};
        """
    )
    page["errors"] = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    urls = []
    for entry in browser.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    page["urls"] = urls
    return page


def _check(page: dict[str, Any], headings: tuple[str, ...], min_charts: int) -> None:
    charts = page["charts"]
    assert len(charts) >= min_charts, sorted(charts)
    for fid, c in charts.items():
        assert c["width"] > 100 and c["height"] > 100, (fid, c)
        assert c["svgs"] >= 1 and c["data"] >= 1 and c["drawn"] >= 1, (fid, c)
    missing = [h for h in headings if h not in page["headings"]]
    assert not missing, (missing, page["headings"])
    for text in PLACEHOLDER_TEXT:
        assert text not in page["text"], text
    assert not page["errors"], page["errors"]
    assert page["urls"], "the performance log recorded no request at all"
    bad = [u for u in page["urls"] if not u.startswith(("file://", "data:"))]
    assert not bad, bad


def test_demo_report(browser: Any, reports: dict[str, Path]) -> None:
    page = _open(browser, reports["demo"])
    heads = TEARSHEET_HEADINGS + BENCHMARK_HEADINGS + (
        "Volatility index and risk aversion", "Monte Carlo outcomes at the latest date",
        "What crowding adds to the risk", "Out-of-sample equity", "Folds", "Chosen parameters",
        "Walk-forward against the best fixed choice", "VaR backtests",
    )  # fmt: skip
    _check(page, heads, min_charts=14)
    assert {"fig-var-h30", "fig-dar-h30", "fig-walkforward"} <= set(page["charts"])
    # The breach table is collapsed: its rows are in the page but not shown.
    assert "Breach table" in page["text"] and "Window end" not in page["text"]


def test_walkforward_report(browser: Any, reports: dict[str, Path]) -> None:
    page = _open(browser, reports["walkforward"])
    heads = TEARSHEET_HEADINGS + BENCHMARK_HEADINGS + (
        "Out-of-sample equity", "Folds", "Chosen parameters",
        "Walk-forward against the best fixed choice",
    )  # fmt: skip
    _check(page, heads, min_charts=10)
    assert "{" not in page["text"].split("Chosen parameters", 1)[1]  # a table, not raw JSON


def test_sensitivity_report(browser: Any, reports: dict[str, Path]) -> None:
    page = _open(browser, reports["sensitivity"])
    _check(page, TEARSHEET_HEADINGS, min_charts=9)
    assert any(h.startswith("Sensitivity ranking") for h in page["headings"])


def test_frequency_report(browser: Any, reports: dict[str, Path]) -> None:
    page = _open(browser, reports["frequency"])
    _check(page, TEARSHEET_HEADINGS, min_charts=9)
    assert "Update frequency: costs against risk" in page["headings"]


def test_demo_prints_clean(browser: Any, reports: dict[str, Path]) -> None:
    """Under print media: no navigation bar or chart toolbars, the collapsed tables open, every
    chart fits an A4 page's width, and no table is wider than the page."""
    _open(browser, reports["demo"])
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        browser.execute_script("window.dispatchEvent(new Event('beforeprint'))")
        got = browser.execute_script(
            """
            var nav = document.querySelector('nav.toc');
            var widths = Array.from(document.querySelectorAll('.figure')).map(function (el) {
              return el.querySelector('.main-svg').getBoundingClientRect().width; });
            var closed = document.querySelectorAll('details.collapsed-table:not([open])').length;
            return {nav: getComputedStyle(nav).display, widths: widths, closed: closed,
                    page: document.documentElement.scrollWidth, view: window.innerWidth};
            """
        )
    finally:
        browser.execute_script("window.dispatchEvent(new Event('afterprint'))")
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert got["nav"] == "none"
    assert got["closed"] == 0
    assert got["widths"] and max(got["widths"]) <= 720, got["widths"]
    assert got["page"] <= got["view"], got
