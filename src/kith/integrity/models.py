"""Tables of the review queue: moderators, cases found in kith's own posts, decisions,
notices to the people affected, and their appeals.

``integrity_moderators``     who may open the queue (a role, granted from the CLI)
``integrity_cases``          one case per stable detection case id: its numbers and status
``integrity_case_accounts``  the accounts in a case
``integrity_case_posts``     the posts a case covers, and what the case changed on each
``integrity_case_evidence``  matched post pairs (the evidence) and the object they share
``integrity_decisions``      every decision: who, when, what, why (never updated)
``integrity_suspensions``    accounts suspended by a decision (one row per account)
``integrity_notices``        what an affected person is told, with the evidence summary
``integrity_appeals``        a person's answer to a notice (at most one per notice)

Everything personal references ``users.id`` or ``feed_posts.id`` with ``ON DELETE
CASCADE`` (a decision keeps its row with the moderator set to NULL), so deleting an
account or a post removes it from every case; a case's own row holds only numbers.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kith.feed.models import LABEL_MAX
from kith.storage.base import Base, UTCDateTime

# Column widths, named so schemas.py, actions.py and these columns agree.
CASE_KEY_MAX = 80  # "<network>-w<window>-<12 hex>" from kith.integrity.cases
SHARED_OBJECT_MAX = 500
REASON_MAX = 1000
APPEAL_MAX = 2000
SUMMARY_MAX = 2000
# The label a decision puts on posts is stored on the post too.
DECISION_LABEL_MAX = LABEL_MAX


class CaseStatus(enum.StrEnum):
    OPEN = "open"  # found, not decided yet (or new evidence since the last decision)
    APPEALED = "appealed"  # someone affected appealed: back in the queue
    ACTIONED = "actioned"  # labelled, suppressed or suspended
    DISMISSED = "dismissed"  # not coordinated, or an appeal upheld: every effect lifted


class Action(enum.StrEnum):
    DISMISS = "dismiss"
    LABEL = "label"
    SUPPRESS = "suppress"
    SUSPEND = "suspend"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Moderator(Base):
    __tablename__ = "integrity_moderators"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewCase(Base):
    __tablename__ = "integrity_cases"
    __table_args__ = (
        CheckConstraint(_in("status", CaseStatus), name="status"),
        Index("ix_integrity_cases_status_score", "status", "score"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The detection case id: the same group found again is the same case.
    case_key: Mapped[str] = mapped_column(String(CASE_KEY_MAX), unique=True)
    network: Mapped[str] = mapped_column(String(32))
    window_seconds: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    synchrony: Mapped[float] = mapped_column(Float)
    matched_messages: Mapped[int] = mapped_column(Integer)
    coactive_messages: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseAccount(Base):
    __tablename__ = "integrity_case_accounts"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("integrity_cases.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CasePost(Base):
    """A post the case covers. The flags say what *this case* changed on the post, so
    dismissing the case lifts exactly its own effects and nobody else's."""

    __tablename__ = "integrity_case_posts"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("integrity_cases.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("feed_posts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    labelled: Mapped[bool] = mapped_column(Boolean, default=False)
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)


class CaseEvidence(Base):
    __tablename__ = "integrity_case_evidence"
    __table_args__ = (
        UniqueConstraint("case_id", "post_1_id", "post_2_id", name="uq_integrity_evidence_pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("integrity_cases.id", ondelete="CASCADE"))
    post_1_id: Mapped[int] = mapped_column(
        ForeignKey("feed_posts.id", ondelete="CASCADE"), index=True
    )
    post_2_id: Mapped[int] = mapped_column(
        ForeignKey("feed_posts.id", ondelete="CASCADE"), index=True
    )
    # What the two posts share: the normalised text (co_tweet) or the URL (co_link).
    shared: Mapped[str] = mapped_column(String(SHARED_OBJECT_MAX))


class Decision(Base):
    __tablename__ = "integrity_decisions"
    __table_args__ = (CheckConstraint(_in("action", Action), name="action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("integrity_cases.id", ondelete="CASCADE"), index=True
    )
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(DECISION_LABEL_MAX), nullable=True)
    reason: Mapped[str] = mapped_column(String(REASON_MAX))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Suspension(Base):
    __tablename__ = "integrity_suspensions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(
        ForeignKey("integrity_cases.id", ondelete="CASCADE"), index=True
    )
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("integrity_decisions.id", ondelete="CASCADE")
    )
    since: Mapped[datetime] = mapped_column(UTCDateTime())


class Notice(Base):
    __tablename__ = "integrity_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("integrity_cases.id", ondelete="CASCADE"), index=True
    )
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("integrity_decisions.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(DECISION_LABEL_MAX), nullable=True)
    # The evidence in the person's own terms: their posts and how many others matched.
    summary: Mapped[str] = mapped_column(String(SUMMARY_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Appeal(Base):
    __tablename__ = "integrity_appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(
        ForeignKey("integrity_notices.id", ondelete="CASCADE"), unique=True
    )
    text: Mapped[str] = mapped_column(String(APPEAL_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
