"""Reads of "who's up for it?": the history a suggestion may use, invites, check-ins.

:func:`planning_history` is the only place that turns kith's tables into the plain
arrays the models see (:class:`~kith.partners.history.History`), and it applies every
rule on the way:

* only the viewer's own history and the history of friends who let theirs help the
  viewer (:func:`kith.partners.access.helpers`); nobody else's rows are even read;
* places no finer than each friend grants the viewer *now* (a check-in stored at block
  precision is coarsened to the friend's grant, or hidden entirely when the grant is
  off or the friend is in ghost mode);
* nothing older than each person's own history retention.

Events become ``(user, time, place key, activity)`` rows: a check-in at its (coarsened)
H3 cell; a meetup (presence) and an accepted invite at a key of their own, shared by
everyone who was there, so "together" means the same to the models as two check-ins at
one venue; a captured intent or a check-in without a visible place at a key nobody
else shares (it still says *when* and *what*).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kith.accounts.models import Block, Friendship, User
from kith.errors import InvalidInput
from kith.partners.access import Helpers, access_invite
from kith.partners.activities import ACTIVITY_CODES, UNKNOWN_CODE, parse_activity
from kith.partners.tables import (
    CHECKIN,
    HELPS_CLOSE,
    YES,
    Invite,
    Invitee,
    PartnerEvent,
    PartnerSettings,
)
from kith.presence.access import grant_books
from kith.presence.geo import Precision, coarsen
from kith.presence.models import Meetup, Presence, PresenceSettings

DEFAULT_HISTORY_DAYS = 30  # presence's default retention
Keep = Callable[[int, datetime], bool]
# Invites shown in the inbox: those not over, and those that ended this recently.
INBOX_RECENT = timedelta(days=7)


@dataclass
class PlanningHistory:
    """What one viewer's suggestion may use, as plain rows for ``History.from_arrays``."""

    tz: ZoneInfo
    user: list[int] = field(default_factory=list)
    time: list[int] = field(default_factory=list)
    place: list[int] = field(default_factory=list)
    area: list[int] = field(default_factory=list)
    activity: list[int] = field(default_factory=list)
    friends: dict[int, list[int]] = field(default_factory=dict)
    # Friends whose own rows (events or friendships) went in: each gets a ledger entry.
    used: set[int] = field(default_factory=set)
    # The viewer's own position (block or coarser), as an H3 integer, for "near here".
    cell: int | None = None

    def add(self, user: int, at: datetime, place: int, area: int, activity: int) -> None:
        self.user.append(user)
        self.time.append(int(at.timestamp()))
        self.place.append(place)
        self.area.append(area)
        self.activity.append(activity)


# Place keys that are not H3 cells are negative (H3 integers are positive), one
# namespace per kind so a meetup and an invite with the same id never "meet".
def _meetup_key(meetup_id: int) -> int:
    return -(meetup_id * 4 + 1)


def _invite_key(invite_id: int) -> int:
    return -(invite_id * 4 + 2)


def _private_key(event_id: int) -> int:
    return -(event_id * 4 + 3)


def _activity_code(text: str) -> int:
    try:
        return ACTIVITY_CODES[parse_activity(text)]
    except InvalidInput:
        return UNKNOWN_CODE


def _h3(cell: str) -> tuple[int, int]:
    """An H3 string as (cell, area) integers, for the models."""
    import h3.api.basic_int as h3int

    from kith.partners.history import area_of

    value = int(h3int.str_to_int(cell))
    return value, area_of(value)


def _timezone(settings: PresenceSettings | None) -> ZoneInfo:
    try:
        return ZoneInfo(settings.timezone if settings is not None else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def timezone_of(db: Session, user_id: int) -> ZoneInfo:
    """The user's presence time zone (UTC when unset or unknown)."""
    return _timezone(db.get(PresenceSettings, user_id))


def retention_days(db: Session, user_id: int) -> int:
    """How long the user keeps history (``presence_settings.history_days``)."""
    row = db.get(PresenceSettings, user_id)
    return row.history_days if row is not None else DEFAULT_HISTORY_DAYS


def planning_history(
    db: Session, viewer: User, helping: Helpers, *, now: datetime
) -> PlanningHistory:
    """The viewer's and helping friends' history, through the access rules (see module doc)."""
    ids = sorted({viewer.id, *helping.helping})
    settings = {
        s.user_id: s
        for s in db.scalars(select(PresenceSettings).where(PresenceSettings.user_id.in_(ids)))
    }
    since = {
        u: now - timedelta(days=settings[u].history_days if u in settings else DEFAULT_HISTORY_DAYS)
        for u in ids
    }
    out = PlanningHistory(tz=_timezone(settings.get(viewer.id)))
    books = grant_books(db, helping.helping, now=now)
    wanted = set(ids)

    def keep(user: int, at: datetime) -> bool:
        return user in wanted and since[user] <= at < now

    # Plain columns, not ORM objects: a suggestion reads thousands of rows and must stay fast.
    codes: dict[str, int] = {}
    places: dict[str, tuple[int, int]] = {}
    precisions = {
        f: books[f].precision_for(viewer.id, helping.links[f].their_circle_id)
        for f in helping.helping
    }
    for event_id, user_id, activity, cell, at in db.execute(
        select(
            PartnerEvent.id,
            PartnerEvent.user_id,
            PartnerEvent.activity,
            PartnerEvent.cell,
            PartnerEvent.at,
        ).where(PartnerEvent.user_id.in_(ids), PartnerEvent.at < now)
    ):
        if not keep(user_id, at):
            continue
        seen = _visible(cell, user_id == viewer.id, precisions.get(user_id, Precision.OFF))
        if seen is None:
            place = area = _private_key(event_id)
        else:
            if seen not in places:
                places[seen] = _h3(seen)
            place, area = places[seen]
        if activity not in codes:
            codes[activity] = _activity_code(activity)
        out.add(user_id, at, place, area, codes[activity])
        out.used.add(user_id)

    for meetup in db.scalars(
        select(Meetup).where(
            or_(Meetup.user_a_id.in_(ids), Meetup.user_b_id.in_(ids)), Meetup.starts_at < now
        )
    ):
        key, code = _meetup_key(meetup.id), _activity_code(meetup.activity)
        for user in (meetup.user_a_id, meetup.user_b_id):
            if keep(user, meetup.starts_at):
                out.add(user, meetup.starts_at, key, key, code)
                out.used.add(user)

    _add_invites(db, out, ids, keep, now=now)
    _add_friendships(db, out, viewer.id, helping)
    out.used.discard(viewer.id)
    stored = db.get(Presence, viewer.id)
    out.cell = _h3(stored.cell)[0] if stored is not None else None
    return out


def _visible(cell: str | None, own: bool, granted: Precision) -> str | None:
    """A stored cell as the viewer may see it now (``granted`` by its owner), or None."""
    if cell is None:
        return None
    if own:
        return cell
    if granted is Precision.OFF:
        return None
    return coarsen(cell, granted)  # never finer than stored, nor than granted


def _add_invites(
    db: Session, out: PlanningHistory, ids: list[int], keep: Keep, *, now: datetime
) -> None:
    """Everyone who was at a past plan: its host and the invitees who said yes."""
    going = (
        select(Invitee.invite_id)
        .where(Invitee.answer == YES, Invitee.user_id.in_(ids))
        .scalar_subquery()
    )
    invites = list(
        db.scalars(
            select(Invite).where(
                Invite.starts_at < now, or_(Invite.host_id.in_(ids), Invite.id.in_(going))
            )
        )
    )
    if not invites:
        return
    yes: dict[int, list[int]] = defaultdict(list)
    for invite_id, user_id in db.execute(
        select(Invitee.invite_id, Invitee.user_id).where(
            Invitee.invite_id.in_([i.id for i in invites]), Invitee.answer == YES
        )
    ):
        yes[invite_id].append(user_id)
    for invite in invites:
        if not yes[invite.id]:
            continue  # nobody came: the host's plan alone is not history together
        key, code = _invite_key(invite.id), _activity_code(invite.activity)
        for user in (invite.host_id, *yes[invite.id]):
            if keep(user, invite.starts_at):
                out.add(user, invite.starts_at, key, key, code)
                out.used.add(user)


def _add_friendships(db: Session, out: PlanningHistory, viewer_id: int, helping: Helpers) -> None:
    """Friend lists for the mutual-friend signals, limited to what helping friends allow.

    The viewer's friends are the viewer's own data. A helping friend's friends count only
    where the friend in common helps too (a friendship is both people's data), so a
    friend of a friend who keeps their history private never shows in any signal.
    """
    out.friends[viewer_id] = sorted(helping.links)
    if not helping.helping:
        return
    theirs: dict[int, set[int]] = {f: {viewer_id} for f in helping.helping}
    for user_id, friend_id in db.execute(
        select(Friendship.user_id, Friendship.friend_id).where(
            Friendship.user_id.in_(helping.helping), Friendship.friend_id.in_(helping.helping)
        )
    ):
        theirs[user_id].add(friend_id)
    for friend, their_friends in theirs.items():
        out.friends[friend] = sorted(their_friends)
        if len(their_friends) > 1:
            out.used.add(friend)


def history_scope(db: Session, user: User) -> str:
    """The user's own choice of whom their history helps (``close`` unless changed)."""
    row = db.get(PartnerSettings, user.id)
    return row.history_helps if row is not None else HELPS_CLOSE


# --- invites ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InviteView:
    """An invite as one viewer may see it.

    ``going`` lists the invitees who said yes: the only answers anyone but the invitee
    sees. ``invited`` (everyone invited) is shown to the host only; an invitee does not
    learn who else was asked and has not said yes.
    """

    invite: Invite
    host: User
    going: list[User]
    invited: list[User] | None
    my_answer: str | None
    is_host: bool


def invite_view(db: Session, viewer: User, invite_id: int) -> InviteView:
    invite, mine = access_invite(db, viewer, invite_id)
    return _views(db, viewer, [(invite, mine)])[0]


def list_invites(db: Session, viewer: User, *, now: datetime) -> list[InviteView]:
    """Invites the viewer hosts or was invited to, not over for long, soonest first."""
    since = now - INBOX_RECENT
    hosted = db.scalars(select(Invite).where(Invite.host_id == viewer.id, Invite.ends_at > since))
    received = db.execute(
        select(Invite, Invitee)
        .join(Invitee, Invitee.invite_id == Invite.id)
        .where(Invitee.user_id == viewer.id, Invite.ends_at > since)
    ).all()
    pairs: list[tuple[Invite, Invitee | None]] = [(i, None) for i in hosted]
    blocked = blocked_with(db, viewer.id, {i.host_id for i, _ in received})
    pairs += [(i, m) for i, m in received if i.host_id not in blocked]
    pairs.sort(key=lambda p: (p[0].starts_at, p[0].id))
    return _views(db, viewer, pairs)


def blocked_with(db: Session, viewer_id: int, others: Collection[int]) -> set[int]:
    if not others:
        return set()
    rows = db.execute(
        select(Block.blocker_id, Block.blocked_id).where(
            or_(
                (Block.blocker_id == viewer_id) & Block.blocked_id.in_(others),
                (Block.blocked_id == viewer_id) & Block.blocker_id.in_(others),
            )
        )
    )
    return {a if b == viewer_id else b for a, b in rows}


def _views(
    db: Session, viewer: User, pairs: Iterable[tuple[Invite, Invitee | None]]
) -> list[InviteView]:
    pairs = list(pairs)
    if not pairs:
        return []
    ids = [i.id for i, _ in pairs]
    rows = db.execute(
        select(Invitee.invite_id, Invitee.answer, User)
        .join(User, User.id == Invitee.user_id)
        .where(Invitee.invite_id.in_(ids))
        .order_by(User.username_key)
    ).all()
    going: dict[int, list[User]] = defaultdict(list)
    invited: dict[int, list[User]] = defaultdict(list)
    for invite_id, answer, user in rows:
        invited[invite_id].append(user)
        if answer == YES:
            going[invite_id].append(user)
    hosts = {
        u.id: u for u in db.scalars(select(User).where(User.id.in_({i.host_id for i, _ in pairs})))
    }
    return [
        InviteView(
            invite=invite,
            host=hosts[invite.host_id],
            going=going[invite.id],
            invited=invited[invite.id] if invite.host_id == viewer.id else None,
            my_answer=mine.answer if mine is not None else None,
            is_host=invite.host_id == viewer.id,
        )
        for invite, mine in pairs
    ]


def list_check_ins(db: Session, user: User, *, limit: int = 20) -> list[PartnerEvent]:
    """The user's own recent check-ins, newest first."""
    return list(
        db.scalars(
            select(PartnerEvent)
            .where(PartnerEvent.user_id == user.id, PartnerEvent.source == CHECKIN)
            .order_by(PartnerEvent.at.desc(), PartnerEvent.id.desc())
            .limit(limit)
        )
    )
