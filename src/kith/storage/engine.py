"""Engine and session factory.

SQLite is the embedded default and runs in WAL mode with foreign keys on and
``synchronous=FULL`` by default, so an acknowledged write survives the process being
killed and a power cut; ``KITH_SQLITE_SYNCHRONOUS=NORMAL`` keeps the first guarantee only.
PostgreSQL (``postgresql+psycopg://``) is for production.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from kith.config import Settings


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


# As many connections as the server has worker threads (AnyIO's default is 40), so a
# request never waits for a connection that another waiting request holds.
POOL_SIZE = 20
POOL_OVERFLOW = 20


def make_engine(url: str, *, sqlite_synchronous: str = "FULL") -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url
        pool: dict[str, int] = (
            {} if in_memory else {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
        )
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, **pool
        )
        synchronous = "NORMAL" if sqlite_synchronous == "NORMAL" else "FULL"

        def pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        event.listen(engine, "connect", pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


class Database:
    """An engine plus its session factory; one per process, built from settings."""

    def __init__(self, settings: Settings) -> None:
        path = settings.sqlite_path()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.url = normalise_url(settings.database_url)
        self.engine = make_engine(self.url, sqlite_synchronous=settings.sqlite_synchronous)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessionmaker() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
