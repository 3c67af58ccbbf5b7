"""Render a run to one self-contained HTML file (plotly.js inlined once, no network needed).

:func:`render_html` gathers a :class:`~rwafolio.reports.record.RunRecord` from the live objects
(or takes one read back by :func:`~rwafolio.reports.runfile.load_run`), lays out the sections
(:mod:`rwafolio.reports.layout`) and streams the jinja2 template (autoescape on: every
symbol, name and config value is escaped) into a temporary file in the target folder, which is
then renamed into place, so a crash never leaves a half-written report where a good one is
expected.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import jinja2
from markupsafe import Markup

from rwafolio.exceptions import ConfigError
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


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write`` on a temporary file in ``path``'s folder, then rename it over ``path``.

    The temporary file is fsynced and renamed only after ``write`` returned; on any error it is
    removed and ``path`` is left as it was.

    Raises
    ------
    ConfigError
        If the target folder does not exist.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise ConfigError(f"`path` folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def write_atomic(path: str | os.PathLike[str], chunks: Iterable[str]) -> Path:
    """Write text chunks (UTF-8) to ``path`` atomically (see :func:`atomic_write`)."""

    def write(fh: IO[bytes]) -> None:
        for chunk in chunks:
            fh.write(chunk.encode("utf-8"))

    return atomic_write(path, write)


def render_record(record: RunRecord, *, title: str | None = None) -> Iterable[str]:
    """The report of ``record`` as a stream of HTML chunks."""
    from rwafolio.reports.layout import build_context

    context = build_context(record, title=title)
    context["plotly_js"] = Markup(plotly_js())
    context["plotly_config"] = script_json(dict(PLOTLY_CONFIG))
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
