"""Live rebalancing: the online rebalancer, its persisted state, the orders journal, the paper book.

See the README's "Live" section. :class:`LiveRebalancer` takes one :class:`Bar` at a time and
returns a :class:`LiveDecision` made by the same strategy object and book step as the backtest;
:class:`LiveRun` binds it to a state folder and an orders journal so a killed process restarts
where it stopped.
"""

from __future__ import annotations

from rwafolio.live.rebalancer import ALWAYS_OPEN, Bar, LiveDecision, LiveRebalancer
from rwafolio.live.rolling import RollingMoments
from rwafolio.live.runner import LiveRun, RunSummary, panel_bars
from rwafolio.live.state import StateError

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
