"""Suggestions, invites, answers and check-ins through the HTTP API, on SQLite and PostgreSQL.

The story: Ana plays tennis on Sunday mornings. Ben (who keeps Ana among his close
friends) came along three Sundays running; Cid came too and checks in at tennis every
Sunday, but Ana is only in Cid's "friends" circle, so by default Cid's history does
not help Ana plan. Dee is a close friend with nothing in common with Ana's Sundays.
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

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SUNDAY_10 = datetime(2026, 3, 8, 10, 0, tzinfo=UTC)  # the first tennis Sunday
WEEKS = 3


def iso(moment: datetime) -> str:
    return moment.isoformat()


def invite(town: World, host: Person, names: list[str], starts: datetime, **extra: Any) -> Any:
    r = town.client.post(
        "/api/v1/invites",
        json={
            "activity": "tennis",
            "starts_at": iso(starts),
            "ends_at": iso(starts + timedelta(hours=2)),
            "invitees": names,
            **extra,
        },
        headers=host.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


def answer(town: World, who: Person, invite_id: int, value: str) -> Any:
    r = town.client.put(
        f"/api/v1/invites/{invite_id}/answer", json={"answer": value}, headers=who.headers
    )
    assert r.status_code == 200, r.text
    return r.json()


def check_in(town: World, who: Person, activity: str = "tennis", **where: float) -> Any:
    r = town.client.post(
        "/api/v1/me/check-ins", json={"activity": activity, **where}, headers=who.headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def suggestions(town: World, who: Person, starts: datetime, **params: Any) -> Any:
    query = {
        "activity": "tennis",
        "starts_at": iso(starts),
        "ends_at": iso(starts + timedelta(hours=2)),
        **params,
    }
    return town.client.get("/api/v1/suggestions", params=query, headers=who.headers)


def ledger(town: World, who: Person) -> list[dict[str, Any]]:
    r = town.get(who, "/api/v1/me/ledger")
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()["entries"]
    return [e for e in entries if e["what"] == "history"]


@pytest.fixture
def town(client: TestClient) -> World:
    # tests/partners/conftest.py has a ``world`` of its own (the synthetic model data).
    return World(client)


@pytest.fixture
def no_model(tmp_path: Path, settings: Settings) -> Path:
    path = tmp_path / "absent.json"
    settings.partners_model = path
    return path


@pytest.fixture
def people(town: World, clock: FixedClock, no_model: Path) -> dict[str, Person]:
    clock.set(MONDAY)
    names = ["ana", "ben", "cid", "dee", "eve"]
    p = {n: town.person(n) for n in names}
    town.befriend(p["ana"], p["ben"], b_puts_a_in="close")
    town.befriend(p["ana"], p["cid"])  # Cid keeps Ana in "friends"
    town.befriend(p["ana"], p["dee"], b_puts_a_in="close")
    for week in range(WEEKS):
        sunday = SUNDAY_10 + timedelta(weeks=week)
        clock.set(sunday - timedelta(days=2))
        made = invite(town, p["ana"], ["ben", "cid", "dee"], sunday)
        answer(town, p["ben"], made["id"], "yes")
        answer(town, p["cid"], made["id"], "yes")
        answer(town, p["dee"], made["id"], "no")
        clock.set(sunday + timedelta(minutes=30))
        for who in ("ana", "ben", "cid"):
            check_in(town, p[who])
        clock.set(sunday + timedelta(days=2, hours=8))  # Tuesday evening
        check_in(town, p["dee"], "drinks")
    clock.set(SUNDAY_10 + timedelta(weeks=WEEKS, days=-3))  # the Thursday before
    return p


@pytest.fixture
def few(town: World, clock: FixedClock, no_model: Path) -> dict[str, Person]:
    """Ana and her friends, with no history: enough for invites and bad input."""
    clock.set(SUNDAY_10 + timedelta(weeks=WEEKS, days=-3))
    p = {n: town.person(n) for n in ["ana", "ben", "cid", "dee", "eve"]}
    for name in ("ben", "cid", "dee"):
        town.befriend(p["ana"], p[name])
    return p


def next_sunday() -> datetime:
    return SUNDAY_10 + timedelta(weeks=WEEKS)


def test_ranks_the_friend_who_came_first_with_reasons_and_ledger(
    town: World, people: dict[str, Person]
) -> None:
    fay = town.person("fay")
    town.befriend(people["ana"], fay, b_puts_a_in="close")  # helps, but has no history
    r = suggestions(town, people["ana"], next_sunday())
    assert r.status_code == 200, r.text
    ranked = r.json()
    assert next(s["username"] for s in ranked) == "ben"
    ben = ranked[0]
    assert set(ben) >= {"username", "score", "reasons"}
    assert ben["reasons"], "the top suggestion says why"
    assert any("Ben" in reason and "3" in reason for reason in ben["reasons"]), ben["reasons"]
    # Cid's history does not help Ana: Cid is listed, but with nothing of Cid's, exactly
    # like Fay who has no history at all (the list never tells settings or circles apart).
    by_name = {s["username"]: s for s in ranked}
    assert by_name["cid"]["reasons"] == by_name["fay"]["reasons"] == []
    assert by_name["cid"]["score"] == by_name["fay"]["score"] < ben["score"]
    # The baseline ranked, and the response says so.
    assert r.headers["Kith-Model"] == "baseline_coattendance"
    assert "not available" in r.headers["Kith-Model-Note"]
    # Every friend whose history was used has one ledger entry; nobody else has any.
    used = ledger(town, people["ben"])
    assert len(used) == 1
    assert used[0]["actor"]["username"] == "ana"
    assert used[0]["detail"] == "tennis"
    assert ledger(town, people["cid"]) == []  # not used: Cid's history does not help Ana
    assert len(ledger(town, people["dee"])) == 1  # used (and it did not help her chances)
    assert ledger(town, fay) == []  # nothing of Fay's to use


def test_history_switch_changes_what_is_used(town: World, people: dict[str, Person]) -> None:
    client = town.client
    r = client.get("/api/v1/me/partner-settings", headers=people["cid"].headers)
    assert r.json() == {"history_helps": "close"}
    r = client.put(
        "/api/v1/me/partner-settings",
        json={"history_helps": "friends"},
        headers=people["cid"].headers,
    )
    assert r.status_code == 200
    assert r.json() == {"history_helps": "friends"}
    ranked = suggestions(town, people["ana"], next_sunday()).json()
    cid = next(s for s in ranked if s["username"] == "cid")
    assert cid["reasons"], "Cid now lets every friend's plans use the history"
    assert len(ledger(town, people["cid"])) == 1

    # Ben turns it off for everyone: Ben drops to no evidence, and no new ledger entry.
    r = client.put(
        "/api/v1/me/partner-settings",
        json={"history_helps": "nobody"},
        headers=people["ben"].headers,
    )
    assert r.status_code == 200
    ranked = suggestions(town, people["ana"], next_sunday()).json()
    ben = next(s for s in ranked if s["username"] == "ben")
    assert ben["reasons"] == []
    assert ranked[0]["username"] == "cid"
    assert len(ledger(town, people["ben"])) == 1  # the earlier use only, no new one


def test_answers_only_yes_is_shown_to_others(town: World, few: dict[str, Person]) -> None:
    ana, ben, cid, dee = (few[n] for n in ("ana", "ben", "cid", "dee"))
    made = invite(town, ana, ["ben", "cid", "dee"], next_sunday(), note="court 3")
    assert made["is_host"]
    assert made["going"] == []
    assert {u["username"] for u in made["invited"]} == {"ben", "cid", "dee"}
    answer(town, ben, made["id"], "yes")
    answer(town, cid, made["id"], "no")
    answer(town, dee, made["id"], "maybe")
    seen_by_dee = town.get(dee, f"/api/v1/invites/{made['id']}").json()
    assert [u["username"] for u in seen_by_dee["going"]] == ["ben"]
    assert seen_by_dee["invited"] is None  # invitees do not learn who else was asked
    assert seen_by_dee["my_answer"] == "maybe"
    seen_by_host = town.get(ana, f"/api/v1/invites/{made['id']}").json()
    assert [u["username"] for u in seen_by_host["going"]] == ["ben"]
    assert seen_by_host["my_answer"] is None
    assert "maybe" not in str(seen_by_host)
    assert '"no"' not in str(seen_by_host)
    # The inbox lists it for host and invitees alike.
    inbox = town.get(cid, "/api/v1/invites").json()
    assert made["id"] in [i["id"] for i in inbox]
    # Changing one's mind is fine until the plan is over.
    assert answer(town, cid, made["id"], "yes")["my_answer"] == "yes"


def test_invites_are_invisible_to_everyone_else(town: World, few: dict[str, Person]) -> None:
    made = invite(town, few["ana"], ["ben"], next_sunday())
    eve = few["eve"]
    for path in (f"/api/v1/invites/{made['id']}", f"/api/v1/invites/{made['id']}.ics"):
        r = town.get(eve, path)
        assert r.status_code == 404
        assert r.json()["type"] == "/api/v1/problems/not-found"
    missing = town.get(eve, "/api/v1/invites/999999")
    assert missing.json()["detail"] == r.json()["detail"]  # exists or not: same answer
    r = town.client.put(
        f"/api/v1/invites/{made['id']}/answer", json={"answer": "yes"}, headers=eve.headers
    )
    assert r.status_code == 404
    # The host cannot answer their own invite.
    r = town.client.put(
        f"/api/v1/invites/{made['id']}/answer",
        json={"answer": "yes"},
        headers=few["ana"].headers,
    )
    assert r.status_code == 422


def test_invite_exports_as_ics(town: World, few: dict[str, Person]) -> None:
    made = invite(town, few["ana"], ["ben"], next_sunday(), note="bring balls; court 3")
    answer(town, few["ben"], made["id"], "yes")
    r = town.get(few["ben"], made["ics_url"])
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/calendar")
    body = r.text
    assert "BEGIN:VEVENT" in body
    assert f"UID:invite-{made['id']}@kith" in body
    assert "DTSTART:20260329T100000Z" in body
    assert "SUMMARY:Tennis with Ana" in body
    assert "bring balls\\; court 3" in body


BAD_QUESTIONS: list[tuple[dict[str, Any], str | None]] = [
    ({"activity": "quidditch"}, "activity"),
    ({"starts_at": "2026-03-01T10:00:00+00:00", "ends_at": "2026-03-01T12:00:00+00:00"}, None),
    ({"ends_at": "2026-04-30T12:00:00+00:00"}, None),  # longer than a week
    ({"ends_at": "2026-03-29T09:00:00+00:00"}, None),  # ends before it starts
    ({"starts_at": "2026-09-27T10:00:00+00:00", "ends_at": "2026-09-27T12:00:00+00:00"}, None),
    ({"limit": 0}, "limit"),
    ({"limit": 10_000}, "limit"),
    ({"starts_at": "2026-03-29T10:00:00"}, "starts_at"),  # no time zone
]


def test_bad_questions_are_clear_4xx(town: World, few: dict[str, Person]) -> None:
    for params, field in BAD_QUESTIONS:
        r = suggestions(town, few["ana"], next_sunday(), **params)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["type"].startswith("/api/v1/problems/")
        assert problem["detail"]
        if field is not None:
            assert field in problem["detail"] or problem.get("field") == field


def test_bad_invites_are_refused(town: World, few: dict[str, Person]) -> None:
    client, ana = town.client, few["ana"]
    base: dict[str, Any] = {
        "activity": "tennis",
        "starts_at": iso(next_sunday()),
        "ends_at": iso(next_sunday() + timedelta(hours=2)),
        "invitees": ["ben"],
    }
    changes: list[tuple[dict[str, Any], int]] = [
        ({"invitees": ["eve"]}, 404),  # not a friend
        ({"invitees": []}, 422),
        ({"activity": "anything"}, 422),
        ({"starts_at": iso(MONDAY), "ends_at": iso(MONDAY + timedelta(hours=1))}, 422),
    ]
    for change, status in changes:
        r = client.post("/api/v1/invites", json={**base, **change}, headers=ana.headers)
        assert r.status_code == status, (change, r.text)
        assert r.headers["content-type"] == "application/problem+json"


def test_answering_after_the_plan_is_over_is_a_conflict(
    town: World, few: dict[str, Person], clock: FixedClock
) -> None:
    made = invite(town, few["ana"], ["ben"], next_sunday())
    clock.set(next_sunday() + timedelta(hours=3))
    r = town.client.put(
        f"/api/v1/invites/{made['id']}/answer", json={"answer": "yes"}, headers=few["ben"].headers
    )
    assert r.status_code == 409
    assert r.json()["type"] == "/api/v1/problems/conflict"
    assert "over" in r.json()["detail"]


def test_check_ins_are_stored_no_finer_than_shared(
    town: World, few: dict[str, Person], clock: FixedClock
) -> None:
    eve = few["eve"]
    r = town.client.post(
        "/api/v1/me/check-ins",
        json={"activity": "coffee", "lat": 40.73, "lon": -73.99},
        headers=eve.headers,
    )
    assert r.status_code == 201
    assert r.json()["cell"] is None
    assert r.json()["precision"] == "off"
    r = town.client.put(
        "/api/v1/sharing/circles/close",
        json={"precision": "neighbourhood"},
        headers=eve.headers,
    )
    assert r.status_code in (200, 204), r.text
    clock.advance(timedelta(hours=1))
    made = check_in(town, eve, "coffee", lat=40.73, lon=-73.99)
    assert made["precision"] == "neighbourhood"
    r = town.client.put(
        "/api/v1/sharing/circles/close", json={"precision": "precise"}, headers=eve.headers
    )
    assert r.status_code in (200, 204), r.text
    clock.advance(timedelta(minutes=20))  # precise sharing lasts an hour unless told
    assert check_in(town, eve, "gym", lat=40.73, lon=-73.99)["precision"] == "block"
    mine = town.get(eve, "/api/v1/me/check-ins").json()
    assert [c["activity"] for c in mine] == ["gym", "coffee", "coffee"]
    r = town.client.delete(f"/api/v1/me/check-ins/{mine[0]['id']}", headers=eve.headers)
    assert r.status_code == 204
    # Someone else's check-in cannot be deleted, nor told apart from none.
    r = town.client.delete(f"/api/v1/me/check-ins/{mine[1]['id']}", headers=few["ana"].headers)
    assert r.status_code == 404
    bad = town.client.post(
        "/api/v1/me/check-ins", json={"activity": "anything"}, headers=eve.headers
    )
    assert bad.status_code == 422


def test_history_expires_with_the_owners_retention(town: World, people: dict[str, Person]) -> None:
    """Every Sunday is more than 3 days old: with a 3-day retention they are gone."""
    for name in ("ana", "ben", "cid", "dee"):
        r = town.client.put(
            "/api/v1/me/history", json={"keep": False, "days": 3}, headers=people[name].headers
        )
        assert r.status_code == 200, r.text
    r = suggestions(town, people["ana"], next_sunday())
    assert r.status_code == 200, r.text
    assert all(s["reasons"] == [] for s in r.json()), r.json()
    assert ledger(town, people["ben"]) == []  # nothing of Ben's was left to use


def test_no_friends_is_an_empty_list(town: World, few: dict[str, Person]) -> None:
    # Nobody has any history yet: every friend is listed, with nothing to go on.
    r = suggestions(town, few["ana"], next_sunday())
    assert r.status_code == 200, r.text
    assert [s["username"] for s in r.json()] == ["ben", "cid", "dee"]
    assert all(s["reasons"] == [] for s in r.json())
    r = suggestions(town, few["eve"], next_sunday())
    assert r.status_code == 200
    assert r.json() == []
    assert town.get(None, "/api/v1/suggestions").status_code == 401


def test_answers_feed_back_into_training(
    town: World,
    people: dict[str, Person],
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """kith partners retrain learns from the yes/no answers; the server then uses it."""
    from typer.testing import CliRunner

    from kith.cli.main import app as cli

    out = tmp_path / "retrained.json"
    monkeypatch.setenv("KITH_DATABASE_URL", settings.database_url)
    as_of = iso(next_sunday() - timedelta(days=1))
    args = ["partners", "retrain", "--out", str(out), "--as-of", as_of]
    refused = CliRunner().invoke(cli, [*args, "--min-questions", "4"])
    assert refused.exit_code == 2, refused.output
    assert "3 answered invites" in refused.output  # Ben's yes and Dee's no, three times
    result = CliRunner().invoke(cli, [*args, "--min-questions", "3"])
    assert result.exit_code == 0, result.output
    settings.partners_model = out  # the server reads the model path from its settings
    r = suggestions(town, people["ana"], next_sunday())
    assert r.status_code == 200
    assert r.headers["Kith-Model"] == "logistic"
    assert "Kith-Model-Note" not in r.headers
    assert r.json()[0]["username"] == "ben"
