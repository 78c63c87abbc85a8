"""SQLite writers in one process queue on the writer gate and always give it back."""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kith.storage.engine import make_engine, writer_gate


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}", sqlite_synchronous="NORMAL")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    return engine


def test_writers_take_and_give_back_the_gate(engine: Engine) -> None:
    gate = writer_gate(engine)
    assert gate is not None
    with Session(engine) as db:
        db.execute(text("SELECT n FROM counter")).scalar_one()
        assert not gate.taken  # reading takes nothing
        db.execute(text("UPDATE counter SET n = n + 1"))
        assert gate.taken
        db.commit()
        assert not gate.taken
        db.execute(text("UPDATE counter SET n = n + 1"))
        db.rollback()
        assert not gate.taken
        db.execute(text("UPDATE counter SET n = n + 1"))
    assert not gate.taken  # closed without commit: rolled back, gate given back
    with Session(engine) as db:
        with pytest.raises(IntegrityError):
            db.execute(text("INSERT INTO counter VALUES (1, 5)"))
        db.rollback()
        assert not gate.taken
        assert db.execute(text("SELECT n FROM counter")).scalar_one() == 1


def test_concurrent_read_modify_writes_lose_nothing(engine: Engine) -> None:
    threads, each = 8, 25
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(each):
                with Session(engine) as db:
                    db.execute(text("UPDATE counter SET n = n + 1 WHERE id = 1"))
                    n = db.execute(text("SELECT n FROM counter")).scalar_one()
                    db.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n})
                    db.commit()
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    with Session(engine) as db:
        assert db.execute(text("SELECT n FROM counter")).scalar_one() == threads * each
    gate = writer_gate(engine)
    assert gate is not None
    assert not gate.taken


def test_postgres_and_memory_engines_have_no_gate() -> None:
    assert writer_gate(make_engine("sqlite://")) is None
    assert writer_gate(make_engine("postgresql://postgres@127.0.0.1:5432/nothing")) is None


def test_two_processes_sharing_a_database_take_turns(engine: Engine, tmp_path: Path) -> None:
    """Two engines on one file stand for two server processes: each has its own lock,
    and the advisory file lock beside the database orders them."""
    other = make_engine(f"sqlite:///{tmp_path / 'gate.db'}", sqlite_synchronous="NORMAL")
    mine, theirs = writer_gate(engine), writer_gate(other)
    assert mine is not None
    assert theirs is not None
    assert (tmp_path / "gate.db-writer").exists()
    with Session(engine) as db:
        db.execute(text("UPDATE counter SET n = n + 1"))  # this "process" holds the gate
        # Held for every other process too:
        with (tmp_path / "gate.db-writer").open("rb") as probe, pytest.raises(BlockingIOError):
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        waited = threading.Event()

        def write_elsewhere() -> None:
            with Session(other) as elsewhere:
                elsewhere.execute(text("UPDATE counter SET n = n + 10"))
                waited.set()
                elsewhere.commit()

        writer = threading.Thread(target=write_elsewhere)
        writer.start()
        assert not waited.wait(0.3)  # the other process waits for the gate...
        db.commit()
        writer.join(5)
        assert waited.is_set()  # ...and goes on as soon as it is given back
    with Session(other) as db:
        assert db.execute(text("SELECT n FROM counter")).scalar_one() == 11
    assert not mine.taken
    assert not theirs.taken
    other.dispose()
