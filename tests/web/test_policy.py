"""Small pure rules of the web app: tile hosts in the CSP, local redirect targets."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kith.api.app import create_app
from kith.config import Settings
from kith.web.deps import is_local_path, sentence, tile_source


@pytest.mark.parametrize(
    ("tile_url", "source"),
    [
        ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
        ("https://tiles.example.org:8443/{z}/{x}/{y}.png", "https://tiles.example.org:8443"),
        ("http://127.0.0.1:8080/{z}/{x}/{y}.png", "http://127.0.0.1:8080"),
        ("", None),
        ("/tiles/{z}/{x}/{y}.png", None),  # same origin: 'self' already covers it
        ("https://a.{s}.example.org/{z}.png", None),  # wildcard not leftmost
        ("https://{z}.example.org/{x}.png", None),
        ("javascript:alert(1)", None),
        ("ftp://tiles.example.org/{z}.png", None),
    ],
)
def test_tile_source(tile_url: str, source: str | None) -> None:
    assert tile_source(tile_url) == source


@pytest.mark.parametrize(
    ("target", "local"),
    [
        ("/friends", True),
        ("/friends?q=a", True),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("https://evil.example/", False),
        ("friends", False),
        ("", False),
        ("/a\nLocation: x", False),
    ],
)
def test_is_local_path(target: str, local: bool) -> None:
    assert is_local_path(target) is local


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("no such user", "No such user."),
        ("you are already friends", "You are already friends."),
        ("Done!", "Done!"),
        ("  ", ""),
    ],
)
def test_sentence(text: str, shown: str) -> None:
    assert sentence(text) == shown


def test_the_tile_server_is_allowed_in_the_csp(settings: Settings) -> None:
    tiles = settings.model_copy(
        update={"tile_url": "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"}
    )
    app = create_app(tiles)
    try:
        csp = TestClient(app).get("/login").headers["content-security-policy"]
        assert "img-src 'self' data: https://*.tile.openstreetmap.org;" in csp
    finally:
        app.state.kith.database.dispose()
