"""Live rebalancing: the online rebalancer, its persisted state, the orders journal, the paper book.

See the README's "Live" section. :class:`LiveRebalancer` takes one :class:`Bar` at a time and
returns a :class:`LiveDecision` made by the same strategy object and book step as the backtest;
:class:`LiveRun` binds it to a state folder and an orders journal so a killed process restarts
where it stopped.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rwafolio.live.bar import Bar, LiveDecision
    from rwafolio.live.rebalancer import ALWAYS_OPEN, LiveRebalancer
    from rwafolio.live.rolling import RollingMoments
    from rwafolio.live.runner import LiveRun, RunSummary, panel_bars
    from rwafolio.live.state import StateError

#: Where each public name lives. Imported on first use, so that the CLI's parser (which reads
#: the ``live`` command's flags from :mod:`rwafolio.live.command`) does not load the rebalancer,
#: the backtest and their kernels on every command.
_HOMES = {
    "ALWAYS_OPEN": "rebalancer",
    "Bar": "bar",
    "LiveDecision": "bar",
    "LiveRebalancer": "rebalancer",
    "RollingMoments": "rolling",
    "LiveRun": "runner",
    "RunSummary": "runner",
    "panel_bars": "runner",
    "StateError": "state",
}

__all__ = [
    "ALWAYS_OPEN",
    "Bar",
    "LiveDecision",
    "LiveRebalancer",
    "LiveRun",
    "RollingMoments",
    "RunSummary",
    "StateError",
    "panel_bars",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'rwafolio.live' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"rwafolio.live.{home}"), name)
    globals()[name] = value
    return value
