"""Every state change of accounts, friendships, circles and blocks.

One ``do_*`` function per change; each commits its own transaction, so a change is
either wholly there or not at all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kith.accounts.access import (
    USER_NOT_FOUND,
    access_circle,
    access_friend,
    access_friend_request,
    find_user,
    has_blocked,
    hash_token,
    is_blocked_either_way,
)
from kith.accounts.models import (
    AuthSession,
    Block,
    Circle,
    FriendRequest,
    Friendship,
    LoginFailure,
    User,
)
from kith.accounts.passwords import Passwords
from kith.accounts.rules import (
    check_circle_name,
    check_display_name,
    check_password,
    check_username,
    circle_key,
    is_valid_username,
    username_key,
)
from kith.config import Settings
from kith.errors import (
    Conflict,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    RateLimited,
    UsernameTaken,
)
from kith.integrity.access import check_not_suspended
from kith.types import BUILTIN_CIRCLES, DEFAULT_CIRCLE

# A user may keep this many circles of their own besides the built-in ones.
MAX_CUSTOM_CIRCLES = 50


def do_create_user(
    db: Session,
    passwords: Passwords,
    *,
    username: str,
    password: str,
    display_name: str,
    now: datetime,
) -> User:
    check_username(username)
    check_password(password)
    display_name = check_display_name(display_name)
    if find_user(db, username) is not None:
        raise UsernameTaken()
    user = User(
        username=username,
        username_key=username_key(username),
        display_name=display_name,
        password_hash=passwords.hash(password),
        created_at=now,
    )
    db.add(user)
    try:
        db.flush()
        for name in BUILTIN_CIRCLES:
            db.add(Circle(owner_id=user.id, name=name, name_key=name, builtin=True, created_at=now))
        db.commit()
    except IntegrityError as exc:
        # Two sign-ups raced for the same name: the unique key let exactly one through.
        db.rollback()
        raise UsernameTaken() from exc
    return user


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    token: str
    expires_at: datetime


def _recent_failures(db: Session, key: str | None, since: datetime) -> int:
    if key is None:
        return 0
    return (
        db.scalar(select(func.count()).where(LoginFailure.key == key, LoginFailure.at > since)) or 0
    )


def verify_credentials(
    db: Session,
    passwords: Passwords,
    settings: Settings,
    *,
    username: str,
    password: str,
    client: str,
    now: datetime,
) -> User:
    """Verify a username and password, throttled per account and per client.

    Used by log-in and by HTTP Basic clients (OwnTracks), so both share one throttle.
    """
    window = timedelta(seconds=settings.login_window_seconds)
    since = now - window
    keys = _throttle_keys(username, client)
    if (
        _recent_failures(db, keys.account, since) >= settings.login_max_failures_per_account
        or _recent_failures(db, keys.client, since) >= settings.login_max_failures_per_client
    ):
        raise RateLimited(
            "too many failed log-ins; wait a while and try again",
            retry_after=settings.login_window_seconds,
        )
    user = find_user(db, username)
    if not passwords.verify(user.password_hash if user else None, password) or user is None:
        for key in (keys.account, keys.client):
            if key is not None:
                db.add(LoginFailure(key=key, at=now))
        db.execute(delete(LoginFailure).where(LoginFailure.at <= since))
        db.commit()
        raise InvalidCredentials()
    check_not_suspended(db, user.id)  # a right password does not lift a suspension
    db.execute(delete(LoginFailure).where(LoginFailure.key == keys.account))
    return user


@dataclass(frozen=True, slots=True)
class ThrottleKeys:
    account: str | None
    client: str


def _throttle_keys(username: str, client: str) -> ThrottleKeys:
    """The keys failed log-ins are counted under.

    Only a name an account could have gets an account key: any other text names
    nobody, and raw input (NUL, odd Unicode ...) must never become a database value.
    """
    account = f"user:{username_key(username)}" if is_valid_username(username) else None
    return ThrottleKeys(account=account, client=f"client:{client[:60]}")


def do_login(
    db: Session,
    passwords: Passwords,
    settings: Settings,
    *,
    username: str,
    password: str,
    client: str,
    now: datetime,
) -> LoginResult:
    """Check credentials and open a session."""
    user = verify_credentials(
        db, passwords, settings, username=username, password=password, client=client, now=now
    )
    token = "kith_" + secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=settings.session_ttl_days)
    db.add(
        AuthSession(
            user_id=user.id, token_hash=hash_token(token), created_at=now, expires_at=expires_at
        )
    )
    db.execute(
        delete(AuthSession).where(AuthSession.user_id == user.id, AuthSession.expires_at <= now)
    )
    db.commit()
    return LoginResult(user=user, token=token, expires_at=expires_at)


def do_logout(db: Session, session: AuthSession) -> None:
    db.execute(delete(AuthSession).where(AuthSession.id == session.id))
    db.commit()


def _default_circle_id(db: Session, owner_id: int) -> int:
    circle_id = db.scalar(
        select(Circle.id).where(Circle.owner_id == owner_id, Circle.name_key == DEFAULT_CIRCLE)
    )
    assert circle_id is not None, "every account has the built-in circles"
    return circle_id


def _befriend(db: Session, a: User, b: User, now: datetime) -> None:
    db.add(
        Friendship(
            user_id=a.id, friend_id=b.id, circle_id=_default_circle_id(db, a.id), created_at=now
        )
    )
    db.add(
        Friendship(
            user_id=b.id, friend_id=a.id, circle_id=_default_circle_id(db, b.id), created_at=now
        )
    )


def _drop_requests_between(db: Session, a: int, b: int) -> None:
    db.execute(
        delete(FriendRequest).where(
            or_(
                and_(FriendRequest.from_user_id == a, FriendRequest.to_user_id == b),
                and_(FriendRequest.from_user_id == b, FriendRequest.to_user_id == a),
            )
        )
    )


def _drop_friendship(db: Session, a: int, b: int) -> None:
    db.execute(
        delete(Friendship).where(
            or_(
                and_(Friendship.user_id == a, Friendship.friend_id == b),
                and_(Friendship.user_id == b, Friendship.friend_id == a),
            )
        )
    )


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """A sent request, or an immediate friendship when they had already asked us."""

    request: FriendRequest | None
    befriended: User | None


def do_send_friend_request(
    db: Session, sender: User, username: str, *, now: datetime
) -> RequestOutcome:
    target = find_user(db, username)
    if target is None:
        raise NotFound(USER_NOT_FOUND)
    if target.id == sender.id:
        raise InvalidInput("you cannot befriend yourself", field="username")
    if has_blocked(db, target.id, sender.id):
        raise NotFound(USER_NOT_FOUND)  # the blocker stays invisible
    if has_blocked(db, sender.id, target.id):
        raise Conflict("you have blocked this user; unblock them first", code="blocked-by-you")
    if db.get(Friendship, (sender.id, target.id)) is not None:
        raise Conflict("you are already friends", code="already-friends")
    reverse = db.scalar(
        select(FriendRequest).where(
            FriendRequest.from_user_id == target.id, FriendRequest.to_user_id == sender.id
        )
    )
    if reverse is not None:
        # They asked first: asking back is accepting.
        db.delete(reverse)
        _befriend(db, sender, target, now)
        _commit_or_conflict(db)
        return RequestOutcome(request=None, befriended=target)
    existing = db.scalar(
        select(FriendRequest).where(
            FriendRequest.from_user_id == sender.id, FriendRequest.to_user_id == target.id
        )
    )
    if existing is not None:
        raise Conflict("you have already asked this user", code="request-already-sent")
    request = FriendRequest(from_user_id=sender.id, to_user_id=target.id, created_at=now)
    db.add(request)
    _commit_or_conflict(db)
    return RequestOutcome(request=request, befriended=None)


def _commit_or_conflict(db: Session) -> None:
    try:
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise Conflict(
            "that changed at the same time; try again", code="concurrent-change"
        ) from exc


def do_accept_friend_request(
    db: Session, recipient: User, request_id: int, *, now: datetime
) -> User:
    request = access_friend_request(db, recipient, request_id, role="recipient")
    sender = db.get(User, request.from_user_id)
    assert sender is not None
    # Both directions: two people who asked each other at the same instant have two
    # requests, and neither may outlive the friendship.
    _drop_requests_between(db, sender.id, recipient.id)
    if is_blocked_either_way(db, sender.id, recipient.id):
        db.commit()
        raise NotFound("no such friend request")
    if db.get(Friendship, (recipient.id, sender.id)) is None:
        _befriend(db, recipient, sender, now)
    _commit_or_conflict(db)
    return sender


def do_decline_friend_request(db: Session, recipient: User, request_id: int) -> None:
    """Declining is silent: the sender's request simply disappears."""
    request = access_friend_request(db, recipient, request_id, role="recipient")
    db.delete(request)
    db.commit()


def do_cancel_friend_request(db: Session, sender: User, request_id: int) -> None:
    request = access_friend_request(db, sender, request_id, role="sender")
    db.delete(request)
    db.commit()


def do_unfriend(db: Session, user: User, username: str) -> None:
    friend, _ = access_friend(db, user, username)
    _drop_friendship(db, user.id, friend.id)
    db.commit()


def do_move_friend(db: Session, user: User, username: str, circle_name: str) -> Circle:
    _, friendship = access_friend(db, user, username)
    circle = access_circle(db, user, circle_name)
    friendship.circle_id = circle.id
    db.commit()
    return circle


def do_create_circle(db: Session, owner: User, name: str, *, now: datetime) -> Circle:
    name = check_circle_name(name)
    key = circle_key(name)
    exists = db.scalar(select(Circle.id).where(Circle.owner_id == owner.id, Circle.name_key == key))
    if exists is not None:
        raise Conflict("you already have a circle with that name", code="circle-exists")
    custom = (
        db.scalar(
            select(func.count()).where(Circle.owner_id == owner.id, Circle.builtin.is_(False))
        )
        or 0
    )
    if custom >= MAX_CUSTOM_CIRCLES:
        raise Conflict(f"at most {MAX_CUSTOM_CIRCLES} circles of your own", code="too-many-circles")
    circle = Circle(owner_id=owner.id, name=name, name_key=key, builtin=False, created_at=now)
    db.add(circle)
    _commit_or_conflict(db)
    return circle


def do_delete_circle(db: Session, owner: User, name: str) -> None:
    """Remove one of the owner's own circles; its members move to ``friends``."""
    circle = access_circle(db, owner, name)
    if circle.builtin:
        raise Conflict("built-in circles cannot be deleted", code="builtin-circle")
    db.execute(
        update(Friendship)
        .where(Friendship.circle_id == circle.id)
        .values(circle_id=_default_circle_id(db, owner.id))
    )
    db.delete(circle)
    db.commit()


def do_block(db: Session, blocker: User, username: str, *, now: datetime) -> User:
    """Block someone: friendship and pending requests between the two end at once."""
    target = find_user(db, username)
    if target is None:
        raise NotFound(USER_NOT_FOUND)
    if target.id == blocker.id:
        raise InvalidInput("you cannot block yourself", field="username")
    if has_blocked(db, target.id, blocker.id):
        raise NotFound(USER_NOT_FOUND)  # a blocked user cannot find the blocker
    if has_blocked(db, blocker.id, target.id):
        return target  # already blocked: blocking is idempotent
    _drop_friendship(db, blocker.id, target.id)
    _drop_requests_between(db, blocker.id, target.id)
    db.add(Block(blocker_id=blocker.id, blocked_id=target.id, created_at=now))
    _commit_or_conflict(db)
    return target


def do_unblock(db: Session, blocker: User, username: str) -> None:
    target = find_user(db, username)
    if target is None or not has_blocked(db, blocker.id, target.id):
        raise NotFound("you have not blocked that user")
    db.execute(delete(Block).where(Block.blocker_id == blocker.id, Block.blocked_id == target.id))
    db.commit()
