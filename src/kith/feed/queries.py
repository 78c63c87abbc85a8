"""Reads of a user's own feed state: goals, rules, profile, time today, own posts.

Nothing here reads another person's data except through :mod:`kith.feed.access`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.accounts.models import Circle, User
from kith.feed.access import visible_posts
from kith.feed.goals import (
    DEFAULT_STATED_WEIGHT,
    EntrySource,
    Goals,
    Profile,
    ProfileEntry,
    Rule,
    RuleKind,
    learn_profile,
    target_mix,
)
from kith.feed.models import (
    BudgetDay,
    Event,
    GoalsRow,
    Post,
    PostAudience,
    ProfileEntryRow,
    RuleRow,
)
from kith.feed.signals import NEGATIVE_KINDS, POSITIVE_KINDS, OwnEvent, OwnHistory
from kith.feed.topics import FEED_TOPICS, TopicSpace
from kith.privacy.consent import Purpose, allows

SPACE = TopicSpace(FEED_TOPICS)
DEFAULT_RANKER = "aligned"
DEFAULT_BUDGET_MINUTES = 30
# A gap longer than this between two feed events means the user left: time in the
# feed is the sum of the gaps between events, each capped here.
IDLE_CAP = timedelta(minutes=5)
# Events older than this do not shape the learned profile or the rates.
HISTORY_DAYS = 90


def default_mix() -> dict[str, float]:
    """Until the user says otherwise, every topic gets an equal share."""
    return {t: 1.0 / len(FEED_TOPICS) for t in FEED_TOPICS}


def uses_activity(db: Session, user: User, *, now: datetime) -> bool:
    """Whether the user allows their own activity to rank their own feed (off by default)."""
    return allows(db, user.id, Purpose.RANK_MY_FEED, now=now)


@dataclass(frozen=True, slots=True)
class RuleView:
    id: int
    rule: Rule
    author: User | None  # for author rules

    @property
    def target(self) -> str:
        if self.author is not None:
            return f"@{self.author.username}"
        return self.rule.topic or ""


def list_rules(db: Session, user: User) -> list[RuleView]:
    rows = db.execute(
        select(RuleRow, User)
        .outerjoin(User, User.id == RuleRow.author_id)
        .where(RuleRow.user_id == user.id)
        .order_by(RuleRow.created_at, RuleRow.id)
    ).all()
    return [
        RuleView(
            row.id,
            Rule(
                RuleKind(row.kind),
                row.created_at,
                row.expires_at,
                topic=row.topic,
                author_id=row.author_id,
            ),
            author,
        )
        for row, author in rows
    ]


@dataclass(frozen=True, slots=True)
class GoalsView:
    goals: Goals
    rules: list[RuleView]
    stated: bool  # False: the defaults, the user never saved goals


def load_goals(db: Session, user: User) -> GoalsView:
    row = db.get(GoalsRow, user.id)
    rules = list_rules(db, user)
    if row is None:
        goals = Goals(default_mix(), DEFAULT_BUDGET_MINUTES, DEFAULT_RANKER)
    else:
        goals = Goals(dict(row.target_mix), row.daily_budget_minutes, row.ranker)
    goals = Goals(
        goals.target_mix, goals.daily_budget_minutes, goals.ranker, tuple(r.rule for r in rules)
    )
    return GoalsView(goals, rules, row is not None)


def own_events(db: Session, user: User, *, now: datetime) -> list[tuple[Event, Post]]:
    """The user's own events of the last :data:`HISTORY_DAYS`, oldest first."""
    since = now - timedelta(days=HISTORY_DAYS)
    return [
        (event, post)
        for event, post in db.execute(
            select(Event, Post)
            .join(Post, Post.id == Event.post_id)
            .where(Event.user_id == user.id, Event.at >= since)
            .order_by(Event.at, Event.id)
        ).all()
    ]


def own_history(events: Sequence[tuple[Event, Post]]) -> OwnHistory:
    return OwnHistory.from_events(OwnEvent(p.id, e.kind, p.topic_list) for e, p in events)


def learned_from(events: Sequence[tuple[Event, Post]]) -> list[tuple[int, tuple[str, ...]]]:
    """What the profile learns from: posts opened, liked, replied to or asked more of.

    A post the user later turned down ("less", "never") teaches nothing.
    """
    turned_down = {p.id for e, p in events if e.kind in NEGATIVE_KINDS}
    return [
        (p.id, p.topic_list)
        for e, p in events
        if e.kind in POSITIVE_KINDS and p.id not in turned_down and p.topic_list
    ]


def set_entries(db: Session, user: User) -> dict[str, float]:
    return {
        row.topic: row.weight
        for row in db.scalars(
            select(ProfileEntryRow)
            .where(ProfileEntryRow.user_id == user.id)
            .order_by(ProfileEntryRow.topic)
        )
    }


@dataclass(frozen=True, slots=True)
class ProfileView:
    profile: Profile
    # False: the switch "use my activity to rank my own feed" is off, so nothing is
    # learned and the feed ranks by the stated goals alone.
    learning: bool


def load_profile(
    db: Session,
    user: User,
    *,
    now: datetime,
    events: Sequence[tuple[Event, Post]] | None = None,
    learning: bool | None = None,
) -> ProfileView:
    learning = uses_activity(db, user, now=now) if learning is None else learning
    fixed = set_entries(db, user)
    previous = Profile(
        {t: ProfileEntry(w, EntrySource.SET) for t, w in fixed.items()},
    )
    if not learning:
        return ProfileView(previous, False)
    if events is None:
        events = own_events(db, user, now=now)
    return ProfileView(learn_profile(learned_from(events), previous=previous), True)


def day_key(now: datetime) -> str:
    return now.date().isoformat()


def minutes_today(db: Session, user: User, *, now: datetime) -> float:
    """Time in the feed today (UTC): gaps between the user's feed events, each capped.

    A gap longer than :data:`IDLE_CAP` counts as the cap (reading the last page before
    leaving); the time from the last event to now counts only while it is shorter.
    """
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    times = sorted(
        set(
            db.scalars(
                select(Event.at).where(Event.user_id == user.id, Event.at >= start, Event.at <= now)
            )
        )
    )
    total = timedelta()
    for before, after in itertools.pairwise(times):
        total += min(after - before, IDLE_CAP)
    # Still here: the time since the last event counts while it is short of the cap.
    if times and now - times[-1] <= IDLE_CAP:
        total += now - times[-1]
    return total.total_seconds() / 60


def budget_day(db: Session, user: User, *, now: datetime) -> BudgetDay | None:
    return db.get(BudgetDay, (user.id, day_key(now)))


def has_seen(db: Session, user: User, post_id: int) -> bool:
    return (
        db.scalar(
            select(Event.id).where(
                Event.user_id == user.id, Event.post_id == post_id, Event.kind == "seen"
            )
        )
        is not None
    )


def feedback_on(db: Session, user: User, post_id: int) -> set[str]:
    return set(
        db.scalars(
            select(Event.kind).where(
                Event.user_id == user.id,
                Event.post_id == post_id,
                Event.kind.in_(("more", "less", "never")),
            )
        )
    )


def turned_down_posts(db: Session, user: User) -> set[int]:
    """Posts the user said "less" or "never" to: they never come back."""
    return set(
        db.scalars(
            select(Event.post_id).where(Event.user_id == user.id, Event.kind.in_(NEGATIVE_KINDS))
        )
    )


def audience_names(db: Session, post_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in post_ids}
    if not post_ids:
        return out
    for post_id, name in db.execute(
        select(PostAudience.post_id, Circle.name)
        .join(Circle, Circle.id == PostAudience.circle_id)
        .where(PostAudience.post_id.in_(post_ids))
        .order_by(Circle.builtin.desc(), Circle.id)
    ):
        out[post_id].append(name)
    return out


OWN_POSTS_PAGE = 50


def own_posts(
    db: Session, user: User, *, limit: int = OWN_POSTS_PAGE, before_id: int | None = None
) -> list[Post]:
    query = select(Post).where(Post.author_id == user.id)
    if before_id is not None:
        query = query.where(Post.id < before_id)
    return list(db.scalars(query.order_by(Post.id.desc()).limit(limit)))


def posts_by_id(db: Session, post_ids: Sequence[int]) -> list[Post]:
    """Posts by id, for ids that already passed an access check (e.g. :func:`still_visible`)."""
    if not post_ids:
        return []
    return list(db.scalars(select(Post).where(Post.id.in_(post_ids))))


def still_visible(db: Session, viewer: User, post_ids: Sequence[int]) -> set[int]:
    """Those of ``post_ids`` the viewer may see now (through the feed's access rules)."""
    if not post_ids:
        return set()
    query = visible_posts(viewer).where(Post.id.in_(post_ids))
    return {post.id for post, *_ in db.execute(query).all()}


LEARNING_OFF = (
    'kith is not learning from your activity: "Use my activity to rank my own feed" is '
    "off in Privacy. Your feed follows the goals you stated; the topics you set here are "
    "kept, and used once you turn it on."
)
LEARNING_ON = (
    "Learned from the posts you opened, liked, replied to or asked more of in the last "
    f"{HISTORY_DAYS} days; topics you set keep your weight. Your target mix is "
    f"{DEFAULT_STATED_WEIGHT:.0%} your stated goals and {1 - DEFAULT_STATED_WEIGHT:.0%} this "
    "profile. Edits count from your next page."
)


@dataclass(frozen=True, slots=True)
class ProfileLine:
    topic: str
    weight: float
    source: str
    items: list[int]


@dataclass(frozen=True, slots=True)
class ProfileOverview:
    learning: bool
    explanation: str
    entries: list[ProfileLine]
    target: dict[str, float]


def profile_overview(db: Session, user: User, *, now: datetime) -> ProfileOverview:
    """The profile as the user sees it: entries by weight, each with its visible sources."""
    view = load_profile(db, user, now=now)
    goals = load_goals(db, user).goals
    used = view.profile if view.learning else Profile()
    sources = [i for e in view.profile.entries.values() for i in e.items]
    visible = still_visible(db, user, sources)
    # Shown as shares of the whole profile: set topics keep their weight, learned ones
    # share what is left.
    shares = view.profile.mix()
    lines = [
        ProfileLine(
            topic,
            shares.get(topic, 0.0),
            entry.source.value,
            [i for i in entry.items if i in visible],
        )
        for topic, entry in sorted(
            view.profile.entries.items(), key=lambda kv: (-shares.get(kv[0], 0.0), kv[0])
        )
    ]
    return ProfileOverview(
        view.learning,
        LEARNING_ON if view.learning else LEARNING_OFF,
        lines,
        target_mix(goals, used, now=now),
    )
