"""The review queue through the HTTP API, on SQLite and PostgreSQL: a scan of kith's own
posts opens cases; moderators read the evidence and decide; decisions take effect in
feeds and accounts; the people affected get a notice and can appeal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kith.clock import FixedClock
from tests.conftest import Person, World
from tests.integrity.helpers import BOTS, CAMPAIGN_TEXT, Scene, build_scene

PROBLEM = "application/problem+json"


@pytest.fixture
def scene(world: World, app: FastAPI, clock: FixedClock) -> Scene:
    return build_scene(world, app, clock)


def _cases(scene: Scene, who: Person, **params: Any) -> Any:
    r = scene.world.get(who, "/api/v1/moderation/cases", params=params)
    assert r.status_code == 200, r.text
    return r.json()["cases"]


def _case_id(scene: Scene, network: str = "co_tweet") -> str:
    found = [c for c in _cases(scene, scene.mod) if c["network"] == network]
    assert len(found) == 1, found
    case_id: str = found[0]["id"]
    return case_id


def _decide(scene: Scene, case_id: str, **body: Any) -> Any:
    return scene.world.client.post(
        f"/api/v1/moderation/cases/{case_id}/decision", json=body, headers=scene.mod.headers
    )


def test_scan_opens_one_case_per_group_and_is_idempotent(scene: Scene) -> None:
    first = scene.scan()
    assert (first.posts, first.opened, first.updated, first.unchanged) == (24, 2, 0, 0)
    cases = _cases(scene, scene.mod)
    assert {c["network"] for c in cases} == {"co_tweet", "co_link"}
    for case in cases:
        assert case["status"] == "open"
        assert case["accounts"] == 3
        assert case["posts"] == 3 * 4
        assert case["score"] > 0
        assert case["synchrony"] == 1.0

    again = scene.scan()
    assert (again.opened, again.updated, again.unchanged) == (0, 0, 2)
    assert [c["id"] for c in _cases(scene, scene.mod)] == [c["id"] for c in cases]

    # A fifth burst is new evidence on the same cases: updated, not opened again.
    scene.clock.advance(timedelta(hours=1))
    scene.burst(4)
    third = scene.scan()
    assert (third.opened, third.updated) == (0, 2)
    assert {c["posts"] for c in _cases(scene, scene.mod)} == {15}


def test_case_page_has_accounts_objects_timeline_evidence_and_is_ledgered(scene: Scene) -> None:
    scene.scan()
    case_id = _case_id(scene)
    r = scene.world.get(scene.mod, f"/api/v1/moderation/cases/{case_id}")
    assert r.status_code == 200, r.text
    case = r.json()
    assert [a["user"]["username"] for a in case["accounts"]] == list(BOTS)
    assert all(a["posts"] == 4 and not a["suspended"] for a in case["accounts"])
    shared = case["shared_objects"]
    assert len(shared) == 4
    assert {s["accounts"] for s in shared} == {3}
    times = [p["created_at"] for p in case["timeline"]]
    assert times == sorted(times)
    assert len(times) == 12
    assert {p["text"] for p in case["timeline"]} == {CAMPAIGN_TEXT.format(n=n) for n in range(4)}
    # Every pair of the three bots in each burst: 3 pairs x 4 bursts.
    assert case["evidence_total"] == 12
    for pair in case["evidence"]:
        assert pair["first"]["text"] == pair["second"]["text"]
        assert pair["first"]["author"]["username"] != pair["second"]["author"]["username"]
        assert pair["seconds_apart"] <= 60
    # The moderator saw each bot's posts: it is in each bot's ledger, and nobody else's.
    for bot in scene.bots:
        entries = scene.world.get(bot, "/api/v1/me/ledger", params={"what": "posts"}).json()
        assert [(e["actor"]["username"], e["detail"]) for e in entries["entries"]] == [
            ("mod", f"case {case_id}")
        ]
    assert scene.world.get(scene.people[0], "/api/v1/me/ledger").json()["entries"] == []


def test_non_moderators_get_the_same_404_as_a_missing_case(scene: Scene) -> None:
    scene.scan()
    case_id = _case_id(scene)
    missing = scene.world.get(scene.mod, "/api/v1/moderation/cases/co_tweet-w60-000000000000")
    assert missing.status_code == 404
    for who in (scene.fan, scene.bots[0]):
        for path in ("/api/v1/moderation/cases", f"/api/v1/moderation/cases/{case_id}"):
            r = scene.world.get(who, path)
            assert r.status_code == 404
            assert r.headers["content-type"] == PROBLEM
            assert r.json() == missing.json()
        r = scene.world.client.post(
            f"/api/v1/moderation/cases/{case_id}/decision",
            json={"action": "dismiss", "reason": "x"},
            headers=who.headers,
        )
        assert (r.status_code, r.json()) == (404, missing.json())
    assert scene.world.get(None, "/api/v1/moderation/cases").status_code == 401


def test_label_shows_on_posts_in_a_friends_feed_with_notice_and_appeal(scene: Scene) -> None:
    scene.scan()
    case_id = _case_id(scene)
    r = _decide(scene, case_id, action="label", label="Coordinated posting", reason="3 accounts")
    assert r.status_code == 201, r.text
    decision = r.json()
    assert (decision["moderator"]["username"], decision["action"]) == ("mod", "label")
    assert decision["reason"] == "3 accounts"
    assert decision["at"]

    feed = scene.world.get(scene.fan, "/api/v1/feed").json()
    labels = {i["post"]["id"]: i["post"]["label"] for i in feed["items"]}
    assert {labels[p] for p in scene.bot_posts["bot_a"]} == {"Coordinated posting"}

    notices = scene.world.get(scene.bots[1], "/api/v1/me/notices").json()["notices"]
    assert len(notices) == 1
    notice = notices[0]
    assert (notice["action"], notice["label"], notice["can_appeal"]) == (
        "label",
        "Coordinated posting",
        True,
    )
    assert (
        "4 of your posts matched what 2 other accounts posted within 60 seconds"
        in (notice["summary"])
    )
    assert "bot_a" not in notice["summary"]  # the others stay unnamed
    assert scene.world.get(scene.fan, "/api/v1/me/notices").json()["notices"] == []

    r = scene.world.client.post(
        f"/api/v1/me/notices/{notice['id']}/appeal",
        json={"text": "We are three friends at one rally."},
        headers=scene.bots[1].headers,
    )
    assert r.status_code == 201, r.text
    queued = {c["id"]: c for c in _cases(scene, scene.mod)}
    assert queued[case_id]["status"] == "appealed"
    assert queued[case_id]["appeals"] == 1
    case = scene.world.get(scene.mod, f"/api/v1/moderation/cases/{case_id}").json()
    assert [(a["user"]["username"], a["text"]) for a in case["appeals"]] == [
        ("bot_b", "We are three friends at one rally.")
    ]
    assert [d["action"] for d in case["decisions"]] == ["label"]

    again = scene.world.client.post(
        f"/api/v1/me/notices/{notice['id']}/appeal",
        json={"text": "again"},
        headers=scene.bots[1].headers,
    )
    assert (again.status_code, again.headers["content-type"]) == (409, PROBLEM)
    theirs = scene.world.client.post(
        f"/api/v1/me/notices/{notice['id']}/appeal", json={"text": "x"}, headers=scene.fan.headers
    )
    assert theirs.status_code == 404


def test_suppress_keeps_posts_out_of_feeds_and_dismiss_lifts_it(scene: Scene) -> None:
    scene.scan()
    case_id = _case_id(scene)
    post_id = scene.bot_posts["bot_a"][0]
    assert scene.world.get(scene.fan, f"/api/v1/posts/{post_id}").status_code == 200
    assert _decide(scene, case_id, action="suppress", reason="spam wave").status_code == 201

    assert scene.world.get(scene.fan, f"/api/v1/posts/{post_id}").status_code == 404
    feed = scene.world.get(scene.fan, "/api/v1/feed").json()
    assert not {i["post"]["id"] for i in feed["items"]} & set(scene.bot_posts["bot_a"])
    own = scene.world.get(scene.bots[0], f"/api/v1/posts/{post_id}").json()
    assert own["suppressed"] is True  # the author still sees it, and why

    assert _decide(scene, case_id, action="dismiss", reason="a fan club").status_code == 201
    assert scene.world.get(scene.fan, f"/api/v1/posts/{post_id}").status_code == 200
    notices = scene.world.get(scene.bots[0], "/api/v1/me/notices").json()["notices"]
    assert [(n["action"], n["can_appeal"]) for n in notices] == [
        ("dismiss", False),
        ("suppress", False),  # lifted: nothing left to appeal
    ]
    # The co_link case of the same posts waits on its own decision.
    assert [c["network"] for c in _cases(scene, scene.mod)] == ["co_link"]
    assert [c["id"] for c in _cases(scene, scene.mod, status="dismissed")] == [case_id]


def test_dismiss_keeps_another_cases_label(scene: Scene) -> None:
    scene.scan()
    tweet, link = _case_id(scene, "co_tweet"), _case_id(scene, "co_link")
    assert _decide(scene, tweet, action="label", label="Campaign", reason="r").status_code == 201
    assert _decide(scene, link, action="label", label="Campaign", reason="r").status_code == 201
    assert _decide(scene, link, action="dismiss", reason="links are fine").status_code == 201
    post = scene.world.get(scene.fan, f"/api/v1/posts/{scene.bot_posts['bot_a'][0]}").json()
    assert post["label"] == "Campaign"  # still labelled by the co_tweet case


def test_suspend_marks_accounts_and_the_hook_refuses_them(scene: Scene, app: FastAPI) -> None:
    from kith.errors import PermissionDenied
    from kith.integrity.access import check_not_suspended

    scene.scan()
    case_id = _case_id(scene)
    assert _decide(scene, case_id, action="suspend", reason="bot network").status_code == 201
    case = scene.world.get(scene.mod, f"/api/v1/moderation/cases/{case_id}").json()
    assert all(a["suspended"] for a in case["accounts"])
    with app.state.kith.database.session() as db:
        for bot in scene.bots:
            user_id = db.scalar(_user_id(bot.username))
            assert user_id is not None
            with pytest.raises(PermissionDenied):
                check_not_suspended(db, user_id)
        fan_id = db.scalar(_user_id("fan"))
        assert fan_id is not None
        check_not_suspended(db, fan_id)
    # A suspended person still reads the notice and appeals with their session.
    notices = scene.world.get(scene.bots[2], "/api/v1/me/notices").json()["notices"]
    assert notices[0]["action"] == "suspend"
    assert "suspended your account" in notices[0]["summary"]


def _user_id(username: str) -> Any:
    from sqlalchemy import select

    from kith.accounts.models import User

    return select(User.id).where(User.username_key == username)


def test_suspended_accounts_cannot_log_in_or_post(
    world: World, app: FastAPI, clock: FixedClock, client: TestClient
) -> None:
    scene = build_scene(world, app, clock)
    scene.scan()
    assert _decide(scene, _case_id(scene), action="suspend", reason="bots").status_code == 201
    r = client.post(
        "/api/v1/sessions", json={"username": "bot_a", "password": "correct horse battery"}
    )
    assert (r.status_code, r.json()["type"]) == (403, "/api/v1/problems/account-suspended")
    r = client.post("/api/v1/posts", json={"text": "still here"}, headers=scene.bots[0].headers)
    assert r.status_code == 403


# (body, the field the problem names): each one a 422 that changes nothing.
BAD_DECISIONS: list[tuple[dict[str, Any], str]] = [
    ({"action": "ban", "reason": "x"}, "action"),
    ({"action": "label", "reason": "x"}, "label"),
    ({"action": "label", "reason": "x", "label": "  "}, "label"),
    ({"action": "dismiss", "reason": "x", "label": "why"}, "label"),
    ({"action": "dismiss", "reason": "   "}, "reason"),
    ({"action": "dismiss", "reason": "a\x00b"}, "reason"),
    ({"action": "label", "reason": "x", "label": "l" * 81}, "label"),
    ({"action": "dismiss"}, "reason"),
    ({"action": "dismiss", "reason": 5}, "reason"),
]


def test_bad_decisions_are_problems_and_change_nothing(scene: Scene) -> None:
    # One world for the whole table: building it is what a test costs here.
    scene.scan()
    case_id = _case_id(scene)
    for body, field in BAD_DECISIONS:
        r = _decide(scene, case_id, **body)
        assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), (body, r.text)
        problem = r.json()
        assert field in (problem.get("field") or problem["detail"]), body
    case = scene.world.get(scene.mod, f"/api/v1/moderation/cases/{case_id}").json()
    assert case["decisions"] == []
    assert case["case"]["status"] == "open"


def test_bad_paths_queries_and_own_cases(scene: Scene, world: World) -> None:
    scene.scan()
    for path in (
        "/api/v1/moderation/cases/nonsense",
        "/api/v1/moderation/cases/" + "x" * 81,
        "/api/v1/moderation/cases/co_tweet-w60-ZZZZZZZZZZZZ",
    ):
        r = scene.world.get(scene.mod, path)
        assert (r.status_code, r.headers["content-type"]) == (404, PROBLEM) or r.status_code == 422
    for params in ({"status": "weird"}, {"limit": 0}, {"limit": 10_000}):
        r = scene.world.get(scene.mod, "/api/v1/moderation/cases", params=params)
        assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM)
    for notice_id in ("0", "99999999999", "abc"):
        r = world.client.post(
            f"/api/v1/me/notices/{notice_id}/appeal", json={"text": "x"}, headers=scene.fan.headers
        )
        assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM)
    r = world.client.post(
        "/api/v1/me/notices/7/appeal", json={"text": "x"}, headers=scene.fan.headers
    )
    assert r.status_code == 404
    # A moderator who is one of the case's accounts cannot decide it.
    with scene.app.state.kith.database.session() as db:
        from kith.integrity.actions import do_grant_moderator

        do_grant_moderator(db, "bot_a", now=scene.clock.now())
    r = world.client.post(
        f"/api/v1/moderation/cases/{_case_id(scene)}/decision",
        json={"action": "dismiss", "reason": "mine"},
        headers=scene.bots[0].headers,
    )
    assert (r.status_code, r.json()["type"]) == (409, "/api/v1/problems/own-case")
