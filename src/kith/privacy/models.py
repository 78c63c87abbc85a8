"""The append-only ledger of every use of one user's data by anyone else."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
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
