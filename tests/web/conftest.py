"""Fixtures for the web app: page clients with their own cookies, and a live server.

``pages`` signs people up and acts through the HTML pages the way a browser does
(cookies, CSRF token from the page). ``live_server`` and ``browser`` serve a real
uvicorn on a loopback port for the Playwright tests, which skip with a reason when
Debian's chromium (or Playwright) is not installed.
"""

from __future__ import annotations

import html
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kith.api.app import create_app
from kith.config import Settings
from kith.storage.migrate import upgrade
from tests.conftest import PASSWORD

CHROMIUM = Path(os.environ.get("KITH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_FLASH = re.compile(r'class="flash flash-(ok|error)"[^>]*>([^<]*)<')
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def flash(response: httpx.Response) -> tuple[str, str] | None:
    """(level, text) of the message shown on a page, if any."""
    match = _FLASH.search(response.text)
    return (match.group(1), html.unescape(match.group(2)).strip()) if match else None


def csrf_field(response: httpx.Response) -> str:
    match = _CSRF_FIELD.search(response.text)
    assert match, "the page has no form with a CSRF field"
    return match.group(1)


class Visitor:
    """One browser: its own cookie jar, and forms filled from the page it is on."""

    def __init__(self, app: FastAPI, *, base_url: str = "http://testserver") -> None:
        self.client = TestClient(app, base_url=base_url)
        self.page: httpx.Response | None = None

    def _seen(self, response: httpx.Response) -> httpx.Response:
        """Remember the last HTML page: the next form is filled from it."""
        if response.headers.get("content-type", "").startswith("text/html"):
            self.page = response
        return response

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self._seen(self.client.get(path, **kw))

    def submit(
        self, action: str, data: dict[str, str], *, from_page: str | None = None, **kw: Any
    ) -> httpx.Response:
        """Post a form the way a browser does: with the token the page carried."""
        if from_page is not None or self.page is None or not _CSRF_FIELD.search(self.page.text):
            self.get(from_page or "/login")
        assert self.page is not None
        token = csrf_field(self.page)
        return self._seen(self.client.post(action, data={**data, "csrf_token": token}, **kw))

    def signup(self, username: str, display_name: str = "") -> httpx.Response:
        return self.submit(
            "/signup",
            {
                "username": username,
                "display_name": display_name or username.title(),
                "password": PASSWORD,
            },
            from_page="/signup",
        )

    def login(self, username: str, password: str = PASSWORD, **kw: Any) -> httpx.Response:
        return self.submit(
            "/login", {"username": username, "password": password}, from_page="/login", **kw
        )

    @property
    def token(self) -> str:
        """The session token in the cookie: the same kind the API takes as a bearer."""
        token: str = self.client.cookies["kith_session"]
        return token

    def api(self, path: str) -> httpx.Response:
        response: httpx.Response = self.client.get(
            path, headers={"Authorization": f"Bearer {self.token}"}
        )
        return response


class Pages:
    """Makes visitors on one app; everyone who signs up is logged in at once."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def visitor(self) -> Visitor:
        return Visitor(self.app)

    def member(self, username: str, display_name: str = "") -> Visitor:
        visitor = self.visitor()
        response = visitor.signup(username, display_name)
        assert response.status_code == 200, response.text
        assert response.url.path == "/friends", response.text
        return visitor


@pytest.fixture
def pages(app: FastAPI, client: TestClient) -> Pages:
    # ``client`` runs the app's lifespan once; visitors share that running app.
    return Pages(app)


# --- live server and browser ------------------------------------------------------


def _serve(app: FastAPI) -> Iterator[str]:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # the kernel picks a free port; no race to grab it
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn on a loopback port over a fresh, migrated SQLite database."""
    path = tmp_path_factory.mktemp("live") / "kith.db"
    settings = Settings(env="test", password_hashing="fast", database_url=f"sqlite:///{path}")
    upgrade(settings)
    app = create_app(settings)
    yield from _serve(app)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests skipped: no chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests skipped: Playwright for Python is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
