"""The history cache: a warm suggestion reuses the built history, and anything that
changes what a suggestion may use takes effect on the very next request.

Through the HTTP API with the server's own (process-wide) cache warm, on SQLite and
PostgreSQL: a revoked grant, a deleted check-in, a new one, and a plan that starts
(time alone) each change the next answer. One test looks inside: the same built
history object comes back while nothing changed. No timings are asserted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kith.accounts.models import User
from kith.clock import FixedClock
from kith.config import Settings
from kith.partners.access import helpers
from kith.partners.serving import HistoryCache, snapshot
from kith.presence.access import grant_books
from kith.storage.engine import Database
from tests.conftest import Person, World
from tests.partners.test_api import answer, check_in, invite, ledger, suggestions

SATURDAY = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
SPOT = {"lat": 40.7851, "lon": -73.9683}
TOGETHER = "Ben has been out with you"


@pytest.fixture
def town(client: TestClient) -> World:
    # tests/partners/conftest.py has a ``world`` of its own (the synthetic model data).
    return World(client)


@pytest.fixture
def pair(town: World, clock: FixedClock, settings: Settings, tmp_path: Path) -> dict[str, Any]:
    """Ana and Ben keep each other close, share their block, and played tennis together."""
    settings.partners_model = tmp_path / "absent.json"  # the baseline ranks
    clock.set(SATURDAY)
    ana, ben = town.person("ana"), town.person("ben")
    town.befriend(ana, ben, a_puts_b_in="close", b_puts_a_in="close")
    for who in (ana, ben):
        share(town, who, "block")
    made = {who.username: check_in(town, who, **SPOT) for who in (ana, ben)}
    clock.set(SATURDAY + timedelta(hours=3))
    return {"ana": ana, "ben": ben, "check_ins": made}


def share(town: World, who: Person, precision: str) -> None:
    r = town.client.put(
        "/api/v1/sharing/circles/close", json={"precision": precision}, headers=who.headers
    )
    assert r.status_code == 200, r.text


def ben_says(town: World, ana: Person) -> list[str]:
    r = suggestions(town, ana, SATURDAY + timedelta(days=8))
    assert r.status_code == 200, r.text
    ben = next(s for s in r.json() if s["username"] == "ben")
    reasons: list[str] = ben["reasons"]
    return reasons


def together(town: World, ana: Person) -> bool:
    return any(TOGETHER in reason for reason in ben_says(town, ana))


def test_a_revoked_grant_and_a_deleted_check_in_count_on_the_next_request(
    town: World, pair: dict[str, Any], clock: FixedClock
) -> None:
    ana, ben = pair["ana"], pair["ben"]
    assert together(town, ana)
    assert together(town, ana)  # the same answer from the warm cache
    # Ben stops sharing his place: his check-in keeps only "when and what".
    share(town, ben, "off")
    assert not together(town, ana)
    share(town, ben, "block")
    assert together(town, ana)
    # Ben deletes the check-in: gone at once, and no new ledger entry for Ben.
    before = len(ledger(town, ben))
    r = town.client.delete(
        f"/api/v1/me/check-ins/{pair['check_ins']['ben']['id']}", headers=ben.headers
    )
    assert r.status_code == 204, r.text
    assert ben_says(town, ana) == []
    assert len(ledger(town, ben)) == before
    # A new check-in together counts at once too.
    check_in(town, ana, **SPOT)
    check_in(town, ben, **SPOT)
    assert ben_says(town, ana) == []  # not yet: a check-in counts once its minute is past
    clock.advance(timedelta(minutes=1))
    assert together(town, ana)


def test_whom_the_history_helps_counts_on_the_next_request(
    town: World, pair: dict[str, Any]
) -> None:
    ana, ben = pair["ana"], pair["ben"]
    assert together(town, ana)
    r = town.client.put(
        "/api/v1/me/partner-settings", json={"history_helps": "nobody"}, headers=ben.headers
    )
    assert r.status_code == 200, r.text
    assert ben_says(town, ana) == []
    town.move(ben, ana, "friends")  # Ben's default helps close friends only
    r = town.client.put(
        "/api/v1/me/partner-settings", json={"history_helps": "close"}, headers=ben.headers
    )
    assert r.status_code == 200, r.text
    assert ben_says(town, ana) == []
    town.move(ben, ana, "close")
    assert together(town, ana)


def test_a_plan_becomes_history_once_it_has_started(
    town: World, pair: dict[str, Any], clock: FixedClock
) -> None:
    ana, ben = pair["ana"], pair["ben"]
    share(town, ben, "off")  # the check-ins no longer meet: only the plan can
    tomorrow = SATURDAY + timedelta(days=1)
    made = invite(town, ana, ["ben"], tomorrow)
    answer(town, ben, made["id"], "yes")
    assert not together(town, ana)  # a plan still ahead is not history
    clock.set(tomorrow + timedelta(hours=1))  # nothing written: time alone
    assert together(town, ana)


def test_the_built_history_is_reused_while_nothing_changes(
    town: World, pair: dict[str, Any], settings: Settings, clock: FixedClock
) -> None:
    cache = HistoryCache()
    database = Database(settings)

    def built() -> object:
        with database.session() as db:
            viewer = db.get(User, db_id(db, "ana"))
            assert viewer is not None
            helping = helpers(db, viewer.id)
            books = grant_books(db, helping.links, now=clock.now())
            return snapshot(db, viewer, helping, books, now=clock.now(), cache=cache)

    try:
        first = built()
        assert built() is first
        clock.advance(timedelta(minutes=5))
        assert built() is first  # nothing joined or left the window
        check_in(town, pair["ben"], "coffee", **SPOT)
        second = built()
        assert second is not first
        assert built() is second
        town.befriend(pair["ana"], town.person("cal"))  # a new friend: mutual friends change
        third = built()
        assert third is not second
        clock.advance(timedelta(days=40))  # past the 30-day retention: rebuilt
        assert built() is not third
    finally:
        database.dispose()


def db_id(db: Any, username: str) -> int:
    from sqlalchemy import select

    user_id = db.scalar(select(User.id).where(User.username == username))
    assert user_id is not None
    return int(user_id)
