"""Migration 0006: two controls become one, keeping what each person effectively allowed.

Before, the partner setting (close by default / friends / nobody) and the privacy
switch (off by default) were read together: the switch widened "close" to all
friends and "nobody" always won. After, the one setting says the same for everyone.
Runs on a fresh SQLite file and, when configured, a fresh PostgreSQL database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from kith.config import Settings
from kith.storage.engine import make_engine
from kith.storage.migrate import upgrade

# (switch on?, stored setting or None) -> the one setting afterwards
CASES: dict[str, tuple[bool, str | None, str | None]] = {
    "never_chose": (False, None, None),  # no row: still the default, close friends
    "switch_only": (True, None, "friends"),
    "close_and_switch": (True, "close", "friends"),
    "close": (False, "close", "close"),
    "friends": (False, "friends", "friends"),
    "nobody_wins": (True, "nobody", "nobody"),
    "nobody": (False, "nobody", "nobody"),
}
BEFORE = ("0005_partners_history_versions", "0003_privacy")
STAMP = "2026-01-01 00:00:00"


@pytest.fixture(params=["sqlite", "postgres"])
def fresh(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('m')}/kith.db", env="test")
        return
    server = os.environ.get("KITH_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("PostgreSQL tests skipped: set KITH_TEST_POSTGRES_URL to run them")
    name = f"kith_migration_{uuid.uuid4().hex[:8]}"
    admin = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(drivername="postgresql+psycopg", database=name)
    try:
        yield Settings(database_url=url.render_as_string(hide_password=False), env="test")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_each_persons_effective_choice_is_kept_in_the_one_setting(fresh: Settings) -> None:
    for revision in BEFORE:
        upgrade(fresh, revision)
    engine = make_engine(fresh.database_url)
    try:
        with engine.begin() as conn:
            for name, (switch, stored, _) in CASES.items():
                user_id = conn.execute(
                    text(
                        "INSERT INTO users (username, username_key, display_name, "
                        "password_hash, created_at) VALUES (:n, :n, :n, 'x', :t) RETURNING id"
                    ),
                    {"n": name, "t": STAMP},
                ).scalar_one()
                conn.execute(
                    text(
                        "INSERT INTO consents (user_id, help_friends_plan, rank_my_feed, "
                        "updated_at) VALUES (:u, :on, :off, :t)"
                    ),
                    {"u": user_id, "on": switch, "off": False, "t": STAMP},
                )
                if stored is not None:
                    conn.execute(
                        text(
                            "INSERT INTO partner_settings (user_id, history_helps, updated_at) "
                            "VALUES (:u, :s, :t)"
                        ),
                        {"u": user_id, "s": stored, "t": STAMP},
                    )
        upgrade(fresh)
        with engine.connect() as conn:
            after = dict(
                conn.execute(
                    text(
                        "SELECT u.username, p.history_helps FROM users u "
                        "LEFT JOIN partner_settings p ON p.user_id = u.id"
                    )
                ).all()
            )
            columns = {c["name"] for c in inspect(conn).get_columns("consents")}
    finally:
        engine.dispose()
    assert after == {name: expected for name, (_, _, expected) in CASES.items()}
    assert "help_friends_plan" not in columns  # nothing can read the old switch again
    assert "rank_my_feed" in columns
