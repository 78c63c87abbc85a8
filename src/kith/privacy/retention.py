"""Retention: forget what has expired, on a schedule and with ``kith purge``.

=========================  ==============================================================
what                       purged when
=========================  ==============================================================
intents                    their end time has passed
alerts                     they expired (3 hours for "nearby", the plan's end otherwise)
sharing grants             their expiry has passed (precise sharing always expires, in
                           at most 24 hours); the stored position is coarsened to match
location history           older than the user's retention (30 days unless changed), or
                           at once for anyone who has history turned off
ledger entries             older than :data:`LEDGER_KEEP` (a year)
export archives            a day after they were made (:data:`EXPORT_KEEP`)
deletion receipts          a day after the deletion
log-in sessions            when they expire
failed log-in records      a day after the failure
=========================  ==============================================================

:func:`purge` is idempotent and commits once; :func:`start_retention` runs it every
:data:`RETENTION_INTERVAL` inside the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Delete, delete, or_, select
from sqlalchemy.orm import Session

from kith.accounts.models import AuthSession, LoginFailure
from kith.clock import Clock
from kith.partners.actions import capture_intents, purge_history
from kith.presence.access import grant_book
from kith.presence.geo import FINEST_STORED, Precision, coarsen, coarser, precision_of, rank
from kith.presence.models import (
    Alert,
    Intent,
    LocationHistory,
    Presence,
    PresenceSettings,
    SharingGrant,
)
from kith.privacy.export import EXPORT_KEEP
from kith.privacy.models import DeletionReceipt, ExportJob, LedgerEntry
from kith.storage.engine import Database

log = logging.getLogger(__name__)

LEDGER_KEEP = timedelta(days=365)
RECEIPT_KEEP = timedelta(days=1)
LOGIN_FAILURE_KEEP = timedelta(days=1)  # far longer than any throttle window needs
RETENTION_INTERVAL = timedelta(hours=1)


@dataclass
class PurgeReport:
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _run(db: Session, statement: Delete) -> int:
    result: Any = db.execute(statement)
    return int(result.rowcount or 0)


def _history(db: Session, now: datetime) -> int:
    keeping = select(PresenceSettings.user_id).where(PresenceSettings.keep_history.is_(True))
    removed = _run(db, delete(LocationHistory).where(LocationHistory.user_id.not_in(keeping)))
    for days in db.scalars(
        select(PresenceSettings.history_days)
        .where(PresenceSettings.keep_history.is_(True))
        .distinct()
    ):
        owners = keeping.where(PresenceSettings.history_days == days)
        removed += _run(
            db,
            delete(LocationHistory).where(
                LocationHistory.user_id.in_(owners),
                LocationHistory.recorded_at < now - timedelta(days=days),
            ),
        )
    return removed


def _expired_grants(db: Session, now: datetime) -> int:
    owners = set(db.scalars(select(SharingGrant.owner_id).where(SharingGrant.expires_at <= now)))
    removed = _run(db, delete(SharingGrant).where(SharingGrant.expires_at <= now))
    db.flush()
    for owner_id in owners:
        # The stored cell was kept as fine as the finest grant: follow what is left.
        stored = db.get(Presence, owner_id)
        if stored is None:
            continue
        finest = grant_book(db, owner_id, now=now).finest()
        if finest is Precision.OFF:
            db.delete(stored)
            continue
        keep = coarser(finest, FINEST_STORED)
        if rank(precision_of(stored.cell)) > rank(keep):
            stored.cell = coarsen(stored.cell, keep)
    return removed


def purge(db: Session, now: datetime) -> PurgeReport:
    """Delete everything past its retention, in one transaction."""
    report = PurgeReport()
    # Partners keeps what its owners allow of ended intents before they go.
    capture_intents(db, now=now)  # copies, deletes nothing: not part of the report
    report.counts["partner history"] = purge_history(db, now=now)
    report.counts["intents"] = _run(db, delete(Intent).where(Intent.ends_at <= now))
    report.counts["alerts"] = _run(db, delete(Alert).where(Alert.expires_at <= now))
    report.counts["sharing grants"] = _expired_grants(db, now)
    report.counts["location history"] = _history(db, now)
    report.counts["ledger entries"] = _run(
        db, delete(LedgerEntry).where(LedgerEntry.at < now - LEDGER_KEEP)
    )
    report.counts["export archives"] = _run(
        db,
        delete(ExportJob).where(
            or_(ExportJob.finished_at < now - EXPORT_KEEP, ExportJob.created_at < now - EXPORT_KEEP)
        ),
    )
    report.counts["deletion receipts"] = _run(
        db, delete(DeletionReceipt).where(DeletionReceipt.deleted_at < now - RECEIPT_KEEP)
    )
    report.counts["log-in sessions"] = _run(
        db, delete(AuthSession).where(AuthSession.expires_at <= now)
    )
    report.counts["failed log-ins"] = _run(
        db, delete(LoginFailure).where(LoginFailure.at < now - LOGIN_FAILURE_KEEP)
    )
    db.commit()
    return report


class RetentionState(Protocol):
    """What the scheduled purge needs from the server's state (``kith.api.deps.AppState``)."""

    @property
    def database(self) -> Database: ...
    @property
    def clock(self) -> Clock: ...


def purge_once(state: RetentionState) -> PurgeReport:
    with state.database.session() as db:
        return purge(db, state.clock.now())


class Retention:
    """The background purge; :meth:`stop` ends it (call it before the database closes)."""

    def __init__(self, task: asyncio.Task[None]) -> None:
        self.task = task

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def start_retention(
    state: RetentionState, *, interval: timedelta = RETENTION_INTERVAL
) -> Retention:
    """Purge now and then every ``interval``, in a worker thread, until stopped.

    A failed run is logged and retried at the next interval; the server keeps serving.
    """

    async def loop() -> None:
        while True:
            try:
                report = await asyncio.to_thread(purge_once, state)
                if report.total:
                    log.info("retention purged %s", report.counts)
            except Exception:
                log.exception("retention purge failed; retrying in %s", interval)
            await asyncio.sleep(interval.total_seconds())

    return Retention(asyncio.get_running_loop().create_task(loop(), name="kith-retention"))
