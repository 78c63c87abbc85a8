"""The ledger through the API: filters, paging, summaries; and the pure sentences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kith.clock import FixedClock
from kith.privacy.summaries import Use, sentence, summarise
from tests.conftest import Person, World
from tests.presence.helpers import BASE, intent, put_location, share


def sharing_pair(client: TestClient, world: World) -> tuple[Person, Person, Person]:
    """Ana shares her neighbourhood with close friends Ben and Cat."""
    ana, ben, cat = world.person("ana"), world.person("ben"), world.person("cat")
    world.befriend(ana, ben, a_puts_b_in="close")
    world.befriend(ana, cat, a_puts_b_in="close")
    share(client, ana, "close", "neighbourhood")
    assert put_location(client, ana, *BASE).status_code == 204
    return ana, ben, cat


def entries(client: TestClient, who: Person, **params: str | int) -> Any:
    r = client.get("/api/v1/me/ledger", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_reads_by_friends_are_listed_newest_first_with_filters(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    ana, ben, cat = sharing_pair(client, world)
    start = clock.now()
    for _ in range(3):
        assert client.get("/api/v1/friends/ana/location", headers=ben.headers).status_code == 200
        clock.advance(timedelta(hours=1))
    assert client.get("/api/v1/friends/ana/location", headers=cat.headers).status_code == 200
    intent(client, ana, "tennis", clock.now(), audience=["close"])
    assert client.get("/api/v1/intents", headers=ben.headers).status_code == 200

    page = entries(client, ana)
    listed = page["entries"]
    assert [(e["who"], e["what"], e["detail"]) for e in listed] == [
        ("Ben", "intent", "tennis"),
        ("Cat", "location", "neighbourhood"),
        ("Ben", "location", "neighbourhood"),
        ("Ben", "location", "neighbourhood"),
        ("Ben", "location", "neighbourhood"),
    ]
    assert listed[0]["actor"] == {"username": "ben", "display_name": "Ben"}
    assert page["next_cursor"] is None

    only_ben = entries(client, ana, actor="ben", what="location")["entries"]
    assert len(only_ben) == 3
    assert entries(client, ana, actor="nobody_here")["entries"] == []
    window = entries(
        client,
        ana,
        since=(start + timedelta(minutes=30)).isoformat(),
        until=(start + timedelta(hours=2, minutes=30)).isoformat(),
    )["entries"]
    assert len(window) == 2
    # Ben's own ledger is empty: reading is never recorded against the reader.
    assert entries(client, ben)["entries"] == []


def test_cursor_paging_visits_each_entry_once(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    ana, ben, _ = sharing_pair(client, world)
    for _ in range(7):
        client.get("/api/v1/friends/ana/location", headers=ben.headers)
    # Same instant for several entries: the id breaks the tie, so nothing repeats.
    clock.advance(timedelta(minutes=1))
    for _ in range(3):
        client.get("/api/v1/friends/ana/location", headers=ben.headers)
    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = entries(client, ana, **params)
        seen.extend(e["id"] for e in page["entries"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(set(seen)) == len(seen) == 10
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize(
    "params",
    [{"cursor": "not-a-cursor"}, {"cursor": "MjAyNnwx"}, {"limit": 0}, {"limit": 201}],
)
def test_bad_paging_is_refused(client: TestClient, world: World, params: dict[str, str]) -> None:
    ana = world.person("ana")
    r = client.get("/api/v1/me/ledger", params=params, headers=ana.headers)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


def test_summary_speaks_plainly(client: TestClient, world: World) -> None:
    ana, ben, cat = sharing_pair(client, world)
    for _ in range(3):
        client.get("/api/v1/friends/ana/location", headers=ben.headers)
    client.get("/api/v1/nearby", headers=cat.headers)
    r = client.get("/api/v1/me/ledger/summary", headers=ana.headers)
    assert r.json()["sentences"] == [
        "Ben saw your neighbourhood 3 times this week",
        "Cat saw your neighbourhood once this week",
    ]


def test_old_uses_leave_the_weekly_summary(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    ana, ben, _ = sharing_pair(client, world)
    client.get("/api/v1/friends/ana/location", headers=ben.headers)
    clock.advance(timedelta(days=8))
    assert client.get("/api/v1/me/ledger/summary", headers=ana.headers).json()["sentences"] == []
    assert len(entries(client, ana)["entries"]) == 1


SUNDAY = datetime(2026, 11, 22, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("use", "expected"),
    [
        (Use("Ana", True, "location", "neighbourhood", "shown to a friend", 3, SUNDAY),
         "Ana saw your neighbourhood 3 times this week"),
        (Use("Ana", True, "location", "precise", "nearby list", 2, SUNDAY),
         "Ana saw your exact position twice this week"),
        (Use("Ana", True, "location", "nearby", "nearby alert", 1, SUNDAY),
         "Ana was told you were nearby once this week"),
        (Use("Ben", True, "intent", "tennis", "shown in friends' intents", 1, SUNDAY),
         "Ben saw your tennis plans once this week"),
        (Use("Ben", True, "intent", "tennis", "intent alert", 4, SUNDAY),
         "Your tennis plans were matched with Ben's 4 times this week"),
        (Use("Ben", True, "history", "tennis", "partner suggestion", 1, SUNDAY),
         "Your tennis history helped Ben plan on Sunday"),
        (Use("Ben", True, "history", "tennis", "partner suggestion", 5, SUNDAY),
         "Your tennis history helped Ben plan 5 times this week"),
        (Use("kith (feed)", False, "profile", "reading", "feed ranking", 9, SUNDAY),
         "Your reading helped rank your own feed 9 times this week"),
        (Use("a deleted account", True, "location", "city", "shown to a friend", 1, SUNDAY),
         "A deleted account saw your city once this week"),
        (Use("Cat", True, "posts", "1", "feed", 2, SUNDAY),
         "Cat used your posts (feed) twice this week"),
    ],
)  # fmt: skip
def test_sentences(use: Use, expected: str) -> None:
    assert sentence(use) == expected


def test_weekday_is_in_the_users_time_zone_and_frequent_uses_come_first() -> None:
    late = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # Sunday in UTC, Monday in Tokyo
    use = Use("Ben", True, "history", "tennis", "suggestion", 1, late)
    assert sentence(use, timezone="Asia/Tokyo").endswith("on Monday")
    assert sentence(use, timezone="Not/AZone").endswith("on Sunday")
    rare = Use("Ana", True, "location", "city", "x", 1, late)
    often = Use("Cat", True, "location", "city", "x", 5, SUNDAY)
    assert summarise([rare, often]) == [sentence(often), sentence(rare)]
