"""rwafolio: cost-aware, dynamic-risk-aversion portfolios of crypto and tokenized real-world assets.

The package is organised as in ``ARCHITECTURE.md``: ``loaders`` build a calendar-aligned price
panel, ``optimize`` solves the model at one date, ``strategies`` and ``backtest`` walk the panel on
vectorbt, ``risk`` forecasts losses by Monte Carlo, ``reports`` renders one HTML file.
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
