"""Check a plotly figure's JSON before it goes into a report: data only, no URLs, no remote fetch.

A figure section may come from a saved run file, i.e. from anyone. Plotly can fetch from the
network when a figure asks it to (layout images, map tiles, geo topojson) and renders a subset of
HTML in its text attributes (``<a href>``). :func:`sanitize_figure` therefore accepts a figure
only when

- it is a JSON object with ``data`` (a list of traces) and optionally ``layout``, nothing else;
- every trace type is in :data:`TRACE_TYPES` (no map, geo or image traces);
- no key anywhere is ``images`` or ``source`` (layout images, image traces);
- no string anywhere holds a URL or markup that could load or link anything (``://``,
  ``javascript:``, ``data:mime/``, ``url(``, ``@import``, ``<a``, ``<img``, ``href=``, ``src=``,
  a leading ``//``, ...);
- it nests at most :data:`MAX_DEPTH` levels.

It returns the figure re-serialized from the parsed value, so what is rendered is exactly what
was checked. The report's Content-Security-Policy is the second line of defence.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rwafolio.exceptions import ConfigError

#: Trace types a report figure may use (none of them fetches anything).
TRACE_TYPES: frozenset[str] = frozenset(
    {
        "scatter", "scattergl", "bar", "heatmap", "histogram", "histogram2d",
        "histogram2dcontour", "box", "violin", "pie", "contour", "waterfall", "funnel", "table",
        "indicator", "scatterpolar", "barpolar", "candlestick", "ohlc", "treemap", "sunburst",
    }
)  # fmt: skip
FORBIDDEN_KEYS: frozenset[str] = frozenset({"images", "source"})
MAX_DEPTH = 40
_URLISH = re.compile(
    r"(?i)(?:://|javascript\s*:|vbscript\s*:|\bdata\s*:\s*[a-z]+/|url\s*\(|@import|"
    r"<\s*/?\s*(?:a|img|image|script|iframe|link|style|svg|object|embed|base|meta|form|video|"
    r"audio|source)\b|\b(?:href|src|srcset|xlink:href)\s*=|^\s*//)"
)


def _walk(value: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ConfigError(f"figure JSON nests deeper than {MAX_DEPTH} levels at {path}")
    if isinstance(value, dict):
        for k, v in value.items():
            if k in FORBIDDEN_KEYS:
                raise ConfigError(f"figure JSON has a forbidden key {k!r} at {path}")
            if _URLISH.search(k):
                raise ConfigError(f"figure JSON has a key holding a URL or markup at {path}")
            _walk(v, f"{path}.{k}", depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _walk(v, f"{path}[{i}]", depth + 1)
    elif isinstance(value, str):
        if _URLISH.search(value):
            raise ConfigError(f"figure JSON holds a URL or markup at {path}: {value[:60]!r}")
    elif value is not None and not isinstance(value, bool | int | float):
        raise ConfigError(f"figure JSON holds a {type(value).__name__} at {path}")


def sanitize_figure(spec: str) -> str:
    """Check the figure JSON ``spec`` (see the module docstring) and return it re-serialized.

    Raises
    ------
    ConfigError
        Naming what was refused and where (a JSON path such as ``layout.images``).
    """
    try:
        fig = json.loads(spec)
    except (ValueError, RecursionError) as err:
        raise ConfigError(f"figure content is not valid JSON ({type(err).__name__})") from None
    if not isinstance(fig, dict) or not isinstance(fig.get("data"), list):
        raise ConfigError("figure JSON must be an object with a `data` list of traces")
    unknown = sorted(set(fig) - {"data", "layout"})
    if unknown:
        raise ConfigError(f"figure JSON has unknown top-level keys {unknown}")
    if not isinstance(fig.get("layout", {}), dict):
        raise ConfigError("figure JSON `layout` must be an object")
    for i, trace in enumerate(fig["data"]):
        if not isinstance(trace, dict):
            raise ConfigError(f"figure JSON trace data[{i}] is not an object")
        kind = trace.get("type", "scatter")
        if kind not in TRACE_TYPES:
            raise ConfigError(f"figure JSON trace data[{i}] has a type not allowed: {kind!r}")
    _walk(fig, "figure", 0)
    try:
        return json.dumps(fig, allow_nan=False)
    except ValueError:
        raise ConfigError("figure JSON holds NaN or infinity (write null instead)") from None
