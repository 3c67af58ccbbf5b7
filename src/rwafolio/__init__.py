"""rwafolio: cost-aware, dynamic-risk-aversion portfolios of crypto and tokenized real-world assets.

The folders read in the order data flows, and imports only run downward: ``loaders`` build a
calendar-aligned price panel, ``optimize`` solves the model at one date, ``strategies`` and
``backtest`` walk the panel on vectorbt, ``risk`` forecasts losses by Monte Carlo, ``config``
parses the one TOML schema, ``studies`` (sensitivities, update frequency) and ``walkforward``
run the strategy many times, ``reports`` draw one HTML file, ``pipeline`` holds the orchestration
the CLI and the Python API share, and ``cli`` parses arguments and prints. ``utils`` holds the
small shared helpers (progress, validation, JSON-able values).
Subpackages are imported lazily so that ``import rwafolio`` stays cheap (vectorbt alone takes
seconds to import).
"""

from __future__ import annotations

from rwafolio.exceptions import (
    ConfigError,
    DataError,
    DataUnavailableError,
    LayoutError,
    OptimizationError,
    RwafolioError,
)
from rwafolio.universe import Asset, Universe
from rwafolio.utils.kernel_cache import configure as _configure_kernel_cache

# Before any kernel is defined: compiled code is cached under a digest of the kernels' source,
# never served stale (see rwafolio.utils.kernel_cache).
_configure_kernel_cache()

__version__ = "0.1.0"

__all__ = [
    "Asset",
    "ConfigError",
    "DataError",
    "DataUnavailableError",
    "LayoutError",
    "OptimizationError",
    "RwafolioError",
    "Universe",
    "__version__",
]
