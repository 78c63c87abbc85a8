"""Helpers for presence tests: positions around Manhattan and API shortcuts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Person

# Union Square, and points a known distance east of it.
BASE = (40.7359, -73.9911)
METRES_PER_DEG_LAT = 111_320.0


def offset(
    lat: float, lon: float, *, north_m: float = 0.0, east_m: float = 0.0
) -> tuple[float, float]:
    import math

    return (
        lat + north_m / METRES_PER_DEG_LAT,
        lon + east_m / (METRES_PER_DEG_LAT * math.cos(math.radians(lat))),
    )


def put_location(client: TestClient, who: Person, lat: float, lon: float, **extra: Any) -> Any:
    return client.put(
        "/api/v1/me/location", json={"lat": lat, "lon": lon, **extra}, headers=who.headers
    )


def share(
    client: TestClient, who: Person, circle: str, precision: str, expires_at: datetime | None = None
) -> Any:
    body: dict[str, Any] = {"precision": precision}
    if expires_at is not None:
        body["expires_at"] = expires_at.isoformat()
    r = client.put(f"/api/v1/sharing/circles/{circle}", json=body, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def intent(
    client: TestClient,
    who: Person,
    activity: str,
    now: datetime,
    *,
    hours: float = 2.0,
    radius_m: int = 2000,
    audience: list[str] | None = None,
    start_in: timedelta = timedelta(0),
) -> Any:
    r = client.post(
        "/api/v1/intents",
        headers=who.headers,
        json={
            "activity": activity,
            "starts_at": (now + start_in).isoformat(),
            "ends_at": (now + start_in + timedelta(hours=hours)).isoformat(),
            "radius_m": radius_m,
            "audience": audience or ["close"],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def alerts(client: TestClient, who: Person) -> list[dict[str, Any]]:
    r = client.get("/api/v1/alerts", headers=who.headers)
    assert r.status_code == 200, r.text
    result: list[dict[str, Any]] = r.json()
    return result
