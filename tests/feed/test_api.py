"""The feed through its HTTP API, on SQLite and PostgreSQL.

Posts reach only the audience their author chose; pages stop with a card; "never"
stops 100%; goals, profile edits and feedback show on the next page; bad input is
refused with problem+json and changes nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from kith.clock import FixedClock
from kith.feed.models import Post
from tests.conftest import Person, World
from tests.feed.helpers import FEED, feed, feedback, ids, post, read_all, set_goals, topics_of

SPORTS = "Great match tonight: our team scored twice and won the league game."
FOOD = "New recipe: slow-cooked chicken soup with fresh bread for dinner."
NEWS = "The city council voted on the new school district policy at the court house."


@pytest.fixture
def trio(world: World) -> tuple[Person, Person, Person]:
    """Ana posts; Ben is her close friend; Cid is a friend in her default circle."""
    ana, ben, cid = world.person("ana"), world.person("ben"), world.person("cid")
    world.befriend(ana, ben, a_puts_b_in="close")
    world.befriend(ana, cid)
    return ana, ben, cid


def _problem(r: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    if field is not None:
        assert body.get("field") == field or field in body["detail"], body
    return body


# --- posts and who may see them ----------------------------------------------------------


def test_a_post_reaches_its_audience_and_nobody_else(
    client: TestClient, world: World, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, cid = trio
    dan, eve = world.person("dan"), world.person("eve")
    world.befriend(ana, eve, a_puts_b_in="close")
    secret = post(client, ana, SPORTS, audience=["close"])
    assert secret["audience"] == ["close"]
    assert secret["mine"]

    missing = client.get("/api/v1/posts/999999", headers=ben.headers)
    nothing = _problem(missing, 404)
    assert client.get(f"/api/v1/posts/{secret['id']}", headers=ben.headers).status_code == 200
    # A friend outside the audience, a stranger, and someone across a block (either way)
    # get exactly the answer for a post that does not exist.
    world.block(eve, ana)
    for outsider in (cid, dan, eve):
        r = client.get(f"/api/v1/posts/{secret['id']}", headers=outsider.headers)
        assert _problem(r, 404) == nothing
        assert feed(client, outsider)["items"] == []
    seen = feed(client, ben)
    assert ids(seen) == [secret["id"]]
    assert seen["items"][0]["post"]["audience"] is None  # only the author sees the audience

    # Ben blocks Ana: her post is gone from his feed and his reach at once.
    world.block(ben, ana)
    r = client.get(f"/api/v1/posts/{secret['id']}", headers=ben.headers)
    assert _problem(r, 404) == nothing
    assert feed(client, ben)["items"] == []


def test_topics_are_inferred_or_checked_and_posts_can_be_deleted(
    client: TestClient, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    weather = post(client, ana, "Storm warning: heavy snow and freezing wind tonight.")
    assert weather["topics"] == ["weather"]
    assert weather["topics_source"] == "inferred"
    vague = post(client, ana, "Hello there.")
    assert vague["topics"] == []
    assert vague["topics_source"] == "none"
    chosen = post(client, ana, "Hello again.", topics=["music", "music", "tv"])
    assert chosen["topics"] == ["music", "tv"]
    assert chosen["topics_source"] == "author"

    before = client.get("/api/v1/me/posts", headers=ana.headers).json()["posts"]
    for body, field in [
        ({"text": "x", "topics": ["surfing"]}, "topics"),
        ({"text": "   "}, "text"),
        ({"text": "x", "link": "javascript:alert(1)"}, "link"),
        ({"text": "x", "audience": ["nope"]}, "audience"),
        ({"text": "x", "audience": []}, "audience"),
        ({"text": "x" * 2001}, "text"),
    ]:
        _problem(client.post("/api/v1/posts", json=body, headers=ana.headers), 422, field)
    assert client.get("/api/v1/me/posts", headers=ana.headers).json()["posts"] == before

    # Only the author deletes, and a stranger's attempt looks like a missing post.
    assert client.delete(f"/api/v1/posts/{weather['id']}", headers=ben.headers).status_code == 404
    assert client.delete(f"/api/v1/posts/{weather['id']}", headers=ana.headers).status_code == 204
    assert client.get(f"/api/v1/posts/{weather['id']}", headers=ana.headers).status_code == 404
    mine = client.get("/api/v1/me/posts", headers=ana.headers).json()
    assert [p["id"] for p in mine["posts"]] == [chosen["id"], vague["id"]]


def test_moderation_columns_are_honoured(
    client: TestClient, app: FastAPI, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    labelled = post(client, ana, SPORTS)
    hidden = post(client, ana, FOOD)
    # What the integrity review queue will set.
    with app.state.kith.database.session() as db:
        db.execute(update(Post).where(Post.id == labelled["id"]).values(label="missing context"))
        db.execute(update(Post).where(Post.id == hidden["id"]).values(suppressed=True))
        db.commit()
    for ranker in ("aligned", "chronological", "engagement"):
        page = feed(client, ben, ranker=ranker)
        assert ids(page) == [labelled["id"]], ranker
        assert page["items"][0]["post"]["label"] == "missing context"
        assert any("missing context" in r for r in page["items"][0]["why"]["reasons"])
    assert client.get(f"/api/v1/posts/{hidden['id']}", headers=ben.headers).status_code == 404
    own = client.get(f"/api/v1/posts/{hidden['id']}", headers=ana.headers).json()
    assert own["suppressed"] is True


# --- pages, cards and cursors ------------------------------------------------------------


def test_kith_feed_pages_of_20_then_stops_and_engagement_scrolls_forever(
    client: TestClient, clock: FixedClock, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, cid = trio
    made = [post(client, ana, f"{SPORTS} #{i}")["id"] for i in range(25)]
    first = feed(client, ben)
    assert first["ranker"] == "aligned"
    assert not first["infinite_scroll"]
    assert len(first["items"]) == 20
    assert first["card"] is None
    assert first["next_cursor"]
    why = first["items"][0]["why"]
    assert why["ranker"] == "aligned"
    assert set(why["parts"]) == {
        "relevance",
        "calibration",
        "diversity",
    }
    assert why["goal"] == "sports"
    assert why["goal_source"] == "stated"
    assert any("not used to rank" in r for r in why["reasons"])  # consent is off by default

    second = feed(client, ben, cursor=first["next_cursor"])
    assert len(second["items"]) == 5
    assert second["next_cursor"] is None
    assert second["card"]["kind"] == "caught_up"
    assert sorted(ids(first) + ids(second)) == sorted(made)
    # The same cursor gives the same page (a retry skips nothing) ...
    assert ids(feed(client, ben, cursor=first["next_cursor"])) == ids(second)
    # ... and a later visit has nothing new: all caught up.
    clock.advance(timedelta(seconds=1))
    again = feed(client, ben)
    assert again["items"] == []
    assert again["card"]["kind"] == "caught_up"

    # The engagement baseline never ends: no card, always another cursor, posts recycled.
    clock.advance(timedelta(seconds=30))
    served: list[int] = []
    page = feed(client, cid, ranker="engagement")
    for _ in range(4):
        assert page["infinite_scroll"]
        assert page["card"] is None
        assert page["next_cursor"]
        served += ids(page)
        page = feed(client, cid, cursor=page["next_cursor"])
    assert set(served) == set(made)
    assert len(served) > len(made)


def test_bad_cursors_and_rankers_are_refused(
    client: TestClient, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, cid = trio
    for i in range(25):
        post(client, ana, f"{FOOD} {i}")
    cursor = feed(client, ben)["next_cursor"]
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    for params in [
        {"cursor": flipped},
        {"cursor": "not a cursor"},
        {"cursor": cursor[:10]},
        {"cursor": cursor, "ranker": "engagement"},
        {"ranker": "als"},
        {"ranker": "nope"},
    ]:
        _problem(client.get(FEED, params=params, headers=ben.headers), 422)
    # Someone else's cursor is as good as a forged one.
    _problem(client.get(FEED, params={"cursor": cursor}, headers=cid.headers), 422)
    assert len(feed(client, ben, cursor=cursor)["items"]) == 5


def test_over_budget_the_feed_waits_for_a_deliberate_choice(
    client: TestClient, clock: FixedClock, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    for i in range(45):
        post(client, ana, f"{NEWS} {i}")
    assert set_goals(client, ben, {"news": 1.0}, budget=3).status_code == 200
    r = client.post(f"{FEED}/budget", json={"choice": "continue"}, headers=ben.headers)
    _problem(r, 409)  # nothing to continue past yet
    first = feed(client, ben)
    clock.advance(timedelta(minutes=2))
    second = feed(client, ben, cursor=first["next_cursor"])
    clock.advance(timedelta(minutes=2))
    card = feed(client, ben, cursor=second["next_cursor"])
    assert card["items"] == []
    assert card["card"]["kind"] == "budget"
    assert card["card"]["choices"] == ["stop for today", "continue for 10 more minutes"]
    assert card["minutes_today"] == pytest.approx(4.0)
    assert card["next_cursor"]  # the same page, once the user chooses

    # "stop" keeps the card; "continue" buys ten minutes from now.
    r = client.post(f"{FEED}/budget", json={"choice": "stop"}, headers=ben.headers)
    assert r.status_code == 200
    assert r.json()["stopped"] is True
    assert feed(client, ben, cursor=card["next_cursor"])["card"]["kind"] == "budget"
    r = client.post(f"{FEED}/budget", json={"choice": "continue"}, headers=ben.headers)
    assert r.status_code == 200
    assert r.json()["budget_minutes"] == 14
    third = feed(client, ben, cursor=card["next_cursor"])
    assert len(third["items"]) == 5
    assert third["card"]["kind"] == "caught_up"
    # The engagement baseline has no budget card at all.
    clock.advance(timedelta(minutes=20))
    assert feed(client, ben, ranker="engagement")["card"] is None


# --- goals, rules and feedback -------------------------------------------------------------


def test_stated_goals_change_the_next_page(
    client: TestClient, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, cid = trio
    for i in range(20):
        post(client, ana, f"{SPORTS} {i}", topics=["sports"])
        post(client, ana, f"{FOOD} {i}", topics=["foodanddrink"])
    default = Counter(topics_of(feed(client, cid)))
    assert default["sports"] >= 5
    assert default["foodanddrink"] >= 5
    r = set_goals(client, ben, {"foodanddrink": 0.9, "sports": 0.1})
    assert r.status_code == 200, r.text
    page = Counter(topics_of(feed(client, ben)))
    assert page["foodanddrink"] >= 16
    assert page["sports"] <= 4


def test_bad_goals_are_refused_and_change_nothing(
    client: TestClient, trio: tuple[Person, Person, Person]
) -> None:
    _, ben, _ = trio
    assert set_goals(client, ben, {"news": 0.5, "sports": 0.5}, budget=45).status_code == 200
    before = client.get("/api/v1/me/goals", headers=ben.headers).json()
    assert before["stated"]
    assert before["daily_budget_minutes"] == 45
    cases: list[tuple[dict[str, Any], str]] = [
        ({"target_mix": {"news": 0.6, "sports": 0.6}}, "target_mix"),
        ({"target_mix": {"news": 0.3}}, "target_mix"),
        ({"target_mix": {}}, "target_mix"),
        ({"target_mix": {"news": -0.5, "sports": 1.5}}, "target_mix"),
        ({"target_mix": {"surfing": 1.0}}, "topics"),
        ({"daily_budget_minutes": 0}, "daily_budget_minutes"),
        ({"daily_budget_minutes": 1440}, "daily_budget_minutes"),
        ({"ranker": "als"}, "ranker"),
        ({"rules": [{"kind": "never", "topic": "surfing"}]}, "topics"),
        ({"rules": [{"kind": "never", "username": "nobody_here"}]}, "rules"),
        ({"rules": [{"kind": "never", "topic": "news", "username": "ana"}]}, "rules"),
        (
            {"rules": [{"kind": "less", "topic": "news", "expires_at": "2001-01-01T00:00:00Z"}]},
            "expires_at",
        ),
    ]
    for change, field in cases:
        body = {
            "target_mix": {"news": 1.0},
            "daily_budget_minutes": 30,
            "ranker": "aligned",
            **change,
        }
        r = client.put("/api/v1/me/goals", json=body, headers=ben.headers)
        assert r.status_code == 422, (change, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in (r.json().get("field") or "") + r.json()["detail"], (field, r.json())
    assert client.get("/api/v1/me/goals", headers=ben.headers).json() == before


def test_feedback_needs_a_seen_post_and_never_stops_everything(
    client: TestClient, clock: FixedClock, world: World, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    dan = world.person("dan")
    strangers = post(client, dan, SPORTS)
    first = post(client, ana, SPORTS, topics=["sports"])
    unseen_r = feedback(client, ben, first["id"], "never", about="topic")
    _problem(unseen_r, 409)  # not shown yet: refused, and no rule was made
    assert client.get("/api/v1/me/goals", headers=ben.headers).json()["rules"] == []
    _problem(feedback(client, ben, strangers["id"], "never"), 404)
    _problem(feedback(client, ben, 999999, "never"), 404)

    assert ids(feed(client, ben)) == [first["id"]]
    _problem(feedback(client, ben, first["id"], "never", about="topic", topic="music"), 422)
    r = feedback(client, ben, first["id"], "never", about="topic")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["hidden"]
    assert out["rule"]["topic"] == "sports"
    assert out["rule"]["expires_at"] is None

    # 40 more sports posts, half also about food: not one of them, on any ranker.
    clock.advance(timedelta(minutes=1))
    for i in range(20):
        post(client, ana, f"{SPORTS} {i}", topics=["sports"])
        post(client, ana, f"{SPORTS} {FOOD} {i}", topics=["foodanddrink", "sports"])
    post(client, ana, FOOD, topics=["foodanddrink"])
    served = [t for page in read_all(client, ben) for t in topics_of(page)]
    page = feed(client, ben, ranker="engagement")
    for _ in range(5):
        served += topics_of(page)
        page = feed(client, ben, cursor=page["next_cursor"])
    assert "sports" not in served
    assert served.count("foodanddrink") >= 1
    assert feed(client, ben, ranker="engagement")["hidden"] >= 40


def test_less_of_lets_one_per_page_and_can_be_edited(
    client: TestClient, clock: FixedClock, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    for i in range(22):
        post(client, ana, f"{NEWS} {i}", topics=["news"])
        post(client, ana, f"{FOOD} {i}", topics=["foodanddrink"])
    first = feed(client, ben)
    news = next(i for i in first["items"] if i["post"]["topics"] == ["news"])
    r = feedback(client, ben, news["post"]["id"], "less", about="topic")
    assert r.status_code == 200, r.text
    rule = r.json()["rule"]
    assert rule["kind"] == "less"
    assert rule["expires_at"]
    nxt = feed(client, ben, cursor=first["next_cursor"])
    assert topics_of(nxt).count("news") <= 1
    # The expiry is the user's to change: ending the rule brings the topic back.
    goals = client.get("/api/v1/me/goals", headers=ben.headers).json()
    ends = (clock.now() + timedelta(minutes=5)).isoformat()
    rules = [{"kind": "less", "topic": "news", "expires_at": ends}]
    assert set_goals(client, ben, goals["target_mix"], rules=rules).status_code == 200
    clock.advance(timedelta(minutes=6))
    later = feed(client, ben)
    assert topics_of(later).count("news") >= 5


# --- profile, consent and ledger -------------------------------------------------------------


def test_profile_learns_only_with_consent_and_edits_apply(
    client: TestClient, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    for i in range(12):
        post(client, ana, f"{FOOD} {i}", topics=["foodanddrink"])
        post(client, ana, f"{NEWS} {i}", topics=["news"])
    page = feed(client, ben)
    food = [i["post"]["id"] for i in page["items"] if i["post"]["topics"] == ["foodanddrink"]]
    for post_id in food[:4]:
        r = client.post(
            f"{FEED}/items/{post_id}/engagement", json={"kind": "like"}, headers=ben.headers
        )
        assert r.status_code == 204, r.text
    off = client.get("/api/v1/me/profile", headers=ben.headers).json()
    assert off["learning"] is False
    assert off["entries"] == []
    assert "off" in off["explanation"]

    r = client.put("/api/v1/me/consent", json={"rank_my_feed": True}, headers=ben.headers)
    assert r.status_code == 200, r.text
    on = client.get("/api/v1/me/profile", headers=ben.headers).json()
    assert on["learning"] is True
    [entry] = on["entries"]
    assert entry["topic"] == "foodanddrink"
    assert entry["source"] == "learned"
    assert sorted(entry["items"]) == sorted(food[:4])
    assert on["target_mix"]["foodanddrink"] > off["target_mix"]["foodanddrink"]

    r = client.put("/api/v1/me/profile", json={"topics": {"news": 0.5}}, headers=ben.headers)
    assert r.status_code == 200, r.text
    sources = {e["topic"]: (e["source"], e["weight"]) for e in r.json()["entries"]}
    assert sources == {"news": ("set", 0.5), "foodanddrink": ("learned", 0.5)}
    for bad in [{"surfing": 0.1}, {"news": 1.5}, {"news": 0.7, "tv": 0.6}, {}]:
        r = client.put("/api/v1/me/profile", json={"topics": bad}, headers=ben.headers)
        _problem(r, 422)
    after = client.get("/api/v1/me/profile", headers=ben.headers).json()
    assert {e["topic"]: e["source"] for e in after["entries"]} == {
        "news": "set",
        "foodanddrink": "learned",
    }
    why = feed(client, ben)["items"][0]["why"]
    assert why["uses_your_activity"] is True


def test_ranking_a_feed_is_in_the_authors_ledger(
    client: TestClient, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    post(client, ana, SPORTS)
    feed(client, ben)
    entries = client.get("/api/v1/me/ledger", headers=ana.headers).json()["entries"]
    assert [(e["who"], e["what"], e["detail"]) for e in entries] == [("Ben", "profile", "posts")]
    assert client.get("/api/v1/me/ledger", headers=ben.headers).json()["entries"] == []
