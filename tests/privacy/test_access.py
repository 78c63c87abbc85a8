"""The access matrix: every privacy route acts on the caller's own data only.

There is no route that names another user: ledger, consent, export and deletion all
hang off ``/me``. What remains to check is that nobody gets in without a session, that
job ids of someone else's export do not exist for you (tested in test_export), and that
one person's switches and ledger never show up for another.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.presence.helpers import BASE, put_location, share

ROUTES = [
    ("GET", "/api/v1/me/ledger"),
    ("GET", "/api/v1/me/ledger/summary"),
    ("GET", "/api/v1/me/consent"),
    ("PUT", "/api/v1/me/consent"),
    ("GET", "/api/v1/me/export"),
    ("POST", "/api/v1/me/export/jobs"),
    ("GET", "/api/v1/me/export/jobs/1"),
    ("GET", "/api/v1/me/export/jobs/1/archive"),
    ("DELETE", "/api/v1/me"),
]
BODIES = {"PUT": {"keep_history": True}, "DELETE": {"password": "correct horse battery"}}


def test_no_session_no_data(client: TestClient, world: World) -> None:
    world.person("ana")
    for method, path in ROUTES:
        for headers in ({}, {"Authorization": "Bearer kith_made-up"}):
            r = client.request(method, path, json=BODIES.get(method), headers=headers)
            assert r.status_code == 401, (method, path, headers)
            assert r.headers["content-type"].startswith("application/problem+json")


def test_each_person_sees_only_their_own(client: TestClient, world: World) -> None:
    ana, ben, cat = world.person("ana"), world.person("ben"), world.person("cat")
    world.befriend(ana, ben, a_puts_b_in="close")
    world.befriend(cat, ben, a_puts_b_in="close")
    for who in (ana, cat):
        share(client, who, "close", "city")
        put_location(client, who, *BASE)
    client.get("/api/v1/friends/ana/location", headers=ben.headers)
    client.put("/api/v1/me/consent", json={"help_friends_plan": "friends"}, headers=ana.headers)

    ana_ledger = client.get("/api/v1/me/ledger", headers=ana.headers).json()["entries"]
    cat_ledger = client.get("/api/v1/me/ledger", headers=cat.headers).json()["entries"]
    ben_ledger = client.get("/api/v1/me/ledger", headers=ben.headers).json()["entries"]
    assert [e["who"] for e in ana_ledger] == ["Ben"]
    assert cat_ledger == ben_ledger == []
    # Filtering by someone else's name never reaches into their ledger.
    assert (
        client.get("/api/v1/me/ledger", params={"actor": "ana"}, headers=ben.headers).json()[
            "entries"
        ]
        == []
    )
    assert client.get("/api/v1/me/consent", headers=cat.headers).json()["help_friends_plan"] == (
        "close"
    )
