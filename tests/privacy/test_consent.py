"""Consent: private by default (close friends may plan with you), effective at once,
honoured by behaviour."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kith.config import Settings
from kith.privacy.consent import Purpose, allows, consenting
from kith.storage.engine import Database
from tests.conftest import Person, World
from tests.presence.helpers import BASE, put_location, share

# Every switch off; "help friends plan" is a choice of whom, close friends by default.
DEFAULTS = {
    "share_location": False,
    "help_friends_plan": "close",
    "rank_my_feed": False,
    "keep_history": False,
}


def consent(client: TestClient, who: Person, **changes: bool | str) -> Any:
    if changes:
        r = client.put("/api/v1/me/consent", json=changes, headers=who.headers)
    else:
        r = client.get("/api/v1/me/consent", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_every_switch_starts_private(client: TestClient, world: World) -> None:
    assert consent(client, world.person("ana")) == DEFAULTS


def test_location_switch_drives_the_grants(client: TestClient, world: World) -> None:
    ana, ben = world.person("ana"), world.person("ben")
    world.befriend(ana, ben, a_puts_b_in="close")
    put_location(client, ana, *BASE)
    assert client.get("/api/v1/friends/ana/location", headers=ben.headers).status_code == 404

    assert consent(client, ana, share_location=True)["share_location"] is True
    put_location(client, ana, *BASE)
    seen = client.get("/api/v1/friends/ana/location", headers=ben.headers)
    assert seen.status_code == 200
    assert seen.json()["precision"] == "city"  # on starts with the coarsest sharing

    # Finer grants made elsewhere, including a per-friend one: off turns all of them off.
    share(client, ana, "friends", "block")
    r = client.put("/api/v1/sharing/friends/ben", json={"precision": "block"}, headers=ana.headers)
    assert r.status_code == 200
    assert consent(client, ana, share_location=False)["share_location"] is False
    assert client.get("/api/v1/friends/ana/location", headers=ben.headers).status_code == 404
    sharing = client.get("/api/v1/sharing", headers=ana.headers).json()
    assert {c["precision"] for c in sharing["circles"]} == {"off"}
    assert sharing["friends"] == []
    # Turning it on again does not bring back the finer grants: it starts coarse again.
    consent(client, ana, share_location=True)
    put_location(client, ana, *BASE)
    assert client.get("/api/v1/friends/ana/location", headers=ben.headers).json()["precision"] == (
        "city"
    )


def test_sharing_made_on_the_sharing_page_shows_as_on(client: TestClient, world: World) -> None:
    ana = world.person("ana")
    share(client, ana, "close", "neighbourhood")
    assert consent(client, ana)["share_location"] is True


def test_history_switch_keeps_and_forgets(client: TestClient, world: World) -> None:
    ana = world.person("ana")
    consent(client, ana, keep_history=True)
    settings = client.get("/api/v1/me/alert-settings", headers=ana.headers).json()
    assert settings["keep_history"] is True
    put_location(client, ana, *BASE)
    export_history = _history_features(client, ana)
    assert len(export_history) == 1
    assert consent(client, ana, keep_history=False)["keep_history"] is False
    assert _history_features(client, ana) == []


def _history_features(client: TestClient, who: Person) -> list[Any]:
    import io
    import json
    import zipfile

    r = client.get("/api/v1/me/export", headers=who.headers)
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        data = archive.read(f"kith-{who.username}/location_history.geojson")
    features: list[Any] = json.loads(data)["features"]
    return features


def test_stored_switches_are_read_by_other_capabilities(
    client: TestClient, world: World, settings: Settings
) -> None:
    ana, ben = world.person("ana"), world.person("ben")
    consent(client, ana, help_friends_plan="friends")
    consent(client, ben, rank_my_feed=True, help_friends_plan="nobody")
    assert consent(client, ana) == {**DEFAULTS, "help_friends_plan": "friends"}
    database = Database(settings)
    try:
        with database.session() as db:
            ids = {u: client_id(db, u) for u in ("ana", "ben")}
            assert allows(db, ids["ana"], Purpose.HELP_FRIENDS_PLAN)
            assert not allows(db, ids["ben"], Purpose.HELP_FRIENDS_PLAN)
            assert consenting(db, ids.values(), Purpose.RANK_MY_FEED) == {ids["ben"]}
            assert consenting(db, [], Purpose.RANK_MY_FEED) == set()
    finally:
        database.dispose()
    consent(client, ana, help_friends_plan="close")
    assert consent(client, ana) == DEFAULTS


def test_help_friends_plan_is_the_partner_setting(client: TestClient, world: World) -> None:
    # One setting, two doors: the consent API and the partner settings show the same.
    ana = world.person("ana")
    consent(client, ana, help_friends_plan="nobody")
    r = client.get("/api/v1/me/partner-settings", headers=ana.headers)
    assert r.json() == {"history_helps": "nobody"}
    r = client.put(
        "/api/v1/me/partner-settings", json={"history_helps": "friends"}, headers=ana.headers
    )
    assert r.status_code == 200, r.text
    assert consent(client, ana)["help_friends_plan"] == "friends"


def client_id(db: Any, username: str) -> int:
    from sqlalchemy import select

    from kith.accounts.models import User

    user_id = db.scalar(select(User.id).where(User.username == username))
    assert user_id is not None
    return int(user_id)


@pytest.mark.parametrize(
    "body",
    [
        {"share_location": "yes"},
        {"share_everything": True},
        {"keep_history": 1},
        [],
        {"help_friends_plan": True},  # whom, not on/off
        {"help_friends_plan": "everyone"},
        {"help_friends_plan": "nobody", "rank_my_feed": "yes"},  # nothing half-applied
    ],
)
def test_bad_switches_are_refused(client: TestClient, world: World, body: Any) -> None:
    ana = world.person("ana")
    r = client.put("/api/v1/me/consent", json=body, headers=ana.headers)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert consent(client, ana) == DEFAULTS
