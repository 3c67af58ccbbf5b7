"""Fixtures of the report tests (helpers live in report_fixtures.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.reports.report_fixtures import build_run


@pytest.fixture(scope="session")
def run_inputs() -> dict[str, Any]:
    """A dynamic-lambda run with benchmarks, forecasts, scenarios and crowding (no walk-forward)."""
    return build_run()
