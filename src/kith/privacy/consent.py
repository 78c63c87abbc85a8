"""Consent: one switch per purpose, each off (private) until the user turns it on.

=====================  =============================================  ==================
purpose                what "on" allows                               stored in
=====================  =============================================  ==================
share_location         friends in your circles see your position      presence grants
help_friends_plan      your activity history helps friends plan       ``consents``
rank_my_feed           your activity ranks your own feed              ``consents``
keep_history           kith keeps your own location history           PresenceSettings
=====================  =============================================  ==================

Two switches are views of presence settings, so the switch and the behaviour can
never disagree: "share location" is on while any live grant shares something, and
turning it off sets every grant to off at once. Other capabilities ask
:func:`allows` (one user) or :func:`consenting` (many) before using data for a purpose.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kith.accounts.models import Circle, User
from kith.clock import utc_now
from kith.errors import NotFound
from kith.presence import actions as presence_actions
from kith.presence.geo import Precision
from kith.presence.live import LivePositions
from kith.presence.models import PresenceSettings, SharingGrant
from kith.privacy.models import Consent
from kith.types import CLOSE_CIRCLE


class Purpose(enum.StrEnum):
    SHARE_LOCATION = "share_location"
    HELP_FRIENDS_PLAN = "help_friends_plan"
    RANK_MY_FEED = "rank_my_feed"
    KEEP_HISTORY = "keep_history"


@dataclass(frozen=True, slots=True)
class PurposeText:
    label: str
    explain: str


# What the consent page says; one plain sentence each, describing "on".
PURPOSES: dict[Purpose, PurposeText] = {
    Purpose.SHARE_LOCATION: PurposeText(
        "Share my location with my circles",
        "Friends see where you are, only as precisely as you choose per circle. Off turns "
        "every sharing setting off at once; on starts with your city for close friends.",
    ),
    Purpose.HELP_FRIENDS_PLAN: PurposeText(
        "Let my history help friends plan",
        "When a friend looks for someone to do something with, what you have done before "
        "may suggest you. Each time it does, it shows in your ledger.",
    ),
    Purpose.RANK_MY_FEED: PurposeText(
        "Use my activity to rank my own feed",
        "What you read and answer orders your own feed. Nobody else's feed uses it.",
    ),
    Purpose.KEEP_HISTORY: PurposeText(
        "Keep my own location history",
        "kith keeps where you have been, at block precision, for you alone, and forgets it "
        "after your retention period. Off deletes what is kept.",
    ),
}
# Turning location sharing on shares this much, with this circle, and nothing else.
SHARE_ON_CIRCLE = CLOSE_CIRCLE
SHARE_ON_PRECISION = Precision.CITY


def _live_grant_owners(db: Session, user_ids: list[int], now: datetime) -> set[int]:
    rows = db.execute(
        select(SharingGrant.owner_id, SharingGrant.expires_at).where(
            SharingGrant.owner_id.in_(user_ids), SharingGrant.precision != Precision.OFF.value
        )
    )
    return {owner for owner, expires_at in rows if expires_at is None or expires_at > now}


def consenting(
    db: Session, user_ids: Iterable[int], purpose: Purpose, *, now: datetime | None = None
) -> set[int]:
    """Those of ``user_ids`` who allow ``purpose`` right now."""
    ids = sorted(set(user_ids))
    if not ids:
        return set()
    if purpose is Purpose.SHARE_LOCATION:
        return _live_grant_owners(db, ids, now or utc_now())
    if purpose is Purpose.KEEP_HISTORY:
        return set(
            db.scalars(
                select(PresenceSettings.user_id).where(
                    PresenceSettings.user_id.in_(ids), PresenceSettings.keep_history.is_(True)
                )
            )
        )
    column = (
        Consent.help_friends_plan if purpose is Purpose.HELP_FRIENDS_PLAN else Consent.rank_my_feed
    )
    return set(
        db.scalars(select(Consent.user_id).where(Consent.user_id.in_(ids), column.is_(True)))
    )


def allows(db: Session, user_id: int, purpose: Purpose, *, now: datetime | None = None) -> bool:
    """Whether ``user_id`` allows ``purpose`` right now; off unless they turned it on."""
    return user_id in consenting(db, [user_id], purpose, now=now)


def consent_state(db: Session, user: User, *, now: datetime) -> dict[Purpose, bool]:
    return {purpose: allows(db, user.id, purpose, now=now) for purpose in Purpose}


def do_set_consent(
    db: Session,
    user: User,
    changes: Mapping[Purpose, bool],
    live: LivePositions,
    *,
    now: datetime,
) -> dict[Purpose, bool]:
    """Apply each changed switch at once; switches not named are left as they are."""
    stored = {Purpose.HELP_FRIENDS_PLAN, Purpose.RANK_MY_FEED}
    if stored & changes.keys():
        row = db.get(Consent, user.id)
        if row is None:
            row = Consent(user_id=user.id, help_friends_plan=False, rank_my_feed=False)
            db.add(row)
        if Purpose.HELP_FRIENDS_PLAN in changes:
            row.help_friends_plan = changes[Purpose.HELP_FRIENDS_PLAN]
        if Purpose.RANK_MY_FEED in changes:
            row.rank_my_feed = changes[Purpose.RANK_MY_FEED]
        row.updated_at = now
        db.commit()
    if Purpose.KEEP_HISTORY in changes:
        presence_actions.do_set_history(db, user, keep=changes[Purpose.KEEP_HISTORY], days=None)
    if Purpose.SHARE_LOCATION in changes:
        _set_sharing(db, user, changes[Purpose.SHARE_LOCATION], live, now=now)
    return consent_state(db, user, now=now)


def _set_sharing(db: Session, user: User, on: bool, live: LivePositions, *, now: datetime) -> None:
    """Through presence's own actions, so the stored position follows the grants."""
    if on:
        if not allows(db, user.id, Purpose.SHARE_LOCATION, now=now):
            presence_actions.do_set_circle_grant(
                db, user, SHARE_ON_CIRCLE, SHARE_ON_PRECISION, None, now=now
            )
        return
    # Circles first, then per-friend overrides: every step in between shares less.
    circles = db.scalars(
        select(Circle.name)
        .join(SharingGrant, SharingGrant.circle_id == Circle.id)
        .where(SharingGrant.owner_id == user.id, SharingGrant.precision != Precision.OFF.value)
    ).all()
    for name in circles:
        presence_actions.do_set_circle_grant(db, user, name, Precision.OFF, None, now=now)
    friends = db.scalars(
        select(User.username)
        .join(SharingGrant, SharingGrant.friend_id == User.id)
        .where(SharingGrant.owner_id == user.id)
    ).all()
    for username in friends:
        try:
            presence_actions.do_clear_friend_grant(db, user, username, now=now)
        except NotFound:
            # A grant left over for someone who is no longer a friend shares nothing,
            # but it would keep this switch showing "on": remove it as well.
            db.execute(
                delete(SharingGrant).where(
                    SharingGrant.owner_id == user.id,
                    SharingGrant.friend_id.in_(select(User.id).where(User.username == username)),
                )
            )
            db.commit()
    live.forget(user.id)
