"""Serve one page of a user's feed: candidates, ranker, filters, stopping cues, records.

The order, for every ranker:

1. **Budget.** kith's rankers first check today's minutes against the daily budget (plus
   any minutes the user chose to add); over it, the page is the budget card alone.
2. **Candidates.** Posts the viewer may see (:func:`kith.feed.access.visible_posts`:
   audience circles, no block, never suppressed). kith's rankers take the *new* ones:
   the last :data:`FEED_WINDOW` and not yet seen on an earlier page; the engagement
   baseline takes everything and scrolls forever.
3. **Rank** with the registry's ranker, fed by :mod:`kith.feed.signals`.
4. **Filter, then page** (:mod:`kith.feed.policy`): "never" removes 100%, "less of" at
   most one per page, posts turned down one by one never return.
5. **Record**, in one transaction: a ``seen`` event per served post (feedback is only
   accepted on seen posts), and a ledger entry per author whose posts ranked this feed
   (and one for the viewer's own activity when it was used).

A cursor is signed (HMAC) and names the user, the ranker, the session start and the
page; the same cursor gives the same page again (a retried request skips nothing).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kith.accounts.models import User
from kith.errors import Conflict, InvalidInput
from kith.feed import explain, queries, signals
from kith.feed.access import visible_posts
from kith.feed.goals import Profile, target_mix, target_sources
from kith.feed.models import CursorKey, Event, Post
from kith.feed.policy import (
    PAGE_SIZE,
    Card,
    CardKind,
    Filtered,
    apply_rules,
    budget_card,
    decode_cursor,
    encode_cursor,
    next_page,
)
from kith.feed.queries import SPACE
from kith.feed.rankers.registry import RANKERS, make_ranker, ranker_names
from kith.privacy.ledger import PROFILE, record_use

if TYPE_CHECKING:
    # numpy-backed; imported when a page is ranked, so importing the API stays light.
    from kith.feed.rankers.base import Post as Candidate
    from kith.feed.rankers.base import RankedItem, Why

# "New posts" for kith's rankers: unseen posts of the last week.
FEED_WINDOW = timedelta(days=7)
# The newest visible posts considered for one page; the aligned ranker ranks 1,000
# candidates in about a millisecond (docs/feed.md, bench/feed.py).
CANDIDATE_LIMIT = 1000
# Pages per session a cursor may name; far beyond any real scroll, small enough to check.
MAX_PAGE = 100_000
CURSOR_KEY_ID = 1
# How far down a kith ranker ranks before filtering (must be > PAGE_SIZE).
RANK_AHEAD = 3 * PAGE_SIZE
# Hyperparameters for live posts, which mostly carry one topic each. The defaults were
# tuned on MovieLens, whose movies carry several genres: there the topic-diversity term
# spreads genres, here it pulls every list toward equal topic shares, against the mix
# the user asked for (20 posts, 90/10 target: 11 of the 90% topic at the defaults, 17
# with these). Calibration is weighted up so stated goals beat small relevance gaps,
# and the shortlist covers more of a friends-only pool.
LIVE_PARAMS: dict[str, dict[str, float | int]] = {
    "aligned": {"lambda_cal": 20.0, "lambda_div": 0.3, "shortlist": 200},
}
FEED_ACTOR = "feed"  # the ledger's actor_kind when kith itself used the data


@dataclass(frozen=True, slots=True)
class CursorState:
    user_id: int
    ranker: str
    session_at: datetime
    page: int
    offset: int = 0

    def encode(self, key: bytes) -> str:
        micros = int(self.session_at.timestamp() * 1_000_000)
        return encode_cursor(
            {"u": self.user_id, "r": self.ranker, "s": micros, "p": self.page, "o": self.offset},
            key=key,
        )


def _cursor_key(db: Session, *, now: datetime, create: bool) -> bytes | None:
    row = db.get(CursorKey, CURSOR_KEY_ID)
    if row is not None:
        return row.key
    if not create:
        return None
    row = CursorKey(id=CURSOR_KEY_ID, key=secrets.token_bytes(32), created_at=now)
    db.add(row)
    return row.key


def _invalid_cursor() -> InvalidInput:
    return InvalidInput("the cursor is not valid", field="cursor")


def decode(db: Session, viewer: User, token: str, *, now: datetime) -> CursorState:
    """The state in a cursor this server signed for this viewer; anything else is refused."""
    key = _cursor_key(db, now=now, create=False)
    if key is None or len(token) > 400:
        raise _invalid_cursor()
    state = decode_cursor(token, key=key)
    u, r, s, p, o = (state.get(k) for k in ("u", "r", "s", "p", "o"))
    if (
        u != viewer.id
        or not isinstance(r, str)
        or r not in ranker_names(user_facing_only=True)
        or not isinstance(s, int)
        or not isinstance(p, int)
        or not isinstance(o, int)
        or not 0 <= p <= MAX_PAGE
        or o < 0
    ):
        raise _invalid_cursor()
    try:
        session_at = datetime.fromtimestamp(s / 1_000_000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise _invalid_cursor() from None
    return CursorState(viewer.id, r, session_at, p, o)


@dataclass(frozen=True, slots=True)
class ServedItem:
    post: Post
    author: User
    circle: str | None
    why: Why
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class ServedPage:
    ranker: str
    infinite_scroll: bool
    items: list[ServedItem]
    card: Card | None
    next_cursor: str | None
    # This page's own cursor (same page again), when it served anything or a card.
    cursor: str | None
    minutes_today: float
    budget_minutes: int
    uses_activity: bool
    target: dict[str, float]
    hidden: int  # posts the user's rules and feedback kept off this page


def _choose_ranker(requested: str | None, goals_ranker: str) -> str:
    name = requested or goals_ranker
    if name not in ranker_names(user_facing_only=True):
        raise InvalidInput(
            f"unknown ranker {name!r}; choose one of "
            f"{', '.join(ranker_names(user_facing_only=True))}",
            field="ranker",
        )
    return name


def _seen_elsewhere(db: Session, viewer: User, state: CursorState) -> set[int]:
    """Posts served before this page of this session: no longer new."""
    rows = db.execute(
        select(Event.post_id, Event.session_at, Event.page).where(
            Event.user_id == viewer.id, Event.kind == "seen"
        )
    ).all()
    return {
        post_id
        for post_id, session_at, page in rows
        if not (session_at == state.session_at and page == state.page)
    }


def _seed(state: CursorState) -> int:
    # Exploration draws are reproducible per page, so a retried page is the same page.
    raw = f"{state.session_at.isoformat()}|{state.page}".encode()
    return int.from_bytes(hashlib.sha256(raw).digest()[:4], "big")


def do_serve_page(
    db: Session,
    viewer: User,
    *,
    ranker: str | None = None,
    cursor: str | None = None,
    now: datetime,
) -> ServedPage:
    goals_view = queries.load_goals(db, viewer)
    goals = goals_view.goals
    if cursor:
        state = decode(db, viewer, cursor, now=now)
        if ranker is not None and ranker != state.ranker:
            raise InvalidInput("this cursor belongs to another ranker's feed", field="ranker")
    else:
        state = CursorState(viewer.id, _choose_ranker(ranker, goals.ranker), now, 0)
    spec = RANKERS[state.ranker]

    learning = queries.uses_activity(db, viewer, now=now)
    events = queries.own_events(db, viewer, now=now) if learning else []
    profile = queries.load_profile(db, viewer, now=now, events=events, learning=learning).profile
    used_profile = profile if learning else Profile()
    mix = target_mix(goals, used_profile, now=now)
    sources = target_sources(goals, used_profile)
    spent = queries.minutes_today(db, viewer, now=now)
    day = queries.budget_day(db, viewer, now=now)
    allowed = goals.daily_budget_minutes + (day.extra_minutes if day else 0)

    def page_of(
        items: list[ServedItem],
        card: Card | None,
        nxt: str | None,
        hidden: int,
        here: str | None,
    ) -> ServedPage:
        return ServedPage(
            ranker=state.ranker,
            infinite_scroll=spec.infinite_scroll,
            items=items,
            card=card,
            next_cursor=nxt,
            cursor=here,
            minutes_today=spent,
            budget_minutes=allowed,
            uses_activity=learning,
            target=mix,
            hidden=hidden,
        )

    if not spec.infinite_scroll and (spent >= allowed or (day is not None and day.stopped)):
        card = budget_card(spent, goals.daily_budget_minutes)
        if day is not None and day.stopped:
            card = Card(CardKind.BUDGET, "You chose to stop for today.", card.choices)
        key = _cursor_key(db, now=now, create=True)
        assert key is not None
        db.commit()
        # The same page, once the user has chosen to continue.
        here = state.encode(key)
        return page_of([], card, here, 0, here)

    query = visible_posts(viewer).order_by(Post.created_at.desc(), Post.id.desc())
    if not spec.infinite_scroll:
        query = query.where(Post.created_at >= now - FEED_WINDOW)
    rows: list[Any] = list(db.execute(query.limit(CANDIDATE_LIMIT)).all())
    if not spec.infinite_scroll:
        old = _seen_elsewhere(db, viewer, state)
        rows = [row for row in rows if row[0].id not in old]

    history = queries.own_history(events) if learning else signals.OwnHistory()
    by_id = {post.id: (post, author, circle) for post, author, circle, _ in rows}
    candidates = []
    for post, _author, circle, builtin in rows:
        features = signals.PostFeatures(
            topics=post.topic_list,
            created_at=post.created_at,
            text=post.text,
            has_link=post.link is not None,
            closeness=signals.closeness(circle, builtin=builtin),
        )
        candidates.append(_candidate(post, features, history, now))
    from kith.feed.rankers.base import CandidateSet, Viewer

    turned_down = queries.turned_down_posts(db, viewer)
    filtered: Filtered[RankedItem] = Filtered([], [])
    if candidates:
        ranking = make_ranker(state.ranker, **LIVE_PARAMS.get(state.ranker, {}))
        who = Viewer(viewer.id, SPACE.vector(mix), sources, seed=_seed(state))
        pool = CandidateSet.from_posts(SPACE, candidates)
        # A kith page needs the top of the ranking only; rank all of it only when the
        # filters leave too little to tell whether more than a page remains.
        k = None if spec.infinite_scroll else min(len(pool), RANK_AHEAD)
        while True:
            ranked = ranking.rank(who, pool, k=k)
            filtered = apply_rules(ranked, goals.rules, now=now, hidden_items=turned_down)
            if k is None or k >= len(pool) or len(filtered.kept) > PAGE_SIZE:
                break
            k = None
    kept = filtered.kept
    if spec.infinite_scroll:
        offset = state.offset % len(kept) if kept else 0
        page = next_page(
            kept,
            offset=offset,
            infinite_scroll=True,
            minutes_today=spent,
            budget_minutes=goals.daily_budget_minutes,
        )
        follow = CursorState(
            viewer.id, state.ranker, state.session_at, state.page + 1, page.next_offset or 0
        )
    else:
        page = next_page(
            kept,
            offset=0,
            infinite_scroll=False,
            minutes_today=spent,
            budget_minutes=goals.daily_budget_minutes,
            continue_past_budget=True,  # checked above, against the extended budget
        )
        follow = CursorState(viewer.id, state.ranker, state.session_at, state.page + 1)
    more = bool(page.items) and (page.next_offset is not None)

    served: list[ServedItem] = []
    for item in page.items:
        post, author, circle = by_id[item.item_id]
        ctx = explain.Context(author.display_name, circle, mix, learning, post.label)
        served.append(ServedItem(post, author, circle, item.why, explain.reasons(item.why, ctx)))
    _record(db, viewer, served, state, learning, now)
    key = _cursor_key(db, now=now, create=True) if served else None
    try:
        db.commit()
    except IntegrityError:
        # Two first-ever pages raced to create the cursor key; the other one won.
        db.rollback()
        raise Conflict("the feed changed while serving; retry", code="concurrent-change") from None
    nxt = follow.encode(key) if key is not None and more else None
    this_page = state.encode(key) if key is not None else None
    return page_of(served, page.card, nxt, len(filtered.hidden), this_page)


def _candidate(
    post: Post, features: signals.PostFeatures, history: signals.OwnHistory, now: datetime
) -> Candidate:
    from kith.feed.rankers.base import Post as Candidate

    return Candidate(
        item_id=post.id,
        author_id=post.author_id,
        topics=post.topic_list,
        created_at=post.created_at,
        in_network=True,  # kith shows friends' posts only
        relevance=signals.relevance(signals.relevance_parts(features, history, now)),
        engagement=signals.engagement(features, history),
    )


def _record(
    db: Session,
    viewer: User,
    served: list[ServedItem],
    state: CursorState,
    learning: bool,
    now: datetime,
) -> None:
    if not served:
        return
    already = set(
        db.scalars(
            select(Event.post_id).where(
                Event.user_id == viewer.id,
                Event.kind == "seen",
                Event.session_at == state.session_at,
                Event.page == state.page,
            )
        )
    )
    for item in served:
        if item.post.id not in already:
            db.add(
                Event(
                    user_id=viewer.id,
                    post_id=item.post.id,
                    kind="seen",
                    at=now,
                    session_at=state.session_at,
                    page=state.page,
                    ranker=state.ranker,
                )
            )
    for author_id in sorted({item.post.author_id for item in served}):
        record_use(
            db,
            subject_id=author_id,
            actor_id=viewer.id,
            what=PROFILE,
            detail="posts",
            purpose="ranked a friend's feed",
            now=now,
        )
    if learning:
        record_use(
            db,
            subject_id=viewer.id,
            actor_id=None,
            actor_kind=FEED_ACTOR,
            what=PROFILE,
            detail="activity",
            purpose="ranked your own feed",
            now=now,
        )
