"""Reads of a user's own account data: friends, requests, circles, blocks, search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from kith.accounts.models import Block, Circle, FriendRequest, Friendship, User
from kith.text import has_unsafe_chars
from kith.types import BUILTIN_CIRCLES


@dataclass(frozen=True, slots=True)
class FriendEntry:
    user: User
    circle: str
    since: datetime


def list_friends(db: Session, user: User, *, circle: Circle | None = None) -> list[FriendEntry]:
    query = (
        select(User, Circle.name, Friendship.created_at)
        .join(Friendship, Friendship.friend_id == User.id)
        .join(Circle, Circle.id == Friendship.circle_id)
        .where(Friendship.user_id == user.id)
        .order_by(User.username_key)
    )
    if circle is not None:
        query = query.where(Friendship.circle_id == circle.id)
    return [FriendEntry(u, name, since) for u, name, since in db.execute(query).all()]


@dataclass(frozen=True, slots=True)
class RequestEntry:
    id: int
    other: User
    created_at: datetime


def list_friend_requests(db: Session, user: User) -> tuple[list[RequestEntry], list[RequestEntry]]:
    """(incoming, outgoing) pending requests, oldest first."""
    incoming = db.execute(
        select(FriendRequest.id, User, FriendRequest.created_at)
        .join(User, User.id == FriendRequest.from_user_id)
        .where(FriendRequest.to_user_id == user.id)
        .order_by(FriendRequest.created_at, FriendRequest.id)
    ).all()
    outgoing = db.execute(
        select(FriendRequest.id, User, FriendRequest.created_at)
        .join(User, User.id == FriendRequest.to_user_id)
        .where(FriendRequest.from_user_id == user.id)
        .order_by(FriendRequest.created_at, FriendRequest.id)
    ).all()
    return (
        [RequestEntry(i, u, t) for i, u, t in incoming],
        [RequestEntry(i, u, t) for i, u, t in outgoing],
    )


@dataclass(frozen=True, slots=True)
class CircleEntry:
    name: str
    builtin: bool
    members: int


def list_circles(db: Session, user: User) -> list[CircleEntry]:
    rows = db.execute(
        select(Circle.name, Circle.builtin, func.count(Friendship.friend_id))
        .outerjoin(Friendship, Friendship.circle_id == Circle.id)
        .where(Circle.owner_id == user.id)
        .group_by(Circle.id, Circle.name, Circle.builtin)
        .order_by(Circle.builtin.desc(), Circle.id)
    ).all()
    order = {name: i for i, name in enumerate(BUILTIN_CIRCLES)}
    entries = [CircleEntry(name, builtin, count) for name, builtin, count in rows]
    return sorted(entries, key=lambda c: (not c.builtin, order.get(c.name, 99)))


def list_blocked(db: Session, user: User) -> list[User]:
    return list(
        db.scalars(
            select(User)
            .join(Block, Block.blocked_id == User.id)
            .where(Block.blocker_id == user.id)
            .order_by(User.username_key)
        )
    )


def search_users(db: Session, viewer: User, text: str, *, limit: int = 20) -> list[User]:
    """People whose username or display name starts with ``text``.

    Nobody who blocked the viewer, or whom the viewer blocked, appears.
    """
    needle = text.strip().lower()
    if not needle or has_unsafe_chars(needle):
        return []
    pattern = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    blocked_them = select(Block.blocked_id).where(Block.blocker_id == viewer.id)
    blocked_me = select(Block.blocker_id).where(Block.blocked_id == viewer.id)
    other = aliased(User)
    return list(
        db.scalars(
            select(other)
            .where(
                (other.username_key.like(pattern, escape="\\"))
                | (func.lower(other.display_name).like(pattern, escape="\\")),
                other.id != viewer.id,
                other.id.not_in(blocked_them),
                other.id.not_in(blocked_me),
            )
            .order_by(other.username_key)
            .limit(limit)
        )
    )
