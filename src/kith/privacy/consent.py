"""Consent: one control per purpose, each private until the user says otherwise.

=====================  =============================================  ==================
purpose                what it allows                                 stored in
=====================  =============================================  ==================
share_location         friends in your circles see your position      presence grants
help_friends_plan      your history helps these friends plan with     partner settings
                       you: ``nobody``, ``close`` (close friends, the
                       default) or ``friends`` (all friends)
rank_my_feed           your activity ranks your own feed              ``consents``
keep_history           kith keeps your own location history           PresenceSettings
=====================  =============================================  ==================

Three are views of the capability's own settings, so the control and the behaviour
can never disagree: "share location" is on while any live grant shares something, and
turning it off sets every grant to off at once; "let my history help friends plan
with me" is the one partner setting (:func:`kith.partners.queries.history_scope`),
shown and changed the same here and on the "Who's up?" page. It is the one purpose
that is not off by default: the product's promise is that close friends can plan
with you unless you say no (see docs/privacy.md). Other capabilities ask
:func:`allows` (one user) or :func:`consenting` (many) before using data for a purpose;
for ``help_friends_plan`` that means "helps anyone", and partners applies the scope.
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
from kith.errors import InvalidInput, NotFound
from kith.partners.access import history_scopes
from kith.partners.actions import do_set_history_helps
from kith.partners.queries import history_scope
from kith.partners.tables import HELPS_CLOSE, HELPS_FRIENDS, HELPS_NOBODY
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
        "Let my history help friends plan with me",
        "When one of these friends looks for someone to do something with, what you have "
        "done before may suggest you. Each time it does, it shows in your ledger.",
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
# A switch is on or off; "help friends plan" is whom it helps (HELP_SCOPES).
Setting = bool | str
# The choices of "help friends plan", in the order pages list them.
HELP_CHOICES: dict[str, str] = {
    HELPS_NOBODY: "Nobody",
    HELPS_CLOSE: "My close friends (the default)",
    HELPS_FRIENDS: "All my friends",
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
    if purpose is Purpose.HELP_FRIENDS_PLAN:
        scopes = history_scopes(db, ids)
        return {u for u, scope in scopes.items() if scope != HELPS_NOBODY}
    return set(
        db.scalars(
            select(Consent.user_id).where(Consent.user_id.in_(ids), Consent.rank_my_feed.is_(True))
        )
    )


def allows(db: Session, user_id: int, purpose: Purpose, *, now: datetime | None = None) -> bool:
    """Whether ``user_id`` allows ``purpose`` right now (for ``help_friends_plan``: for
    anyone at all; whom exactly is the partner setting's business)."""
    return user_id in consenting(db, [user_id], purpose, now=now)


def consent_state(db: Session, user: User, *, now: datetime) -> dict[Purpose, Setting]:
    """Each purpose's setting: on/off, and whom for ``help_friends_plan``."""
    state: dict[Purpose, Setting] = {
        purpose: allows(db, user.id, purpose, now=now)
        for purpose in Purpose
        if purpose is not Purpose.HELP_FRIENDS_PLAN
    }
    state[Purpose.HELP_FRIENDS_PLAN] = history_scope(db, user)
    return {purpose: state[purpose] for purpose in Purpose}


def do_set_consent(
    db: Session,
    user: User,
    changes: Mapping[Purpose, Setting],
    live: LivePositions,
    *,
    now: datetime,
) -> dict[Purpose, Setting]:
    """Apply each change at once; purposes not named are left as they are.

    ``help_friends_plan`` takes one of :data:`HELP_CHOICES`, every other purpose a bool;
    anything else is :class:`~kith.errors.InvalidInput`, and nothing is changed.
    """
    switches: dict[Purpose, bool] = {}
    for purpose, value in changes.items():
        if purpose is Purpose.HELP_FRIENDS_PLAN:
            if not isinstance(value, str) or value not in HELP_CHOICES:
                raise InvalidInput(f"choose one of: {', '.join(HELP_CHOICES)}", field=purpose.value)
        elif not isinstance(value, bool):
            raise InvalidInput("a switch is true or false", field=purpose.value)
        else:
            switches[purpose] = value
    scope = changes.get(Purpose.HELP_FRIENDS_PLAN)
    if isinstance(scope, str):
        do_set_history_helps(db, user, scope, now=now)
    if Purpose.RANK_MY_FEED in switches:
        row = db.get(Consent, user.id)
        if row is None:
            row = Consent(user_id=user.id, rank_my_feed=False)
            db.add(row)
        row.rank_my_feed = switches[Purpose.RANK_MY_FEED]
        row.updated_at = now
        db.commit()
    if Purpose.KEEP_HISTORY in switches:
        presence_actions.do_set_history(db, user, keep=switches[Purpose.KEEP_HISTORY], days=None)
    if Purpose.SHARE_LOCATION in switches:
        _set_sharing(db, user, switches[Purpose.SHARE_LOCATION], live, now=now)
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
