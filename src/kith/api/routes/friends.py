"""Friend requests, friends, circles, blocks and finding people."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from kith.accounts import actions, queries
from kith.accounts.access import access_circle, access_profile
from kith.accounts.models import User
from kith.accounts.queries import RequestEntry
from kith.accounts.schemas import (
    CircleCreate,
    CircleIn,
    CircleOut,
    FriendOut,
    FriendRequestOut,
    FriendRequestsOut,
    ProfileOut,
    UsernameIn,
    UserOut,
)
from kith.api.deps import DB, CurrentUser, IdPath, Now

router = APIRouter(tags=["friends"])


def _request_out(entry: RequestEntry, me: User, *, incoming: bool) -> FriendRequestOut:
    sender, recipient = (entry.other, me) if incoming else (me, entry.other)
    return FriendRequestOut(
        id=entry.id,
        status="pending",
        from_user=UserOut.of(sender),
        to_user=UserOut.of(recipient),
        created_at=entry.created_at,
    )


@router.post("/friend-requests", status_code=201, response_model_by_alias=True)
def send_friend_request(body: UsernameIn, user: CurrentUser, db: DB, now: Now) -> FriendRequestOut:
    outcome = actions.do_send_friend_request(db, user, body.username, now=now)
    if outcome.request is None:
        assert outcome.befriended is not None
        return FriendRequestOut(
            id=None,
            status="accepted",
            from_user=UserOut.of(user),
            to_user=UserOut.of(outcome.befriended),
            created_at=now,
        )
    target = db.get(User, outcome.request.to_user_id)
    assert target is not None
    return FriendRequestOut(
        id=outcome.request.id,
        status="pending",
        from_user=UserOut.of(user),
        to_user=UserOut.of(target),
        created_at=outcome.request.created_at,
    )


@router.get("/friend-requests", response_model_by_alias=True)
def list_friend_requests(user: CurrentUser, db: DB) -> FriendRequestsOut:
    incoming, outgoing = queries.list_friend_requests(db, user)
    return FriendRequestsOut(
        incoming=[_request_out(e, user, incoming=True) for e in incoming],
        outgoing=[_request_out(e, user, incoming=False) for e in outgoing],
    )


@router.post("/friend-requests/{request_id}/accept")
def accept_friend_request(request_id: IdPath, user: CurrentUser, db: DB, now: Now) -> FriendOut:
    friend = actions.do_accept_friend_request(db, user, request_id, now=now)
    entry = next(e for e in queries.list_friends(db, user) if e.user.id == friend.id)
    return FriendOut(
        username=friend.username,
        display_name=friend.display_name,
        circle=entry.circle,
        since=entry.since,
    )


@router.post("/friend-requests/{request_id}/decline", status_code=204)
def decline_friend_request(request_id: IdPath, user: CurrentUser, db: DB) -> Response:
    actions.do_decline_friend_request(db, user, request_id)
    return Response(status_code=204)


@router.post("/friend-requests/{request_id}/cancel", status_code=204)
def cancel_friend_request(request_id: IdPath, user: CurrentUser, db: DB) -> Response:
    actions.do_cancel_friend_request(db, user, request_id)
    return Response(status_code=204)


@router.get("/friends")
def list_friends(
    user: CurrentUser,
    db: DB,
    circle: Annotated[str | None, Query(max_length=100)] = None,
) -> list[FriendOut]:
    only = access_circle(db, user, circle) if circle is not None else None
    return [
        FriendOut(
            username=e.user.username,
            display_name=e.user.display_name,
            circle=e.circle,
            since=e.since,
        )
        for e in queries.list_friends(db, user, circle=only)
    ]


@router.put("/friends/{username}/circle")
def move_friend(username: str, body: CircleIn, user: CurrentUser, db: DB) -> FriendOut:
    actions.do_move_friend(db, user, username, body.circle)
    entry = next(
        e for e in queries.list_friends(db, user) if e.user.username_key == username.lower()
    )
    return FriendOut(
        username=entry.user.username,
        display_name=entry.user.display_name,
        circle=entry.circle,
        since=entry.since,
    )


@router.delete("/friends/{username}", status_code=204)
def unfriend(username: str, user: CurrentUser, db: DB) -> Response:
    actions.do_unfriend(db, user, username)
    return Response(status_code=204)


@router.get("/circles")
def list_circles(user: CurrentUser, db: DB) -> list[CircleOut]:
    return [
        CircleOut(name=c.name, builtin=c.builtin, members=c.members)
        for c in queries.list_circles(db, user)
    ]


@router.post("/circles", status_code=201)
def create_circle(body: CircleCreate, user: CurrentUser, db: DB, now: Now) -> CircleOut:
    circle = actions.do_create_circle(db, user, body.name, now=now)
    return CircleOut(name=circle.name, builtin=False, members=0)


@router.delete("/circles/{name}", status_code=204)
def delete_circle(name: str, user: CurrentUser, db: DB) -> Response:
    actions.do_delete_circle(db, user, name)
    return Response(status_code=204)


@router.get("/blocks")
def list_blocks(user: CurrentUser, db: DB) -> list[UserOut]:
    return [UserOut.of(u) for u in queries.list_blocked(db, user)]


@router.post("/blocks", status_code=201)
def block(body: UsernameIn, user: CurrentUser, db: DB, now: Now) -> UserOut:
    return UserOut.of(actions.do_block(db, user, body.username, now=now))


@router.delete("/blocks/{username}", status_code=204)
def unblock(username: str, user: CurrentUser, db: DB) -> Response:
    actions.do_unblock(db, user, username)
    return Response(status_code=204)


@router.get("/users")
def search_users(
    user: CurrentUser, db: DB, q: Annotated[str, Query(min_length=1, max_length=60)]
) -> list[UserOut]:
    return [UserOut.of(u) for u in queries.search_users(db, user, q)]


@router.get("/users/{username}")
def get_profile(username: str, user: CurrentUser, db: DB) -> ProfileOut:
    subject, seen = access_profile(db, user, username)
    # Only the subject's own circle naming is private; the viewer learns "friend" or not.
    relationship = "friend" if seen.relationship.is_friend else seen.relationship.value
    return ProfileOut(
        username=subject.username, display_name=subject.display_name, relationship=relationship
    )
