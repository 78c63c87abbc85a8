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
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    String,
    and_,
    bindparam,
    cast,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from kith.accounts.models import Block, Friendship, User
from kith.errors import InvalidInput
from kith.partners.access import Helpers, access_invite
from kith.partners.activities import ACTIVITY_CODES, UNKNOWN_CODE, parse_activity
from kith.partners.tables import (
    CHECKIN,
    HELPS_CLOSE,
    YES,
    HistoryVersion,
    Invite,
    Invitee,
    PartnerEvent,
    PartnerSettings,
)
from kith.presence.access import GrantBook, grant_books
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
    # The next moment an event joins the window (it is past) or leaves it (retention):
    # the same rows hold until then. None: nothing in view changes with time alone.
    valid_until: datetime | None = None

    def note_change(self, at: datetime) -> None:
        if self.valid_until is None or at < self.valid_until:
            self.valid_until = at

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
    return _timezone_named(settings.timezone if settings is not None else "UTC")


def _timezone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def timezone_of(db: Session, user_id: int) -> ZoneInfo:
    """The user's presence time zone (UTC when unset or unknown)."""
    return _timezone(db.get(PresenceSettings, user_id))


def retention_days(db: Session, user_id: int) -> int:
    """How long the user keeps history (``presence_settings.history_days``)."""
    row = db.get(PresenceSettings, user_id)
    return row.history_days if row is not None else DEFAULT_HISTORY_DAYS


@dataclass(frozen=True, slots=True)
class PlanningInputs:
    """Everything a viewer's planning history depends on, compared cheaply.

    Read fresh on every request, in three small statements. Every access rule is in
    here: who helps (``ids``), how precisely each friend lets the viewer see places
    (``precisions``), each person's retention (``days``), so a revoked grant or setting
    changes the inputs and takes effect on the next request. The content stands in two
    forms: each owner's history version (``partner_history_versions``, changed in the
    same transaction as every write to their events), and a digest of the meetups,
    plans and friendships among the viewer and all their friends (every row's values,
    concatenated by the database). Equal inputs therefore mean the same history at the
    same moment; :class:`kith.partners.serving.HistoryCache` compares them to reuse a
    built history. (The digest covers all friends, not only those who help: a change
    among the others costs a rebuild, never a wrong answer.)
    """

    viewer_id: int
    friends: tuple[int, ...]  # all the viewer's friends (the mutual-friend signals)
    ids: tuple[int, ...]  # the viewer and the friends whose history helps
    days: tuple[tuple[int, int], ...]  # (user, history retention in days)
    tz: str
    cell: str | None  # the viewer's stored position
    precisions: tuple[tuple[int, str], ...]  # (helping friend, precision granted to the viewer)
    versions: tuple[tuple[int, str], ...]  # (user, history version)
    digest: tuple[str | None, ...]  # meetups, plans, friendships, as the database lists them


# Statements built once (they run on every suggestion). Each reads the rows of the
# viewer and all their friends (``people``, a subquery on the viewer alone, so the SQL
# never changes with the number of friends); the caller keeps only the rows of people
# whose history helps.
_VIEWER: BindParameter[int] = bindparam("viewer")
_FRIENDS = select(Friendship.friend_id).where(Friendship.user_id == _VIEWER).scalar_subquery()


def _of_people(column: Any) -> ColumnElement[bool]:
    return or_(column == _VIEWER, column.in_(_FRIENDS))


_SETTINGS_COLUMNS = (
    PresenceSettings.user_id,
    PresenceSettings.history_days,
    PresenceSettings.timezone,
)
_VERSION_COLUMNS = (HistoryVersion.user_id, HistoryVersion.version)
_MEETUP_COLUMNS = (Meetup.id, Meetup.user_a_id, Meetup.user_b_id, Meetup.activity, Meetup.starts_at)
_MEETUPS_OF_PEOPLE = or_(_of_people(Meetup.user_a_id), _of_people(Meetup.user_b_id))
_MEETUPS = select(*_MEETUP_COLUMNS).where(_MEETUPS_OF_PEOPLE).order_by(Meetup.id)
# Plans someone hosted or said yes to, with everyone who said yes.
_PLAN_COLUMNS = (Invite.id, Invite.host_id, Invite.activity, Invite.starts_at, Invitee.user_id)
_PLANS_OF_PEOPLE = and_(
    Invitee.answer == YES,
    or_(
        _of_people(Invite.host_id),
        Invite.id.in_(
            select(Invitee.invite_id).where(Invitee.answer == YES, _of_people(Invitee.user_id))
        ),
    ),
)
_PLANS = (
    select(*_PLAN_COLUMNS)
    .join(Invitee, Invitee.invite_id == Invite.id)
    .where(_PLANS_OF_PEOPLE)
    .order_by(Invite.id, Invitee.user_id)
)
# Friendships between two of the viewer's friends (both ends looked up by key).
_MINE, _OTHER = aliased(Friendship), aliased(Friendship)
_BETWEEN_FRIENDS = (
    select(Friendship.user_id, Friendship.friend_id)
    .join(_MINE, and_(_MINE.user_id == _VIEWER, _MINE.friend_id == Friendship.user_id))
    .join(_OTHER, and_(_OTHER.user_id == _VIEWER, _OTHER.friend_id == Friendship.friend_id))
)


def _texts(*columns: Any) -> ColumnElement[str]:
    """A row as text: its values joined by commas (a NULL as nothing; the first is a key)."""
    text: ColumnElement[str] = cast(columns[0], String)
    for column in columns[1:]:
        text = text + "," + func.coalesce(cast(column, String), "")
    return text


# The viewer's position and the digests, in one statement: what a warm request compares.
_BETWEEN = _BETWEEN_FRIENDS.subquery()
_DIGESTS = select(
    select(Presence.cell).where(Presence.user_id == _VIEWER).scalar_subquery(),
    # Settings and versions as text too: one round trip for everything a warm request reads
    # here (user ids, time zone names and versions hold no "," or ";").
    select(func.aggregate_strings(_texts(*_SETTINGS_COLUMNS), ";"))
    .where(_of_people(PresenceSettings.user_id))
    .scalar_subquery(),
    select(func.aggregate_strings(_texts(*_VERSION_COLUMNS), ";"))
    .where(_of_people(HistoryVersion.user_id))
    .scalar_subquery(),
    select(func.aggregate_strings(_texts(*_MEETUP_COLUMNS), ";"))
    .where(_MEETUPS_OF_PEOPLE)
    .scalar_subquery(),
    select(func.aggregate_strings(_texts(*_PLAN_COLUMNS), ";"))
    .select_from(Invite)
    .join(Invitee, Invitee.invite_id == Invite.id)
    .where(_PLANS_OF_PEOPLE)
    .scalar_subquery(),
    select(func.aggregate_strings(_texts(*_BETWEEN.c), ";")).scalar_subquery(),
)


def _split(text: str | None, columns: int) -> list[list[str]]:
    """The rows of an aggregated text (:func:`_texts` joined by ";"); the last column
    keeps any comma of its own (time zone names are checked, so none has ";")."""
    return [row.split(",", columns - 1) for row in text.split(";")] if text else []


def _plain(rows: Iterable[Any]) -> list[Any]:
    return [tuple(row) for row in rows]


def planning_inputs(
    db: Session, viewer: User, helping: Helpers, books: Mapping[int, GrantBook]
) -> PlanningInputs:
    """The fresh part of a viewer's planning history (``books``: the friends' grants, now)."""
    ids = sorted({viewer.id, *helping.helping})
    wanted = set(ids)
    cell, settings_text, versions_text, *digest = db.execute(_DIGESTS, {"viewer": viewer.id}).one()
    settings = {
        int(user): (int(days), zone)
        for user, days, zone in _split(settings_text, 3)
        if int(user) in wanted
    }
    return PlanningInputs(
        viewer_id=viewer.id,
        friends=tuple(sorted(helping.links)),
        ids=tuple(ids),
        days=tuple((u, settings[u][0] if u in settings else DEFAULT_HISTORY_DAYS) for u in ids),
        tz=settings[viewer.id][1] if viewer.id in settings else "UTC",
        cell=cell,
        precisions=tuple(
            (f, books[f].precision_for(viewer.id, helping.links[f].their_circle_id).value)
            for f in sorted(helping.helping)
        ),
        versions=tuple(
            sorted((int(u), v) for u, v in _split(versions_text, 2) if int(u) in wanted)
        ),
        digest=tuple(digest),
    )


def planning_history(
    db: Session,
    viewer: User,
    helping: Helpers,
    *,
    now: datetime,
    inputs: PlanningInputs | None = None,
) -> PlanningHistory:
    """The viewer's and helping friends' history, through the access rules (see module doc).

    ``inputs`` from :func:`planning_inputs` at the same ``now`` (read here when not given).
    """
    if inputs is None:
        inputs = planning_inputs(db, viewer, helping, grant_books(db, helping.helping, now=now))
    retention = {u: timedelta(days=d) for u, d in inputs.days}
    since = {u: now - keep_for for u, keep_for in retention.items()}
    out = PlanningHistory(tz=_timezone_named(inputs.tz))
    precisions = {f: Precision(p) for f, p in inputs.precisions}

    def keep(user: int, at: datetime) -> bool:
        """Whether an event is in the window now; notes when that changes next."""
        if user not in since:
            return False
        if at >= now:
            out.note_change(at)  # it joins the history once it is past
            return False
        if at < since[user]:
            return False  # past retention: it never comes back
        out.note_change(at + retention[user])  # it leaves the history then
        return True

    # Plain columns, not ORM objects: a suggestion reads thousands of rows.
    codes: dict[str, int] = {}
    places: dict[str, tuple[int, int]] = {}
    for event_id, user_id, activity, cell, at in db.execute(
        select(
            PartnerEvent.id,
            PartnerEvent.user_id,
            PartnerEvent.activity,
            PartnerEvent.cell,
            PartnerEvent.at,
        ).where(PartnerEvent.user_id.in_(inputs.ids), PartnerEvent.at >= min(since.values()))
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

    params = {"viewer": viewer.id}
    for meetup_id, user_a, user_b, activity, at in db.execute(_MEETUPS, params):
        key, code = _meetup_key(meetup_id), _activity_code(activity)
        for user in (user_a, user_b):
            if keep(user, at):
                out.add(user, at, key, key, code)
                out.used.add(user)

    _add_invites(out, _plain(db.execute(_PLANS, params)), keep)
    _add_friendships(out, viewer.id, helping, _plain(db.execute(_BETWEEN_FRIENDS, params)))
    out.used.discard(viewer.id)
    out.cell = _h3(inputs.cell)[0] if inputs.cell is not None else None
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
    out: PlanningHistory, rows: Iterable[tuple[int, int, str, datetime, int]], keep: Keep
) -> None:
    """Everyone who was at a past plan: its host and the invitees who said yes.

    ``rows``: (plan, host, activity, start, someone who said yes); a plan nobody said
    yes to is not history together (the host's plan alone), so it has no rows.
    """
    people: dict[int, list[int]] = defaultdict(list)
    plans: dict[int, tuple[str, datetime]] = {}
    for invite_id, host_id, activity, at, user_id in rows:
        if invite_id not in plans:
            plans[invite_id] = (activity, at)
            people[invite_id].append(host_id)
        people[invite_id].append(user_id)
    for invite_id, (activity, at) in plans.items():
        key, code = _invite_key(invite_id), _activity_code(activity)
        for user in people[invite_id]:
            if keep(user, at):
                out.add(user, at, key, key, code)
                out.used.add(user)


def _add_friendships(
    out: PlanningHistory, viewer_id: int, helping: Helpers, rows: Iterable[tuple[int, int]]
) -> None:
    """Friend lists for the mutual-friend signals, limited to what helping friends allow.

    The viewer's friends are the viewer's own data. A helping friend's friends count only
    where the friend in common helps too (a friendship is both people's data), so a
    friend of a friend who keeps their history private never shows in any signal.
    """
    out.friends[viewer_id] = sorted(helping.links)
    theirs: dict[int, set[int]] = {f: {viewer_id} for f in helping.helping}
    for user_id, friend_id in rows:
        if user_id in theirs and friend_id in theirs:
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
