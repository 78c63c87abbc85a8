"""The choke points of "who's up for it?": whose history may help whom, and invites.

**"Let my history help friends plan with me."** Each user chooses who their history
helps (``partner_settings.history_helps``): ``close`` (the default: the friends they
keep in their close circle), ``friends`` (every friend) or ``nobody``. It is one
setting, shown and changed the same on the privacy page
(:data:`kith.privacy.consent.Purpose.HELP_FRIENDS_PLAN`) and the "Who's up?" page.
Strangers, blocked people and the user's own requests are never "helped": only
friends get suggestions from someone's history.

**Invites** are visible to their host and their invitees only; anyone else gets the
same "no such invite" whether or not it exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kith.accounts.access import is_blocked_either_way
from kith.accounts.models import Friendship, User
from kith.errors import InvalidInput, NotFound
from kith.partners.tables import (
    HELPS_CLOSE,
    HELPS_FRIENDS,
    HELPS_NOBODY,
    Invite,
    Invitee,
    PartnerSettings,
)
from kith.presence.matcher import FriendLink, friend_links

NO_SUCH_INVITE = "no such invite"


def history_scopes(db: Session, owner_ids: Iterable[int]) -> dict[int, str]:
    """Each owner's scope (close / friends / nobody), the default filled in."""
    ids = sorted(set(owner_ids))
    if not ids:
        return {}
    stored = {
        u: scope
        for u, scope in db.execute(
            select(PartnerSettings.user_id, PartnerSettings.history_helps).where(
                PartnerSettings.user_id.in_(ids)
            )
        )
    }
    return {owner: stored.get(owner, HELPS_CLOSE) for owner in ids}


# Every friend's stored scope, by the viewer alone (this runs on every suggestion).
_FRIENDS_SCOPES = select(PartnerSettings.user_id, PartnerSettings.history_helps).where(
    PartnerSettings.user_id.in_(
        select(Friendship.friend_id).where(Friendship.user_id == bindparam("viewer"))
    )
)


def _helps(scope: str, link: FriendLink) -> bool:
    """Whether an owner with ``scope`` helps the viewer of ``link`` (viewer's side)."""
    if scope == HELPS_NOBODY:
        return False
    if scope == HELPS_FRIENDS:
        return True
    return link.they_hold_close  # HELPS_CLOSE: the owner keeps the viewer in "close"


@dataclass(frozen=True, slots=True)
class Helpers:
    """A viewer's friends, split by whether their history may help the viewer plan."""

    links: dict[int, FriendLink]  # friend id -> the friendship, seen from the viewer
    helping: frozenset[int]


def helpers(db: Session, viewer_id: int) -> Helpers:
    """The viewer's friends and which of them let their history help the viewer."""
    links = {link.friend_id: link for link in friend_links(db, viewer_id)}
    stored = {u: scope for u, scope in db.execute(_FRIENDS_SCOPES, {"viewer": viewer_id})}
    helping = frozenset(f for f, link in links.items() if _helps(stored.get(f, HELPS_CLOSE), link))
    return Helpers(links, helping)


def history_helps(db: Session, owner_id: int, viewer_id: int) -> bool:
    """May ``owner_id``'s history help ``viewer_id`` plan? False for anyone not a friend."""
    if owner_id == viewer_id:
        return True  # your own history always helps you
    link = next((lk for lk in friend_links(db, viewer_id) if lk.friend_id == owner_id), None)
    if link is None:
        return False
    return _helps(history_scopes(db, [owner_id])[owner_id], link)


def access_invite(db: Session, viewer: User, invite_id: int) -> tuple[Invite, Invitee | None]:
    """An invite the viewer hosts or was invited to, and the viewer's own invitee row."""
    invite = db.get(Invite, invite_id)
    if invite is None:
        raise NotFound(NO_SUCH_INVITE)
    if invite.host_id == viewer.id:
        return invite, None
    mine = db.get(Invitee, (invite.id, viewer.id))
    if mine is None:
        raise NotFound(NO_SUCH_INVITE)
    if is_blocked_either_way(db, viewer.id, invite.host_id):
        raise NotFound(NO_SUCH_INVITE)  # a block hides the host's plans, old ones too
    return invite, mine


def access_invite_as_invitee(db: Session, viewer: User, invite_id: int) -> tuple[Invite, Invitee]:
    """An invite the viewer was invited to (answering is for invitees only)."""
    invite, mine = access_invite(db, viewer, invite_id)
    if mine is None:
        raise InvalidInput("you host this invite; only the people invited answer it")
    return invite, mine
