"""Tables of the feed: posts and their audiences, engagement events, goals, rules, profile.

``feed_posts``            a post: text, optional link, topics, and two moderation columns
                          the integrity review queue sets (``label``, ``suppressed``)
``feed_post_audiences``   the author's circles that may see a post (friends in them, only)
``feed_events``           what a user did with a post: seen (served on a page), open,
                          like, reply, more, less, never; the learned signals
``feed_goals``            the stated target mix, daily budget and ranker (defaults if absent)
``feed_rules``            "less of" and "never" rules on a topic or an author, with expiry
``feed_profile_entries``  profile topics the user set by hand (learned ones are computed)
``feed_budget_days``      minutes a user chose to add past their budget, per day
``feed_keys``             the key that signs feed cursors (one row, made on first use)

Every row that belongs to a person references ``users.id`` with ``ON DELETE CASCADE``,
so deleting an account deletes its posts, events, goals and rules in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from kith.storage.base import Base, UTCDateTime

# Column widths, named so the validation in actions.py and these columns agree.
POST_TEXT_MAX = 2000
POST_LINK_MAX = 500
TOPICS_MAX_CHARS = 200
LABEL_MAX = 80


class Post(Base):
    __tablename__ = "feed_posts"
    __table_args__ = (
        Index("ix_feed_posts_author_id_created_at", "author_id", "created_at"),
        CheckConstraint("topics_source IN ('author', 'inferred', 'none')", name="topics_source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(POST_TEXT_MAX))
    link: Mapped[str | None] = mapped_column(String(POST_LINK_MAX), nullable=True)
    # Comma-separated names from kith.feed.topics.FEED_TOPICS; "" for none.
    topics: Mapped[str] = mapped_column(String(TOPICS_MAX_CHARS))
    topics_source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # Set by the integrity review queue: a short note shown on the post ("misleading
    # context"), and a switch that keeps the post out of every feed and from everyone
    # but its author. Rankers never see suppressed posts: the candidate query drops them.
    label: Mapped[str | None] = mapped_column(String(LABEL_MAX), nullable=True)
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def topic_list(self) -> tuple[str, ...]:
        return tuple(t for t in self.topics.split(",") if t)


class PostAudience(Base):
    __tablename__ = "feed_post_audiences"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("feed_posts.id", ondelete="CASCADE"), primary_key=True
    )
    # A deleted circle takes its audience rows with it: the post is seen by fewer people,
    # never by more.
    circle_id: Mapped[int] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Event(Base):
    """One thing a user did with a post. ``seen`` rows are written when a page is served."""

    __tablename__ = "feed_events"
    __table_args__ = (
        Index("ix_feed_events_user_id_at", "user_id", "at"),
        Index("ix_feed_events_user_id_post_id", "user_id", "post_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(
        ForeignKey("feed_posts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # For "seen": the feed session (its start) and the page it was served on, so the same
    # cursor gives the same page again (a reload never skips posts).
    session_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ranker: Mapped[str | None] = mapped_column(String(32), nullable=True)


class GoalsRow(Base):
    __tablename__ = "feed_goals"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # {topic: share}, shares summing to 1 (validated by kith.feed.topics.normalize_mix).
    target_mix: Mapped[dict[str, float]] = mapped_column(JSON)
    daily_budget_minutes: Mapped[int] = mapped_column(Integer)
    ranker: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RuleRow(Base):
    __tablename__ = "feed_rules"
    __table_args__ = (
        CheckConstraint("(topic IS NULL) <> (author_id IS NULL)", name="topic_xor_author"),
        CheckConstraint("kind IN ('never', 'less')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(40), nullable=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ProfileEntryRow(Base):
    """A profile topic whose weight the user set; learned entries are never stored."""

    __tablename__ = "feed_profile_entries"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(40), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BudgetDay(Base):
    """Minutes added past the budget on one (UTC) day, by a deliberate choice."""

    __tablename__ = "feed_budget_days"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, UTC
    extra_minutes: Mapped[int] = mapped_column(Integer, default=0)
    stopped: Mapped[bool] = mapped_column(Boolean, default=False)


class CursorKey(Base):
    __tablename__ = "feed_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
