"""Argument checks that raise a typed error naming the parameter (one copy for the package).

Each check returns the value converted (``int``/``float``) so a caller writes
``every = check_int(every, "every", minimum=1)``. The error type defaults to
:class:`~rwafolio.exceptions.ConfigError`; pass ``error=DataError`` for data-derived values.
The CLI's argparse types are built on the same checks (:func:`argparse_type`).
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Collection
from typing import Any

from rwafolio.exceptions import ConfigError, RwafolioError

__all__ = [
    "argparse_file",
    "argparse_path",
    "argparse_type",
    "check_choice",
    "check_int",
    "check_number",
    "parse_time",
]


def parse_time(value: Any) -> Any:
    """``pd.Timestamp(value)``, or None when it cannot be read or reads as ``NaT`` (an empty
    text, "nat"): the caller raises its own error naming the input."""
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return None if pd.isna(ts) else ts


def check_int(
    value: Any,
    name: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    error: type[RwafolioError] = ConfigError,
) -> int:
    """``value`` as an int within ``[minimum, maximum]``; booleans and floats are refused."""
    ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok and hasattr(value, "__index__") and not isinstance(value, bool):
        try:
            value, ok = int(value.__index__()), True
        except TypeError:
            ok = False
    lo = "" if minimum is None else f" >= {minimum}"
    hi = "" if maximum is None else f" <= {maximum}"
    sep = " and" if lo and hi else ""
    if (
        not ok
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        raise error(f"`{name}` must be a whole number{lo}{sep}{hi}, got {value!r}")
    return int(value)


def check_number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_minimum: bool = False,
    error: type[RwafolioError] = ConfigError,
) -> float:
    """``value`` as a finite float within bounds (``strict_minimum``: ``> minimum``)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok and type(value).__module__ == "numpy":
        try:
            value, ok = float(value), True
        except (TypeError, ValueError):
            ok = False
    op = ">" if strict_minimum else ">="
    want = "a finite number"
    if minimum is not None:
        want += f" {op} {minimum:g}"
    if maximum is not None:
        want += f" <= {maximum:g}"
    if not ok or not math.isfinite(float(value)):
        raise error(f"`{name}` must be {want}, got {value!r}")
    v = float(value)
    below = minimum is not None and (v <= minimum if strict_minimum else v < minimum)
    if below or (maximum is not None and v > maximum):
        raise error(f"`{name}` must be {want}, got {value!r}")
    return v


def check_choice(
    value: Any, name: str, choices: Collection[str], *, error: type[RwafolioError] = ConfigError
) -> str:
    """``value`` if it is one of ``choices`` (strings), else a typed error listing them."""
    if not isinstance(value, str) or value not in choices:
        raise error(f"`{name}` must be one of {list(choices)}, got {value!r}")
    return value


def argparse_type(
    kind: Callable[[str], Any], check: Callable[..., Any], **bounds: Any
) -> Callable[[str], Any]:
    """An argparse ``type=`` that parses with ``kind`` and validates with ``check(**bounds)``.

    The error argparse prints names the flag itself, so the check's own name is left out.
    """

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'a whole number' if kind is int else 'a number'}, got {text!r}"
            ) from None
        try:
            return check(value, "value", **bounds)
        except RwafolioError as exc:
            raise argparse.ArgumentTypeError(
                str(exc).replace("`value` must be", "expected")
            ) from None

    parse.__name__ = kind.__name__
    return parse


def argparse_path(text: str) -> str:
    """An argparse ``type=`` for a path: an empty one is refused (it would read as "not given"
    and silently fall back to the default: another report, no config, no index)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path, got an empty string {text!r}")
    return text


def argparse_file(text: str) -> str:
    """An argparse ``type=`` for an output file: not empty, and not a folder's name (``new/``
    would write a file called ``new``; ``.`` and ``..`` have no file name)."""
    argparse_path(text)
    seps = tuple(s for s in (os.sep, os.altsep) if s)
    if text.rstrip().endswith(seps) or os.path.basename(text.rstrip()) in (".", ".."):
        raise argparse.ArgumentTypeError(f"expected a file name, got the folder {text!r}")
    return text
