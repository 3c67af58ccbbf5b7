"""Typed errors raised at rwafolio's public boundaries.

Every error subclasses a builtin (``ValueError``, ``RuntimeError``) so that generic handlers keep
working, and every message names the offending parameter, what was expected and what was received.
"""

from __future__ import annotations


class RwafolioError(Exception):
    """Base class of every error rwafolio raises on purpose."""


class DataError(RwafolioError, ValueError):
    """Market data (prices, returns, an index) is malformed, inconsistent or insufficient."""


class LayoutError(DataError):
    """A data file's layout is not one of the layouts the files loader knows."""


class DataUnavailableError(DataError):
    """Data could not be obtained: no network answer and no usable cache."""


class ConfigError(RwafolioError, ValueError):
    """A parameter or configuration value is invalid."""


class OutputError(ConfigError):
    """An output path is refused (not a regular file, one of the command's inputs, another output,
    a user's file without ``--force``) or cannot be written (permissions, missing folder)."""


class RunFileError(DataError):
    """A saved run file is not a well-formed rwafolio run (bad zip, manifest, member or limit)."""


class OptimizationError(RwafolioError, RuntimeError):
    """An optimization problem is infeasible or every solver failed."""


def describe(value: object) -> str:
    """Short description of a received value for error messages."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {tuple(shape)}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
