"""Hostile run content in the real headless Chromium: no script runs, no request leaves the page.

Two layers are tested:

1. the hostile run files (a section of kind ``html`` carrying a script, a figure whose layout
   loads an image from a URL) are refused by ``rwafolio report`` (exit 2, no file);
2. defence in depth: the same content rendered *past* the reader's checks (as if a case were
   missed) is opened in Chromium. A local HTTP server on 127.0.0.1 counts every request. With
   the report's Content-Security-Policy nothing runs and the server sees nothing; with the
   policy removed (the positive control, i.e. the old reports) the script runs and the server
   is hit, which proves the harness would see the attack.
"""

from __future__ import annotations

import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from rwafolio.cli import main
from rwafolio.reports import collect, render_html, save_run
from rwafolio.reports import render as render_mod
from rwafolio.reports import sections as sections_mod
from rwafolio.reports.sections import ExtraSection

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


def _attacks(base: str) -> list[tuple[str, str, str]]:
    """(title, kind, content) of the two attacks (not ExtraSections: those check figures)."""
    html = (
        "<script>window.__pwned = 1</script>"
        f"<img src='{base}/img-tag.png' onerror='window.__pwned_img = 1'>"
        f"<link rel='stylesheet' href='{base}/style.css'>"
        f"<script src='{base}/remote.js'></script>"
        f"<iframe src='{base}/frame.html'></iframe>"
        f"<script>fetch('{base}/fetch')</script>"
    )
    figure = {
        "data": [{"type": "bar", "x": ["a"], "y": [1]}],
        "layout": {"images": [{"source": f"{base}/plotly-image.png", "xref": "paper",
                               "yref": "paper", "x": 0, "y": 1, "sizex": 1, "sizey": 1}]},
    }  # fmt: skip
    return [("Raw html", "html", html), ("Image figure", "figure", json.dumps(figure))]


def _open(drv: Any, path: Path) -> dict[str, Any]:
    from selenium.webdriver.support.ui import WebDriverWait

    drv.get("about:blank")
    drv.get_log("browser")
    drv.get(path.as_uri())
    WebDriverWait(drv, 60).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && "
            "document.querySelectorAll('.figure').length === "
            "document.querySelectorAll('.figure.js-plotly-plot').length"
        )
    )
    return dict(
        drv.execute_script(
            "return {pwned: typeof window.__pwned, img: typeof window.__pwned_img, "
            "csp: !!document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]')}"
        )
    )


def test_hostile_run_files_are_refused_by_the_report_command(
    run_inputs: dict[str, Any], tmp_path: Path, capsys: Any
) -> None:
    good = save_run(tmp_path / "good.zip", collect(run_inputs["result"]))
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    for i, (title, kind, content) in enumerate(_attacks("http://127.0.0.1:9")):
        manifest = json.loads(members["manifest.json"])
        manifest["extra_sections"] = [{"title": title, "kind": kind, "content": content}]
        run = tmp_path / f"hostile-{i}.zip"
        with zipfile.ZipFile(run, "w") as zf:
            for name, data in {**members, "manifest.json": json.dumps(manifest).encode()}.items():
                zf.writestr(name, data)
        out = tmp_path / f"hostile-{i}.html"
        assert main(["report", str(run), "--out", str(out)]) == 2
        assert not out.exists()
        assert ("html" if kind == "html" else "images") in capsys.readouterr().err


@pytest.mark.parametrize("with_csp", [True, False], ids=["csp", "no-csp-control"])
def test_content_past_the_checks_neither_runs_nor_fetches(
    browser: Any,
    server: tuple[str, list[str]],
    run_inputs: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    with_csp: bool,
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    base, hits = server
    hits.clear()
    monkeypatch.setattr(sections_mod, "sanitize_figure", lambda s: s)  # a "missed case"
    if not with_csp:
        monkeypatch.setattr(render_mod, "content_security_policy", lambda scripts: "")
    path = render_html(
        run_inputs["result"],
        path=tmp_path / "hostile.html",
        extra_sections=[ExtraSection(t, k, c) for t, k, c in _attacks(base)],  # type: ignore[arg-type]
    )
    state = _open(browser, path)
    if with_csp:
        assert state == {"pwned": "undefined", "img": "undefined", "csp": True}
        # The page has finished drawing every figure, the plotly image included: had any
        # request been allowed it would have been sent by now.
        assert hits == []
        violations = [e for e in browser.get_log("browser") if "Content Security" in e["message"]]
        assert violations, "the policy should have reported what it blocked"
    else:
        assert state["pwned"] == "number"
        WebDriverWait(browser, 30).until(lambda d: len(hits) >= 3)
        assert "/plotly-image.png" in hits and "/img-tag.png" in hits
