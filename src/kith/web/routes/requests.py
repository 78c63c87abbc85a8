"""Friend requests: accept or decline what came in, cancel what went out."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.responses import Response

from kith.accounts import actions, queries
from kith.accounts.models import User
from kith.errors import NotFound
from kith.web.deps import Form, MemberPage, PostedForm

router = APIRouter()


def pending_count(db: Session, user: User) -> int:
    """For the nav badge: requests waiting for this user's answer."""
    incoming, _ = queries.list_friend_requests(db, user)
    return len(incoming)


@router.get("/requests")
def requests_page(page: MemberPage) -> Response:
    incoming, outgoing = queries.list_friend_requests(page.db, page.user)
    return page.render("requests.html", incoming=incoming, outgoing=outgoing)


def _request_id(form: Form) -> int:
    request_id = form.number("id")
    if request_id is None:
        raise NotFound("no such friend request")
    return request_id


@router.post("/requests/accept")
def accept(page: MemberPage, form: PostedForm) -> Response:
    # Accepting also happens from the search results on /friends; go back there.
    back = "/friends" if form.text("back") == "/friends" else "/requests"
    return page.attempt(
        back,
        lambda: actions.do_accept_friend_request(
            page.db, page.user, _request_id(form), now=page.now
        ),
        lambda friend: f"You and {friend.display_name} are now friends.",
    )


@router.post("/requests/decline")
def decline(page: MemberPage, form: PostedForm) -> Response:
    return page.attempt(
        "/requests",
        lambda: actions.do_decline_friend_request(page.db, page.user, _request_id(form)),
        "Request declined.",
    )


@router.post("/requests/cancel")
def cancel(page: MemberPage, form: PostedForm) -> Response:
    return page.attempt(
        "/requests",
        lambda: actions.do_cancel_friend_request(page.db, page.user, _request_id(form)),
        "Request cancelled.",
    )
