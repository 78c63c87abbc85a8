"""Alert delivery: nothing lost or repeated across restarts, and fan-out across processes."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

from fastapi.testclient import TestClient

from kith.api.app import create_app
from kith.clock import FixedClock
from kith.config import Settings
from kith.presence.events import InboxEvents
from tests.conftest import World
from tests.presence.helpers import BASE, alerts, intent, offset, put_location, share


def stream_ids(client: TestClient, headers: dict[str, str]) -> list[int]:
    ids = []
    with client.stream("GET", "/api/v1/alerts/stream?max_seconds=0.3", headers=headers) as r:
        for line in r.iter_lines():
            if line.startswith("data: "):
                ids.append(json.loads(line[6:])["id"])
    return ids


def test_inbox_survives_a_restart_without_loss_or_repeats(
    client: TestClient, world: World, clock: FixedClock, settings: Settings
) -> None:
    ana, ben = world.person("ana"), world.person("ben")
    world.befriend(ana, ben, a_puts_b_in="close", b_puts_a_in="close")
    for who in (ana, ben):
        share(client, who, "close", "neighbourhood")
    put_location(client, ana, *BASE)
    put_location(client, ben, *offset(*BASE, east_m=400))
    intent(client, ana, "coffee", clock.now())
    intent(client, ben, "coffee", clock.now())
    first = stream_ids(client, ana.headers)
    assert len(first) == 1

    # A second server process on the same database: the client resumes where it was.
    restarted = create_app(settings, clock=clock)
    with TestClient(restarted) as again:
        clock.advance(timedelta(minutes=31))
        intent(again, ana, "walk", clock.now())
        intent(again, ben, "walk", clock.now())
        resumed = stream_ids(again, {**ana.headers, "Last-Event-ID": str(first[-1])})
        everything = stream_ids(again, ana.headers)
    restarted.state.kith.database.dispose()
    assert len(resumed) == 1
    assert resumed[0] > first[-1]
    assert everything == first + resumed
    assert [a["id"] for a in alerts(client, ana)] == everything


def test_redis_wakes_streams_in_other_processes(redis_url: str) -> None:
    """Two InboxEvents stand for two server processes; only Redis connects them."""
    import kith.presence.events as events_module

    channel = f"kith:test:{uuid.uuid4().hex}"
    original = events_module.CHANNEL
    events_module.CHANNEL = channel
    try:

        async def scenario() -> None:
            publisher, subscriber = InboxEvents(redis_url), InboxEvents(redis_url)
            await subscriber.start()
            try:
                wake, other = subscriber.subscribe(42), subscriber.subscribe(43)
                # Once subscribed, the listener wakes every local stream to look again:
                # anything published before it listened is not lost.
                await asyncio.wait_for(wake.wait(), timeout=10)
                await asyncio.wait_for(other.wait(), timeout=10)
                wake.clear()
                other.clear()
                publisher.publish([42])
                await asyncio.wait_for(wake.wait(), timeout=5)
                await asyncio.sleep(0.2)
                assert not other.is_set()  # only the recipient's streams wake
            finally:
                await subscriber.stop()

        asyncio.run(scenario())
    finally:
        events_module.CHANNEL = original
