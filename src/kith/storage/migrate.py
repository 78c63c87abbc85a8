"""Run Alembic migrations from code, so ``kith db upgrade`` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from kith.config import Settings
from kith.storage.engine import Database, normalise_url

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(settings: Settings, revision: str = "heads") -> None:
    """Migrate to ``revision``; "heads" applies every capability's branch.

    Capabilities add their tables on their own branch off the shared trunk (for example
    ``0003_feed`` and ``0003_privacy`` both revise ``0002``), so teams never race for the
    next number; "heads" upgrades them all.
    """
    database = Database(settings)  # creates the SQLite folder if needed
    try:
        cfg = alembic_config(settings.database_url)
        with database.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    finally:
        database.dispose()


def current_revisions(engine: Engine) -> tuple[str, ...]:
    with engine.connect() as connection:
        return tuple(MigrationContext.configure(connection).get_current_heads())


def head_revisions() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
