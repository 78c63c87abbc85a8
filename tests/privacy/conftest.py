"""Web fixtures for the privacy pages: the visitors of tests/web."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.conftest import Pages


@pytest.fixture
def pages(app: FastAPI, client: TestClient) -> Pages:
    return Pages(app)
