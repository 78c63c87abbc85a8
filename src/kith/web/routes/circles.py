"""The viewer's circles: the built-in three and their own."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from kith.accounts import actions, queries
from kith.accounts.actions import MAX_CUSTOM_CIRCLES
from kith.web.deps import MemberPage, PostedForm

router = APIRouter()


@router.get("/circles")
def circles_page(page: MemberPage) -> Response:
    circles = queries.list_circles(page.db, page.user)
    return page.render("circles.html", circles=circles, max_custom=MAX_CUSTOM_CIRCLES)


@router.post("/circles")
def create_circle(page: MemberPage, form: PostedForm) -> Response:
    return page.attempt(
        "/circles",
        lambda: actions.do_create_circle(page.db, page.user, form.text("name"), now=page.now),
        lambda circle: f"Circle “{circle.name}” created.",
    )


@router.post("/circles/delete")
def delete_circle(page: MemberPage, form: PostedForm) -> Response:
    name = form.text("name")
    return page.attempt(
        "/circles",
        lambda: actions.do_delete_circle(page.db, page.user, name),
        f"Circle “{name}” deleted; its people are back in Friends.",
    )
