"""The choke points: the only ways to get another user's things.

Each ``access_*`` function fetches one kind of thing on behalf of a viewer and
raises :class:`~kith.errors.NotFound` when the viewer may not see it, with the same
message whether or not it exists. One condition per line, so each is easy to audit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from kith.accounts.models import AuthSession, Block, Circle, FriendRequest, Friendship, User
from kith.accounts.rules import CIRCLE_NAME_MAX, circle_key, is_valid_username, username_key
from kith.errors import NotAuthenticated, NotFound
from kith.text import has_unsafe_chars
from kith.types import (
    ACQUAINTANCES_CIRCLE,
    CLOSE_CIRCLE,
    DEFAULT_CIRCLE,
    Relationship,
)

USER_NOT_FOUND = "no such user"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def authenticate_token(db: Session, token: str, *, now: datetime) -> tuple[User, AuthSession]:
    """The user behind a bearer token or session cookie, if the session is live."""
    row = db.execute(
        select(User, AuthSession)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        raise NotAuthenticated("the session is invalid or has ended")
    user, session = row
    if session.expires_at <= now:
        raise NotAuthenticated("the session has expired; log in again")
    return user, session


def find_user(db: Session, username: str) -> User | None:
    """A user by name, case-insensitively; None for names that cannot exist."""
    if not is_valid_username(username):
        return None
    return db.scalar(select(User).where(User.username_key == username_key(username)))


def is_blocked_either_way(db: Session, a: int, b: int) -> bool:
    return (
        db.scalar(
            select(Block.blocker_id).where(
                or_(
                    and_(Block.blocker_id == a, Block.blocked_id == b),
                    and_(Block.blocker_id == b, Block.blocked_id == a),
                )
            )
        )
        is not None
    )


def has_blocked(db: Session, blocker: int, blocked: int) -> bool:
    return (
        db.scalar(
            select(Block.blocker_id).where(Block.blocker_id == blocker, Block.blocked_id == blocked)
        )
        is not None
    )


@dataclass(frozen=True, slots=True)
class Standing:
    """How ``viewer`` stands with ``subject``, seen from the subject's side."""

    relationship: Relationship
    # The subject's circle the viewer sits in, for friends.
    circle_id: int | None = None
    circle_name: str | None = None


_BUILTIN_RELATIONSHIP = {
    CLOSE_CIRCLE: Relationship.CLOSE,
    DEFAULT_CIRCLE: Relationship.FRIEND,
    ACQUAINTANCES_CIRCLE: Relationship.ACQUAINTANCE,
}


def standing(db: Session, viewer: User | None, subject: User) -> Standing:
    if viewer is None:
        return Standing(Relationship.ANONYMOUS)
    if viewer.id == subject.id:
        return Standing(Relationship.SELF)
    if is_blocked_either_way(db, viewer.id, subject.id):
        return Standing(Relationship.BLOCKED)
    row = db.execute(
        select(Circle.id, Circle.name_key, Circle.builtin)
        .join(Friendship, Friendship.circle_id == Circle.id)
        .where(Friendship.user_id == subject.id, Friendship.friend_id == viewer.id)
    ).first()
    if row is None:
        return Standing(Relationship.STRANGER)
    circle_id, name_key, builtin = row
    relationship = _BUILTIN_RELATIONSHIP.get(name_key) if builtin else None
    return Standing(relationship or Relationship.CUSTOM, circle_id, name_key)


def access_profile(db: Session, viewer: User | None, username: str) -> tuple[User, Standing]:
    """Another user's public card (username, display name).

    Anyone logged in may find anyone, except across a block in either direction.
    """
    subject = find_user(db, username)
    if subject is None:
        raise NotFound(USER_NOT_FOUND)
    seen = standing(db, viewer, subject)
    if seen.relationship is Relationship.ANONYMOUS:
        raise NotAuthenticated("log in to see other people")
    if seen.relationship is Relationship.BLOCKED:
        raise NotFound(USER_NOT_FOUND)
    return subject, seen


def access_friend(db: Session, owner: User, username: str) -> tuple[User, Friendship]:
    """A friend of ``owner`` and owner's side of the friendship."""
    friend = find_user(db, username)
    if friend is None:
        raise NotFound("no such friend")
    row = db.get(Friendship, (owner.id, friend.id))
    if row is None:
        raise NotFound("no such friend")
    return friend, row


def access_friend_request(
    db: Session, viewer: User, request_id: int, *, role: str
) -> FriendRequest:
    """A pending request the viewer takes part in as ``role`` ("recipient" or "sender")."""
    request = db.get(FriendRequest, request_id)
    if request is None:
        raise NotFound("no such friend request")
    party = request.to_user_id if role == "recipient" else request.from_user_id
    if party != viewer.id:
        raise NotFound("no such friend request")
    return request


def access_circle(db: Session, owner: User, name: str) -> Circle:
    """One of the owner's own circles; circles are never visible to others."""
    if has_unsafe_chars(name) or len(name) > CIRCLE_NAME_MAX:
        raise NotFound("no such circle")
    circle = db.scalar(
        select(Circle).where(Circle.owner_id == owner.id, Circle.name_key == circle_key(name))
    )
    if circle is None:
        raise NotFound("no such circle")
    return circle
