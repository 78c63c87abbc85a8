"""DELETE /api/v1/me: everything goes, in one transaction, and nothing else does."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from kith.accounts.models import User
from kith.clock import FixedClock
from kith.config import Settings
from kith.privacy import deletion
from kith.storage.engine import make_engine
from kith.storage.metadata import load_all_models
from tests.conftest import PASSWORD, World
from tests.privacy.helpers import (
    SUBJECT,
    SUBJECT_ID,
    SUBJECT_NAME,
    Everything,
    build_everything,
)


def delete_me(client: TestClient, headers: dict[str, str], password: str = PASSWORD) -> Any:
    return client.request("DELETE", "/api/v1/me", json={"password": password}, headers=headers)


def mentions(value: object, everything: Everything) -> bool:
    """Whether one stored value is (or contains) the subject's id, names, places or points."""
    if isinstance(value, bool) or value is None:
        return False
    coordinates = [c for position in everything.positions for c in position]
    if isinstance(value, int):
        return value == SUBJECT_ID
    if isinstance(value, float):
        return any(abs(value - c) < 1e-4 for c in coordinates)
    if isinstance(value, (bytes, memoryview)):
        blob = bytes(value).decode("latin-1").lower()
        return SUBJECT in blob or SUBJECT_NAME.lower() in blob
    text = str(value)
    lowered = text.lower()
    return (
        any(n in lowered for n in (SUBJECT, SUBJECT_NAME.lower(), *everything.subject_cells()))
        or re.search(rf"\b{SUBJECT_ID}\b", text) is not None
        or any(f"{c:.4f}" in text for c in coordinates)
    )


def scan(settings: Settings, everything: Everything) -> list[str]:
    """Every place in every table where anything of the subject's still appears."""
    found: list[str] = []
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            for table in load_all_models().sorted_tables:
                for row in conn.execute(select(table)).mappings():
                    found.extend(
                        f"{table.name}.{column}={value!r}"
                        for column, value in row.items()
                        if mentions(value, everything)
                    )
    finally:
        engine.dispose()
    return found


@pytest.fixture
def everything(
    client: TestClient, world: World, clock: FixedClock, settings: Settings
) -> Everything:
    return build_everything(client, world, clock, settings)


def test_deleting_leaves_nothing_anywhere_and_retries_say_deleted(
    client: TestClient, settings: Settings, everything: Everything
) -> None:
    # The scan finds the subject in every kind of table it should; else it proves nothing.
    tables = {hit.split(".", 1)[0] for hit in scan(settings, everything)}
    expected = {
        "users", "auth_sessions", "circles", "friendships", "friend_requests", "blocks",
        "sharing_grants", "presence_settings", "presences", "location_history", "intents",
        "alerts", "alert_pair_states", "meetups", "ledger_entries", "consents",
        "export_jobs", "login_failures", "feed_posts", "feed_events", "invites", "invitees",
        "partner_events", "partner_settings",
    }  # fmt: skip
    assert expected <= tables, expected - tables

    headers = everything.subject.headers
    assert delete_me(client, headers).status_code == 204
    assert scan(settings, everything) == []
    # A retry with the same token (the answer was lost) is told it is done.
    assert delete_me(client, headers).status_code == 204
    assert delete_me(client, {"Authorization": "Bearer kith_not-a-token"}).status_code == 401
    # The account is gone for everyone: no log-in, no profile, the old token is dead.
    r = client.post("/api/v1/sessions", json={"username": SUBJECT, "password": PASSWORD})
    assert r.status_code == 401
    friend = everything.friend
    assert client.get(f"/api/v1/users/{SUBJECT}", headers=friend.headers).status_code == 404
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    # The friend's own data is intact, and her ledger says who saw her: "a deleted account".
    assert client.get("/api/v1/me", headers=friend.headers).status_code == 200
    ledger = client.get("/api/v1/me/ledger", headers=friend.headers).json()["entries"]
    assert ledger, "the subject read the friend's location before leaving"
    assert {e["who"] for e in ledger} == {"a deleted account"}
    assert all(e["actor"] is None for e in ledger)
    summary = client.get("/api/v1/me/ledger/summary", headers=friend.headers).json()
    assert any(s.startswith("A deleted account saw your") for s in summary["sentences"])
    assert all(SUBJECT_NAME not in s for s in summary["sentences"])


def test_nothing_is_deleted_without_the_password_or_after_a_crash(
    client: TestClient, settings: Settings, everything: Everything
) -> None:
    def without_failures(hits: list[str]) -> list[str]:
        return [hit for hit in hits if not hit.startswith("login_failures")]

    before = scan(settings, everything)
    headers = everything.subject.headers
    r = delete_me(client, headers, password="not my password")
    assert r.status_code == 401
    assert r.json()["type"].endswith("/invalid-credentials")
    assert client.request("DELETE", "/api/v1/me", json={"password": PASSWORD}).status_code == 401
    assert client.request("DELETE", "/api/v1/me", headers=headers).status_code == 422
    # Someone else's session deletes only its own account, whatever password is tried.
    friend = everything.friend
    assert delete_me(client, friend.headers, password=PASSWORD + "x").status_code == 401
    # Only the failed-attempt counter grew; every other row is untouched.
    assert without_failures(scan(settings, everything)) == without_failures(before)
    before = scan(settings, everything)

    def crash(db: Any, user: User) -> None:
        # Delete the user row itself (cascading everywhere), then die before the commit.
        db.execute(delete(User).where(User.id == user.id))
        assert db.scalar(select(func.count()).select_from(User).where(User.id == user.id)) == 0
        raise RuntimeError("power cut")

    deletion.register_deleter("zz-test-crash", crash)
    try:
        with pytest.raises(RuntimeError):
            delete_me(client, headers)
    finally:
        deletion.unregister_deleter("zz-test-crash")
    assert scan(settings, everything) == before
    # A retry after the "restart" completes it, and the friend's account is untouched.
    assert delete_me(client, headers).status_code == 204
    assert scan(settings, everything) == []
    assert client.get("/api/v1/me", headers=friend.headers).status_code == 200
