"""Open the full report in headless Chromium and check what a reader would see.

Asserts that every expected chart rendered (plotly's ``.main-svg`` containers with data traces),
that the console holds no JavaScript error, that the page requested nothing but ``file:`` and
``data:`` URLs (DevTools ``Network.requestWillBeSent`` events from the performance log), and
that the malicious symbol shows as text and never runs. Saves a full-page PNG screenshot to a
tmp path and to ``out/report-screenshot.png``.

Needs Debian's ``chromium`` and ``chromium-driver`` (the ``browser`` fixture in conftest.py);
without them the test skips, except when ``CI`` is set, where it fails.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from rwafolio.reports import render_html
from tests.reports.report_fixtures import EVIL, build_run

pytestmark = pytest.mark.browser

OUT_DIR = Path(__file__).resolve().parents[2] / "out"

EXPECTED_FIGURES = (
    "fig-equity",
    "fig-underwater",
    "fig-monthly",
    "fig-yearly",
    "fig-distribution",
    "fig-rolling-sharpe",
    "fig-rolling-vol",
    "fig-weights",
    "fig-lam-vix",
    "fig-turnover",
    "fig-var-h10",
    "fig-dar-h10",
    "fig-scenario",
    "fig-crowding",
    "fig-walkforward",
    "fig-extra-0",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import plotly.graph_objects as go

    inp = build_run(600, walkforward=True)
    extra = go.Figure(go.Bar(x=["a", "b"], y=[1.0, 2.0], name="extra"))
    path = tmp_path_factory.mktemp("report") / "report.html"
    return render_html(
        inp["result"], inp["forecasts"], inp["walkforward"], path=path,
        benchmarks=inp["benchmarks"], crowding=inp["crowding"], scenario=inp["scenario"],
        extra_sections=[("Extra chart", extra, "A bar chart added through the hook.")],
    )  # fmt: skip


def _screenshot(drv: Any, targets: list[Path]) -> None:
    height = int(drv.execute_script("return document.documentElement.scrollHeight"))
    width = int(drv.execute_script("return document.documentElement.scrollWidth"))
    shot = drv.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True,
         "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}},
    )  # fmt: skip
    data = base64.b64decode(shot["data"])
    for t in targets:
        t.parent.mkdir(parents=True, exist_ok=True)
        t.write_bytes(data)


def test_report_renders_offline_without_errors(browser: Any, report: Path, tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    # Drain what the browser did before our page (its new-tab page loads chrome:// resources).
    browser.get("about:blank")
    browser.get_log("performance")
    browser.get_log("browser")
    browser.get(report.as_uri())
    WebDriverWait(browser, 60).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && "
            "document.querySelectorAll('.figure').length === "
            "document.querySelectorAll('.figure.js-plotly-plot').length"
        )
    )
    # Every expected chart: plotly's SVG containers, with data traces drawn.
    charts = browser.execute_script(
        """
        var out = {};
        document.querySelectorAll('.figure').forEach(function (el) {
          out[el.id] = {
            svgs: el.querySelectorAll('.main-svg').length,
            data: (el.data || []).length,
            traces: el.querySelectorAll('.scatterlayer .trace, .barlayer .trace, .heatmaplayer .hm').length,
            points: el.querySelectorAll('.scatterlayer path.js-line, .scatterlayer path.point, .barlayer path, .heatmaplayer image').length
          };
        });
        return out;
        """
    )
    for fid in EXPECTED_FIGURES:
        assert fid in charts, f"chart {fid} missing; have {sorted(charts)}"
        c = charts[fid]
        assert c["svgs"] >= 1 and c["data"] >= 1 and c["traces"] >= 1 and c["points"] >= 1, (fid, c)
    # No placeholder is left when every input was given.
    assert (
        browser.execute_script("return document.querySelectorAll('[data-placeholder]').length") == 0
    )
    # The malicious symbol is shown as text, never run (an alert would break the next call).
    assert EVIL in browser.find_element("id", "universe").text
    assert browser.execute_script("return typeof window.__evil") == "undefined"
    ticks = browser.execute_script(
        "return Array.from(document.querySelectorAll('#fig-weights .ytick text')).map(e => e.textContent)"
    )
    assert EVIL in ticks  # the weights heatmap names each asset on its y axis
    # No JavaScript errors.
    logs = browser.get_log("browser")
    errors = [e for e in logs if e["level"] in ("SEVERE", "ERROR")]
    assert not errors, errors
    # No network: every request the page made is file: or data:.
    urls = []
    for entry in browser.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    assert urls, "the performance log recorded no request at all (is it enabled?)"
    bad = [u for u in urls if not u.startswith(("file://", "data:"))]
    assert not bad, bad
    _screenshot(browser, [tmp_path / "report-screenshot.png", OUT_DIR / "report-screenshot.png"])
    assert (tmp_path / "report-screenshot.png").stat().st_size > 10_000
