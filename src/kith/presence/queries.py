"""Reads: sharing settings, nearby friends, intents, alerts and meetups.

Whatever concerns another user goes through the grant books and ``visible_cell`` of
``kith.presence.access`` and is written to that user's ledger in the same
transaction; callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kith.accounts.models import Circle, User
from kith.errors import NotFound
from kith.presence.access import (
    GrantBook,
    ghosted,
    grant_books,
    record_location_use,
    visible_cell,
)
from kith.presence.geo import Precision, Separation, cell_at, label, precision_of, separation
from kith.presence.live import LivePositions
from kith.presence.matcher import IN, friend_links
from kith.presence.models import (
    Alert,
    Intent,
    IntentAudience,
    Meetup,
    Presence,
    PresenceSettings,
    SharingGrant,
)
from kith.privacy.ledger import record_use


@dataclass(frozen=True, slots=True)
class GrantEntry:
    name: str
    precision: Precision
    expires_at: datetime | None
    expired: bool


@dataclass(frozen=True, slots=True)
class SharingOverview:
    circles: list[GrantEntry]
    friends: list[GrantEntry]
    ghost: bool
    ghost_until: datetime | None


def sharing_overview(db: Session, user: User, *, now: datetime) -> SharingOverview:
    grants = list(db.scalars(select(SharingGrant).where(SharingGrant.owner_id == user.id)))
    circles = {c.id: c for c in db.scalars(select(Circle).where(Circle.owner_id == user.id))}
    friend_ids = [g.friend_id for g in grants if g.friend_id is not None]
    names = {u.id: u.username for u in db.scalars(select(User).where(User.id.in_(friend_ids)))}
    by_circle = {g.circle_id: g for g in grants if g.circle_id is not None}

    def entry(name: str, grant: SharingGrant | None) -> GrantEntry:
        if grant is None:
            return GrantEntry(name, Precision.OFF, None, False)
        expired = grant.expires_at is not None and grant.expires_at <= now
        return GrantEntry(name, Precision(grant.precision), grant.expires_at, expired)

    settings = db.get(PresenceSettings, user.id)
    return SharingOverview(
        circles=[entry(c.name, by_circle.get(cid)) for cid, c in sorted(circles.items())],
        friends=sorted(
            (entry(names[g.friend_id], g) for g in grants if g.friend_id in names),
            key=lambda e: e.name.lower(),
        ),
        ghost=ghosted(settings, now),
        ghost_until=settings.ghost_until if settings and not settings.ghost_indefinite else None,
    )


def own_cell(db: Session, user_id: int, live: LivePositions, *, now: datetime) -> str | None:
    """The viewer's own position as a cell, to measure friends' distances from."""
    fix = live.get(user_id, now=now)
    if fix is not None:
        return cell_at(fix.lat, fix.lon, Precision.PRECISE)
    stored = db.get(Presence, user_id)
    return stored.cell if stored else None


@dataclass(frozen=True, slots=True)
class SharedLocation:
    user: User
    precision: Precision
    cell: str
    recorded_at: datetime


def shared_locations(
    db: Session, viewer: User, live: LivePositions, *, now: datetime, purpose: str
) -> list[SharedLocation]:
    """Every friend's position the viewer may see, each at its granted precision; ledgered."""
    links = friend_links(db, viewer.id)
    ids = [link.friend_id for link in links]
    books = grant_books(db, ids, now=now)
    presence = {p.user_id: p for p in db.scalars(select(Presence).where(Presence.user_id.in_(ids)))}
    users = {u.id: u for u in db.scalars(select(User).where(User.id.in_(ids)))}
    found = []
    for link in links:
        precision = books[link.friend_id].precision_for(viewer.id, link.their_circle_id)
        stored = presence.get(link.friend_id)
        cell = visible_cell(
            stored.cell if stored else None, precision, live, owner_id=link.friend_id, now=now
        )
        if cell is None or stored is None:
            continue
        record_location_use(db, link.friend_id, viewer.id, precision, purpose, now)
        found.append(
            SharedLocation(users[link.friend_id], precision_of(cell), cell, stored.recorded_at)
        )
    return found


@dataclass(frozen=True, slots=True)
class NearbyFriend:
    user: User
    precision: Precision
    label: str | None
    separation: Separation | None


def nearby(db: Session, viewer: User, live: LivePositions, *, now: datetime) -> list[NearbyFriend]:
    """Friends who share their position with the viewer, nearest first, from cells only."""
    mine = own_cell(db, viewer.id, live, now=now)
    found = []
    for shared in shared_locations(db, viewer, live, now=now, purpose="nearby list"):
        sep = separation(shared.cell, mine) if mine else None
        found.append(NearbyFriend(shared.user, shared.precision, label(sep) if sep else None, sep))
    far = float("inf")
    found.sort(
        key=lambda f: (f.separation.distance_m if f.separation else far, f.user.username_key)
    )
    return found


@dataclass(frozen=True, slots=True)
class IntentEntry:
    intent: Intent
    owner: User
    audience: list[str]
    label: str | None


def list_intents(
    db: Session, viewer: User, live: LivePositions, *, now: datetime
) -> tuple[list[IntentEntry], list[IntentEntry]]:
    """(the viewer's own live intents, friends' live intents the viewer is in the audience of)."""
    own = list(
        db.scalars(
            select(Intent)
            .where(Intent.user_id == viewer.id, Intent.ends_at > now)
            .order_by(Intent.starts_at, Intent.id)
        )
    )
    circle_names = {
        c.id: c.name for c in db.scalars(select(Circle).where(Circle.owner_id == viewer.id))
    }
    audiences: dict[int, list[int]] = {}
    for intent_id, circle_id in db.execute(
        select(IntentAudience.intent_id, IntentAudience.circle_id).where(
            IntentAudience.intent_id.in_([i.id for i in own])
        )
    ):
        audiences.setdefault(intent_id, []).append(circle_id)
    mine = [
        IntentEntry(i, viewer, sorted(circle_names[c] for c in audiences.get(i.id, [])), None)
        for i in own
    ]

    links = {link.friend_id: link for link in friend_links(db, viewer.id)}
    if not links:
        return mine, []
    books = grant_books(db, links, now=now)
    visible_ids = [fid for fid in links if not books[fid].ghost]
    rows = db.execute(
        select(Intent, IntentAudience.circle_id)
        .join(IntentAudience, IntentAudience.intent_id == Intent.id)
        .where(Intent.user_id.in_(visible_ids), Intent.ends_at > now)
        .order_by(Intent.starts_at, Intent.id)
    ).all()
    users = {u.id: u for u in db.scalars(select(User).where(User.id.in_(visible_ids)))}
    presence = {
        p.user_id: p for p in db.scalars(select(Presence).where(Presence.user_id.in_(visible_ids)))
    }
    my_cell = own_cell(db, viewer.id, live, now=now)
    theirs: dict[int, IntentEntry] = {}
    for intent, circle_id in rows:
        link = links[intent.user_id]
        if circle_id != link.their_circle_id or intent.id in theirs:
            continue  # the viewer is not in this circle of the friend's
        where = _label_for(
            db,
            books[intent.user_id],
            presence.get(intent.user_id),
            viewer.id,
            link.their_circle_id,
            my_cell,
            live,
            now,
            purpose="distance to a friend's intent",
        )
        record_use(
            db,
            subject_id=intent.user_id,
            actor_id=viewer.id,
            what="intent",
            detail=intent.activity,
            purpose="shown in friends' intents",
            now=now,
        )
        theirs[intent.id] = IntentEntry(intent, users[intent.user_id], [], where)
    return mine, list(theirs.values())


def _label_for(
    db: Session,
    book: GrantBook,
    stored: Presence | None,
    viewer_id: int,
    circle_id: int,
    my_cell: str | None,
    live: LivePositions,
    now: datetime,
    *,
    purpose: str,
) -> str | None:
    """How far the owner is from the viewer, from cells; ledgered when it says anything."""
    precision = book.precision_for(viewer_id, circle_id)
    cell = visible_cell(
        stored.cell if stored else None, precision, live, owner_id=book.owner_id, now=now
    )
    if cell is None or my_cell is None:
        return None
    record_location_use(db, book.owner_id, viewer_id, precision, purpose, now)
    return label(separation(cell, my_cell))


@dataclass(frozen=True, slots=True)
class AlertEntry:
    alert: Alert
    other: User
    label: str | None


def list_alerts(
    db: Session,
    viewer: User,
    live: LivePositions,
    *,
    now: datetime,
    after_id: int = 0,
    limit: int = 50,
) -> list[AlertEntry]:
    """The viewer's live alerts, re-checked against the other side's current sharing.

    Grants and ghost mode apply to alerts already in the inbox: an alert about
    someone who no longer shares with the viewer is not shown.
    """
    alerts = list(
        db.scalars(
            select(Alert)
            .where(Alert.recipient_id == viewer.id, Alert.id > after_id, Alert.expires_at > now)
            .order_by(Alert.id)
            .limit(limit)
        )
    )
    if not alerts:
        return []
    links = {link.friend_id: link for link in friend_links(db, viewer.id)}
    other_ids = {a.other_id for a in alerts}
    books = grant_books(db, other_ids, now=now)
    users = {u.id: u for u in db.scalars(select(User).where(User.id.in_(other_ids)))}
    presence = {
        p.user_id: p for p in db.scalars(select(Presence).where(Presence.user_id.in_(other_ids)))
    }
    live_intents = set(
        db.scalars(
            select(Intent.id).where(
                Intent.id.in_([a.other_intent_id for a in alerts if a.other_intent_id])
            )
        )
    )
    my_cell = own_cell(db, viewer.id, live, now=now)
    shown = []
    for alert in alerts:
        link = links.get(alert.other_id)
        if link is None:
            continue  # no longer friends (or blocked)
        book = books[alert.other_id]
        where = None
        if alert.kind != IN:
            if book.precision_for(viewer.id, link.their_circle_id) is Precision.OFF:
                continue
            if alert.other_intent_id is not None and alert.other_intent_id not in live_intents:
                continue
            where = _label_for(
                db,
                book,
                presence.get(alert.other_id),
                viewer.id,
                link.their_circle_id,
                my_cell,
                live,
                now,
                purpose="distance in an alert",
            )
        shown.append(AlertEntry(alert, users[alert.other_id], where))
    return shown


def list_meetups(db: Session, viewer: User, *, now: datetime) -> list[tuple[Meetup, User]]:
    meetups = list(
        db.scalars(
            select(Meetup)
            .where(
                or_(Meetup.user_a_id == viewer.id, Meetup.user_b_id == viewer.id),
                Meetup.ends_at > now,
            )
            .order_by(Meetup.starts_at)
        )
    )
    other_ids = {m.user_b_id if m.user_a_id == viewer.id else m.user_a_id for m in meetups}
    users = {u.id: u for u in db.scalars(select(User).where(User.id.in_(other_ids)))}
    return [(m, users[m.user_b_id if m.user_a_id == viewer.id else m.user_a_id]) for m in meetups]


def access_meetup(db: Session, viewer: User, meetup_id: int) -> tuple[Meetup, User]:
    meetup = db.get(Meetup, meetup_id)
    if meetup is None or viewer.id not in (meetup.user_a_id, meetup.user_b_id):
        raise NotFound("no such meetup")
    other_id = meetup.user_b_id if meetup.user_a_id == viewer.id else meetup.user_a_id
    other = db.get(User, other_id)
    if other is None:
        raise NotFound("no such meetup")
    return meetup, other
