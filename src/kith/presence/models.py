"""Tables for sharing grants, presence, intents, alerts and meetups.

What is stored is deliberately little: one current cell per user at the finest
precision anyone was granted (never finer than block; precise points live in memory
only), the user's own history only when they opted in, and intents and alerts that
expire.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kith.storage.base import Base, UTCDateTime


class SharingGrant(Base):
    """How precisely ``owner`` shares with one circle, or with one friend (an override)."""

    __tablename__ = "sharing_grants"
    __table_args__ = (
        CheckConstraint("(circle_id IS NULL) <> (friend_id IS NULL)", name="circle_xor_friend"),
        UniqueConstraint("owner_id", "circle_id", name="uq_sharing_grants_circle"),
        UniqueConstraint("owner_id", "friend_id", name="uq_sharing_grants_friend"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    circle_id: Mapped[int | None] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), nullable=True
    )
    friend_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    precision: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PresenceSettings(Base):
    """Ghost mode, hang-out status, alert preferences and history retention."""

    __tablename__ = "presence_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    ghost_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ghost_indefinite: Mapped[bool] = mapped_column(Boolean, default=False)
    open_to_hang_out: Mapped[bool] = mapped_column(Boolean, default=False)
    daily_budget: Mapped[int] = mapped_column(Integer, default=3)
    quiet_start: Mapped[str | None] = mapped_column(String(5), nullable=True)
    quiet_end: Mapped[str | None] = mapped_column(String(5), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    keep_history: Mapped[bool] = mapped_column(Boolean, default=False)
    history_days: Mapped[int] = mapped_column(Integer, default=30)


class Presence(Base):
    """The user's latest position, as one cell at the finest precision anyone was granted."""

    __tablename__ = "presences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    cell: Mapped[str] = mapped_column(String(16))
    # Rounded down to the minute: friends never see finer timing than that.
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LocationHistory(Base):
    """The user's own trail, kept only when they opted in, and purged after their retention."""

    __tablename__ = "location_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    cell: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Intent(Base):
    """ "Up for <activity> from-to within <radius>", shown to the audience circles."""

    __tablename__ = "intents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    activity: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    radius_m: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IntentAudience(Base):
    __tablename__ = "intent_audience"

    intent_id: Mapped[int] = mapped_column(
        ForeignKey("intents.id", ondelete="CASCADE"), primary_key=True
    )
    circle_id: Mapped[int] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Alert(Base):
    """One alert in a recipient's inbox about one other person.

    ``dedupe_key`` makes creation idempotent: the same match never becomes two alerts,
    whatever restarts or retries happen.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("recipient_id", "dedupe_key", name="uq_alerts_recipient_dedupe"),
        Index("ix_alerts_recipient_id_id", "recipient_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    other_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    activity: Mapped[str | None] = mapped_column(String(40), nullable=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    own_intent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    other_intent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    meetup_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetups.id", ondelete="SET NULL"), nullable=True
    )
    dedupe_key: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    answer: Mapped[str | None] = mapped_column(String(8), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PairState(Base):
    """Per (recipient, other, kind): when we last alerted and whether we are re-armed."""

    __tablename__ = "alert_pair_states"

    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    other_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    armed: Mapped[bool] = mapped_column(Boolean, default=True)
    last_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Meetup(Base):
    """Two friends agreed ("I'm in"): both see it and can add it to a calendar."""

    __tablename__ = "meetups"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_meetups_dedupe_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_a_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    user_b_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    activity: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    dedupe_key: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
