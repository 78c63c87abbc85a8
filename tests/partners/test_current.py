"""What friends say now re-ranks suggestions: calendars, live intents, who is going.

Through the HTTP API, on SQLite and PostgreSQL. Nobody here has any history, so the
model ties everyone and lists them by name (Ben, Cid, Dee, Eve) unless a current signal
moves someone: that makes every move below visible.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kith.clock import FixedClock
from kith.config import Settings
from tests.conftest import Person, World

THURSDAY = datetime(2026, 3, 26, 18, 0, tzinfo=UTC)
SUNDAY_9 = datetime(2026, 3, 29, 9, 0, tzinfo=UTC)  # the plan: tennis, Sunday 9-12
PLAN_HOURS = 3


def vcalendar(*events: str) -> str:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{i}@test\r\n{e}END:VEVENT\r\n" for i, e in enumerate(events)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{body}END:VCALENDAR\r\n"


# Busy 08:30-11:30 UTC on the plan's Sunday: 2.5 of its 3 hours ("most of the window").
BUSY_SUNDAY = vcalendar(
    "SUMMARY:Dentist (never stored)\r\nDTSTART:20260329T083000Z\r\nDTEND:20260329T113000Z\r\n"
)


@pytest.fixture
def town(client: TestClient, clock: FixedClock, tmp_path: Path, settings: Settings) -> World:
    settings.partners_model = tmp_path / "absent.json"  # the baseline ranks
    clock.set(THURSDAY)
    return World(client)


@pytest.fixture
def p(town: World) -> dict[str, Person]:
    """Ben, Cid and Eve keep Ana as a close friend (their history helps her); Dee does not."""
    people = {n: town.person(n) for n in ("ana", "ben", "cid", "dee", "eve")}
    for name in ("ben", "cid", "eve"):
        town.befriend(people["ana"], people[name], b_puts_a_in="close")
    town.befriend(people["ana"], people["dee"])
    return people


def ranked(town: World, who: Person, activity: str = "tennis") -> list[dict[str, Any]]:
    r = town.client.get(
        "/api/v1/suggestions",
        params={
            "activity": activity,
            "starts_at": SUNDAY_9.isoformat(),
            "ends_at": (SUNDAY_9 + timedelta(hours=PLAN_HOURS)).isoformat(),
        },
        headers=who.headers,
    )
    assert r.status_code == 200, r.text
    out: list[dict[str, Any]] = r.json()
    return out


def names(items: list[dict[str, Any]]) -> list[str]:
    return [s["username"] for s in items]


def reasons_of(items: list[dict[str, Any]], username: str) -> list[str]:
    return next(s["reasons"] for s in items if s["username"] == username)


def uses(town: World, who: Person, what: str) -> list[dict[str, Any]]:
    r = town.get(who, "/api/v1/me/ledger")
    assert r.status_code == 200, r.text
    return [e for e in r.json()["entries"] if e["what"] == what]


def import_calendar(town: World, who: Person, ics: str, *, as_json: bool = False) -> Any:
    if as_json:
        return town.client.post("/api/v1/me/calendar", json={"ics": ics}, headers=who.headers)
    return town.client.post(
        "/api/v1/me/calendar",
        content=ics.encode(),
        headers={**who.headers, "Content-Type": "text/calendar"},
    )


def test_a_busy_friend_is_ranked_after_free_ones_if_their_history_helps(
    town: World, p: dict[str, Person]
) -> None:
    assert names(ranked(town, p["ana"])) == ["ben", "cid", "dee", "eve"]
    r = import_calendar(town, p["ben"], BUSY_SUNDAY)
    assert r.status_code == 201, r.text
    assert r.json()["busy"] == 1
    # Dee is busy all day (an all-day date), but Dee's history does not help Ana, so
    # Dee's calendar is never read for her: nothing moves and nothing is recorded.
    r = import_calendar(town, p["dee"], vcalendar("DTSTART;VALUE=DATE:20260329\r\n"), as_json=True)
    assert r.status_code == 201, r.text
    # Cid is busy for one hour of the three: not "most of the window".
    r = import_calendar(
        town, p["cid"], vcalendar("DTSTART:20260329T090000Z\r\nDTEND:20260329T100000Z\r\n")
    )
    assert r.status_code == 201, r.text

    items = ranked(town, p["ana"])
    assert names(items) == ["cid", "dee", "eve", "ben"]
    assert reasons_of(items, "ben") == ["Ben is busy then (calendar)"]
    assert reasons_of(items, "cid") == reasons_of(items, "dee") == []
    assert all("Dentist" not in reason for s in items for reason in s["reasons"])
    assert [e["detail"] for e in uses(town, p["ben"], "history")] == ["calendar free/busy"]
    assert uses(town, p["cid"], "history"), "Cid's calendar was read, so it is recorded"
    assert uses(town, p["dee"], "history") == []

    # Ben's history stops helping anyone: his calendar is no longer read either.
    r = town.client.put(
        "/api/v1/me/partner-settings", json={"history_helps": "nobody"}, headers=p["ben"].headers
    )
    assert r.status_code == 200
    assert names(ranked(town, p["ana"])) == ["ben", "cid", "dee", "eve"]
    assert len(uses(town, p["ben"], "history")) == 1


def test_calendar_import_expires_after_history_retention(
    town: World, clock: FixedClock, p: dict[str, Person]
) -> None:
    r = import_calendar(town, p["ben"], BUSY_SUNDAY)
    assert r.status_code == 201, r.text
    expires = datetime.fromisoformat(r.json()["expires_at"])
    assert expires == THURSDAY + timedelta(days=30)  # the default history retention
    # A later import replaces the earlier one: Ben is free again.
    r = import_calendar(
        town, p["ben"], vcalendar("DTSTART:20260401T090000Z\r\nDTEND:20260401T100000Z\r\n")
    )
    assert r.status_code == 201
    assert names(ranked(town, p["ana"]))[0] == "ben"
    import_calendar(town, p["ben"], BUSY_SUNDAY)
    assert names(ranked(town, p["ana"]))[-1] == "ben"


def test_calendar_retention_is_the_owners(
    town: World, clock: FixedClock, p: dict[str, Person]
) -> None:
    # An import for a plan 40 days ahead, read 31 days later: it has expired by then.
    clock.set(SUNDAY_9 - timedelta(days=40))
    assert import_calendar(town, p["ben"], BUSY_SUNDAY).json()["busy"] == 1
    clock.set(SUNDAY_9 - timedelta(days=11))
    assert names(ranked(town, p["ana"]))[-1] == "ben"
    clock.set(SUNDAY_9 - timedelta(days=9))
    assert names(ranked(town, p["ana"]))[0] == "ben"


@pytest.mark.parametrize(
    "ics",
    [
        "not a calendar",
        vcalendar("DTSTART:20260329T0900\r\nDTEND:20260329T100000Z\r\n"),
        vcalendar("DTSTART:20260329T090000\r\nDTEND:20260329T100000\r\n"),  # floating time
        vcalendar("DTEND:20260329T100000Z\r\n"),
        vcalendar("DTSTART:20260329T100000Z\r\nDTEND:20260329T090000Z\r\n"),
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20260329T100000Z\r\n",
    ],
)
def test_malformed_calendars_are_refused(town: World, p: dict[str, Person], ics: str) -> None:
    r = import_calendar(town, p["ben"], ics)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "ics"
    r = town.client.post("/api/v1/me/calendar", json={"calendar": ics}, headers=p["ben"].headers)
    assert r.status_code == 422


def test_a_friend_up_for_it_then_is_boosted(town: World, p: dict[str, Person]) -> None:
    def intent(who: Person, activity: str, audience: str, hours: tuple[int, int]) -> None:
        r = town.client.post(
            "/api/v1/intents",
            json={
                "activity": activity,
                "starts_at": (SUNDAY_9 + timedelta(hours=hours[0])).isoformat(),
                "ends_at": (SUNDAY_9 + timedelta(hours=hours[1])).isoformat(),
                "audience": [audience],
            },
            headers=who.headers,
        )
        assert r.status_code == 201, r.text

    intent(p["eve"], "tennis", "close", (1, 3))  # Ana is in Eve's audience
    intent(p["dee"], "tennis", "close", (0, 3))  # Dee keeps Ana in "friends": not shown
    intent(p["cid"], "surfing", "close", (0, 3))  # another activity
    intent(p["ben"], "tennis", "close", (5, 7))  # after the plan
    items = ranked(town, p["ana"])
    assert names(items) == ["eve", "ben", "cid", "dee"]
    assert reasons_of(items, "eve") == ["Eve is up for tennis then"]
    assert [e["detail"] for e in uses(town, p["eve"], "intent")] == ["tennis"]
    assert uses(town, p["dee"], "intent") == []
    # An intent for "anything" fits any plan; it outranks a busy calendar.
    intent(p["dee"], "anything", "friends", (0, 2))
    import_calendar(town, p["eve"], BUSY_SUNDAY)
    assert names(ranked(town, p["ana"])) == ["dee", "eve", "ben", "cid"]


def test_friends_already_going_are_boosted(town: World, p: dict[str, Person]) -> None:
    def invite(host: Person, who: list[str], activity: str = "tennis") -> int:
        r = town.client.post(
            "/api/v1/invites",
            json={
                "activity": activity,
                "starts_at": (SUNDAY_9 + timedelta(hours=1)).isoformat(),
                "ends_at": (SUNDAY_9 + timedelta(hours=2)).isoformat(),
                "invitees": who,
            },
            headers=host.headers,
        )
        assert r.status_code == 201, r.text
        made: int = r.json()["id"]
        return made

    def answer(who: Person, invite_id: int, value: str) -> None:
        r = town.client.put(
            f"/api/v1/invites/{invite_id}/answer", json={"answer": value}, headers=who.headers
        )
        assert r.status_code == 200, r.text

    town.befriend(p["cid"], p["dee"])
    town.befriend(p["ben"], p["cid"])
    mine = invite(p["ana"], ["dee", "eve"])
    answer(p["eve"], mine, "yes")
    answer(p["dee"], mine, "maybe")  # only "yes" counts (and is ever shown)
    # Cid's plan, which Ana was invited to: Dee said yes there.
    theirs = invite(p["cid"], ["ana", "dee"])
    answer(p["dee"], theirs, "yes")
    # A plan Ana cannot see (Ben's, to Cid only): Cid's yes there is not Ana's to know.
    hidden = invite(p["ben"], ["cid"])
    answer(p["cid"], hidden, "yes")
    items = ranked(town, p["ana"])
    assert names(items) == ["dee", "eve", "ben", "cid"]
    assert reasons_of(items, "eve") == ["already going: your tennis plan"]
    assert reasons_of(items, "dee") == ["already going: Cid's tennis plan"]
    assert reasons_of(items, "cid") == []
    # A plan for another activity says nothing about tennis.
    assert names(ranked(town, p["ana"], "surfing")) == ["ben", "cid", "dee", "eve"]
