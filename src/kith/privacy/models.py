"""Tables of the privacy capability.

``ledger_entries``     the append-only record of every use of one user's data by anyone else
``consents``           the purpose switches that are not stored elsewhere (off by default)
``export_jobs``        background exports: state, progress, and the finished archive
``deletion_receipts``  "this session's account was deleted": makes DELETE /me safe to retry

Every row that belongs to a person references ``users.id`` with ``ON DELETE CASCADE``
(or ``SET NULL`` where the row belongs to someone else), so deleting the user row
deletes the person's data in the same transaction. A receipt holds no user id on
purpose: it must outlive the account without pointing back at it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from kith.storage.base import Base, UTCDateTime


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_subject_id_at", "subject_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Whose data was used.
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Who saw it; NULL when a kith function used it, or the viewer's account was deleted.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # "user" for a person, else the kith function ("matching", "suggestions", ...).
    actor_kind: Mapped[str] = mapped_column(String(32))
    what: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(80))
    purpose: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Consent(Base):
    """The purposes whose switch lives here; a missing row means every switch is off.

    "Share location with circles", "keep my own location history" and "let my history
    help friends plan with me" are not stored here: they are the presence grants,
    ``PresenceSettings.keep_history`` and ``partner_settings.history_helps``, so the
    control and the behaviour can never disagree.
    """

    __tablename__ = "consents"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    rank_my_feed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExportJob(Base):
    """One export of everything kith holds about a user, built in the background."""

    __tablename__ = "export_jobs"
    __table_args__ = (Index("ix_export_jobs_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # pending -> running -> done | failed; a running job whose heartbeat stops is retried.
    state: Mapped[str] = mapped_column(String(16))
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    steps_total: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    # The zip itself: in the database, so deleting the account deletes it too.
    archive: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    size_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DeletionReceipt(Base):
    """The hash of the session token that deleted an account, kept for a day.

    A client whose DELETE /me succeeded but whose connection dropped retries with the
    same token: the receipt lets that retry answer "deleted" instead of "who are you?".
    """

    __tablename__ = "deletion_receipts"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
