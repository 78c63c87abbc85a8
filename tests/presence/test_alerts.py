"""Intents, matching, alerts, answers and meetups, end to end through the API."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from fastapi.testclient import TestClient

from kith.clock import FixedClock
from tests.conftest import PASSWORD, Person, World
from tests.presence.helpers import BASE, alerts, intent, offset, put_location, share


def close_pair(
    client: TestClient, world: World, precision: str = "neighbourhood"
) -> tuple[Person, Person]:
    ana, ben = world.person("ana"), world.person("ben")
    world.befriend(ana, ben, a_puts_b_in="close", b_puts_a_in="close")
    for who in (ana, ben):
        share(client, who, "close", precision)
    put_location(client, ana, *BASE)
    put_location(client, ben, *offset(*BASE, east_m=300))
    return ana, ben


def test_matching_intents_alert_both_sides(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    ana, ben = close_pair(client, world)
    intent(client, ana, "Coffee", clock.now())
    assert alerts(client, ana) == []
    intent(client, ben, "coffee", clock.now() + timedelta(minutes=30))
    (for_ana,) = alerts(client, ana)
    (for_ben,) = alerts(client, ben)
    assert for_ana["from"]["username"] == "ben"
    assert for_ben["from"]["username"] == "ana"
    assert for_ana["kind"] == for_ben["kind"] == "intent"
    assert for_ana["activity"] == "coffee"
    assert for_ana["label"] in {"same neighbourhood", "under 1 km", "about 2 km"}


def test_anything_matches_and_other_activities_do_not(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    ana, ben = close_pair(client, world)
    intent(client, ana, "tennis", clock.now())
    intent(client, ben, "surfing", clock.now())
    assert alerts(client, ana) == []
    intent(client, ben, "anything", clock.now())
    (alert,) = alerts(client, ana)
    assert alert["activity"] == "tennis"


def test_no_match_outside_radius_or_time(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    ana, ben = close_pair(client, world, precision="block")
    clock.advance(timedelta(minutes=30))
    assert put_location(client, ben, *offset(*BASE, east_m=6000)).status_code == 204
    intent(client, ana, "run", clock.now(), radius_m=2000)
    intent(client, ben, "run", clock.now(), radius_m=10000)
    assert alerts(client, ana) == []  # within Ben's radius, not Ana's
    intent(client, ana, "lunch", clock.now(), hours=1)
    intent(client, ben, "lunch", clock.now(), start_in=timedelta(hours=2))
    assert alerts(client, ben) == []


def test_intents_are_seen_only_by_their_audience(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    ana, ben = close_pair(client, world)
    cat = world.person("cat")
    world.befriend(ana, cat)  # cat sits in ana's "friends", not "close"
    intent(client, ana, "drinks", clock.now(), audience=["close"])
    assert [
        i["activity"] for i in client.get("/api/v1/intents", headers=ben.headers).json()["friends"]
    ] == ["drinks"]
    assert client.get("/api/v1/intents", headers=cat.headers).json()["friends"] == []
    mine = client.get("/api/v1/intents", headers=ana.headers).json()["mine"]
    assert mine[0]["audience"] == ["close"]
    assert client.delete(f"/api/v1/intents/{mine[0]['id']}", headers=cat.headers).status_code == 404
    assert client.delete(f"/api/v1/intents/{mine[0]['id']}", headers=ana.headers).status_code == 204


def test_intents_expire(client: TestClient, world: World, clock: FixedClock) -> None:
    ana, ben = close_pair(client, world)
    intent(client, ana, "walk", clock.now(), hours=1)
    clock.advance(timedelta(hours=1, minutes=1))
    assert client.get("/api/v1/intents", headers=ben.headers).json()["friends"] == []
    intent(client, ben, "walk", clock.now())
    assert alerts(client, ben) == []


def test_answer_in_creates_a_meetup_and_not_now_is_silent(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    ana, ben = close_pair(client, world)
    intent(client, ana, "coffee", clock.now())
    intent(client, ben, "coffee", clock.now())
    (for_ana,) = alerts(client, ana)
    (for_ben,) = alerts(client, ben)

    r = client.post(
        f"/api/v1/alerts/{for_ben['id']}/respond", json={"answer": "not_now"}, headers=ben.headers
    )
    assert r.status_code == 200
    assert [a["kind"] for a in alerts(client, ana)] == ["intent"]  # nothing told to Ana

    r = client.post(
        f"/api/v1/alerts/{for_ana['id']}/respond", json={"answer": "in"}, headers=ana.headers
    )
    assert r.status_code == 200
    meetup = r.json()["meetup"]
    assert meetup["with"]["username"] == "ben"
    kinds = [a["kind"] for a in alerts(client, ben)]
    assert kinds == ["intent", "in"]
    assert [m["id"] for m in client.get("/api/v1/meetups", headers=ben.headers).json()] == [
        meetup["id"]
    ]
    ics = client.get(meetup["ics_url"], headers=ben.headers)
    assert ics.status_code == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in ics.text
    assert "SUMMARY:Coffee with Ana" in ics.text
    stranger = world.person("zed")
    assert client.get(meetup["ics_url"], headers=stranger.headers).status_code == 404
    # Answering twice the same way is idempotent; changing the answer is refused.
    again = client.post(
        f"/api/v1/alerts/{for_ana['id']}/respond", json={"answer": "in"}, headers=ana.headers
    )
    assert again.json()["meetup"]["id"] == meetup["id"]
    assert (
        client.post(
            f"/api/v1/alerts/{for_ana['id']}/respond",
            json={"answer": "not_now"},
            headers=ana.headers,
        ).status_code
        == 409
    )


def test_daily_budget_caps_alerts(client: TestClient, world: World, clock: FixedClock) -> None:
    ana = world.person("ana")
    share(client, ana, "close", "neighbourhood")
    put_location(client, ana, *BASE)
    r = client.put("/api/v1/me/alert-settings", json={"daily_budget": 2}, headers=ana.headers)
    assert r.json()["daily_budget"] == 2
    intent(client, ana, "coffee", clock.now(), hours=8)
    for name in ("ben", "cat", "dan"):
        friend = world.person(name)
        world.befriend(ana, friend, a_puts_b_in="close", b_puts_a_in="close")
        share(client, friend, "close", "neighbourhood")
        put_location(client, friend, *offset(*BASE, north_m=200))
        intent(client, friend, "coffee", clock.now(), hours=8)
    assert len(alerts(client, ana)) == 2


def test_quiet_hours_hold_alerts(client: TestClient, world: World, clock: FixedClock) -> None:
    ana, ben = close_pair(client, world)
    now = clock.now()
    start = (now - timedelta(hours=1)).strftime("%H:%M")
    end = (now + timedelta(hours=1)).strftime("%H:%M")
    r = client.put(
        "/api/v1/me/alert-settings",
        headers=ana.headers,
        json={"quiet_hours": {"start": start, "end": end}},
    )
    assert r.status_code == 200
    intent(client, ana, "study", clock.now(), hours=4)
    intent(client, ben, "study", clock.now(), hours=4)
    assert alerts(client, ana) == []
    assert len(alerts(client, ben)) == 1


def test_friend_nearby_with_hysteresis(client: TestClient, world: World, clock: FixedClock) -> None:
    ana, ben = close_pair(client, world, precision="block")
    for who in (ana, ben):
        r = client.put(
            "/api/v1/me/alert-settings", json={"open_to_hang_out": True}, headers=who.headers
        )
        assert r.status_code == 200
    assert [a["kind"] for a in alerts(client, ana)] == ["nearby"]
    # Walking back and forth near the threshold never alerts again.
    for step in range(6):
        clock.advance(timedelta(minutes=40))
        put_location(client, ben, *offset(*BASE, east_m=1200 + 600 * (step % 2)))
    assert len(alerts(client, ana)) <= 1
    # Far away, then back after the cooldown: one new alert.
    clock.advance(timedelta(minutes=30))
    put_location(client, ben, *offset(*BASE, east_m=8000))
    clock.advance(timedelta(hours=3))
    put_location(client, ana, *BASE)  # positions older than two hours are not matched
    put_location(client, ben, *offset(*BASE, east_m=200))
    assert len([a for a in alerts(client, ben) if a["kind"] == "nearby"]) >= 1
    history = client.get("/api/v1/alerts", headers=ana.headers).json()
    assert history[-1]["kind"] == "nearby"


def test_ghost_mode_and_grants_apply_to_queued_alerts(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    ana, ben = close_pair(client, world)
    intent(client, ana, "lunch", clock.now())
    intent(client, ben, "lunch", clock.now())
    assert len(alerts(client, ben)) == 1
    client.put("/api/v1/me/ghost", json={"until": None}, headers=ana.headers)
    assert alerts(client, ben) == []
    client.delete("/api/v1/me/ghost", headers=ana.headers)
    put_location(client, ana, *BASE)
    assert len(alerts(client, ben)) == 1
    share(client, ana, "close", "off")
    assert alerts(client, ben) == []


def test_stream_replays_after_last_event_id(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    ana, ben = close_pair(client, world)
    intent(client, ana, "coffee", clock.now())
    intent(client, ben, "coffee", clock.now())
    intent(client, ana, "gym", clock.now())
    clock.advance(timedelta(minutes=31))  # past the pair cooldown
    intent(client, ben, "gym", clock.now())
    ids = [a["id"] for a in alerts(client, ana)]
    assert len(ids) == 2

    def read(headers: dict[str, str]) -> list[dict[str, object]]:
        events = []
        with client.stream(
            "GET", "/api/v1/alerts/stream?max_seconds=0.3", headers=headers
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
        return events

    assert [e["id"] for e in read(ana.headers)] == ids
    assert [e["id"] for e in read({**ana.headers, "Last-Event-ID": str(ids[0])})] == ids[1:]
    assert client.get("/api/v1/alerts/stream").status_code == 401


def test_owntracks_http_mode(client: TestClient, world: World, clock: FixedClock) -> None:
    close_pair(client, world)
    auth = base64.b64encode(f"ben:{PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "X-Limit-U": "ben", "X-Limit-D": "phone"}
    lat, lon = offset(*BASE, north_m=100)
    clock.advance(timedelta(minutes=1))
    r = client.post(
        "/api/v1/owntracks",
        headers=headers,
        json={
            "_type": "location",
            "lat": lat,
            "lon": lon,
            "tst": int(clock.now().timestamp()),
            "acc": 12,
            "batt": 80,
            "tid": "bn",
        },
    )
    assert r.status_code == 200
    messages = r.json()
    card, location = messages
    assert card == {"_type": "card", "name": "Ana", "tid": "AN", "topic": "owntracks/ana/kith"}
    assert location["_type"] == "location"
    assert set(location) == {"_type", "lat", "lon", "tst", "tid", "topic"}  # no acc, no speed
    assert location["tst"] % 300 == 0
    assert (
        client.post("/api/v1/owntracks", headers=headers, json={"_type": "transition"}).status_code
        == 200
    )
    bad = base64.b64encode(b"ben:wrong-password").decode()
    r = client.post(
        "/api/v1/owntracks",
        headers={"Authorization": f"Basic {bad}"},
        json={"_type": "location", "lat": 1, "lon": 2},
    )
    assert r.status_code == 401
    r = client.post("/api/v1/owntracks", headers=headers, json={"_type": "location", "lat": 1})
    assert r.status_code == 422


def test_stale_positions_are_not_matched(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    ana, ben = close_pair(client, world)
    clock.advance(timedelta(hours=3))  # both positions are now three hours old
    intent(client, ana, "coffee", clock.now())
    intent(client, ben, "coffee", clock.now())
    assert alerts(client, ana) == []
    put_location(client, ana, *BASE)
    assert alerts(client, ana) == []  # Ben's position is still stale
    put_location(client, ben, *offset(*BASE, east_m=300))
    assert len(alerts(client, ana)) == 1
