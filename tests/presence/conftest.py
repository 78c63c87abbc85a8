"""Fixtures shared by the presence tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def redis_url() -> str:
    """A Redis server for the tests of what several server processes share (CI sets it)."""
    url = os.environ.get("KITH_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis tests skipped: set KITH_TEST_REDIS_URL to run them")
    return url
