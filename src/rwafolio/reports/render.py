"""Render a run to one self-contained HTML file (plotly.js inlined once, no network needed).

:func:`render_html` gathers a :class:`~rwafolio.reports.record.RunRecord` from the live objects
(or takes one read back by :func:`~rwafolio.reports.runfile.load_run`), lays out the sections
(:mod:`rwafolio.reports.layout`) and streams the jinja2 template (autoescape on: every
symbol, name and config value is escaped) into a temporary file in the target folder, which is
then renamed into place (:func:`rwafolio.outputs.atomic_write`), so a crash never leaves a
half-written report where a good one is expected.

Every report carries a Content-Security-Policy (:func:`content_security_policy`): no network
access of any kind, and only rwafolio's own inline scripts run (listed by hash), so content that
slipped past every other check can neither fetch nor execute anything.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from rwafolio.exceptions import ConfigError
from rwafolio.outputs import write_atomic
from rwafolio.reports.record import RunRecord, collect

#: Plotly config of every chart: no logo, no MathJax, no link to the plotly cloud.
PLOTLY_CONFIG: Mapping[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "showLink": False,
    "typesetMath": False,
    "modeBarButtonsToRemove": ["sendDataToCloud"],
}


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("rwafolio.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle shipped with the plotly package, safe to put in a script element."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().replace("</script", "<\\/script")


def script_json(obj: Any) -> Markup:
    """JSON that is safe inside a ``<script>`` element (``<``, ``>``, ``&`` escaped)."""
    text = obj if isinstance(obj, str) else json.dumps(obj, allow_nan=False)
    text = (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return Markup(text)


#: The head script (plotly's MathJax off) and the script drawing every figure from its JSON.
HEAD_JS = 'window.PlotlyConfig = {MathJaxConfig: "local"};'
BOOT_JS = """
(function () {
  "use strict";
  var config = __PLOTLY_CONFIG__;
  var specs = document.querySelectorAll('script[type="application/json"][data-figure]');
  for (var i = 0; i < specs.length; i++) {
    var el = document.getElementById(specs[i].getAttribute("data-figure"));
    var spec = JSON.parse(specs[i].textContent);
    Plotly.newPlot(el, spec.data, spec.layout, config);
  }
  // Printing: open the collapsed tables (breaches) and fit every chart to the page width.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.collapsed-table:not([open])").forEach(function (d) {
      d.open = true;
      opened.push(d);
    });
    document.querySelectorAll(".figure.js-plotly-plot").forEach(function (el) {
      Plotly.relayout(el, {width: 700});
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
    document.querySelectorAll(".figure.js-plotly-plot").forEach(function (el) {
      Plotly.relayout(el, {width: null, autosize: true});
    });
  });
})();
"""


def _script_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def content_security_policy(scripts: Iterable[str]) -> str:
    """The report's Content-Security-Policy: no network, only the given inline scripts run.

    ``default-src 'none'`` forbids every fetch (scripts, styles, images, fonts, frames,
    ``fetch``/XHR); scripts run only when their text hashes to one listed (so an injected script
    or event handler never runs); inline styles are allowed (plotly sets them); images may be
    ``data:`` or ``blob:`` URLs (plotly's "download plot" button); no ``<base>``, no forms.
    """
    hashes = " ".join(sorted({_script_hash(t) for t in scripts}))
    return (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
        "img-src data: blob:; font-src data:; base-uri 'none'; form-action 'none'"
    )


_STATIC_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def static_scripts(source: str) -> list[str]:
    """Inline scripts written literally in a template's source (no jinja inside them).

    Their text reaches the page unchanged, so they may run under the policy; a script built
    from template values must be passed to :func:`content_security_policy` explicitly.
    """
    return [m for m in _STATIC_SCRIPT.findall(source) if "{{" not in m and "{%" not in m]


@lru_cache(maxsize=1)
def _template_scripts() -> tuple[str, ...]:
    env = _environment()
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, "report.html")
    return tuple(static_scripts(source))


def render_record(record: RunRecord, *, title: str | None = None) -> Iterable[str]:
    """The report of ``record`` as a stream of HTML chunks."""
    from rwafolio.reports.layout import build_context

    context = build_context(record, title=title)
    boot = BOOT_JS.replace("__PLOTLY_CONFIG__", script_json(dict(PLOTLY_CONFIG)))
    context["plotly_js"] = Markup(plotly_js())
    context["head_js"] = Markup(HEAD_JS)
    context["boot_js"] = Markup(boot)
    context["csp"] = content_security_policy([plotly_js(), HEAD_JS, boot, *_template_scripts()])
    template = _environment().get_template("report.html")
    return template.generate(**context)


def render_html(
    result: Any,
    forecasts: Any = None,
    walkforward: Any = None,
    *,
    path: str | os.PathLike[str],
    benchmarks: Mapping[str, Any] | None = None,
    crowding: Any = None,
    scenario: Mapping[str, Any] | None = None,
    extra_sections: Sequence[Any] | None = None,
    title: str | None = None,
    alpha: float = 0.05,
) -> Path:
    """Write the full HTML report of a run and return its path.

    Parameters
    ----------
    result : BacktestResult or RunRecord
        The strategy's backtest, or a saved run read back with
        :func:`~rwafolio.reports.runfile.load_run` (then every other input comes from it).
    forecasts : RollingForecasts or None
        Rolling VaR/CVaR/drawdown-at-risk forecasts along ``result``
        (:func:`rwafolio.risk.rolling_forecasts`); None leaves the risk section out.
    walkforward : walk-forward result or None
        Folds, chosen parameters and the stitched out-of-sample curve.
    path : str or PathLike
        Where to write the file (its folder must exist). Written atomically.
    benchmarks : mapping name -> BacktestResult or None
        Compared side by side with ``result`` (same panel expected).
    crowding : CrowdingResult or None
        The comparison with and without the other agents.
    scenario : mapping label -> RiskForecast or None
        Monte Carlo forecasts at the latest date, e.g. ``{"normal": f_n, "student_t": f_t}``
        (see :func:`rwafolio.reports.latest_scenarios`).
    extra_sections : list of (title, content, note) or ExtraSection, or None
        Content is a plotly figure, a DataFrame, trusted ``markupsafe.Markup`` HTML or plain
        text (escaped); see :mod:`rwafolio.reports.sections`.
    title : str or None
        Page title (default from the run's name).
    alpha : float
        Significance of the VaR backtests' verdicts.

    Returns
    -------
    Path
        ``path``.
    """
    if isinstance(result, RunRecord):
        given = [
            n for n, v in (("forecasts", forecasts), ("walkforward", walkforward),
                           ("benchmarks", benchmarks), ("crowding", crowding),
                           ("scenario", scenario)) if v is not None
        ]  # fmt: skip
        if given:
            raise ConfigError(f"{given} must be None when `result` is a saved RunRecord")
        record = result
        if extra_sections:
            from dataclasses import replace

            from rwafolio.reports.sections import normalize_sections

            record = replace(
                record, extra_sections=record.extra_sections + normalize_sections(extra_sections)
            )
    else:
        record = collect(
            result, forecasts, walkforward, benchmarks=benchmarks, crowding=crowding,
            scenario=scenario, extra_sections=extra_sections, alpha=alpha,
        )  # fmt: skip
    return write_atomic(path, render_record(record, title=title))
