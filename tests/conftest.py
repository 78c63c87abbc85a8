"""Test fixtures: every storage and API test runs on SQLite and on PostgreSQL.

PostgreSQL runs when ``KITH_TEST_POSTGRES_URL`` names a server (CI sets it): this
run creates its own database there and drops it at the end. Without it the
PostgreSQL half is skipped, with the reason shown in the summary.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from kith.api.app import create_app
from kith.clock import FixedClock
from kith.config import Settings
from kith.storage.engine import make_engine
from kith.storage.metadata import load_all_models
from kith.storage.migrate import upgrade

PASSWORD = "correct horse battery"


def _server_url(url: str) -> str:
    """The plain libpq URL psycopg wants, for administrative connections."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "kith.db"
        url = f"sqlite:///{path}"
        upgrade(Settings(database_url=url, env="test"))
        yield url
        return
    server = os.environ.get("KITH_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("PostgreSQL tests skipped: set KITH_TEST_POSTGRES_URL to run them")
    name = f"kith_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _server_url(server)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    pg_url = make_url(server).set(drivername="postgresql+psycopg", database=name)
    rendered = pg_url.render_as_string(hide_password=False)
    try:
        upgrade(Settings(database_url=rendered, env="test"))
        yield rendered
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wipe(url: str) -> None:
    metadata = load_all_models()
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            tables = [t.name for t in reversed(metadata.sorted_tables)]
            if engine.dialect.name == "postgresql":
                conn.execute(
                    text(
                        "TRUNCATE "
                        + ", ".join(f'"{t}"' for t in tables)
                        + " RESTART IDENTITY CASCADE"
                    )
                )
            else:
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))
    finally:
        engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    _wipe(database_url)
    # The background purge is off: tests call kith.privacy.retention.purge themselves.
    return Settings(
        database_url=database_url,
        env="test",
        password_hashing="fast",
        sqlite_synchronous="NORMAL",
        retention_interval_minutes=0,
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def app(settings: Settings, clock: FixedClock) -> Iterator[FastAPI]:
    application = create_app(settings, clock=clock)
    yield application
    application.state.kith.database.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@dataclass
class Person:
    """A signed-up user and the headers that act as them."""

    username: str
    token: str
    display_name: str
    headers: dict[str, str] = field(default_factory=dict)


class World:
    """Builds people and relationships through the public API only."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def person(self, username: str, display_name: str | None = None) -> Person:
        name = display_name or username.title()
        r = self.client.post(
            "/api/v1/accounts",
            json={"username": username, "password": PASSWORD, "display_name": name},
        )
        assert r.status_code == 201, r.text
        r = self.client.post("/api/v1/sessions", json={"username": username, "password": PASSWORD})
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        return Person(username, token, name, {"Authorization": f"Bearer {token}"})

    def befriend(
        self,
        a: Person,
        b: Person,
        *,
        a_puts_b_in: str | None = None,
        b_puts_a_in: str | None = None,
    ) -> None:
        r = self.client.post(
            "/api/v1/friend-requests", json={"username": b.username}, headers=a.headers
        )
        assert r.status_code == 201, r.text
        r = self.client.post(f"/api/v1/friend-requests/{r.json()['id']}/accept", headers=b.headers)
        assert r.status_code == 200, r.text
        if a_puts_b_in:
            self.move(a, b, a_puts_b_in)
        if b_puts_a_in:
            self.move(b, a, b_puts_a_in)

    def move(self, owner: Person, friend: Person, circle: str) -> None:
        r = self.client.put(
            f"/api/v1/friends/{friend.username}/circle",
            json={"circle": circle},
            headers=owner.headers,
        )
        assert r.status_code == 200, r.text

    def block(self, blocker: Person, blocked: Person) -> None:
        r = self.client.post(
            "/api/v1/blocks", json={"username": blocked.username}, headers=blocker.headers
        )
        assert r.status_code == 201, r.text

    def get(self, who: Person | None, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=who.headers if who else {}, **kw)


@pytest.fixture
def world(client: TestClient) -> World:
    return World(client)
