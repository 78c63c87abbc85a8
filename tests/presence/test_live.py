"""Exact positions: forgotten after the TTL, and shared between server processes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import h3
import pytest
from fastapi.testclient import TestClient

import kith.presence.live as live_module
from kith.api.app import create_app
from kith.clock import FixedClock
from kith.config import Settings
from kith.presence.live import LIVE_TTL, Fix, LivePositions
from tests.conftest import World
from tests.presence.helpers import put_location, share

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def fix(at: datetime, lat: float = 40.75) -> Fix:
    return Fix(lat, -73.98, 5.0, at, at)


def test_a_fix_is_forgotten_after_the_ttl() -> None:
    live = LivePositions()
    live.put(1, fix(T0))
    assert live.get(1, now=T0 + LIVE_TTL) == fix(T0)
    assert live.get(1, now=T0 + LIVE_TTL + timedelta(seconds=1)) is None


def test_newer_updates_drop_every_stale_fix() -> None:
    """Stale fixes go as new ones arrive, not only when someone asks for them."""
    live = LivePositions()
    for user in range(100):
        live.put(user, fix(T0))
    live.put(1, fix(T0 + timedelta(minutes=3), lat=40.76))  # re-sent: now the newest
    live.put(999, fix(T0 + LIVE_TTL + timedelta(seconds=1)))
    # Asked about a moment when they were still fresh, the dropped fixes are gone anyway.
    assert all(live.get(user, now=T0) is None for user in range(100) if user != 1)
    assert live.get(1, now=T0) == fix(T0 + timedelta(minutes=3), lat=40.76)


@pytest.fixture
def two_processes(
    settings: Settings, redis_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps on one database and one Redis stand for two server processes."""
    monkeypatch.setattr(live_module, "KEY", f"kith:test:{uuid.uuid4().hex}:live:{{}}")
    shared = settings.model_copy(update={"redis_url": redis_url})
    first, second = create_app(shared, clock=clock), create_app(shared, clock=clock)
    with TestClient(first) as a, TestClient(second) as b:
        yield a, b
    first.state.kith.database.dispose()
    second.state.kith.database.dispose()


def test_a_precise_viewer_sees_the_point_whichever_process_serves_them(
    two_processes: tuple[TestClient, TestClient], clock: FixedClock
) -> None:
    one, other = two_processes
    world = World(one)
    ana, ben = world.person("ana"), world.person("ben")
    world.befriend(ana, ben, a_puts_b_in="close", b_puts_a_in="close")
    share(one, ana, "close", "precise")
    assert put_location(one, ana, 40.7484, -73.9857).status_code == 204

    seen = other.get("/api/v1/friends/ana/location", headers=ben.headers)
    assert seen.status_code == 200, seen.text
    assert seen.json()["precision"] == "precise"
    assert h3.get_resolution(seen.json()["cell"]) > 8  # finer than the stored block cell

    # The plausibility check sees the other process's fix too: a jump is refused.
    jump = put_location(other, ana, 48.8584, 2.2945)
    assert jump.status_code == 422, jump.text

    # Gone after the TTL, in every process: the viewer falls back to the stored cell.
    clock.advance(LIVE_TTL + timedelta(seconds=1))
    later = other.get("/api/v1/friends/ana/location", headers=ben.headers)
    assert later.status_code == 200, later.text
    assert h3.get_resolution(later.json()["cell"]) == 8
