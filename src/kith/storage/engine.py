"""Engine and session factory.

SQLite is the embedded default and runs in WAL mode with foreign keys on and
``synchronous=FULL`` by default, so an acknowledged write survives the process being
killed and a power cut; ``KITH_SQLITE_SYNCHRONOUS=NORMAL`` keeps the first guarantee only.
PostgreSQL (``postgresql+psycopg://``) is for production.

SQLite lets one writer in at a time, and a writer that finds the lock taken sleeps in
steps of up to 100 ms before it looks again, however soon the lock frees: under load
that sleep, not the work, makes the slowest requests. So writers queue on a gate of
their own (:class:`WriterGate`: a thread lock, and a ``flock`` beside the database file
between processes) and go on the moment the previous one commits.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from kith.config import Settings

try:
    import fcntl
except ImportError:  # not on POSIX: the gate orders this process's writers only
    fcntl = None  # type: ignore[assignment]


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


# As many connections as the server has worker threads (AnyIO's default is 40), so a
# request never waits for a connection that another waiting request holds.
POOL_SIZE = 20
POOL_OVERFLOW = 20


# A writer of another process holds the gate for a few milliseconds; look this often.
CROSS_PROCESS_POLL_SECONDS = 0.0005
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
_HELD = "kith_writer_gate"


class WriterGate:
    """One writing transaction at a time, in the order they ask, woken at once.

    A connection takes the gate just before its first write statement (where pysqlite
    begins the transaction) and gives it back when the transaction ends: commit,
    rollback, or the connection going back to the pool or being invalidated. Threads of
    one process queue on a lock; with ``lock_file``, processes sharing the database
    also take an advisory ``flock`` on it (the kernel drops it if a process dies). A
    gate not taken within ``timeout`` seconds is bypassed, so a leak slows writers down
    to SQLite's own locking instead of stopping them.
    """

    def __init__(self, engine: Engine, timeout: float = 10.0, lock_file: Path | None = None):
        _GATES[engine] = self
        self._lock = threading.Lock()
        self._timeout = timeout
        self._file = None
        if lock_file is not None and fcntl is not None:
            self._file = lock_file.open("a+b")  # never written; closed with the engine
            weakref.finalize(engine, self._file.close)
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)
        for name in ("checkin", "close"):
            event.listen(engine.pool, name, self._pool_end)
        for name in ("reset", "invalidate", "soft_invalidate"):  # one more argument each
            event.listen(engine.pool, name, self._pool_end_why)

    def _before_execute(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _HELD in conn.info or not statement.lstrip()[:7].upper().startswith(_WRITES):
            return
        conn.info[_HELD] = self._take()  # False: bypassed, nothing to give back

    def _take(self) -> bool:
        deadline = time.monotonic() + self._timeout
        if not self._lock.acquire(timeout=self._timeout):
            return False
        if self._file is None:
            return True
        while True:  # one thread per process polls here; the others wait on the lock
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self._lock.release()
                    return False
                time.sleep(CROSS_PROCESS_POLL_SECONDS)

    def _end(self, conn: Any) -> None:
        self._give_back(conn.info)

    def _pool_end(self, _dbapi: Any, record: Any) -> None:
        if record is not None:
            self._give_back(record.info)

    def _pool_end_why(self, dbapi: Any, record: Any, _why: Any) -> None:
        self._pool_end(dbapi, record)

    def _give_back(self, info: dict[Any, Any]) -> None:
        if info.pop(_HELD, False):
            if self._file is not None:
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._lock.release()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    @property
    def taken(self) -> bool:
        return self._lock.locked()


_GATES: weakref.WeakKeyDictionary[Engine, WriterGate] = weakref.WeakKeyDictionary()


def writer_gate(engine: Engine) -> WriterGate | None:
    """The engine's writer gate (file-backed SQLite only)."""
    return _GATES.get(engine)


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
        database = engine.url.database
        if not in_memory and database:
            WriterGate(engine, lock_file=Path(database).with_name(Path(database).name + "-writer"))
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

    @asynccontextmanager
    async def request_session(self) -> AsyncIterator[Session]:
        """A session for one request, opened on the event loop: opening does no I/O (it
        connects on first use). Closing one that still holds a transaction rolls it
        back, which does I/O, so that happens in a worker thread."""
        session = self.sessionmaker()
        try:
            yield session
        finally:
            if session.in_transaction():
                await to_thread.run_sync(session.close)
            else:
                session.close()

    def dispose(self) -> None:
        self.engine.dispose()
        gate = writer_gate(self.engine)
        if gate is not None:
            gate.close()
