"""Killing the server mid-write loses nothing that was acknowledged.

A real ``kith serve`` process takes concurrent sign-ups, friend requests and
accepts from several threads; it is SIGKILLed while they are in flight, then
started again on the same database. Every write that got a 2xx must be there, and
nothing may be half-written: each account has its three built-in circles, each
friendship has both rows, no request lingers between friends. Runs on SQLite (a
file of its own) and on PostgreSQL (a database of its own, dropped afterwards)
when ``KITH_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, aliased

from kith.accounts.access import find_user
from kith.accounts.models import Circle, FriendRequest, Friendship, User
from kith.storage.engine import make_engine
from kith.types import BUILTIN_CIRCLES
from tests.conftest import PASSWORD, World

KITH = Path(sys.executable).parent / "kith"
WORKERS = 6
# Kill once this many writes were acknowledged, so the kill lands mid-stream...
ACKED_BEFORE_KILL = 60
# ... or after this long, on a machine too busy to get there.
MAX_SECONDS_BEFORE_KILL = 20.0
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """``kith serve`` in its own process group, so it can be killed like a crash."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.database_url = database_url
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.base = ""

    def start(self) -> None:
        port = _free_port()
        env = {
            **os.environ,
            "KITH_DATABASE_URL": self.database_url,
            "KITH_PASSWORD_HASHING": "fast",
            "KITH_ENV": "test",
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(KITH), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"kith serve exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.base + "/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"kith serve did not answer in time:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing, like a power cut for the process."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)


@dataclass
class Acked:
    """Writes the server acknowledged with a 2xx, recorded by the worker threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    users: set[str] = field(default_factory=set)
    requests: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (from, to)
    friendships: set[tuple[str, str]] = field(default_factory=set)

    def count(self) -> int:
        with self.lock:
            return len(self.users) + len(self.requests) + len(self.friendships)


def _sign_up_and_log_in(http: httpx.Client, name: str) -> dict[str, str]:
    r = http.post(
        "/api/v1/accounts", json={"username": name, "password": PASSWORD, "display_name": name}
    )
    assert r.status_code == 201, r.text
    r = http.post("/api/v1/sessions", json={"username": name, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _worker(base: str, n: int, hub: tuple[str, dict[str, str]], acked: Acked) -> None:
    """Sign up, get a request from the hub, accept it; record every 2xx; stop when cut off."""
    hub_name, hub_auth = hub
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            for i in range(10_000):
                name = f"w{n}_{i}"
                r = http.post(
                    "/api/v1/accounts",
                    json={"username": name, "password": PASSWORD, "display_name": f"W {n} {i}"},
                )
                if r.status_code != 201:
                    return
                with acked.lock:
                    acked.users.add(name)
                r = http.post("/api/v1/sessions", json={"username": name, "password": PASSWORD})
                if r.status_code != 201:
                    return
                auth = {"Authorization": f"Bearer {r.json()['token']}"}
                r = http.post("/api/v1/friend-requests", json={"username": name}, headers=hub_auth)
                if r.status_code != 201:
                    return
                request_id = r.json()["id"]
                with acked.lock:
                    acked.requests[request_id] = (hub_name, name)
                r = http.post(f"/api/v1/friend-requests/{request_id}/accept", headers=auth)
                if r.status_code != 200:
                    return
                with acked.lock:
                    acked.friendships.add((hub_name, name))
    except httpx.TransportError:
        return  # the server was killed: whatever was in flight is not acknowledged


def _race_for_one_name(base: str) -> list[int]:
    """The same name, in different cases, from many threads at once."""
    codes: list[int] = []
    barrier = threading.Barrier(8)

    def sign_up(i: int) -> None:
        barrier.wait()
        r = httpx.post(
            base + "/api/v1/accounts",
            json={
                "username": "Racer" if i % 2 else "rACER",
                "password": PASSWORD,
                "display_name": "R",
            },
            timeout=30,
        )
        codes.append(r.status_code)

    threads = [threading.Thread(target=sign_up, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


def _check_nothing_half_written(db: Session) -> None:
    builtin = sorted(BUILTIN_CIRCLES)
    circles: dict[int, list[str]] = {}
    for owner, key in db.execute(
        select(Circle.owner_id, Circle.name_key).where(Circle.builtin.is_(True))
    ):
        circles.setdefault(owner, []).append(key)
    for user_id in db.scalars(select(User.id)):
        assert sorted(circles.get(user_id, [])) == builtin, f"user {user_id} lacks circles"
    mirror = aliased(Friendship)
    one_sided = db.scalar(
        select(func.count())
        .select_from(Friendship)
        .outerjoin(
            mirror,
            (mirror.user_id == Friendship.friend_id) & (mirror.friend_id == Friendship.user_id),
        )
        .where(mirror.user_id.is_(None))
    )
    assert one_sided == 0, "a friendship has only one of its two rows"
    wrong_owner = db.scalar(
        select(func.count())
        .select_from(Friendship)
        .join(Circle, Circle.id == Friendship.circle_id)
        .where(Circle.owner_id != Friendship.user_id)
    )
    assert wrong_owner == 0, "a friend sits in someone else's circle"
    lingering = db.scalar(
        select(func.count())
        .select_from(FriendRequest)
        .join(
            Friendship,
            (Friendship.user_id == FriendRequest.from_user_id)
            & (Friendship.friend_id == FriendRequest.to_user_id),
        )
    )
    assert lingering == 0, "a request lingers between friends"


def _check_acknowledged_writes(db: Session, acked: Acked) -> None:
    names = {u.lower() for u in db.scalars(select(User.username_key))}
    lost = {u for u in acked.users if u.lower() not in names}
    assert not lost, f"acknowledged sign-ups lost: {sorted(lost)}"
    ids = {u.username_key: u.id for u in db.scalars(select(User))}
    pending = set(db.scalars(select(FriendRequest.id)))
    friends = {(a, b) for a, b in db.execute(select(Friendship.user_id, Friendship.friend_id))}
    for request_id, (a, b) in acked.requests.items():
        pair = (ids[a.lower()], ids[b.lower()])
        # A request is either still pending or became the friendship its accept made.
        assert request_id in pending or pair in friends, f"request {request_id} lost"
    for a, b in acked.friendships:
        x, y = ids[a.lower()], ids[b.lower()]
        assert (x, y) in friends, f"acknowledged friendship {a}-{b} lost"
        assert (y, x) in friends, f"acknowledged friendship {a}-{b} half-written"


def _exercise(database_url: str, log: Path) -> None:
    server = Server(database_url, log)
    server.start()
    try:
        codes = _race_for_one_name(server.base)
        assert sorted(codes) == [201] + [409] * 7, codes

        with httpx.Client(base_url=server.base, timeout=30) as http:
            hubs = [(f"hub{n}", _sign_up_and_log_in(http, f"hub{n}")) for n in range(WORKERS)]
        acked = Acked()
        acked.users.update(name for name, _ in hubs)
        threads = [
            threading.Thread(target=_worker, args=(server.base, n, hubs[n], acked), daemon=True)
            for n in range(WORKERS)
        ]
        for t in threads:
            t.start()
        deadline = time.monotonic() + MAX_SECONDS_BEFORE_KILL
        while acked.count() < ACKED_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads)
        assert acked.friendships, "no write completed before the kill; the test proved nothing"

        server.start()
        engine = make_engine(database_url)
        try:
            with Session(engine) as db:
                _check_acknowledged_writes(db, acked)
                _check_nothing_half_written(db)
        finally:
            engine.dispose()
        with httpx.Client(base_url=server.base, timeout=30) as http:
            # The acknowledged accounts work, and the server takes new writes.
            for name in sorted(acked.users)[:: max(1, len(acked.users) // 10)]:
                r = http.post("/api/v1/sessions", json={"username": name, "password": PASSWORD})
                assert r.status_code == 201, (name, r.text)
            _sign_up_and_log_in(http, "after_restart")
    finally:
        server.stop()


@pytest.fixture
def need_kith() -> None:
    if not KITH.exists():
        pytest.skip(f"{KITH} is not installed (run make install)")


@pytest.mark.usefixtures("need_kith")
def test_sigkill_loses_nothing_acknowledged_on_sqlite(tmp_path: Path) -> None:
    _exercise(f"sqlite:///{tmp_path / 'kith.db'}", tmp_path / "server.log")


@pytest.fixture
def postgres_database() -> Iterator[str]:
    server = os.environ.get("KITH_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("PostgreSQL tests skipped: set KITH_TEST_POSTGRES_URL to run them")
    name = f"kith_durability_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
@pytest.mark.usefixtures("need_kith")
def test_sigkill_loses_nothing_acknowledged_on_postgres(
    postgres_database: str, tmp_path: Path
) -> None:
    _exercise(postgres_database, tmp_path / "server.log")


def test_requests_crossed_in_a_race_leave_nothing_behind(world: World, app: FastAPI) -> None:
    """Two people who ask each other at the same instant end as friends, with no request."""
    ana, ben = world.person("ana"), world.person("ben")
    r = world.client.post("/api/v1/friend-requests", json={"username": "ben"}, headers=ana.headers)
    assert r.status_code == 201
    # The race: ben's request was written while ana's was, so neither saw the other.
    # Written straight to the database, since the API turns asking back into accepting.
    with app.state.kith.database.session() as db:
        a, b = find_user(db, "ana"), find_user(db, "ben")
        assert a is not None
        assert b is not None
        db.add(FriendRequest(from_user_id=b.id, to_user_id=a.id, created_at=a.created_at))
        db.commit()
    r = world.client.post(f"/api/v1/friend-requests/{r.json()['id']}/accept", headers=ben.headers)
    assert r.status_code == 200, r.text
    for who in (ana, ben):
        assert world.get(who, "/api/v1/friend-requests").json() == {"incoming": [], "outgoing": []}
    with app.state.kith.database.session() as db:
        _check_nothing_half_written(db)
