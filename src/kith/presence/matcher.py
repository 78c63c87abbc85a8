"""Orchestration of matching: from one user's friend graph to alerts.

Called inside the transaction of a location or intent update. It walks only the
updated user's friendships (never a global radius scan), builds each pair's
:class:`~kith.presence.matching.Party` through the access rules, asks the pure
matcher, and writes alerts through the pure policy. Returns who got a new alert,
so the caller can wake their streams after the commit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import BindParameter

from kith.accounts.models import Circle, Friendship
from kith.presence.access import GrantBook, grant_books, visible_cell
from kith.presence.geo import Precision
from kith.presence.live import LivePositions
from kith.presence.matching import IntentMatch, IntentView, Party, check_nearby, match_intents
from kith.presence.models import (
    Alert,
    Intent,
    IntentAudience,
    PairState,
    Presence,
    PresenceSettings,
)
from kith.presence.policy import (
    INTENT_COOLDOWN,
    NEARBY_COOLDOWN,
    Preferences,
    cooled_down,
    local_day_start,
    may_alert,
)
from kith.privacy.ledger import record_use
from kith.types import CLOSE_CIRCLE

INTENT = "intent"
NEARBY = "nearby"
IN = "in"
# Kinds that count against the recipient's daily budget ("in" answers always arrive).
BUDGETED = (INTENT, NEARBY)
NEARBY_ALERT_LIFETIME = timedelta(hours=3)
# Positions older than this are not matched: they say where someone was, not where they are.
MATCH_FRESHNESS = timedelta(hours=2)


def preferences(settings: PresenceSettings | None) -> Preferences:
    if settings is None:
        return Preferences()
    return _preferences(
        settings.daily_budget, settings.quiet_start, settings.quiet_end, settings.timezone
    )


def _preferences(
    daily_budget: int, quiet_start: str | None, quiet_end: str | None, timezone: str
) -> Preferences:
    return Preferences(
        daily_budget=daily_budget,
        quiet_start=time.fromisoformat(quiet_start) if quiet_start else None,
        quiet_end=time.fromisoformat(quiet_end) if quiet_end else None,
        timezone=timezone,
    )


@dataclass(frozen=True, slots=True)
class FriendLink:
    friend_id: int
    my_circle_id: int  # where I keep them
    their_circle_id: int  # where they keep me
    i_hold_close: bool
    they_hold_close: bool


# Statements are built once, with bound parameters: this runs on every location update,
# and building a select costs more than SQLite takes to answer it.
_MINE, _THEIRS = aliased(Friendship), aliased(Friendship)
_MY_CIRCLE, _THEIR_CIRCLE = aliased(Circle), aliased(Circle)
_FRIEND_LINKS = (
    select(
        _MINE.friend_id,
        _MINE.circle_id,
        _THEIRS.circle_id,
        _MY_CIRCLE.name_key,
        _THEIR_CIRCLE.name_key,
    )
    .join(_THEIRS, and_(_THEIRS.user_id == _MINE.friend_id, _THEIRS.friend_id == _MINE.user_id))
    .join(_MY_CIRCLE, _MY_CIRCLE.id == _MINE.circle_id)
    .join(_THEIR_CIRCLE, _THEIR_CIRCLE.id == _THEIRS.circle_id)
    .where(_MINE.user_id == bindparam("user_id"))
)
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_FRESH_CELLS = select(Presence.user_id, Presence.cell).where(
    Presence.user_id.in_(_IDS), Presence.recorded_at > bindparam("fresh_after")
)
_ME: BindParameter[int] = bindparam("me")
# The "friend nearby" pairs involving me that are spent until the two part again.
_SPENT_PAIRS = and_(
    PairState.kind == NEARBY,
    PairState.armed.is_(False),
    or_(PairState.recipient_id == _ME, PairState.other_id == _ME),
)
_DISARMED = select(PairState.recipient_id, PairState.other_id).where(_SPENT_PAIRS)
_SETTINGS = select(
    PresenceSettings.user_id,
    PresenceSettings.open_to_hang_out,
    PresenceSettings.daily_budget,
    PresenceSettings.quiet_start,
    PresenceSettings.quiet_end,
    PresenceSettings.timezone,
).where(PresenceSettings.user_id.in_(_IDS))
_LIVE_INTENTS = (
    select(
        Intent.id,
        Intent.user_id,
        Intent.activity,
        Intent.starts_at,
        Intent.ends_at,
        Intent.radius_m,
        IntentAudience.circle_id,
    )
    .join(IntentAudience, IntentAudience.intent_id == Intent.id)
    .where(Intent.user_id.in_(_IDS), Intent.ends_at > bindparam("now"))
)


def friend_links(db: Session, user_id: int) -> list[FriendLink]:
    rows = db.execute(_FRIEND_LINKS, {"user_id": user_id}).all()
    return [
        FriendLink(fid, mc, tc, mk == CLOSE_CIRCLE, tk == CLOSE_CIRCLE)
        for fid, mc, tc, mk, tk in rows
    ]


@dataclass(frozen=True, slots=True)
class _Settings:
    open_to_hang_out: bool
    preferences: Preferences


@dataclass
class _Snapshot:
    books: dict[int, GrantBook]
    cells: dict[int, str]  # fresh stored cells
    settings: dict[int, _Settings]
    intents: dict[int, list[tuple[IntentView, frozenset[int]]]]
    # (recipient, other) pairs whose "friend nearby" alert is spent until they part.
    disarmed: set[tuple[int, int]]

    def preferences(self, user_id: int) -> Preferences:
        found = self.settings.get(user_id)
        return found.preferences if found is not None else Preferences()


def _snapshot(db: Session, ids: list[int], now: datetime) -> _Snapshot:
    # A position older than MATCH_FRESHNESS says where someone was, not where they are.
    fresh = {"ids": ids, "fresh_after": now - MATCH_FRESHNESS}
    cells = {user_id: cell for user_id, cell in db.execute(_FRESH_CELLS, fresh)}
    disarmed = {(r, o) for r, o in db.execute(_DISARMED, {"me": ids[0]})}
    settings = {
        user_id: _Settings(bool(open_), _preferences(budget, q_start, q_end, zone))
        for user_id, open_, budget, q_start, q_end, zone in db.execute(_SETTINGS, {"ids": ids})
    }
    views: dict[int, tuple[int, IntentView]] = {}
    audiences: dict[int, set[int]] = defaultdict(set)
    for intent_id, owner, activity, starts, ends, radius, circle_id in db.execute(
        _LIVE_INTENTS, {"ids": ids, "now": now}
    ):
        if intent_id not in views:
            views[intent_id] = (owner, IntentView(intent_id, activity, starts, ends, radius))
        audiences[intent_id].add(circle_id)
    intents: dict[int, list[tuple[IntentView, frozenset[int]]]] = defaultdict(list)
    for intent_id in sorted(views):
        owner, view = views[intent_id]
        intents[owner].append((view, frozenset(audiences[intent_id])))
    return _Snapshot(grant_books(db, ids, now=now), cells, settings, intents, disarmed)


def _party(
    snap: _Snapshot,
    owner: int,
    other: int,
    circle_for_other: int,
    holds_close: bool,
    live: LivePositions,
    now: datetime,
) -> Party:
    precision = snap.books[owner].precision_for(other, circle_for_other)
    cell = visible_cell(snap.cells.get(owner), precision, live, owner_id=owner, now=now)
    settings = snap.settings.get(owner)
    visible = tuple(
        v for v, audience in snap.intents.get(owner, []) if circle_for_other in audience
    )
    ghost = snap.books[owner].ghost
    return Party(
        user_id=owner,
        cell=cell,
        intents=() if ghost else visible,
        open_to_hang_out=bool(settings and settings.open_to_hang_out) and not ghost,
        holds_other_close=holds_close,
    )


# Whether a user can take part in any match right now: a live intent (to match intents),
# the hang-out flag (to be near), or a spent "friend nearby" pair to re-arm. Most location
# updates come from people with none of these, and then matching has nothing to do.
_TAKES_PART = select(
    or_(
        exists().where(Intent.user_id == _ME, Intent.ends_at > bindparam("now")),
        exists().where(
            PresenceSettings.user_id == _ME, PresenceSettings.open_to_hang_out.is_(True)
        ),
        exists().where(_SPENT_PAIRS),
    )
)


def run_matching(db: Session, user_id: int, live: LivePositions, *, now: datetime) -> set[int]:
    """Alert the user and their friends about what the user's new state makes match."""
    if not db.scalar(_TAKES_PART, {"me": user_id, "now": now}):
        return set()
    links = friend_links(db, user_id)
    if not links:
        return set()
    snap = _snapshot(db, [user_id, *(link.friend_id for link in links)], now)
    notified: set[int] = set()
    for link in links:
        me = _party(snap, user_id, link.friend_id, link.my_circle_id, link.i_hold_close, live, now)
        them = _party(
            snap, link.friend_id, user_id, link.their_circle_id, link.they_hold_close, live, now
        )
        for match in match_intents(me, them, now):
            notified |= _alert_intent_match(db, snap, me, them, match, now)
        notified |= _nearby(db, snap, me, them, now)
    return notified


_SENT_SINCE = select(func.count()).where(
    Alert.recipient_id == bindparam("recipient"),
    Alert.kind.in_(BUDGETED),
    Alert.created_at >= bindparam("since"),
)
_ALREADY_SENT = select(Alert.id).where(
    Alert.recipient_id == bindparam("recipient"), Alert.dedupe_key == bindparam("key")
)


def _sent_today(db: Session, recipient: int, prefs: Preferences, now: datetime) -> int:
    since = local_day_start(now, prefs.timezone)
    return db.scalar(_SENT_SINCE, {"recipient": recipient, "since": since}) or 0


def _pair_state(db: Session, recipient: int, other: int, kind: str) -> PairState:
    state = db.get(PairState, (recipient, other, kind))
    if state is None:
        state = PairState(
            recipient_id=recipient, other_id=other, kind=kind, armed=True, last_alert_at=None
        )
        db.add(state)
    return state


def deliver(
    db: Session,
    prefs: Preferences,
    *,
    recipient: int,
    other: int,
    kind: str,
    dedupe_key: str,
    now: datetime,
    expires_at: datetime,
    activity: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    own_intent_id: int | None = None,
    other_intent_id: int | None = None,
    meetup_id: int | None = None,
    cooldown: timedelta | None = None,
) -> bool:
    """Put one alert in the recipient's inbox, if policy allows; True when it did."""
    if db.scalar(_ALREADY_SENT, {"recipient": recipient, "key": dedupe_key}) is not None:
        return False
    if kind in BUDGETED:
        decision = may_alert(prefs, sent_today=_sent_today(db, recipient, prefs, now), now=now)
        if not decision.deliver:
            return False
    state = _pair_state(db, recipient, other, kind)
    if cooldown is not None and not cooled_down(state.last_alert_at, cooldown, now):
        return False
    state.last_alert_at = now
    db.add(
        Alert(
            recipient_id=recipient,
            other_id=other,
            kind=kind,
            activity=activity,
            starts_at=starts_at,
            ends_at=ends_at,
            own_intent_id=own_intent_id,
            other_intent_id=other_intent_id,
            meetup_id=meetup_id,
            dedupe_key=dedupe_key,
            created_at=now,
            expires_at=expires_at,
        )
    )
    # The recipient is told something derived from the other's position and plans.
    record_use(
        db,
        subject_id=other,
        actor_id=recipient,
        what="intent" if kind == INTENT else "location",
        detail=activity or kind,
        purpose=f"{kind} alert",
        now=now,
    )
    db.flush()
    return True


def _alert_intent_match(
    db: Session, snap: _Snapshot, me: Party, them: Party, match: IntentMatch, now: datetime
) -> set[int]:
    low, high = sorted((match.a_intent.id, match.b_intent.id))
    key = f"intent:{low}:{high}"
    notified: set[int] = set()
    for recipient, other, own, theirs in (
        (me.user_id, them.user_id, match.a_intent, match.b_intent),
        (them.user_id, me.user_id, match.b_intent, match.a_intent),
    ):
        if deliver(
            db,
            snap.preferences(recipient),
            recipient=recipient,
            other=other,
            kind=INTENT,
            dedupe_key=key,
            now=now,
            expires_at=match.ends_at,
            activity=match.activity,
            starts_at=match.starts_at,
            ends_at=match.ends_at,
            own_intent_id=own.id,
            other_intent_id=theirs.id,
            cooldown=INTENT_COOLDOWN,
        ):
            notified.add(recipient)
    return notified


def _nearby(db: Session, snap: _Snapshot, me: Party, them: Party, now: datetime) -> set[int]:
    check = check_nearby(me, them)
    notified: set[int] = set()
    for recipient, other in ((me.user_id, them.user_id), (them.user_id, me.user_id)):
        spent = (recipient, other) in snap.disarmed
        if check.beyond_exit:
            if spent:  # far enough apart again: the next approach may alert
                _pair_state(db, recipient, other, NEARBY).armed = True
            continue
        if not check.within_enter or spent:
            continue
        stamp = now.replace(second=0, microsecond=0).isoformat()
        if deliver(
            db,
            snap.preferences(recipient),
            recipient=recipient,
            other=other,
            kind=NEARBY,
            dedupe_key=f"nearby:{other}:{stamp}",
            now=now,
            expires_at=now + NEARBY_ALERT_LIFETIME,
            cooldown=NEARBY_COOLDOWN,
        ):
            _pair_state(db, recipient, other, NEARBY).armed = False
            notified.add(recipient)
    return notified


__all__ = ["IN", "INTENT", "NEARBY", "Precision", "deliver", "preferences", "run_matching"]
