"""Every state change of "who's up for it?": check-ins, invites, answers, the history switch.

Each ``do_*`` commits once. :func:`capture_intents` and :func:`purge_history` add to the
caller's transaction instead (the retention job runs them with its own purge and commits
once for all).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Delete, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from kith.accounts.access import access_friend
from kith.accounts.models import User
from kith.errors import Conflict, InvalidInput, NotFound
from kith.partners.access import access_invite_as_invitee, history_scopes
from kith.partners.activities import Activity, parse_activity
from kith.partners.calendar import parse_busy
from kith.partners.plans import MAX_AHEAD, check_plan
from kith.partners.queries import DEFAULT_HISTORY_DAYS, retention_days, timezone_of
from kith.partners.tables import (
    ANSWERS,
    CHECKIN,
    HELP_SCOPES,
    HELPS_NOBODY,
    INTENT,
    BusyInterval,
    HistoryVersion,
    Invite,
    Invitee,
    PartnerEvent,
    PartnerSettings,
)
from kith.presence.access import grant_book
from kith.presence.geo import FINEST_STORED, Precision, cell_at, check_coordinates, coarsen, coarser
from kith.presence.models import Intent, Presence, PresenceSettings
from kith.text import clean_text

# Limits, each with its reason.
MAX_INVITEES = 20  # an invite is a plan among friends, not a broadcast
NOTE_MAX = 200
# Checking in twice within this time at the same activity is one check-in (double taps,
# retries after a dropped connection).
CHECKIN_DEDUPE = timedelta(minutes=10)


def shared_cell(
    db: Session, user: User, lat: float | None, lon: float | None, *, now: datetime
) -> str | None:
    """Where a check-in is, at the precision the user shares with anyone, never finer
    than a block; None when they share with nobody (or are in ghost mode)."""
    finest = grant_book(db, user.id, now=now).finest()
    if finest is Precision.OFF:
        return None
    precision = coarser(finest, FINEST_STORED)
    if lat is not None and lon is not None:
        check_coordinates(lat, lon)
        return cell_at(lat, lon, precision)
    stored = db.get(Presence, user.id)
    return coarsen(stored.cell, precision) if stored is not None else None


def touch_history(db: Session, user_ids: Iterable[int]) -> None:
    """Give each user's history a new version: call in every transaction that writes
    their ``partner_events``, so a cached history built from the old rows is never reused
    (see :class:`~kith.partners.tables.HistoryVersion`). Adds to the caller's transaction."""
    rows = [{"user_id": u, "version": uuid.uuid4().hex} for u in sorted(set(user_ids))]
    if not rows:
        return
    # One statement, safe against a concurrent first write for the same user.
    upsert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = upsert(HistoryVersion).values(rows)
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[HistoryVersion.user_id], set_={"version": statement.excluded.version}
        )
    )


def do_check_in(
    db: Session,
    user: User,
    *,
    activity: str,
    lat: float | None = None,
    lon: float | None = None,
    now: datetime,
) -> PartnerEvent:
    """ "I'm at <activity>": one history event, at the place as precisely as the user shares."""
    wanted = parse_activity(activity)
    if wanted is Activity.ANYTHING:
        raise InvalidInput("check in to something you are doing, not 'anything'", field="activity")
    if (lat is None) != (lon is None):
        raise InvalidInput("give both lat and lon, or neither", field="lat")
    minute = now.replace(second=0, microsecond=0)
    recent = db.scalar(
        select(PartnerEvent).where(
            PartnerEvent.user_id == user.id,
            PartnerEvent.source == CHECKIN,
            PartnerEvent.activity == wanted.value,
            PartnerEvent.at > minute - CHECKIN_DEDUPE,
        )
    )
    if recent is not None:
        return recent
    event = PartnerEvent(
        user_id=user.id,
        activity=wanted.value,
        cell=shared_cell(db, user, lat, lon, now=now),
        at=minute,
        source=CHECKIN,
        source_id=None,
        created_at=now,
    )
    db.add(event)
    touch_history(db, [user.id])
    db.commit()
    return event


def do_delete_check_in(db: Session, user: User, event_id: int) -> None:
    """Forget one of the user's own check-ins; anyone else's is "no such check-in"."""
    event = db.get(PartnerEvent, event_id)
    if event is None or event.user_id != user.id or event.source != CHECKIN:
        raise NotFound("no such check-in")
    db.delete(event)
    touch_history(db, [user.id])
    db.commit()


def do_set_history_helps(db: Session, user: User, scope: str, *, now: datetime) -> str:
    """Who the user's history may help plan: close friends, all friends, or nobody."""
    if scope not in HELP_SCOPES:
        raise InvalidInput(f"choose one of: {', '.join(HELP_SCOPES)}", field="history_helps")
    row = db.get(PartnerSettings, user.id)
    if row is None:
        row = PartnerSettings(user_id=user.id, history_helps=scope, updated_at=now)
        db.add(row)
    row.history_helps, row.updated_at = scope, now
    db.commit()
    return scope


def do_create_invite(
    db: Session,
    host: User,
    *,
    activity: str,
    starts_at: datetime,
    ends_at: datetime,
    invitees: Sequence[str],
    note: str = "",
    now: datetime,
) -> Invite:
    """Invite a few friends to a plan (usually picked from a suggestion)."""
    plan = check_plan(activity, starts_at, ends_at, now=now)
    if plan.activity is Activity.ANYTHING:
        raise InvalidInput("say what the plan is: pick an activity", field="activity")
    if not invitees:
        raise InvalidInput("invite at least one friend", field="invitees")
    if len(invitees) > MAX_INVITEES:
        raise InvalidInput(f"invite at most {MAX_INVITEES} friends at once", field="invitees")
    text = clean_text(note, field="note", max_len=NOTE_MAX, min_len=0) if note else ""
    friends: dict[int, User] = {}
    for name in invitees:
        friend, _ = access_friend(db, host, name)  # NotFound for anyone not a friend
        friends[friend.id] = friend
    invite = Invite(
        host_id=host.id,
        activity=plan.activity.value,
        starts_at=starts_at,
        ends_at=plan.ends_at,
        note=text,
        created_at=now,
    )
    db.add(invite)
    db.flush()
    for friend_id in sorted(friends):
        db.add(Invitee(invite_id=invite.id, user_id=friend_id, answer=None, answered_at=None))
    db.commit()
    return invite


def do_answer_invite(
    db: Session, user: User, invite_id: int, answer: str, *, now: datetime
) -> Invitee:
    """Answer yes, maybe or no; an answer can change until the plan is over."""
    if answer not in ANSWERS:
        raise InvalidInput(f"answer one of: {', '.join(ANSWERS)}", field="answer")
    invite, mine = access_invite_as_invitee(db, user, invite_id)
    if invite.ends_at <= now:
        raise Conflict("this plan is already over")
    if mine.answer != answer:
        mine.answer, mine.answered_at = answer, now
    db.commit()
    return mine


@dataclass(frozen=True, slots=True)
class CalendarImport:
    busy: int  # intervals kept
    expires_at: datetime


def do_import_calendar(db: Session, user: User, ics: str, *, now: datetime) -> CalendarImport:
    """Replace the user's free/busy with the busy times of an .ics file (no titles kept).

    Only intervals that matter for a plan are kept: not over yet, starting within the
    plans' horizon (:data:`~kith.partners.plans.MAX_AHEAD`). The import expires after
    the user's history retention, like the rest of their partner history.
    """
    intervals = parse_busy(ics, tz=timezone_of(db, user.id))
    expires_at = now + timedelta(days=retention_days(db, user.id))
    db.execute(delete(BusyInterval).where(BusyInterval.user_id == user.id))
    kept = [(s, e) for s, e in intervals if e > now and s < now + MAX_AHEAD]
    db.add_all(
        BusyInterval(user_id=user.id, starts_at=s, ends_at=e, expires_at=expires_at)
        for s, e in kept
    )
    db.commit()
    return CalendarImport(len(kept), expires_at)


def capture_intents(db: Session, *, now: datetime) -> int:
    """Copy intents into their owners' partner history before presence purges them.

    Only for owners whose history helps anyone (not "nobody"): an intent of someone who
    keeps their history to themselves is never kept past its end. Idempotent (one event
    per intent). Adds to the session; the caller commits.
    """
    captured = select(PartnerEvent.source_id).where(PartnerEvent.source == INTENT)
    intents = list(
        db.scalars(select(Intent).where(Intent.starts_at <= now, Intent.id.not_in(captured)))
    )
    scopes = history_scopes(db, {i.user_id for i in intents})
    owners: set[int] = set()
    count = 0
    for intent in intents:
        if scopes[intent.user_id] == HELPS_NOBODY:
            continue
        try:
            activity = parse_activity(intent.activity)
        except InvalidInput:
            continue  # free text ("board games"): no activity the models know
        db.add(
            PartnerEvent(
                user_id=intent.user_id,
                activity=activity.value,
                cell=None,  # an intent names no place
                at=intent.starts_at.replace(second=0, microsecond=0),
                source=INTENT,
                source_id=intent.id,
                created_at=now,
            )
        )
        owners.add(intent.user_id)
        count += 1
    touch_history(db, owners)
    db.flush()
    return count


def purge_history(db: Session, *, now: datetime) -> int:
    """Delete partner history and invites older than each owner's history retention.

    Retention is ``presence_settings.history_days`` (the same setting as the location
    trail); people who never changed it keep :data:`DEFAULT_HISTORY_DAYS`. Adds to the
    session; the caller commits.
    """
    configured = select(PresenceSettings.user_id)
    groups: list[tuple[int, ColumnElement[bool], ColumnElement[bool]]] = [
        (
            DEFAULT_HISTORY_DAYS,
            PartnerEvent.user_id.not_in(configured),
            Invite.host_id.not_in(configured),
        )
    ]
    for days in db.scalars(select(PresenceSettings.history_days).distinct()):
        keeping = configured.where(PresenceSettings.history_days == days)
        groups.append((days, PartnerEvent.user_id.in_(keeping), Invite.host_id.in_(keeping)))
    # No history version changes here: a cached history applies each owner's retention
    # itself (it is rebuilt when its oldest event passes it), so deleting rows past it
    # changes nothing any suggestion sees.
    removed = _run(db, delete(BusyInterval).where(BusyInterval.expires_at <= now))
    for days, events_of, invites_of in groups:
        cutoff = now - timedelta(days=days)
        removed += _run(db, delete(PartnerEvent).where(events_of, PartnerEvent.at < cutoff))
        removed += _run(db, delete(Invite).where(invites_of, Invite.ends_at < cutoff))
    return removed


def _run(db: Session, statement: Delete) -> int:
    result: Any = db.execute(statement)
    return int(result.rowcount or 0)
