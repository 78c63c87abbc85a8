"""Retention: ``purge`` forgets what has expired and nothing else; ``kith purge`` runs it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from kith.cli.main import app as cli
from kith.clock import FixedClock, utc_now
from kith.config import Settings
from kith.presence.models import Alert, Intent, LocationHistory, Presence, SharingGrant
from kith.privacy.models import ExportJob, LedgerEntry
from kith.privacy.retention import PurgeReport, purge, start_retention
from kith.storage.engine import Database
from tests.conftest import World
from tests.presence.helpers import BASE, intent, offset, put_location, share


def count(database: Database, model: type) -> int:
    with database.session() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def run_purge(database: Database, clock: FixedClock) -> PurgeReport:
    with database.session() as db:
        return purge(db, clock.now())


def test_purge_forgets_exactly_what_has_expired(
    client: TestClient, world: World, clock: FixedClock, settings: Settings
) -> None:
    ana, ben = world.person("ana"), world.person("ben")
    world.befriend(ana, ben, a_puts_b_in="close", b_puts_a_in="close")
    share(client, ana, "close", "neighbourhood")
    share(client, ben, "close", "neighbourhood")
    r = client.put(
        "/api/v1/sharing/friends/ben",
        json={"precision": "precise", "expires_at": (clock.now() + timedelta(hours=1)).isoformat()},
        headers=ana.headers,
    )
    assert r.status_code == 200
    client.put("/api/v1/me/history", json={"keep": True, "days": 2}, headers=ana.headers)
    put_location(client, ana, *BASE)
    put_location(client, ben, *offset(*BASE, east_m=300))
    intent(client, ana, "tennis", clock.now(), hours=1)
    intent(client, ben, "tennis", clock.now(), hours=1)
    client.get("/api/v1/friends/ana/location", headers=ben.headers)
    client.get("/api/v1/me/export", headers=ana.headers)
    database = Database(settings)
    try:
        with database.session() as db:
            stored = db.get(Presence, 1)
            assert stored is not None
            assert stored.cell.startswith("88")  # block: the precise grant keeps it fine
        before = {m: count(database, m) for m in (Intent, Alert, SharingGrant, LedgerEntry)}
        assert run_purge(database, clock).total == 0  # nothing has expired yet
        assert {m: count(database, m) for m in before} == before

        clock.advance(timedelta(hours=1, minutes=1))
        report = run_purge(database, clock)
        assert report.counts["intents"] == 2
        assert report.counts["alerts"] == 2
        assert report.counts["sharing grants"] == 1  # the precise one; circle grants stay
        assert count(database, Intent) == count(database, Alert) == 0
        with database.session() as db:
            stored = db.get(Presence, 1)
            assert stored is not None
            assert stored.cell.startswith("87")  # coarsened to what is still granted

        # History: the day-old point stays until Ana's two days are up.
        assert count(database, LocationHistory) == 1
        clock.advance(timedelta(days=1))
        assert run_purge(database, clock).counts["location history"] == 0
        clock.advance(timedelta(days=1))
        assert run_purge(database, clock).counts["location history"] == 1
        assert count(database, ExportJob) == 0  # the archive went a day after it was made
        ledger = count(database, LedgerEntry)
        assert ledger > 0
        clock.advance(timedelta(days=366))
        run_purge(database, clock)
        assert count(database, LedgerEntry) == 0
        assert run_purge(database, clock).total == 0  # idempotent
    finally:
        database.dispose()


def test_history_of_someone_who_turned_it_off_goes_at_once(
    client: TestClient, world: World, clock: FixedClock, settings: Settings
) -> None:
    ana = world.person("ana")
    client.put("/api/v1/me/history", json={"keep": True}, headers=ana.headers)
    put_location(client, ana, *BASE)
    database = Database(settings)
    try:
        with database.session() as db:
            # As if the switch had been turned off by a path that did not delete (a bug).
            from kith.presence.models import PresenceSettings

            row = db.get(PresenceSettings, 1)
            assert row is not None
            row.keep_history = False
            db.commit()
        assert run_purge(database, clock).counts["location history"] == 1
    finally:
        database.dispose()


def test_kith_purge_command(
    client: TestClient,
    world: World,
    clock: FixedClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The command runs on the real clock: make an intent that ended two hours ago.
    clock.set(utc_now() - timedelta(hours=3))
    ana = world.person("ana")
    intent(client, ana, "tennis", clock.now(), hours=1)
    intent(client, ana, "squash", clock.now(), hours=24)
    monkeypatch.setenv("KITH_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(cli, ["purge"])
    assert result.exit_code == 0, result.output
    assert "1 rows purged" in result.output
    database = Database(settings)
    try:
        with database.session() as db:
            assert list(db.scalars(select(Intent.activity))) == ["squash"]
    finally:
        database.dispose()


def test_the_server_task_purges_and_stops(settings: Settings, clock: FixedClock) -> None:
    class State:
        def __init__(self) -> None:
            self.database = Database(settings)
            self.clock = clock

    state = State()

    async def main() -> None:
        retention = start_retention(state, interval=timedelta(seconds=0.01))
        await asyncio.sleep(0.05)
        assert not retention.task.done()
        await retention.stop()
        assert retention.task.cancelled()

    try:
        asyncio.run(main())
    finally:
        state.database.dispose()
