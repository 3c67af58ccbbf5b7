"""Extra report sections: a hook for content other modules add (sensitivity, frequency tables).

An extra section is a title, one piece of content and a short "how to read this" note. Content
may be

- a plotly figure (anything with ``to_json()``, or a figure dict with a ``"data"`` key): drawn
  like the report's own charts, after :func:`~rwafolio.reports.figure_guard.sanitize_figure`
  (no URLs, no map or image traces);
- a pandas DataFrame: rendered as an escaped HTML table;
- a :class:`markupsafe.Markup` string: trusted HTML, inserted as is (the caller vouches for it;
  the report's Content-Security-Policy still blocks scripts and network access in it). A run
  file never carries one (see :mod:`rwafolio.reports.runfile`);
- a plain ``str``: text, escaped like every other user string.

A plain ``str`` is never treated as HTML, so a symbol or config value cannot inject markup.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from markupsafe import Markup

from rwafolio.exceptions import ConfigError
from rwafolio.reports.figure_guard import sanitize_figure

SectionKind = Literal["figure", "table", "html", "text"]
SECTION_KINDS: tuple[str, ...] = ("figure", "table", "html", "text")


@dataclass(frozen=True)
class ExtraSection:
    """One extra section of the report.

    Attributes
    ----------
    title : str
    kind : {"figure", "table", "html", "text"}
    content : str or DataFrame
        Figure JSON (``kind="figure"``), a table, trusted HTML or plain text.
    note : str
        "How to read this", shown under the content.
    """

    title: str
    kind: SectionKind
    content: str | pd.DataFrame
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in SECTION_KINDS:
            raise ConfigError(f"`kind` must be one of {SECTION_KINDS}, got {self.kind!r}")
        if self.kind == "table" and not isinstance(self.content, pd.DataFrame):
            raise ConfigError("`content` of a table section must be a DataFrame")
        if self.kind != "table" and not isinstance(self.content, str):
            raise ConfigError(f"`content` of a {self.kind} section must be a str")
        if self.kind == "figure":
            assert isinstance(self.content, str)
            object.__setattr__(self, "content", sanitize_figure(self.content))


def _section(item: Any, i: int) -> ExtraSection:
    if isinstance(item, ExtraSection):
        return item
    if not isinstance(item, tuple | list) or len(item) not in (2, 3):
        raise ConfigError(
            f"`extra_sections[{i}]` must be an ExtraSection or a (title, content, note) tuple, "
            f"got {type(item).__name__}"
        )
    title, content = str(item[0]), item[1]
    note = str(item[2]) if len(item) == 3 and item[2] is not None else ""
    if isinstance(content, pd.DataFrame):
        return ExtraSection(title, "table", content, note)
    if isinstance(content, Markup):
        return ExtraSection(title, "html", str(content), note)
    if isinstance(content, str):
        return ExtraSection(title, "text", content, note)
    if isinstance(content, dict) and "data" in content:
        return ExtraSection(title, "figure", json.dumps(content), note)
    if hasattr(content, "to_json"):
        return ExtraSection(title, "figure", str(content.to_json()), note)
    raise ConfigError(
        f"`extra_sections[{i}]` content must be a plotly figure, DataFrame, Markup or str, "
        f"got {type(content).__name__}"
    )


def normalize_sections(items: Sequence[Any] | None) -> tuple[ExtraSection, ...]:
    """Turn ``(title, content, note)`` tuples (or ExtraSection objects) into ExtraSections."""
    if items is None:
        return ()
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise ConfigError(f"`extra_sections` must be a list, got {type(items).__name__}")
    return tuple(_section(item, i) for i, item in enumerate(items))
