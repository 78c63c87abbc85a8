"""Tables of "who's up for it?": check-ins, invites and answers, and the history switch.

``partner_events``     a user's own past activities: check-ins ("I'm at tennis") and the
                       intents they posted, kept after presence purges the intent
``invites``            a plan someone sent to chosen friends (usually from a suggestion)
``invitees``           one row per invited friend, with their answer (yes / maybe / no)
``partner_settings``   "let my history help friends plan with me": who it helps
``partner_busy``       busy intervals from an imported calendar (no titles)
``partner_history_versions``
                       a token per user, changed with every write to their
                       ``partner_events`` (the history cache's key)

(The estimators live in :mod:`kith.partners.models`; this module holds the tables, hence
the name: ``kith.storage.metadata`` lists it.)

Places are H3 cells at the precision the user shares with anyone, never finer than a
block (resolution 8), or NULL when they share no place at all. Every row references
``users.id`` with ``ON DELETE CASCADE``, so deleting an account deletes its history,
invites and answers in the same transaction. History rows older than the owner's
retention (``presence_settings.history_days``) are never read and are purged by
:func:`kith.partners.actions.do_purge_history`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kith.storage.base import Base, UTCDateTime

# Where a history event came from.
CHECKIN = "checkin"
INTENT = "intent"
SOURCES = (CHECKIN, INTENT)

# Answers to an invite; "yes" is the only one ever shown to anyone but the invitee.
YES, MAYBE, NO = "yes", "maybe", "no"
ANSWERS = (YES, MAYBE, NO)

# Who a user's history helps plan ("let my history help friends plan with me").
HELPS_CLOSE = "close"  # the default: close friends only
HELPS_FRIENDS = "friends"
HELPS_NOBODY = "nobody"
HELP_SCOPES = (HELPS_CLOSE, HELPS_FRIENDS, HELPS_NOBODY)


class PartnerEvent(Base):
    """One thing a user did or planned: the history their suggestions are built from."""

    __tablename__ = "partner_events"
    __table_args__ = (
        Index("ix_partner_events_user_id_at", "user_id", "at"),
        # An intent is captured once, however often capture runs.
        UniqueConstraint("user_id", "source", "source_id", name="uq_partner_events_source"),
        CheckConstraint("source IN ('checkin', 'intent')", name="known_source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    activity: Mapped[str] = mapped_column(String(40))
    # H3 cell, block precision at most; NULL when the user shares no place.
    cell: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # When it happened (a check-in) or was planned to start (an intent); minute precision.
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(16))
    # The intent's id for captured intents; NULL for check-ins (NULLs never collide).
    source_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Invite(Base):
    """ "Tennis, Sunday 9-12?" sent by ``host`` to a few friends."""

    __tablename__ = "invites"
    __table_args__ = (Index("ix_invites_host_id_starts_at", "host_id", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    activity: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Invitee(Base):
    """One invited friend and their answer (NULL until they answer)."""

    __tablename__ = "invitees"
    __table_args__ = (CheckConstraint("answer IN ('yes', 'maybe', 'no')", name="known_answer"),)

    invite_id: Mapped[int] = mapped_column(
        ForeignKey("invites.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    answer: Mapped[str | None] = mapped_column(String(8), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PartnerSettings(Base):
    """Who the user's history may help plan; no row means the default (close friends)."""

    __tablename__ = "partner_settings"
    __table_args__ = (
        CheckConstraint("history_helps IN ('close', 'friends', 'nobody')", name="known_scope"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    history_helps: Mapped[str] = mapped_column(String(16), default=HELPS_CLOSE)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BusyInterval(Base):
    """A time the user is busy, from their imported calendar: when, never what.

    Importing a calendar replaces the user's previous intervals. Each import is kept
    for the user's history retention (``expires_at``) and purged after it.
    """

    __tablename__ = "partner_busy"
    __table_args__ = (
        Index("ix_partner_busy_user_id_starts_at", "user_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class HistoryVersion(Base):
    """Changes whenever the user's ``partner_events`` do, in the same transaction.

    Suggestions keep a viewer's built history between requests and reuse it only while
    every owner's version (and everything else it was built from) is unchanged
    (:class:`kith.partners.serving.HistoryCache`). Every write to ``partner_events``
    must therefore go through :func:`kith.partners.actions.touch_history`. The version
    is a random token, not a counter, so an account created later under a reused id
    can never match a version cached for an earlier one; no row means "no events".
    """

    __tablename__ = "partner_history_versions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[str] = mapped_column(String(32))
