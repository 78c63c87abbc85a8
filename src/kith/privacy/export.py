"""Export: everything kith holds about a user, as a zip of open formats.

Each capability says what it holds through an :class:`Exporter` registered with
:func:`register_exporter` (kith's own are in :mod:`kith.privacy.exporters`; another
capability puts its exporters in ``kith/<capability>/export.py``, found through
:data:`kith.storage.metadata.MODEL_MODULES`, so this module never needs editing).
A table with a foreign key to ``users`` that no exporter claims is still exported,
plainly, by :func:`fallback_files`: a new table can be unpolished, never missing.

Small accounts get their zip at once; larger ones are built by a background job
(:class:`~kith.privacy.models.ExportJob`) whose progress a page polls. Asking again
while a job runs returns that same job, so retries never pile up work, and a finished
archive can be fetched again, byte for byte, from its job until retention removes it.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import json
import logging
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import LargeBinary, Table, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from kith.accounts.models import User
from kith.clock import Clock
from kith.errors import NotFound
from kith.privacy.models import ExportJob
from kith.storage.metadata import MODEL_MODULES, load_all_models

log = logging.getLogger(__name__)

# Accounts with more personal rows than this are exported in the background.
EXPORT_SYNC_MAX_ROWS = 5_000
# Finished archives are deleted by retention after this (the user can make a new one).
EXPORT_KEEP = timedelta(days=1)
# A running job that has not reported progress for this long died with its process.
HEARTBEAT_STALE = timedelta(minutes=5)
# A job that keeps dying is given up after this many attempts.
MAX_ATTEMPTS = 3

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"

# Never exported by the fallback, even for the owner: secrets and their hashes.
SECRET_WORDS = ("password", "token", "secret", "hash")


@dataclass(frozen=True, slots=True)
class ExportFile:
    name: str  # path inside the zip, e.g. "friends.json"
    data: bytes


@dataclass(frozen=True, slots=True)
class ExportContext:
    now: datetime


Build = Callable[[Session, User, ExportContext], list[ExportFile]]


@dataclass(frozen=True, slots=True)
class Exporter:
    """What one capability holds about a user, and the files it writes."""

    area: str
    # File name -> one sentence for the README.
    files: dict[str, str]
    # Tables whose rows about the user these files cover.
    tables: tuple[str, ...]
    build: Build


_REGISTRY: dict[str, Exporter] = {}


def register_exporter(exporter: Exporter) -> Exporter:
    existing = _REGISTRY.get(exporter.area)
    if existing is not None and existing.build is not exporter.build:
        raise ValueError(f"an exporter for {exporter.area!r} is already registered")
    _REGISTRY[exporter.area] = exporter
    return exporter


def exporter(
    area: str, *, files: dict[str, str], tables: Sequence[str]
) -> Callable[[Build], Build]:
    """Decorator form of :func:`register_exporter`."""

    def wrap(build: Build) -> Build:
        register_exporter(Exporter(area, dict(files), tuple(tables), build))
        return build

    return wrap


def discover() -> None:
    """Import every module that registers exporters (cheap after the first call)."""
    importlib.import_module("kith.privacy.exporters")
    for module in MODEL_MODULES:
        candidate = module.rsplit(".", 1)[0] + ".export"
        if candidate != __name__ and importlib.util.find_spec(candidate) is not None:
            importlib.import_module(candidate)


def exporters() -> list[Exporter]:
    discover()
    return sorted(_REGISTRY.values(), key=lambda e: e.area)


def json_file(name: str, payload: Any) -> ExportFile:
    text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=False, default=_jsonable)
    return ExportFile(name, (text + "\n").encode("utf-8"))


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    return str(value)


# --- the fallback for tables no exporter claims -----------------------------------


def user_columns(table: Table) -> list[str]:
    """Columns of ``table`` that reference ``users.id``, in table order."""
    return [
        column.name
        for column in table.columns
        if any(fk.column.table.name == "users" for fk in column.foreign_keys)
    ]


def unclaimed_tables(claimed: set[str]) -> list[Table]:
    metadata = load_all_models()
    return [
        table
        for table in metadata.sorted_tables
        if table.name not in claimed and table.name != "users" and user_columns(table)
    ]


def _owner_column(table: Table) -> str:
    """The column that says whose row it is: ``user_id``/``owner_id`` if present, else the
    first column referencing users. Rows that merely mention the user (someone else's
    alert about them) belong to the other person and are not exported."""
    columns = user_columns(table)
    for name in ("user_id", "owner_id", "author_id"):
        if name in columns:
            return name
    return columns[0]


def fallback_files(db: Session, user: User, tables: Sequence[Table]) -> list[ExportFile]:
    files = []
    for table in tables:
        owner = table.c[_owner_column(table)]
        keep = [
            c
            for c in table.columns
            if not isinstance(c.type, LargeBinary)
            and not any(word in c.name.lower() for word in SECRET_WORDS)
        ]
        rows = db.execute(select(*keep).where(owner == user.id)).mappings().all()
        files.append(json_file(f"other/{table.name}.json", [dict(r) for r in rows]))
    return files


# --- building an archive ----------------------------------------------------------

README_HEAD = """\
Everything kith holds about {username}
=====================================

Exported {now} (UTC). Each file below is in an open format: JSON (any text editor
or programming language), GeoJSON (any map tool, e.g. geojson.io or QGIS) and
iCalendar (.ics, any calendar app). Times are ISO 8601 in UTC. Positions are H3
cells (https://h3geo.org): kith never stores a point finer than a cell.

"""


def estimate_rows(db: Session, user: User) -> int:
    """Rows about the user across every table with a users column; decides sync or not."""
    total = 0
    for table in load_all_models().sorted_tables:
        if table.name == "users":
            continue
        for name in user_columns(table)[:1]:
            total += db.scalar(select(func.count()).where(table.c[name] == user.id)) or 0
    return total


def build_archive(
    db: Session,
    user: User,
    *,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The zip, in memory; ``progress(done, total)`` is called after each area."""
    parts = exporters()
    claimed = {t for e in parts for t in e.tables}
    leftovers = unclaimed_tables(claimed)
    total = len(parts) + (1 if leftovers else 0)
    context = ExportContext(now=now)
    files: list[ExportFile] = []
    described: dict[str, str] = {}
    for done, part in enumerate(parts, start=1):
        files.extend(part.build(db, user, context))
        described.update(part.files)
        if progress is not None:
            progress(done, total)
    if leftovers:
        files.extend(fallback_files(db, user, leftovers))
        for table in leftovers:
            described[f"other/{table.name}.json"] = (
                f"Your rows of the {table.name} table, as stored (no exporter describes it yet)."
            )
        if progress is not None:
            progress(total, total)
    readme = README_HEAD.format(username=user.username, now=now.isoformat(timespec="seconds"))
    names = {f.name for f in files}
    for name in sorted(described):
        if name in names:
            readme += f"{name}\n    {described[name]}\n\n"
    buffer = io.BytesIO()
    stamp = now.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in [ExportFile("README.txt", readme.encode("utf-8")), *files]:
            info = zipfile.ZipInfo(f"kith-{user.username}/{file.name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.data)
    return buffer.getvalue()


# --- jobs -------------------------------------------------------------------------


def access_export_job(db: Session, owner: User, job_id: int) -> ExportJob:
    """One of the owner's own export jobs; anyone else's does not exist for them."""
    job = db.get(ExportJob, job_id)
    if job is None or job.user_id != owner.id:
        raise NotFound("no such export")
    return job


def latest_job(db: Session, owner: User) -> ExportJob | None:
    return db.scalar(
        select(ExportJob).where(ExportJob.user_id == owner.id).order_by(ExportJob.id.desc())
    )


def do_request_export(db: Session, owner: User, *, now: datetime) -> ExportJob:
    """The export to wait for: the one being built, else a new pending job.

    Asking again while a job is pending or running returns that job, so retries never
    pile up work. A finished archive is never handed out again here (the data may have
    changed since; a dropped download is retried at the job's own archive URL), and a
    new job replaces the owner's older archives. A job whose worker died (no heartbeat
    for :data:`HEARTBEAT_STALE`) is put back to pending: same job, same id.
    """
    job = latest_job(db, owner)
    if job is not None and job.state in (PENDING, RUNNING):
        if job.state == PENDING or not _stale(job, now):
            return job
        if job.attempts < MAX_ATTEMPTS:
            job.state = PENDING
            db.commit()
            return job
        job.state = FAILED
    db.execute(delete(ExportJob).where(ExportJob.user_id == owner.id))
    job = ExportJob(
        user_id=owner.id, state=PENDING, steps_done=0, steps_total=0, attempts=0, created_at=now
    )
    db.add(job)
    db.commit()
    return job


def _stale(job: ExportJob, now: datetime) -> bool:
    beat = job.heartbeat_at or job.created_at
    return now - beat > HEARTBEAT_STALE


def run_export_job(sessions: sessionmaker[Session], job_id: int, clock: Clock) -> None:
    """Worker: build the archive of one job. Takes an id and re-fetches; a job that is
    gone (account deleted) or already claimed is left alone."""
    with sessions() as db:
        claimed = db.execute(  # a conditional UPDATE: two workers cannot both claim it
            update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.state == PENDING)
            .values(
                state=RUNNING,
                attempts=ExportJob.attempts + 1,
                heartbeat_at=clock.now(),
                steps_done=0,
            )
        )
        db.commit()
        if getattr(claimed, "rowcount", 0) != 1:
            return
        job = db.get(ExportJob, job_id)
        user = db.get(User, job.user_id) if job is not None else None
        if job is None or user is None:
            return

        def progress(done: int, total: int) -> None:
            # Its own short transaction, so a polling page sees it while we work.
            with sessions() as tick:
                tick.execute(
                    update(ExportJob)
                    .where(ExportJob.id == job_id)
                    .values(steps_done=done, steps_total=total, heartbeat_at=clock.now())
                )
                tick.commit()

        try:
            data = build_archive(db, user, now=clock.now(), progress=progress)
        except Exception:
            log.exception("export job %s failed", job_id)
            db.rollback()
            db.execute(update(ExportJob).where(ExportJob.id == job_id).values(state=FAILED))
            db.commit()
            return
        db.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id)
            .values(state=DONE, archive=data, size_bytes=len(data), finished_at=clock.now())
        )
        db.commit()


def job_archive(db: Session, job: ExportJob) -> bytes | None:
    if job.state != DONE:
        return None
    return db.scalar(select(ExportJob.archive).where(ExportJob.id == job.id))
