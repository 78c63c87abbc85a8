"""``kith demo --seed-only`` end to end, on a SQLite file named by KITH_DATABASE_URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from kith.accounts.models import Friendship, User
from kith.cli.main import app
from kith.config import Settings
from kith.demo import load_sample
from kith.demo.circles import plan_circles
from kith.demo.seed import DEMO_PASSWORD, pick_logins
from kith.storage.engine import Database


def _counts(url: str) -> tuple[int, int]:
    database = Database(Settings(database_url=url))
    try:
        with database.session() as db:
            users = db.scalar(select(func.count()).select_from(User)) or 0
            sides = db.scalar(select(func.count()).select_from(Friendship)) or 0
    finally:
        database.dispose()
    return users, sides


def test_kith_demo_seed_only_seeds_once_and_prints_logins(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'demo.db'}"
    env = {"KITH_DATABASE_URL": url, "COLUMNS": "160"}
    runner = CliRunner()

    first = runner.invoke(app, ["demo", "--seed-only", "--users", "12"], env=env)
    assert first.exit_code == 0, first.output
    sample = load_sample().top(12)
    assert _counts(url) == (12, 2 * len(sample.friendships))
    assert DEMO_PASSWORD in first.output
    logins = pick_logins(sample, plan_circles(sample))
    assert all(login.username in first.output for login in logins)
    assert "Seeded 12 accounts" in first.output

    second = runner.invoke(app, ["demo", "--seed-only", "--users", "12"], env=env)
    assert second.exit_code == 0, second.output
    assert "already seeded" in second.output
    assert DEMO_PASSWORD in second.output
    assert _counts(url) == (12, 2 * len(sample.friendships))


def test_kith_demo_refuses_a_bad_user_count(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(
        app, ["demo", "--seed-only", "--users", "1"], env={"KITH_DATABASE_URL": url}
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert not (tmp_path / "demo.db").exists()
