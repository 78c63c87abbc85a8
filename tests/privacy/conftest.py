"""Web fixtures for the privacy pages: visitors from tests/web, with the pages mounted."""

from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from kith.web.routes import privacy
from kith.web.session import csrf_protect
from tests.web.conftest import Pages


@pytest.fixture
def pages(app: FastAPI, client: TestClient) -> Pages:
    # Until kith.web.pages lists the "Your data" section, mount its router here the same
    # way (with the CSRF check), so these tests run before and after that one-line change.
    if not any(getattr(route, "path", None) == "/data" for route in app.routes):
        app.include_router(
            privacy.router, dependencies=[Depends(csrf_protect)], include_in_schema=False
        )
    return Pages(app)
