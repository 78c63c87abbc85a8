from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from fastapi.testclient import TestClient

from kith.clock import FixedClock
from tests.conftest import PASSWORD, World


def test_health(client: TestClient) -> None:
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/accounts" in spec["paths"]
    assert "/api/v1/friend-requests/{request_id}/accept" in spec["paths"]


def test_sign_up_log_in_log_out(client: TestClient) -> None:
    r = client.post(
        "/api/v1/accounts",
        json={"username": "Ana_B", "password": PASSWORD, "display_name": " Ana "},
    )
    assert r.status_code == 201
    assert r.json() == {"username": "Ana_B", "display_name": "Ana"}

    r = client.post("/api/v1/sessions", json={"username": "ana_b", "password": PASSWORD})
    assert r.status_code == 201
    token = r.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).json()["username"] == "Ana_B"

    assert client.delete("/api/v1/sessions/current", headers=headers).status_code == 204
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "/api/v1/problems/not-authenticated"


def test_username_is_case_insensitively_unique(client: TestClient) -> None:
    body = {"username": "ben", "password": PASSWORD, "display_name": "Ben"}
    assert client.post("/api/v1/accounts", json=body).status_code == 201
    r = client.post("/api/v1/accounts", json={**body, "username": "BEN"})
    assert r.status_code == 409
    assert r.json()["type"] == "/api/v1/problems/username-taken"


def test_username_rules(client: TestClient) -> None:
    for bad in ["ab", "a" * 31, "has space", "émile", "semi;colon", "admin", "x'--"]:
        r = client.post(
            "/api/v1/accounts", json={"username": bad, "password": PASSWORD, "display_name": "X"}
        )
        assert r.status_code == 422, bad
        assert r.json()["field"] == "username"


def test_wrong_password_is_401_and_same_as_unknown_user(client: TestClient, world: World) -> None:
    world.person("cleo")
    wrong = client.post("/api/v1/sessions", json={"username": "cleo", "password": "nope-nope"})
    unknown = client.post("/api/v1/sessions", json={"username": "nobody", "password": "x" * 9})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_login_is_rate_limited_per_account(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    world.person("dan")
    for _ in range(5):
        r = client.post("/api/v1/sessions", json={"username": "dan", "password": "wrong-pass"})
        assert r.status_code == 401
    # Even the right password is refused while the account is throttled.
    r = client.post("/api/v1/sessions", json={"username": "dan", "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["type"] == "/api/v1/problems/rate-limited"
    assert int(r.headers["retry-after"]) > 0
    clock.advance(timedelta(minutes=16))
    r = client.post("/api/v1/sessions", json={"username": "dan", "password": PASSWORD})
    assert r.status_code == 201


def test_login_is_rate_limited_per_client(client: TestClient, world: World) -> None:
    world.person("eve")
    for i in range(20):
        client.post("/api/v1/sessions", json={"username": f"user{i}", "password": "wrong-pass"})
    r = client.post("/api/v1/sessions", json={"username": "eve", "password": PASSWORD})
    assert r.status_code == 429


def test_session_expires(client: TestClient, world: World, clock: FixedClock) -> None:
    fay = world.person("fay")
    assert client.get("/api/v1/me", headers=fay.headers).status_code == 200
    clock.advance(timedelta(days=31))
    assert client.get("/api/v1/me", headers=fay.headers).status_code == 401


def test_concurrent_sign_ups_make_exactly_one_account(client: TestClient) -> None:
    body = {"username": "racer", "password": PASSWORD, "display_name": "Racer"}

    def sign_up(i: int) -> int:
        name = "racer" if i % 2 else "RACER"
        return client.post("/api/v1/accounts", json={**body, "username": name}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(sign_up, range(16)))
    assert codes.count(201) == 1
    assert set(codes) == {201, 409}


def test_tokens_are_stored_hashed(client: TestClient, world: World, app: object) -> None:
    from sqlalchemy import select

    from kith.accounts.models import AuthSession

    gus = world.person("gus")
    database = app.state.kith.database  # type: ignore[attr-defined]
    with database.session() as db:
        hashes = list(db.scalars(select(AuthSession.token_hash)))
    assert hashes
    assert gus.token not in hashes
    assert all(len(h) == 64 for h in hashes)
