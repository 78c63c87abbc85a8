"""Seeding the demo world into a real database (SQLite and PostgreSQL), and logging in."""

from __future__ import annotations

import io
from datetime import timedelta

from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import func, select

from kith.accounts.access import find_user
from kith.accounts.actions import do_block, do_move_friend, do_unfriend
from kith.accounts.models import Friendship, User
from kith.accounts.queries import list_friends
from kith.clock import utc_now
from kith.config import Settings
from kith.demo import Sample, load_sample
from kith.demo.circles import plan_circles
from kith.demo.seed import DEMO_PASSWORD, SeedSummary, pick_logins, print_logins, seed_demo
from kith.storage.engine import Database

# Ten users already use all three built-in circles (see the first test); more only costs time.
N = 10


def _seed(settings: Settings, users: int = N) -> tuple[SeedSummary, str]:
    out = io.StringIO()
    summary = seed_demo(settings, users=users, console=Console(file=out, width=120))
    return summary, out.getvalue()


def _world(settings: Settings, sample: Sample) -> dict[tuple[str, str], str]:
    """(owner, friend) -> circle, for every friendship side the demo users hold."""
    database = Database(settings)
    try:
        with database.session() as db:
            sides: dict[tuple[str, str], str] = {}
            for person in sample.users:
                user = find_user(db, person.username)
                assert user is not None, person.username
                assert user.display_name == person.display_name
                for entry in list_friends(db, user):
                    sides[(user.username, entry.user.username)] = entry.circle
            return sides
    finally:
        database.dispose()


def _expected(sample: Sample) -> dict[tuple[str, str], str]:
    name = {u.gowalla_id: u.username for u in sample.users}
    return {(name[o], name[f]): c for (o, f), c in plan_circles(sample).items()}


def test_seed_creates_accounts_friendships_and_circles(
    settings: Settings, client: TestClient
) -> None:
    summary, output = _seed(settings)

    sample = load_sample().top(N)
    expected = _expected(sample)
    assert (summary.users, summary.created_users) == (N, N)
    assert summary.friendships == summary.created_friendships == len(sample.friendships)
    assert _world(settings, sample) == expected
    assert set(expected.values()) == {"close", "friends", "acquaintances"}
    assert "accounts" in output  # the progress bars
    assert "friendships" in output

    database = Database(settings)
    try:
        with database.session() as db:
            assert db.scalar(select(func.count()).select_from(User)) == N
            # One argon2id hash, computed once, serves every demo account.
            hashes = set(db.scalars(select(User.password_hash)))
            assert len(hashes) == 1
            assert next(iter(hashes)).startswith("$argon2id$")
    finally:
        database.dispose()

    # A printed login works through the API and sees the planned circles.
    login = summary.logins[1]  # most close friends
    r = client.post("/api/v1/sessions", json={"username": login.username, "password": "wrong-one"})
    assert r.status_code == 401
    r = client.post(
        "/api/v1/sessions", json={"username": login.username, "password": DEMO_PASSWORD}
    )
    assert r.status_code == 201, r.text
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    friends = client.get("/api/v1/friends", headers=headers).json()
    assert len(friends) == login.friends
    assert sum(f["circle"] == "close" for f in friends) == login.close
    assert {f["username"]: f["circle"] for f in friends} == {
        f: c for (o, f), c in expected.items() if o == login.username
    }


def test_logins_are_interesting_and_printed() -> None:
    sample = load_sample().top(N)
    plan = plan_circles(sample)
    logins = pick_logins(sample, plan)
    friends = {u.username: sum(1 for o, _ in plan if o == u.gowalla_id) for u in sample.users}
    close = {
        u.username: sum(1 for (o, _), c in plan.items() if o == u.gowalla_id and c == "close")
        for u in sample.users
    }
    assert 3 <= len(logins) <= 6
    assert len({login.username for login in logins}) == len(logins)
    assert logins[0].friends == friends[logins[0].username] == max(friends.values())
    assert logins[1].close == close[logins[1].username] == max(close.values())
    assert logins[-1].friends == min(friends.values())

    out = io.StringIO()
    print_logins(SeedSummary(logins=logins), console=Console(file=out, width=160))
    text = out.getvalue()
    assert DEMO_PASSWORD in text
    assert all(login.username in text for login in logins)
    assert "KDD 2011" in text


def test_seed_is_idempotent_and_repairs_what_is_missing(settings: Settings) -> None:
    first, _ = _seed(settings)
    sample = load_sample().top(N)
    expected = _expected(sample)
    a, b = next(iter(expected))
    c, d = next(k for k in expected if a not in k and b not in k)
    database = Database(settings)
    try:
        with database.session() as db:
            owner = find_user(db, a)
            assert owner is not None
            do_unfriend(db, owner, b)
            mover = find_user(db, c)
            assert mover is not None
            moved_to = "acquaintances" if expected[(c, d)] != "acquaintances" else "close"
            do_move_friend(db, mover, d, moved_to)
    finally:
        database.dispose()

    second, _ = _seed(settings)
    assert (second.created_users, second.created_friendships) == (0, 1)
    world = _world(settings, sample)
    # The lost friendship is back with its planned circles; a user's own change stays.
    assert world == {**expected, (c, d): moved_to}

    third, output = _seed(settings)
    assert (third.created_users, third.created_friendships) == (0, 0)
    assert "already seeded" in output
    assert third.logins == first.logins
    assert _world(settings, sample) == {**expected, (c, d): moved_to}


def test_growing_the_world_adds_only_the_new_users(settings: Settings) -> None:
    _seed(settings, users=6)
    summary, _ = _seed(settings, users=N)
    small, big = load_sample().top(6), load_sample().top(N)
    assert summary.created_users == N - 6
    assert summary.created_friendships == len(big.friendships) - len(small.friendships)
    database = Database(settings)
    try:
        with database.session() as db:
            total = db.scalar(select(func.count()).select_from(Friendship))
    finally:
        database.dispose()
    assert total == 2 * len(big.friendships)


def test_a_tiny_world_still_seeds(settings: Settings) -> None:
    users = 2
    summary, _ = _seed(settings, users=users)
    sample = load_sample().top(users)
    assert summary.created_users == users
    assert _world(settings, sample) == _expected(sample)


def test_a_block_made_by_hand_is_respected(settings: Settings) -> None:
    _seed(settings)
    sample = load_sample().top(N)
    a, b = next(iter(_expected(sample)))
    database = Database(settings)
    try:
        with database.session() as db:
            blocker = find_user(db, a)
            assert blocker is not None
            do_block(db, blocker, b, now=utc_now())
    finally:
        database.dispose()

    summary, output = _seed(settings)

    assert (summary.created_friendships, summary.skipped_friendships) == (0, 1)
    assert "Left out 1" in output
    world = _world(settings, sample)
    assert (a, b) not in world
    assert (b, a) not in world
    assert len(world) == 2 * (len(sample.friendships) - 1)


def test_demo_users_have_a_history_that_explains_suggestions(
    settings: Settings, client: TestClient
) -> None:
    """The sample's check-ins become recent history, so "who's up for it?" has reasons."""
    summary, output = _seed(settings, users=30)
    added = int(output.split("demo posts shared;")[1].split()[0])
    assert added > 0
    _, output = _seed(settings, users=30)
    assert int(output.split("demo posts shared;")[1].split()[0]) == 0  # nothing twice

    now = utc_now()
    explained = 0
    for login in summary.logins:
        r = client.post(
            "/api/v1/sessions", json={"username": login.username, "password": DEMO_PASSWORD}
        )
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        for activity in ("coffee", "lunch", "drinks", "walk"):
            start = now + timedelta(days=1)
            r = client.get(
                "/api/v1/suggestions",
                params={
                    "activity": activity,
                    "starts_at": start.isoformat(),
                    "ends_at": (start + timedelta(hours=2)).isoformat(),
                    "limit": 5,
                },
                headers=headers,
            )
            assert r.status_code == 200, r.text
            explained += sum(1 for s in r.json() if s["reasons"] and s["score"] > 0)
    assert explained > 0
