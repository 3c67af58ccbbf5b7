"""The report's Content-Security-Policy, read back from the written file.

Independent of render.py: the HTML is parsed with the standard library, the hash of every
executable script is computed here and compared with the policy's list.
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from markupsafe import Markup

from rwafolio.reports import render_html


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.csp: list[str] = []
        self.scripts: list[str] = []
        self.data_scripts = 0
        self._in: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp.append(a.get("content") or "")
        if tag == "script":
            self._in = a.get("type") or "js"
            self._buf = []

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self._buf.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in is not None:
            if self._in == "application/json":
                self.data_scripts += 1
            else:
                self.scripts.append("".join(self._buf))
            self._in = None


def _hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def test_policy_forbids_network_and_lists_exactly_the_page_scripts(
    run_inputs: dict[str, Any], tmp_path: Path
) -> None:
    trusted = Markup("<script>window.__trusted_but_not_listed = 1</script>")
    path = render_html(
        run_inputs["result"], path=tmp_path / "r.html",
        extra_sections=[("Trusted HTML with a script", trusted, "")],
    )  # fmt: skip
    doc = _Scripts()
    doc.feed(path.read_text(encoding="utf-8"))
    assert len(doc.csp) == 1
    directives = {}
    for d in doc.csp[0].split(";"):
        name, _, value = d.strip().partition(" ")
        if name:
            directives[name] = value
    assert directives["default-src"] == "'none'"
    for name in ("connect-src", "frame-src", "object-src", "child-src", "worker-src"):
        assert name not in directives  # all fall back to default-src 'none'
    assert directives["img-src"] == "data: blob:" and directives["base-uri"] == "'none'"
    assert "unsafe-inline" not in directives["script-src"]
    assert "unsafe-eval" not in directives["script-src"]
    allowed = set(directives["script-src"].split())
    hashes = {_hash(s) for s in doc.scripts}
    # rwafolio's own three scripts are listed; the caller's inline script is not, so it never runs.
    assert len(doc.scripts) == 4 and doc.data_scripts >= 5
    listed = [s for s in doc.scripts if "__trusted_but_not_listed" not in s]
    assert len(listed) == 3
    assert allowed == {_hash(s) for s in listed}
    assert allowed < hashes


def test_literal_template_scripts_are_allowed_and_templated_ones_are_not() -> None:
    from rwafolio.reports.render import static_scripts

    source = (
        "<script>var a = 1;</script>\n<script type='module'>x()</script>"
        "<script>{{ value }}</script><script>{% if x %}y{% endif %}</script><script>\nb()\n</script>"
    )
    assert static_scripts(source) == ["var a = 1;", "\nb()\n"]
