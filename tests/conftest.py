"""Shared fixtures: the real-data folder ../shared/data, which must exist in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ../shared/data. In CI (``CI`` set) a missing folder fails the test; else skips."""
    if not SHARED_DATA.is_dir():
        msg = f"real-data folder {SHARED_DATA} is missing"
        if os.environ.get("CI"):
            pytest.fail(msg + " (CI is set, so this is a failure, not a skip)")
        pytest.skip(msg)
    return SHARED_DATA
