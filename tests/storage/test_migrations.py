"""Migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kith.config import Settings
from kith.storage.engine import make_engine
from kith.storage.metadata import load_all_models
from kith.storage.migrate import current_revisions, head_revisions


def test_database_is_at_every_head(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        assert set(current_revisions(engine)) == set(head_revisions())
    finally:
        engine.dispose()


def test_migrations_match_the_models(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, load_all_models())
    finally:
        engine.dispose()
    assert diff == []
