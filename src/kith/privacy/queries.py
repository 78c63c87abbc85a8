"""Reads of a user's own ledger: filtered, paged newest first, and summarised.

Only the subject reads their ledger, so every function here takes the owner and
selects ``subject_id == owner.id``; there is no way to name someone else's.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from kith.accounts.access import find_user
from kith.accounts.models import User
from kith.clock import ensure_utc
from kith.errors import InvalidInput
from kith.presence.models import PresenceSettings
from kith.privacy.ledger import USER
from kith.privacy.models import LedgerEntry
from kith.privacy.summaries import Use, summarise

DELETED_ACCOUNT = "a deleted account"
# A page holds at most this many entries; the API and the web page both cap here.
PAGE_MAX = 200
SUMMARY_PERIOD = timedelta(days=7)
# The summary names at most this many groups; the full list is one click away.
SUMMARY_MAX_GROUPS = 50


def actor_label(actor_kind: str, actor: User | None) -> str:
    """Who used the data, as the subject reads it; never the name of a deleted account."""
    if actor is not None:
        return actor.display_name
    if actor_kind == USER:
        return DELETED_ACCOUNT  # the viewer's account is gone: actor_id was set to NULL
    return f"kith ({actor_kind})"


@dataclass(frozen=True, slots=True)
class LedgerRow:
    entry: LedgerEntry
    actor: User | None

    @property
    def actor_label(self) -> str:
        return actor_label(self.entry.actor_kind, self.actor)


@dataclass(frozen=True, slots=True)
class LedgerFilter:
    what: str | None = None
    actor: str | None = None  # a username
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class LedgerPage:
    rows: list[LedgerRow]
    next_cursor: str | None


def encode_cursor(entry: LedgerEntry) -> str:
    raw = f"{entry.at.isoformat()}|{entry.id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (at, id) the next page starts below; a cursor we did not write is refused."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at_text, id_text = base64.urlsafe_b64decode(padded.encode("ascii")).decode().split("|")
        at, entry_id = datetime.fromisoformat(at_text), int(id_text)
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidInput("cursor is not one this server gave out", field="cursor") from exc
    if at.tzinfo is None or not 0 < entry_id <= 2_147_483_647:
        raise InvalidInput("cursor is not one this server gave out", field="cursor")
    return at, entry_id


def _filtered(owner: User, actor_id: int | None, flt: LedgerFilter) -> Select[LedgerEntry]:
    query = select(LedgerEntry).where(LedgerEntry.subject_id == owner.id)
    if flt.what:
        query = query.where(LedgerEntry.what == flt.what)
    if flt.actor:
        query = query.where(LedgerEntry.actor_id == actor_id)
    if flt.since is not None:
        query = query.where(LedgerEntry.at >= ensure_utc(flt.since))
    if flt.until is not None:
        query = query.where(LedgerEntry.at < ensure_utc(flt.until))
    return query


def ledger_page(
    db: Session,
    owner: User,
    flt: LedgerFilter,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> LedgerPage:
    """The owner's ledger, newest first, ``limit`` entries from ``cursor`` on."""
    limit = max(1, min(limit, PAGE_MAX))
    actor_id: int | None = None
    if flt.actor:
        actor = find_user(db, flt.actor)
        if actor is None:
            return LedgerPage([], None)  # nobody by that name ever read anything
        actor_id = actor.id
    query = _filtered(owner, actor_id, flt)
    if cursor:
        at, entry_id = decode_cursor(cursor)
        query = query.where(
            or_(LedgerEntry.at < at, and_(LedgerEntry.at == at, LedgerEntry.id < entry_id))
        )
    entries = list(
        db.scalars(query.order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc()).limit(limit + 1))
    )
    more = len(entries) > limit
    entries = entries[:limit]
    actors = _users(db, {e.actor_id for e in entries if e.actor_id is not None})
    rows = [LedgerRow(e, actors.get(e.actor_id) if e.actor_id else None) for e in entries]
    return LedgerPage(rows, encode_cursor(entries[-1]) if more and entries else None)


def _users(db: Session, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in db.scalars(select(User).where(User.id.in_(ids)))}


def recent_uses(db: Session, owner: User, *, now: datetime) -> list[Use]:
    """The owner's ledger over the last week, grouped by who, what, detail and why."""
    since = now - SUMMARY_PERIOD
    rows = db.execute(
        select(
            LedgerEntry.actor_id,
            LedgerEntry.actor_kind,
            LedgerEntry.what,
            LedgerEntry.detail,
            LedgerEntry.purpose,
            func.count(),
            func.max(LedgerEntry.at),
        )
        .where(LedgerEntry.subject_id == owner.id, LedgerEntry.at >= since)
        .group_by(
            LedgerEntry.actor_id,
            LedgerEntry.actor_kind,
            LedgerEntry.what,
            LedgerEntry.detail,
            LedgerEntry.purpose,
        )
        .order_by(func.count().desc())
        .limit(SUMMARY_MAX_GROUPS)
    ).all()
    actors = _users(db, {r[0] for r in rows if r[0] is not None})
    uses = []
    for actor_id, kind, what, detail, purpose, count, last_at in rows:
        actor = actors.get(actor_id) if actor_id is not None else None
        uses.append(
            Use(
                actor=actor_label(kind, actor),
                actor_is_person=kind == USER,
                what=what,
                detail=detail,
                purpose=purpose,
                count=int(count),
                # SQLite hands MAX() back as text; the column type does not apply to it.
                last_at=_as_datetime(last_at),
            )
        )
    return uses


def _as_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return ensure_utc(value)
    return ensure_utc(datetime.fromisoformat(str(value)))


def week_summary(db: Session, owner: User, *, now: datetime) -> list[str]:
    settings = db.get(PresenceSettings, owner.id)
    timezone = settings.timezone if settings is not None else "UTC"
    return summarise(recent_uses(db, owner, now=now), timezone=timezone)
