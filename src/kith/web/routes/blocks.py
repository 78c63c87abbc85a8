"""People the viewer has blocked: block by username, unblock."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from kith.accounts import actions, queries
from kith.web.deps import MemberPage, PostedForm

router = APIRouter()


@router.get("/blocked")
def blocked_page(page: MemberPage) -> Response:
    return page.render("blocked.html", blocked=queries.list_blocked(page.db, page.user))


@router.post("/blocked")
def block(page: MemberPage, form: PostedForm) -> Response:
    return page.attempt(
        "/blocked",
        lambda: actions.do_block(page.db, page.user, form.text("username"), now=page.now),
        lambda user: f"You blocked {user.username}.",
    )


@router.post("/blocked/remove")
def unblock(page: MemberPage, form: PostedForm) -> Response:
    username = form.text("username")
    return page.attempt(
        "/blocked",
        lambda: actions.do_unblock(page.db, page.user, username),
        f"You unblocked {username}.",
    )
