"""What a viewer can learn about a subject, for every relationship between them.

One table row per relationship (seen from the subject's side, as in
:class:`kith.types.Relationship`). Each row builds the same small world through the
HTTP API, then checks every read a viewer can make (profile, search, friend list,
friend requests, circles, blocks) and that "you may not see it" is answered exactly
like "it does not exist". The subject keeps secrets in every row: a custom circle,
pending requests with third parties and a block of someone else; none of them may
reach anyone but the subject. ``standing()`` is tested directly on the same worlds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kith.accounts.access import find_user, standing
from kith.types import Relationship
from tests.conftest import Person, World

NOBODY = "nobody_here"  # a valid username no one has
NO_REQUEST = 2_147_483_647  # a valid id no request has
SECRET_CIRCLE = "inner_sanctum"  # the subject's own custom circle
VIEWER_CIRCLE = "veras_circle"  # where the viewer keeps the subject, when friends
# Names only the subject's own views may mention.
SUBJECT_SECRETS = (SECRET_CIRCLE, "tara", "ugo", "wes")


@dataclass
class Scene:
    viewer: Person | None
    subject: Person
    request_ids: list[int]  # the subject's pending requests with third parties


def _friends(subject_puts_viewer_in: str) -> Callable[[World, Person, Person], None]:
    def setup(world: World, viewer: Person, subject: Person) -> None:
        world.befriend(
            viewer, subject, a_puts_b_in=VIEWER_CIRCLE, b_puts_a_in=subject_puts_viewer_in
        )

    return setup


def _blocked(*, by_viewer: bool) -> Callable[[World, Person, Person], None]:
    def setup(world: World, viewer: Person, subject: Person) -> None:
        # They were close friends first: blocking must end that, leaving no trace.
        _friends(SECRET_CIRCLE)(world, viewer, subject)
        if by_viewer:
            world.block(viewer, subject)
        else:
            world.block(subject, viewer)

    return setup


def _nothing(_world: World, _viewer: Person, _subject: Person) -> None:
    return None


@dataclass(frozen=True)
class Row:
    name: str
    setup: Callable[[World, Person, Person], None]
    standing: Relationship
    profile: str | None  # the relationship the profile shows, None when hidden
    in_search: bool
    viewer_lists_subject_in: str | None  # the circle in the viewer's friend list
    viewer_blocked_subject: bool = False
    is_self: bool = False
    anonymous: bool = False


ROWS = [
    Row("self", _nothing, Relationship.SELF, "self", False, None, is_self=True),
    Row("close-friend", _friends("close"), Relationship.CLOSE, "friend", True, VIEWER_CIRCLE),
    Row("friend", _friends("friends"), Relationship.FRIEND, "friend", True, VIEWER_CIRCLE),
    Row(
        "acquaintance",
        _friends("acquaintances"),
        Relationship.ACQUAINTANCE,
        "friend",
        True,
        VIEWER_CIRCLE,
    ),
    Row(
        "custom-circle", _friends(SECRET_CIRCLE), Relationship.CUSTOM, "friend", True, VIEWER_CIRCLE
    ),
    Row("stranger", _nothing, Relationship.STRANGER, "stranger", True, None),
    Row(
        "viewer-blocked-subject",
        _blocked(by_viewer=True),
        Relationship.BLOCKED,
        None,
        False,
        None,
        viewer_blocked_subject=True,
    ),
    Row(
        "subject-blocked-viewer",
        _blocked(by_viewer=False),
        Relationship.BLOCKED,
        None,
        False,
        None,
    ),
    Row("anonymous", _nothing, Relationship.ANONYMOUS, None, False, None, anonymous=True),
]


def build(world: World, row: Row) -> Scene:
    client = world.client
    subject = world.person("sam", "Sam Subject")
    r = client.post("/api/v1/circles", json={"name": SECRET_CIRCLE}, headers=subject.headers)
    assert r.status_code == 201, r.text
    tara, ugo, wes = world.person("tara"), world.person("ugo"), world.person("wes")
    ids = []
    for sender, recipient in [(subject, tara), (ugo, subject)]:
        r = client.post(
            "/api/v1/friend-requests", json={"username": recipient.username}, headers=sender.headers
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    world.block(subject, wes)
    if row.is_self:
        return Scene(subject, subject, ids)
    viewer = world.person("vera")
    r = client.post("/api/v1/circles", json={"name": VIEWER_CIRCLE}, headers=viewer.headers)
    assert r.status_code == 201, r.text
    row.setup(world, viewer, subject)
    return Scene(None if row.anonymous else viewer, subject, ids)


def _same_answer(a: Any, b: Any) -> None:
    """Two responses a client cannot tell apart."""
    assert (a.status_code, a.headers["content-type"], a.json()) == (
        b.status_code,
        b.headers["content-type"],
        b.json(),
    )


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_what_a_viewer_learns_about_a_subject(world: World, row: Row) -> None:
    scene = build(world, row)
    viewer, subject = scene.viewer, scene.subject
    seen: list[str] = []  # every body the viewer got, scanned for the subject's secrets

    def get(path: str, **kw: Any) -> Any:
        r = world.get(viewer, path, **kw)
        seen.append(r.text)
        return r

    reads = [
        f"/api/v1/users/{subject.username}",
        "/api/v1/users?q=sa",
        "/api/v1/friends",
        "/api/v1/friend-requests",
        "/api/v1/circles",
        "/api/v1/blocks",
    ]
    if row.anonymous:
        for path in reads:
            r = get(path)
            assert r.status_code == 401, path
            assert r.json()["type"] == "/api/v1/problems/not-authenticated"
        _same_answer(get(f"/api/v1/users/{subject.username}"), get(f"/api/v1/users/{NOBODY}"))
        return

    # Profile: a card with the relationship, never the subject's circle for the viewer.
    profile = get(f"/api/v1/users/{subject.username}")
    if row.profile is None:
        _same_answer(profile, get(f"/api/v1/users/{NOBODY}"))
        assert profile.status_code == 404
    else:
        assert profile.status_code == 200
        assert profile.json() == {
            "username": "sam",
            "display_name": "Sam Subject",
            "relationship": row.profile,
        }

    # Search: found by name and by display name, unless a block stands between them.
    for q in ["sa", "SAM", "Sam Sub"]:
        found = [u["username"] for u in get("/api/v1/users", params={"q": q}).json()]
        assert ("sam" in found) is row.in_search, q

    # The viewer's friend list: the viewer's own circle for the subject, or nothing.
    friends = {f["username"]: f["circle"] for f in get("/api/v1/friends").json()}
    assert friends.get("sam") == row.viewer_lists_subject_in
    listed = get("/api/v1/friends", params={"circle": VIEWER_CIRCLE})
    if not row.is_self:
        assert [f["username"] for f in listed.json()] == (
            ["sam"] if row.viewer_lists_subject_in else []
        )

    # Requests: the subject's pending requests with others are nobody else's business.
    requests = get("/api/v1/friend-requests").json()
    mentioned = {r["from"]["username"] for r in requests["incoming"]} | {
        r["to"]["username"] for r in requests["outgoing"]
    }
    assert mentioned == ({"ugo", "tara"} if row.is_self else set())
    if not row.is_self:
        missing = world.client.post(
            f"/api/v1/friend-requests/{NO_REQUEST}/accept", headers=viewer.headers if viewer else {}
        )
        for request_id in scene.request_ids:
            for verb in ["accept", "decline", "cancel"]:
                r = world.client.post(
                    f"/api/v1/friend-requests/{request_id}/{verb}",
                    headers=viewer.headers if viewer else {},
                )
                _same_answer(r, missing)
        # ... and they are all still pending for the subject.
        pending = world.get(subject, "/api/v1/friend-requests").json()
        assert len(pending["incoming"]) + len(pending["outgoing"]) == 2

    # Circles are private: the subject's circle does not exist for anyone else.
    circles = [c["name"] for c in get("/api/v1/circles").json()]
    assert (SECRET_CIRCLE in circles) is row.is_self
    if not row.is_self:
        _same_answer(
            get("/api/v1/friends", params={"circle": SECRET_CIRCLE}),
            get("/api/v1/friends", params={"circle": "no_such_circle"}),
        )

    # Blocks: the viewer sees whom they blocked, never who blocked them.
    blocked = [u["username"] for u in get("/api/v1/blocks").json()]
    assert ("sam" in blocked) is row.viewer_blocked_subject
    assert ("wes" in blocked) is row.is_self

    if not row.is_self:
        leaks = [s for s in SUBJECT_SECRETS for text in seen if s in text]
        assert not leaks, f"the viewer saw {sorted(set(leaks))}"


def test_a_blocked_user_cannot_find_or_request_the_blocker(world: World) -> None:
    """To the blocked user, the blocker is exactly a name nobody has."""
    blocker, blocked = world.person("sam"), world.person("vera")
    world.block(blocker, blocked)
    c = world.client
    for path, body in [("/api/v1/friend-requests", "username"), ("/api/v1/blocks", "username")]:
        _same_answer(
            c.post(path, json={body: "sam"}, headers=blocked.headers),
            c.post(path, json={body: NOBODY}, headers=blocked.headers),
        )
    _same_answer(
        c.delete("/api/v1/blocks/sam", headers=blocked.headers),
        c.delete(f"/api/v1/blocks/{NOBODY}", headers=blocked.headers),
    )
    _same_answer(
        c.put("/api/v1/friends/sam/circle", json={"circle": "close"}, headers=blocked.headers),
        c.put(
            f"/api/v1/friends/{NOBODY}/circle", json={"circle": "close"}, headers=blocked.headers
        ),
    )
    _same_answer(
        c.delete("/api/v1/friends/sam", headers=blocked.headers),
        c.delete(f"/api/v1/friends/{NOBODY}", headers=blocked.headers),
    )
    # Nothing was written on the blocker's side.
    assert world.get(blocker, "/api/v1/friend-requests").json() == {"incoming": [], "outgoing": []}
    assert [u["username"] for u in world.get(blocker, "/api/v1/blocks").json()] == ["vera"]


def test_a_request_pending_when_a_block_lands_cannot_be_accepted(world: World) -> None:
    """Blocking withdraws pending requests both ways; their ids then name nothing."""
    sam, vera = world.person("sam"), world.person("vera")
    r = world.client.post("/api/v1/friend-requests", json={"username": "sam"}, headers=vera.headers)
    request_id = r.json()["id"]
    world.block(vera, sam)
    r = world.client.post(f"/api/v1/friend-requests/{request_id}/accept", headers=sam.headers)
    missing = world.client.post(f"/api/v1/friend-requests/{NO_REQUEST}/accept", headers=sam.headers)
    _same_answer(r, missing)
    assert world.get(sam, "/api/v1/friends").json() == []


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_standing_for_each_relationship(world: World, app: FastAPI, row: Row) -> None:
    scene = build(world, row)
    with app.state.kith.database.session() as db:
        subject = find_user(db, scene.subject.username)
        assert subject is not None
        viewer = find_user(db, scene.viewer.username) if scene.viewer else None
        seen = standing(db, viewer, subject)
    assert seen.relationship is row.standing
    if row.standing.is_friend:
        # The subject's circle for the viewer, whatever the viewer calls the subject.
        assert seen.circle_id is not None
        expected = {
            Relationship.CLOSE: "close",
            Relationship.FRIEND: "friends",
            Relationship.ACQUAINTANCE: "acquaintances",
            Relationship.CUSTOM: SECRET_CIRCLE,
        }[row.standing]
        assert seen.circle_name == expected
    else:
        assert (seen.circle_id, seen.circle_name) == (None, None)


def test_standing_is_seen_from_the_subjects_side(
    world: World, app: FastAPI, client: TestClient
) -> None:
    """Each side of a friendship has its own circle: the subject's choice decides."""
    sam, vera = world.person("sam"), world.person("vera")
    world.befriend(vera, sam, a_puts_b_in="acquaintances", b_puts_a_in="close")
    with app.state.kith.database.session() as db:
        s, v = find_user(db, "sam"), find_user(db, "vera")
        assert s is not None
        assert v is not None
        assert standing(db, v, s).relationship is Relationship.CLOSE
        assert standing(db, s, v).relationship is Relationship.ACQUAINTANCE
    # Blocking either way outranks the friendship it ends.
    world.block(sam, vera)
    with app.state.kith.database.session() as db:
        s, v = find_user(db, "sam"), find_user(db, "vera")
        assert s is not None
        assert v is not None
        assert standing(db, v, s).relationship is Relationship.BLOCKED
        assert standing(db, s, v).relationship is Relationship.BLOCKED
        assert standing(db, None, s).relationship is Relationship.ANONYMOUS
    assert client.get("/api/v1/friends", headers=vera.headers).json() == []
