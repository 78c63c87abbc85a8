"""A person who has used every feature, built through the public API only.

``Zorblatt`` (the subject) has friends in three circles, a block, pending requests
both ways, every consent switch on, circle and per-friend grants (one precise), a
location and location history, an intent that matched a friend's, alerts both ways,
a meetup, ledger entries as subject and as viewer, an export, and a failed log-in.
Names and places are chosen so a scan of the database cannot mistake anyone else's
data for theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import h3
from fastapi.testclient import TestClient
from sqlalchemy import text

from kith.clock import FixedClock
from kith.config import Settings
from kith.storage.engine import make_engine
from tests.conftest import Person, World
from tests.presence.helpers import BASE, intent, offset, put_location

# Far above any id the other people get, so a scan can look for it anywhere.
SUBJECT_ID = 7_654_321
SUBJECT = "zorblatt"
SUBJECT_NAME = "Zorblatt Quimby"
ACTIVITY = "climbing"
PARTNER_ACTIVITY = "gym"  # partners take activities from a fixed list
# The friend is 6 km away: never in the subject's block or neighbourhood cell.
FRIEND_EAST_M = 6000.0


@dataclass
class Everything:
    subject: Person
    friend: Person  # in the subject's close circle, and the subject in hers
    climber: Person  # in the subject's custom "climbers" circle, with a precise override
    blocked: Person
    positions: list[tuple[float, float]] = field(default_factory=list)
    meetup_id: int = 0
    friend_alert_id: int = 0
    export_job_id: int = 0

    def subject_cells(self) -> set[str]:
        """Every block and neighbourhood cell the subject was ever in."""
        return {
            str(h3.latlng_to_cell(lat, lon, res)) for lat, lon in self.positions for res in (7, 8)
        }


def reserve_subject_id(settings: Settings) -> None:
    """Make the next account get :data:`SUBJECT_ID` on either backend."""
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(
                    text("SELECT setval(pg_get_serial_sequence('users', 'id'), :n)"),
                    {"n": SUBJECT_ID - 1},
                )
            else:  # SQLite hands out max(id) + 1
                conn.execute(
                    text(
                        "INSERT INTO users (id, username, username_key, display_name, "
                        "password_hash, created_at) VALUES (:id, 'placeholder', "
                        "'placeholder', 'Placeholder', 'x', '2026-01-01 00:00:00')"
                    ),
                    {"id": SUBJECT_ID - 1},
                )
    finally:
        engine.dispose()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return (
        response.json()
        if response.content and "json" in response.headers.get("content-type", "")
        else None
    )


def build_everything(
    client: TestClient, world: World, clock: FixedClock, settings: Settings
) -> Everything:
    friend = world.person("fayetta", "Fayetta")
    climber = world.person("gustavo", "Gustavo")
    blocked = world.person("bobbinet", "Bobbinet")
    asker = world.person("quillon", "Quillon")
    asked = world.person("patrizia", "Patrizia")
    reserve_subject_id(settings)
    subject = world.person(SUBJECT, SUBJECT_NAME)
    me = ok(client.get("/api/v1/me", headers=subject.headers))
    assert me["username"] == SUBJECT
    h = subject.headers

    world.befriend(subject, friend, a_puts_b_in="close", b_puts_a_in="close")
    world.befriend(climber, subject)
    ok(client.post("/api/v1/circles", json={"name": "climbers"}, headers=h), 201)
    world.move(subject, climber, "climbers")
    world.block(subject, blocked)
    ok(client.post("/api/v1/friend-requests", json={"username": asked.username}, headers=h), 201)
    ok(
        client.post("/api/v1/friend-requests", json={"username": SUBJECT}, headers=asker.headers),
        201,
    )

    ok(
        client.put(
            "/api/v1/me/consent",
            json={
                "share_location": True,
                "keep_history": True,
                "help_friends_plan": "friends",
                "rank_my_feed": True,
            },
            headers=h,
        )
    )
    ok(client.put("/api/v1/sharing/circles/close", json={"precision": "block"}, headers=h))
    ok(client.put("/api/v1/sharing/circles/climbers", json={"precision": "city"}, headers=h))
    until = (clock.now() + timedelta(hours=2)).isoformat()
    ok(
        client.put(
            f"/api/v1/sharing/friends/{climber.username}",
            json={"precision": "precise", "expires_at": until},
            headers=h,
        )
    )
    ok(
        client.put(
            "/api/v1/sharing/circles/close", json={"precision": "block"}, headers=friend.headers
        )
    )
    ok(
        client.put(
            f"/api/v1/sharing/friends/{SUBJECT}",
            json={"precision": "neighbourhood"},
            headers=friend.headers,
        )
    )
    ok(
        client.put(
            "/api/v1/me/alert-settings",
            json={"open_to_hang_out": True, "timezone": "Europe/Lisbon"},
            headers=h,
        )
    )

    everything = Everything(subject, friend, climber, blocked)
    for north in (0.0, 250.0):
        lat, lon = offset(*BASE, north_m=north)
        ok(put_location(client, subject, lat, lon), 204)
        everything.positions.append((lat, lon))
        clock.advance(timedelta(minutes=10))
    ok(put_location(client, friend, *offset(*BASE, east_m=FRIEND_EAST_M)), 204)

    now: datetime = clock.now()
    intent(client, subject, ACTIVITY, now, radius_m=10_000, audience=["close", "climbers"])
    intent(client, friend, ACTIVITY, now, radius_m=10_000, audience=["close"])
    friend_alerts = ok(client.get("/api/v1/alerts", headers=friend.headers))
    (about_subject,) = [a for a in friend_alerts if a["from"]["username"] == SUBJECT]
    answer = ok(
        client.post(
            f"/api/v1/alerts/{about_subject['id']}/respond",
            json={"answer": "in"},
            headers=friend.headers,
        )
    )
    everything.meetup_id = answer["meetup"]["id"]
    everything.friend_alert_id = about_subject["id"]

    # Reads both ways: ledger entries with the subject as subject and as viewer.
    ok(client.get(f"/api/v1/friends/{SUBJECT}/location", headers=friend.headers))
    ok(client.get(f"/api/v1/friends/{friend.username}/location", headers=h))
    ok(client.get("/api/v1/nearby", headers=h))
    ok(client.get("/api/v1/intents", headers=climber.headers))

    use_feed_and_partners(client, everything, clock)

    job = ok(client.post("/api/v1/me/export/jobs", headers=h), 202)
    everything.export_job_id = job["id"]
    r = client.post("/api/v1/sessions", json={"username": SUBJECT, "password": "wrong-password"})
    assert r.status_code == 401
    return everything


def use_feed_and_partners(client: TestClient, everything: Everything, clock: FixedClock) -> None:
    """Posts, feedback, goals, profile; check-ins, invites both ways, the history switch."""
    h, fh = everything.subject.headers, everything.friend.headers
    ok(
        client.post("/api/v1/posts", json={"text": "Bouldering tonight at the wall"}, headers=h),
        201,
    )
    theirs = ok(client.post("/api/v1/posts", json={"text": "New shoes!"}, headers=fh), 201)
    ok(client.get("/api/v1/feed", headers=h))
    ok(
        client.post(
            f"/api/v1/feed/items/{theirs['id']}/engagement", json={"kind": "like"}, headers=h
        ),
        204,
    )
    ok(
        client.post(
            f"/api/v1/feed/items/{theirs['id']}/feedback", json={"feedback": "more"}, headers=h
        )
    )
    ok(client.get("/api/v1/feed", headers=fh))
    lat, lon = everything.positions[0]
    ok(
        client.post(
            "/api/v1/me/check-ins",
            json={"activity": PARTNER_ACTIVITY, "lat": lat, "lon": lon},
            headers=h,
        ),
        201,
    )
    ok(client.put("/api/v1/me/partner-settings", json={"history_helps": "friends"}, headers=h))
    start = clock.now() + timedelta(days=1)
    window = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}
    mine = ok(
        client.post(
            "/api/v1/invites",
            json={"activity": PARTNER_ACTIVITY, **window, "invitees": [everything.friend.username]},
            headers=h,
        ),
        201,
    )
    ok(client.put(f"/api/v1/invites/{mine['id']}/answer", json={"answer": "yes"}, headers=fh))
    theirs_invite = ok(
        client.post(
            "/api/v1/invites",
            json={"activity": "tennis", **window, "invitees": [SUBJECT]},
            headers=fh,
        ),
        201,
    )
    ok(
        client.put(
            f"/api/v1/invites/{theirs_invite['id']}/answer", json={"answer": "maybe"}, headers=h
        )
    )
