"""Every state change of the feed: posts, goals, rules, profile edits, feedback, budget.

One ``do_*`` function per change; each validates everything first and commits once, so
bad input changes nothing. Serving a page (which records what was seen) is
:func:`kith.feed.serving.do_serve_page`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kith.accounts.access import access_circle, access_profile
from kith.accounts.models import Circle, User
from kith.errors import Conflict, InvalidInput, NotFound
from kith.feed import queries
from kith.feed.access import access_own_post, access_post
from kith.feed.classify import infer_topics
from kith.feed.goals import DEFAULT_LESS_OF_DAYS, RuleKind, edit_profile, make_goals
from kith.feed.models import (
    POST_LINK_MAX,
    POST_TEXT_MAX,
    BudgetDay,
    Event,
    GoalsRow,
    Post,
    PostAudience,
    ProfileEntryRow,
    RuleRow,
)
from kith.feed.policy import BUDGET_EXTENSION_MINUTES
from kith.feed.queries import SPACE
from kith.feed.rankers.registry import ranker_names
from kith.integrity.access import check_not_suspended
from kith.text import clean_text, has_unsafe_chars

MAX_POST_TOPICS = 3
MAX_RULES = 100
# A rule may be set to last at most this long; "never" without an expiry lasts forever.
MAX_RULE_DAYS = 3650


# --- posts ----------------------------------------------------------------------------


def _check_link(link: str | None) -> str | None:
    if link is None or not link.strip():
        return None
    link = link.strip()
    parts = urlsplit(link)
    if (
        has_unsafe_chars(link)
        or len(link) > POST_LINK_MAX
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or any(ch.isspace() for ch in link)
    ):
        raise InvalidInput(
            f"a link is an http(s) address of at most {POST_LINK_MAX} characters", field="link"
        )
    return link


def _check_topics(topics: Sequence[str] | None, text: str) -> tuple[tuple[str, ...], str]:
    if topics:
        chosen = tuple(dict.fromkeys(SPACE.check(topics)))
        if len(chosen) > MAX_POST_TOPICS:
            raise InvalidInput(f"choose at most {MAX_POST_TOPICS} topics", field="topics")
        return chosen, "author"
    inferred = infer_topics(text)
    return inferred, "inferred" if inferred else "none"


def _audience(db: Session, author: User, circles: Sequence[str] | None) -> list[Circle]:
    if circles is None:
        # Everyone the author keeps in any circle: all their friends.
        return list(db.scalars(select(Circle).where(Circle.owner_id == author.id)))
    if not circles:
        raise InvalidInput("choose at least one circle to share with", field="audience")
    found: dict[int, Circle] = {}
    for name in circles:
        try:
            circle = access_circle(db, author, name)
        except NotFound:
            raise InvalidInput(f"you have no circle called {name!r}", field="audience") from None
        found[circle.id] = circle
    return list(found.values())


def do_create_post(
    db: Session,
    author: User,
    *,
    text: str,
    link: str | None = None,
    topics: Sequence[str] | None = None,
    audience: Sequence[str] | None = None,
    now: datetime,
) -> Post:
    """A post for the author's friends in ``audience`` (circle names; all circles if None).

    Topics the author gives are checked against the vocabulary; without any, they are
    inferred from the text (:mod:`kith.feed.classify`), and may end up empty.
    """
    check_not_suspended(db, author.id)
    text = clean_text(text, field="text", max_len=POST_TEXT_MAX, multiline=True)
    link = _check_link(link)
    chosen, source = _check_topics(topics, text)
    circles = _audience(db, author, audience)
    post = Post(
        author_id=author.id,
        text=text,
        link=link,
        topics=",".join(chosen),
        topics_source=source,
        created_at=now,
        label=None,
        suppressed=False,
    )
    db.add(post)
    db.flush()
    for circle in circles:
        db.add(PostAudience(post_id=post.id, circle_id=circle.id))
    db.commit()
    return post


def do_delete_post(db: Session, author: User, post_id: int) -> None:
    post = access_own_post(db, author, post_id)
    db.delete(post)
    db.commit()


# --- goals and rules --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule as a person states it: kind, one topic or one username, optional expiry."""

    kind: str
    topic: str | None = None
    username: str | None = None
    expires_at: datetime | None = None


def _rule_row(db: Session, user: User, spec: RuleSpec, *, now: datetime) -> RuleRow:
    try:
        kind = RuleKind(spec.kind)
    except ValueError:
        raise InvalidInput("a rule is 'never' or 'less'", field="rules") from None
    if (spec.topic is None) == (spec.username is None):
        raise InvalidInput("a rule names exactly one topic or one person", field="rules")
    author_id: int | None = None
    if spec.topic is not None:
        SPACE.index(spec.topic)
    else:
        assert spec.username is not None
        try:
            author, _ = access_profile(db, user, spec.username)
        except NotFound:
            raise InvalidInput(f"no such person: {spec.username!r}", field="rules") from None
        if author.id == user.id:
            raise InvalidInput("a rule cannot be about yourself", field="rules")
        author_id = author.id
    expires_at = _check_expiry(spec.expires_at, kind, now=now)
    return RuleRow(
        user_id=user.id,
        kind=kind.value,
        topic=spec.topic,
        author_id=author_id,
        created_at=now,
        expires_at=expires_at,
    )


def _check_expiry(expires_at: datetime | None, kind: RuleKind, *, now: datetime) -> datetime | None:
    if expires_at is None:
        # "less of" fades after 14 days unless told otherwise; "never" holds until removed.
        return now + timedelta(days=DEFAULT_LESS_OF_DAYS) if kind is RuleKind.LESS else None
    if expires_at.tzinfo is None:
        raise InvalidInput("expires_at needs a time zone", field="expires_at")
    if expires_at <= now:
        raise InvalidInput("expires_at must be in the future", field="expires_at")
    if expires_at - now > timedelta(days=MAX_RULE_DAYS):
        raise InvalidInput(
            f"a rule lasts at most {MAX_RULE_DAYS} days; leave 'never' without an expiry "
            "to keep it",
            field="expires_at",
        )
    return expires_at


def _same_target(a: RuleRow, b: RuleRow) -> bool:
    return a.kind == b.kind and a.topic == b.topic and a.author_id == b.author_id


def do_set_goals(
    db: Session,
    user: User,
    *,
    target_mix: Mapping[str, float],
    daily_budget_minutes: int,
    ranker: str,
    rules: Sequence[RuleSpec] | None = None,
    now: datetime,
) -> queries.GoalsView:
    """Replace the user's goals; with ``rules`` given, replace the rules too.

    Everything is validated before anything is written: a mix that does not add up to
    100%, an unknown topic, a budget of zero or a whole day, an unknown ranker or a bad
    rule refuses the whole request.
    """
    goals = make_goals(
        space=SPACE,
        target_mix=target_mix,
        daily_budget_minutes=daily_budget_minutes,
        ranker=ranker,
        rankers=ranker_names(user_facing_only=True),
    )
    new_rules: list[RuleRow] | None = None
    if rules is not None:
        if len(rules) > MAX_RULES:
            raise InvalidInput(f"at most {MAX_RULES} rules", field="rules")
        new_rules = []
        for spec in rules:
            row = _rule_row(db, user, spec, now=now)
            if any(_same_target(row, other) for other in new_rules):
                raise InvalidInput("the same rule is listed twice", field="rules")
            new_rules.append(row)
    stored = db.get(GoalsRow, user.id)
    if stored is None:
        stored = GoalsRow(user_id=user.id)
        db.add(stored)
    stored.target_mix = dict(goals.target_mix)
    stored.daily_budget_minutes = goals.daily_budget_minutes
    stored.ranker = goals.ranker
    stored.updated_at = now
    if new_rules is not None:
        old = list(db.scalars(select(RuleRow).where(RuleRow.user_id == user.id)))
        for rule in new_rules:
            # A rule that was already there keeps its start (it has been active since then).
            same = next((o for o in old if _same_target(o, rule)), None)
            if same is not None:
                rule.created_at = min(same.created_at, now)
        db.execute(delete(RuleRow).where(RuleRow.user_id == user.id))
        db.add_all(new_rules)
    db.commit()
    return queries.load_goals(db, user)


def _upsert_rule(db: Session, user: User, spec: RuleSpec, *, now: datetime) -> RuleRow:
    row = _rule_row(db, user, spec, now=now)
    existing = list(db.scalars(select(RuleRow).where(RuleRow.user_id == user.id)))
    same = next((r for r in existing if _same_target(r, row)), None)
    if same is not None:
        same.expires_at = row.expires_at
        return same
    if len(existing) >= MAX_RULES:
        raise Conflict(f"you have {MAX_RULES} rules; remove one first")
    db.add(row)
    db.flush()
    return row


def do_add_rule(db: Session, user: User, spec: RuleSpec, *, now: datetime) -> RuleRow:
    """Add a rule, or renew the expiry of the same rule if it exists."""
    row = _upsert_rule(db, user, spec, now=now)
    db.commit()
    return row


def _own_rule(db: Session, user: User, rule_id: int) -> RuleRow:
    row = db.get(RuleRow, rule_id)
    if row is None or row.user_id != user.id:
        raise NotFound("no such rule")
    return row


def do_set_rule_expiry(
    db: Session, user: User, rule_id: int, expires_at: datetime | None, *, now: datetime
) -> RuleRow:
    row = _own_rule(db, user, rule_id)
    kind = RuleKind(row.kind)
    if expires_at is None and kind is RuleKind.LESS:
        raise InvalidInput("a 'less of' rule needs an end date", field="expires_at")
    row.expires_at = _check_expiry(expires_at, kind, now=now) if expires_at else None
    db.commit()
    return row


def do_remove_rule(db: Session, user: User, rule_id: int) -> None:
    db.delete(_own_rule(db, user, rule_id))
    db.commit()


# --- profile ----------------------------------------------------------------------------


def do_edit_profile(
    db: Session, user: User, changes: Mapping[str, float | None], *, now: datetime
) -> queries.ProfileView:
    """Set topics' weights (0..1) or, with None, hand them back to learning.

    Checked as a whole against the pure rules (known topics, shares, at most 100% set)
    before anything is written; takes effect on the next page served.
    """
    if not changes:
        raise InvalidInput("name at least one topic to change", field="topics")
    profile = queries.load_profile(db, user, now=now, learning=False).profile
    for topic, weight in changes.items():
        profile = edit_profile(profile, space=SPACE, topic=topic, weight=weight)
    db.execute(delete(ProfileEntryRow).where(ProfileEntryRow.user_id == user.id))
    for topic, entry in profile.entries.items():
        db.add(ProfileEntryRow(user_id=user.id, topic=topic, weight=entry.weight, updated_at=now))
    db.commit()
    return queries.load_profile(db, user, now=now)


# --- engagement and feedback ---------------------------------------------------------------


class Engagement(enum.StrEnum):
    OPEN = "open"
    LIKE = "like"
    REPLY = "reply"


class Feedback(enum.StrEnum):
    MORE = "more"
    LESS = "less"
    NEVER = "never"


class About(enum.StrEnum):
    POST = "post"
    AUTHOR = "author"
    TOPIC = "topic"


NOT_SEEN = "you can only react to posts your feed has shown you"


def _seen_post(db: Session, user: User, post_id: int) -> Post:
    post = access_post(db, user, post_id)
    if post.author_id == user.id:
        raise Conflict("your own posts are not in your feed", code="conflict")
    if not queries.has_seen(db, user, post.id):
        raise Conflict(NOT_SEEN)
    return post


def do_record_engagement(
    db: Session, user: User, post_id: int, kind: Engagement, *, now: datetime
) -> Event:
    post = _seen_post(db, user, post_id)
    event = Event(user_id=user.id, post_id=post.id, kind=kind.value, at=now)
    db.add(event)
    db.commit()
    return event


@dataclass(frozen=True, slots=True)
class FeedbackOutcome:
    post: Post
    feedback: Feedback
    about: About
    rule: RuleRow | None
    hidden: bool  # the post itself never comes back


def do_feedback(
    db: Session,
    user: User,
    post_id: int,
    feedback: Feedback,
    *,
    about: About = About.POST,
    topic: str | None = None,
    now: datetime,
) -> FeedbackOutcome:
    """ "More", "less" or "never" on a post the feed showed the user.

    "never" and "less" hide the post itself for good; about an author or a topic they
    also add a rule ("never" holds until removed, "less of" fades after 14 days), so
    "never" stops 100% of what it names: the filter runs after every ranker. "more" is
    a signal for the learned profile (used only with the user's consent).
    """
    post = _seen_post(db, user, post_id)
    if topic is not None and about is not About.TOPIC:
        raise InvalidInput("name a topic only with about=topic", field="topic")
    rule: RuleRow | None = None
    if feedback is not Feedback.MORE and about is not About.POST:
        spec = _feedback_rule(db, user, post, feedback, about, topic)
        rule = _upsert_rule(db, user, spec, now=now)
    elif feedback is Feedback.MORE and about is About.TOPIC:
        _feedback_topic(post, topic)  # validated, so "more" on a foreign topic is refused too
    if feedback.value not in queries.feedback_on(db, user, post.id):
        db.add(Event(user_id=user.id, post_id=post.id, kind=feedback.value, at=now))
    db.commit()
    return FeedbackOutcome(post, feedback, about, rule, hidden=feedback is not Feedback.MORE)


def feedback_message(outcome: FeedbackOutcome, *, learning: bool) -> str:
    """What the feedback did, in one sentence for the person who gave it."""
    if outcome.feedback is Feedback.MORE:
        if learning:
            return "Noted: your profile learns from this on your next page."
        return (
            "Noted, but kith is not learning from your activity (off in Privacy): set a "
            "goal to see more of this."
        )
    word = "never" if outcome.feedback is Feedback.NEVER else "less of"
    if outcome.rule is None:
        return "This post will not come back."
    target = f"topic {outcome.rule.topic}" if outcome.rule.topic else "this person"
    until = f" until {outcome.rule.expires_at:%d %B %Y}" if outcome.rule.expires_at else ""
    return f"This post will not come back, and your feed shows {word} {target}{until}."


def _feedback_topic(post: Post, topic: str | None) -> str:
    topics = post.topic_list
    if topic is None:
        if not topics:
            raise InvalidInput("this post has no topic", field="topic")
        return topics[0]
    SPACE.index(topic)
    if topic not in topics:
        raise InvalidInput(f"this post is not about {topic!r}", field="topic")
    return topic


def _feedback_rule(
    db: Session, user: User, post: Post, feedback: Feedback, about: About, topic: str | None
) -> RuleSpec:
    if about is About.AUTHOR:
        author = db.get(User, post.author_id)
        assert author is not None
        return RuleSpec(feedback.value, username=author.username)
    return RuleSpec(feedback.value, topic=_feedback_topic(post, topic))


# --- the daily budget ------------------------------------------------------------------------


class BudgetChoice(enum.StrEnum):
    CONTINUE = "continue"
    STOP = "stop"


def do_budget_choice(db: Session, user: User, choice: BudgetChoice, *, now: datetime) -> BudgetDay:
    """The deliberate choice on the budget card: stop for today, or 10 more minutes."""
    budget = queries.load_goals(db, user).goals.daily_budget_minutes
    day = queries.budget_day(db, user, now=now)
    spent = queries.minutes_today(db, user, now=now)
    allowed = budget + (day.extra_minutes if day else 0)
    if choice is BudgetChoice.CONTINUE and spent < allowed and not (day and day.stopped):
        raise Conflict("you are within today's budget; nothing to continue past")
    if day is None:
        day = BudgetDay(user_id=user.id, day=queries.day_key(now), extra_minutes=0, stopped=False)
        db.add(day)
    if choice is BudgetChoice.CONTINUE:
        # Continue from where the user is now: the extension starts at the minutes spent.
        day.extra_minutes = (
            max(day.extra_minutes, math.ceil(spent) - budget) + BUDGET_EXTENSION_MINUTES
        )
        day.stopped = False
    else:
        day.stopped = True
    db.commit()
    return day
