"""Sharing grants, precision, ghost mode and data minimisation, through the API."""

from __future__ import annotations

from datetime import timedelta

import h3
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kith.clock import FixedClock
from kith.presence.models import Presence
from tests.conftest import World
from tests.presence.helpers import BASE, offset, put_location, share


def stored_cells(app: object) -> dict[int, str]:
    database = app.state.kith.database  # type: ignore[attr-defined]
    with database.session() as db:
        return {p.user_id: p.cell for p in db.scalars(select(Presence))}


def test_nothing_is_stored_until_the_user_shares(
    client: TestClient, world: World, app: object
) -> None:
    ana = world.person("ana")
    assert put_location(client, ana, *BASE).status_code == 204
    assert stored_cells(app) == {}


@pytest.mark.parametrize(
    ("precision", "resolution"), [("city", 5), ("neighbourhood", 7), ("block", 8), ("precise", 8)]
)
def test_only_the_finest_granted_cell_is_stored(
    client: TestClient, world: World, app: object, precision: str, resolution: int
) -> None:
    ana = world.person("ana")
    share(client, ana, "friends", precision)
    put_location(client, ana, *BASE)
    (cell,) = stored_cells(app).values()
    assert h3.get_resolution(cell) == resolution  # precise points stay in memory only


def test_friend_sees_the_granted_precision_only(client: TestClient, world: World) -> None:
    ana, ben, cat = world.person("ana"), world.person("ben"), world.person("cat")
    world.befriend(ana, ben, a_puts_b_in="close")
    world.befriend(ana, cat)
    share(client, ana, "close", "block")
    share(client, ana, "friends", "city")
    put_location(client, ana, *BASE)

    near = client.get("/api/v1/friends/ana/location", headers=ben.headers).json()
    far = client.get("/api/v1/friends/ana/location", headers=cat.headers).json()
    assert near["precision"] == "block"
    assert h3.get_resolution(near["cell"]) == 8
    assert far["precision"] == "city"
    assert h3.get_resolution(far["cell"]) == 5
    assert far["cell"] == h3.cell_to_parent(near["cell"], 5)
    for body in (near, far):
        assert set(body) == {"precision", "cell", "center", "label", "as_of"}
        assert body["as_of"].endswith(("00Z", "00+00:00"))


def test_friend_override_beats_circle(client: TestClient, world: World) -> None:
    ana, ben = world.person("ana"), world.person("ben")
    world.befriend(ana, ben)
    share(client, ana, "friends", "neighbourhood")
    r = client.put("/api/v1/sharing/friends/ben", json={"precision": "off"}, headers=ana.headers)
    assert r.status_code == 200
    put_location(client, ana, *BASE)
    assert client.get("/api/v1/friends/ana/location", headers=ben.headers).status_code == 404
    assert client.delete("/api/v1/sharing/friends/ben", headers=ana.headers).status_code == 204
    r = client.get("/api/v1/friends/ana/location", headers=ben.headers)
    assert r.json()["precision"] == "neighbourhood"


def test_precise_is_time_limited(client: TestClient, world: World, clock: FixedClock) -> None:
    ana, ben = world.person("ana"), world.person("ben")
    world.befriend(ana, ben)
    share(client, ana, "friends", "neighbourhood")
    r = client.put(
        "/api/v1/sharing/friends/ben", json={"precision": "precise"}, headers=ana.headers
    )
    (grant,) = r.json()["friends"]
    assert grant["precision"] == "precise"
    assert grant["expires_at"] is not None  # defaults to one hour
    too_long = (clock.now() + timedelta(hours=25)).isoformat()
    r = client.put(
        "/api/v1/sharing/friends/ben",
        json={"precision": "precise", "expires_at": too_long},
        headers=ana.headers,
    )
    assert r.status_code == 422

    put_location(client, ana, *BASE)
    seen = client.get("/api/v1/friends/ana/location", headers=ben.headers).json()
    assert seen["precision"] == "precise"
    assert abs(seen["center"]["lat"] - BASE[0]) < 1e-4
    clock.advance(timedelta(minutes=61))
    seen = client.get("/api/v1/friends/ana/location", headers=ben.headers).json()
    assert seen["precision"] == "neighbourhood"  # the override expired: the circle applies


def test_lowering_a_grant_coarsens_what_is_stored(
    client: TestClient, world: World, app: object
) -> None:
    ana = world.person("ana")
    share(client, ana, "friends", "block")
    put_location(client, ana, *BASE)
    share(client, ana, "friends", "city")
    (cell,) = stored_cells(app).values()
    assert h3.get_resolution(cell) == 5
    share(client, ana, "friends", "off")
    assert stored_cells(app) == {}


def test_unavailable_locations_are_indistinguishable(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    ana, ben = world.person("ana"), world.person("ben")
    stranger, blocked = world.person("stranger"), world.person("blocked")
    expired = world.person("expired")
    world.befriend(ana, ben)
    world.befriend(ana, blocked)
    world.befriend(ana, expired)
    share(client, ana, "friends", "block")
    client.put(
        "/api/v1/sharing/friends/expired",
        headers=ana.headers,
        json={
            "precision": "precise",
            "expires_at": (clock.now() + timedelta(minutes=5)).isoformat(),
        },
    )
    client.put("/api/v1/sharing/friends/expired", headers=ana.headers, json={"precision": "off"})
    world.block(ana, blocked)
    put_location(client, ana, *BASE)
    assert client.get("/api/v1/friends/ana/location", headers=ben.headers).status_code == 200

    answers = [
        client.get("/api/v1/friends/ana/location", headers=p.headers)
        for p in (stranger, blocked, expired)
    ]
    answers.append(client.get("/api/v1/friends/nobody_here/location", headers=ben.headers))
    client.put("/api/v1/me/ghost", json={"until": None}, headers=ana.headers)
    answers.append(client.get("/api/v1/friends/ana/location", headers=ben.headers))
    assert {r.status_code for r in answers} == {404}
    assert len({r.text for r in answers}) == 1


def test_ghost_mode_hides_and_ends(
    client: TestClient, world: World, clock: FixedClock, app: object
) -> None:
    ana, ben = world.person("ana"), world.person("ben")
    world.befriend(ana, ben)
    share(client, ana, "friends", "neighbourhood")
    put_location(client, ana, *BASE)
    until = clock.now() + timedelta(hours=3)
    r = client.put("/api/v1/me/ghost", json={"until": until.isoformat()}, headers=ana.headers)
    assert r.status_code == 200
    assert stored_cells(app) == {}  # nothing left behind to read
    put_location(client, ana, *offset(*BASE, north_m=50))
    assert client.get("/api/v1/friends/ana/location", headers=ben.headers).status_code == 404
    assert client.get("/api/v1/nearby", headers=ben.headers).json() == []
    clock.advance(timedelta(hours=3, minutes=1))
    put_location(client, ana, *offset(*BASE, north_m=60))
    assert client.get("/api/v1/friends/ana/location", headers=ben.headers).status_code == 200
    assert client.get("/api/v1/sharing", headers=ana.headers).json()["ghost"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lat": 91, "lon": 0}, "lat"),
        ({"lat": 0, "lon": -180.5}, "lon"),
        ({"lat": 0, "lon": 0, "recorded_at": "2999-01-01T00:00:00Z"}, "recorded_at"),
    ],
)
def test_implausible_updates_are_rejected(
    client: TestClient, world: World, body: dict[str, object], field: str
) -> None:
    ana = world.person("ana")
    r = client.put("/api/v1/me/location", json=body, headers=ana.headers)
    assert r.status_code == 422
    assert r.json()["type"] == "/api/v1/problems/implausible-location"
    assert r.json()["field"] == field


def test_teleporting_is_rejected(client: TestClient, world: World, clock: FixedClock) -> None:
    ana = world.person("ana")
    share(client, ana, "friends", "block")
    assert put_location(client, ana, *BASE).status_code == 204
    clock.advance(timedelta(minutes=10))
    # Union Square to Boston (300 km) in ten minutes.
    r = put_location(client, ana, 42.3601, -71.0589)
    assert r.status_code == 422
    assert "km/h" in r.json()["detail"]
    clock.advance(timedelta(minutes=10))
    assert put_location(client, ana, *offset(*BASE, east_m=2000)).status_code == 204


def test_nearby_labels_come_from_cells(client: TestClient, world: World) -> None:
    ana, ben, cat = world.person("ana"), world.person("ben"), world.person("cat")
    world.befriend(ana, ben)
    world.befriend(ana, cat)
    for who in (ben, cat):
        share(client, who, "friends", "neighbourhood")
    share(client, ana, "friends", "neighbourhood")
    put_location(client, ana, *BASE)
    put_location(client, ben, *offset(*BASE, east_m=150))
    put_location(client, cat, *offset(*BASE, north_m=9000))
    found = client.get("/api/v1/nearby", headers=ana.headers).json()
    assert [f["username"] for f in found] == ["ben", "cat"]
    assert found[0]["label"] in {"same neighbourhood", "under 1 km", "about 2 km", "about 3 km"}
    assert found[1]["label"] == "about 10 km"
    assert all(set(f) == {"username", "display_name", "precision", "label"} for f in found)


def test_reads_are_ledgered(client: TestClient, world: World, app: object) -> None:
    from kith.privacy.models import LedgerEntry

    ana, ben = world.person("ana"), world.person("ben")
    world.befriend(ana, ben)
    share(client, ana, "friends", "neighbourhood")
    put_location(client, ana, *BASE)
    client.get("/api/v1/friends/ana/location", headers=ben.headers)
    client.get("/api/v1/nearby", headers=ben.headers)
    database = app.state.kith.database  # type: ignore[attr-defined]
    with database.session() as db:
        entries = list(db.scalars(select(LedgerEntry)))
    assert len(entries) == 2
    assert {e.purpose for e in entries} == {"shown to a friend", "nearby list"}
    assert all(e.detail == "neighbourhood" and e.what == "location" for e in entries)
