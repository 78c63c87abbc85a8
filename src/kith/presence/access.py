"""The choke points for presence: what precision a friend gets, and location reads.

Every read of one user's position or intents by another goes through here, and each
such read is written to the subject's ledger in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from kith.accounts.access import Standing, find_user, standing
from kith.accounts.models import User
from kith.errors import NotFound
from kith.presence.geo import Precision, cell_at, coarsen, finer, precision_of, rank
from kith.presence.live import LivePositions
from kith.presence.models import Presence, PresenceSettings, SharingGrant
from kith.privacy.ledger import record_use
from kith.types import Relationship

# One message for "no such user", "not a friend", "shares nothing", "ghost", "blocked":
# a viewer must not be able to tell these apart.
NOTHING_SHARED = "no location to show"


def ghosted(settings: PresenceSettings | None, now: datetime) -> bool:
    if settings is None:
        return False
    return _ghost_on(settings.ghost_indefinite, settings.ghost_until, now)


def _ghost_on(indefinite: bool, until: datetime | None, now: datetime) -> bool:
    return indefinite or (until is not None and until > now)


@dataclass
class GrantBook:
    """One owner's live grants: per circle and per friend, expired ones already dropped."""

    owner_id: int
    ghost: bool
    by_circle: dict[int, Precision] = field(default_factory=dict)
    by_friend: dict[int, Precision] = field(default_factory=dict)

    def precision_for(self, friend_id: int, circle_id: int | None) -> Precision:
        """What ``friend_id`` (whom the owner keeps in ``circle_id``) may see."""
        if self.ghost:
            return Precision.OFF
        if circle_id is None:
            return Precision.OFF  # not a friend
        override = self.by_friend.get(friend_id)
        if override is not None:
            return override
        return self.by_circle.get(circle_id, Precision.OFF)

    def finest(self) -> Precision:
        if self.ghost:
            return Precision.OFF
        best = Precision.OFF
        for precision in (*self.by_circle.values(), *self.by_friend.values()):
            best = finer(best, precision)
        return best


_OWNERS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_GHOSTS = select(
    PresenceSettings.user_id, PresenceSettings.ghost_indefinite, PresenceSettings.ghost_until
).where(PresenceSettings.user_id.in_(_OWNERS))
_GRANTS = select(
    SharingGrant.owner_id,
    SharingGrant.circle_id,
    SharingGrant.friend_id,
    SharingGrant.precision,
    SharingGrant.expires_at,
).where(SharingGrant.owner_id.in_(_OWNERS))


def grant_books(db: Session, owner_ids: Iterable[int], *, now: datetime) -> dict[int, GrantBook]:
    """Every owner's live grants, in two queries. Reads plain columns through statements
    built once: this runs on every location update, for every friend."""
    ids = sorted(set(owner_ids))
    if not ids:
        return {}
    params = {"ids": ids}
    ghosts = {
        user_id
        for user_id, indefinite, until in db.execute(_GHOSTS, params)
        if _ghost_on(indefinite, until, now)
    }
    books = {i: GrantBook(i, i in ghosts) for i in ids}
    for owner_id, circle_id, friend_id, precision, expires_at in db.execute(_GRANTS, params):
        if expires_at is not None and expires_at <= now:
            continue  # an expired grant is as if it were never given
        book = books[owner_id]
        if friend_id is not None:
            book.by_friend[friend_id] = Precision(precision)
        elif circle_id is not None:
            book.by_circle[circle_id] = Precision(precision)
    return books


def grant_book(db: Session, owner_id: int, *, now: datetime) -> GrantBook:
    return grant_books(db, [owner_id], now=now)[owner_id]


def visible_cell(
    stored: str | None,
    precision: Precision,
    live: LivePositions,
    *,
    owner_id: int,
    now: datetime,
) -> str | None:
    """The owner's cell as a viewer granted ``precision`` may see it, or None.

    ``stored`` is the owner's stored cell (None when nothing is stored)."""
    if precision is Precision.OFF or stored is None:
        return None
    if precision is Precision.PRECISE:
        fix = live.get(owner_id, now=now)
        if fix is not None:
            return cell_at(fix.lat, fix.lon, Precision.PRECISE)
        return stored  # the point is forgotten: fall back to the stored cell
    # Never finer than what is stored, never finer than what is granted.
    if rank(precision_of(stored)) <= rank(precision):
        return stored
    return coarsen(stored, precision)


@dataclass(frozen=True, slots=True)
class SeenLocation:
    owner: User
    precision: Precision
    cell: str
    recorded_at: datetime


def access_location(
    db: Session,
    viewer: User,
    username: str,
    live: LivePositions,
    *,
    now: datetime,
    purpose: str = "shown to a friend",
) -> SeenLocation:
    """A friend's latest position at the precision they grant the viewer; ledgered."""
    owner = find_user(db, username)
    if owner is None:
        raise NotFound(NOTHING_SHARED)
    seen = standing(db, viewer, owner)
    cell, precision, stored = location_for(db, owner, viewer, seen, live, now=now)
    if cell is None or stored is None:
        raise NotFound(NOTHING_SHARED)
    record_location_use(db, owner.id, viewer.id, precision, purpose, now)
    return SeenLocation(owner, precision_of(cell), cell, stored.recorded_at)


def location_for(
    db: Session,
    owner: User,
    viewer: User,
    seen: Standing,
    live: LivePositions,
    *,
    now: datetime,
) -> tuple[str | None, Precision, Presence | None]:
    if seen.relationship is Relationship.SELF:
        stored = db.get(Presence, owner.id)
        return (stored.cell if stored else None), Precision.BLOCK, stored
    if not seen.relationship.is_friend:
        return None, Precision.OFF, None
    precision = grant_book(db, owner.id, now=now).precision_for(viewer.id, seen.circle_id)
    if precision is Precision.OFF:
        return None, precision, None
    stored = db.get(Presence, owner.id)
    cell = visible_cell(
        stored.cell if stored else None, precision, live, owner_id=owner.id, now=now
    )
    return cell, precision, stored


def record_location_use(
    db: Session,
    owner_id: int,
    viewer_id: int | None,
    precision: Precision,
    purpose: str,
    now: datetime,
    *,
    actor_kind: str = "user",
) -> None:
    record_use(
        db,
        subject_id=owner_id,
        actor_id=viewer_id,
        actor_kind=actor_kind,
        what="location",
        detail=precision.value,
        purpose=purpose,
        now=now,
    )
