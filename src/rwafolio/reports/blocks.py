"""Building blocks of the report's layout: formatted table cells, tables, chart blocks,
placeholders and text blocks (plain dictionaries the jinja2 template iterates over).

Numbers in tables carry their exact value in a ``data-value`` attribute beside the formatted
text, so the tests (and curious readers) can read them back.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup


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


def fmt(value: Any, kind: str = "num") -> str:
    """Format a number for display: "pct" (2 decimals, %), "num" (4 significant), "int"."""
    if value is None:
        return "n/a"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer) and kind != "pct":
        return f"{int(value):,}"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(x):
        return "n/a" if np.isnan(x) else ("inf" if x > 0 else "-inf")
    if kind == "pct":
        return f"{x:.2%}"
    if kind == "int":
        return f"{round(x):,}"
    if kind == "p":
        return f"{x:.4f}"
    return f"{x:.4g}" if abs(x) < 1e4 else f"{x:,.0f}"


def cell(value: Any, kind: str = "text", cls: str = "") -> dict[str, Any]:
    """One table cell: display text, exact value (numbers only) and a CSS class."""
    if kind == "text":
        return {"text": "" if value is None else str(value), "value": None, "cls": cls}
    exact = None
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        exact = repr(float(value))
    return {"text": fmt(value, kind), "value": exact, "cls": cls or "num"}


def table(
    columns: list[str], rows: list[list[dict[str, Any]]], tid: str, caption: str = ""
) -> dict[str, Any]:
    return {"columns": columns, "rows": rows, "id": tid, "caption": caption}


def frame_table(df: pd.DataFrame, tid: str, index: bool = True) -> dict[str, Any]:
    """A generic table of a DataFrame (numbers formatted, text escaped by the template)."""
    cols = ([str(df.index.name or "")] if index else []) + [str(c) for c in df.columns]
    rows = []
    for idx, rec in zip(df.index, df.itertuples(index=False)):
        row = [cell(_date_text(idx))] if index else []
        for v in rec:
            numeric = isinstance(v, int | float | np.integer | np.floating) and not isinstance(
                v, bool | np.bool_
            )
            row.append(cell(v, "num") if numeric else cell(_date_text(v)))
        rows.append(row)
    return table(cols, rows, tid)


def _date_text(v: Any) -> Any:
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    return v


def figure_block(fid: str, fig: go.Figure | str, note: str, title: str = "") -> dict[str, Any]:
    """A chart block: its JSON (safe for a script element) and its "how to read this" note."""
    spec = fig if isinstance(fig, str) else fig.to_json()
    return {"kind": "figure", "id": fid, "json": script_json(spec), "note": note, "title": title}


def placeholder(pid: str, title: str, why: str) -> dict[str, Any]:
    return {"kind": "placeholder", "id": pid, "title": title, "note": why}


def table_block(tid: str, tab: dict[str, Any], note: str = "", title: str = "") -> dict[str, Any]:
    return {"kind": "table", "id": tid, "table": tab, "note": note, "title": title}


def text_block(text: str, title: str = "", html: bool = False) -> dict[str, Any]:
    return {
        "kind": "html" if html else "text",
        "text": Markup(text) if html else text,
        "title": title,
        "id": "",
        "note": "",
    }
