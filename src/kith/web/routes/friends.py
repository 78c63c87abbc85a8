"""Friends grouped by circle, moving and unfriending, and finding people to ask."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.responses import Response

from kith.accounts import actions, queries
from kith.accounts.models import User
from kith.web.deps import Member, MemberPage, PostedForm

router = APIRouter()

# Matches the API's cap on search text (GET /api/v1/users?q=).
SEARCH_MAX = 60

Status = Literal["friend", "sent", "incoming", "none"]


@dataclass(frozen=True, slots=True)
class Found:
    """A search hit and where the viewer stands with them, to pick the right button."""

    user: User
    status: Status
    request_id: int | None = None


def _find(page: Member, q: str) -> list[Found]:
    hits = queries.search_users(page.db, page.user, q)
    friends = {entry.user.id for entry in queries.list_friends(page.db, page.user)}
    incoming, outgoing = queries.list_friend_requests(page.db, page.user)
    asked_me = {entry.other.id: entry.id for entry in incoming}
    asked_them = {entry.other.id for entry in outgoing}
    found: list[Found] = []
    for user in hits:
        if user.id in friends:
            found.append(Found(user, "friend"))
        elif user.id in asked_me:
            found.append(Found(user, "incoming", asked_me[user.id]))
        elif user.id in asked_them:
            found.append(Found(user, "sent"))
        else:
            found.append(Found(user, "none"))
    return found


def _search(page: Member, q: str) -> tuple[list[Found] | None, str | None]:
    """(hits, problem): hits is None when nothing was asked."""
    q = q.strip()
    if not q:
        return None, None
    if len(q) > SEARCH_MAX:
        return [], f"Search for at most {SEARCH_MAX} characters."
    return _find(page, q), None


def friends_url(q: str = "") -> str:
    q = q.strip()
    return "/friends?" + urlencode({"q": q}) if q else "/friends"


@router.get("/friends")
def friends_page(page: MemberPage, q: str = "") -> Response:
    circles = queries.list_circles(page.db, page.user)
    friends = queries.list_friends(page.db, page.user)
    groups = [(circle, [f for f in friends if f.circle == circle.name]) for circle in circles]
    results, problem = _search(page, q)
    return page.render(
        "friends.html",
        groups=groups,
        circles=circles,
        has_friends=bool(friends),
        q=q,
        results=results,
        search_problem=problem,
    )


@router.get("/friends/search")
def search_people(page: MemberPage, q: str = "") -> Response:
    """The search results alone, for htmx; a plain browser gets the whole page."""
    if page.request.headers.get("hx-request") != "true":
        return page.redirect(friends_url(q))
    results, problem = _search(page, q)
    return page.render("_people.html", q=q, results=results, search_problem=problem)


def _request_sent(username: str) -> Callable[[actions.RequestOutcome], str]:
    def message(outcome: actions.RequestOutcome) -> str:
        if outcome.befriended is not None:
            return f"{outcome.befriended.display_name} had already asked you: you are now friends."
        return f"Friend request sent to {username}."

    return message


@router.post("/friends/request")
def send_request(page: MemberPage, form: PostedForm) -> Response:
    username = form.text("username")
    return page.attempt(
        friends_url(form.text("q")),
        lambda: actions.do_send_friend_request(page.db, page.user, username, now=page.now),
        _request_sent(username),
    )


@router.post("/friends/move")
def move_friend(page: MemberPage, form: PostedForm) -> Response:
    username = form.text("username")
    return page.attempt(
        "/friends",
        lambda: actions.do_move_friend(page.db, page.user, username, form.text("circle")),
        lambda circle: f"Moved {username} to {circle.name}.",
    )


@router.post("/friends/remove")
def unfriend(page: MemberPage, form: PostedForm) -> Response:
    username = form.text("username")
    return page.attempt(
        "/friends",
        lambda: actions.do_unfriend(page.db, page.user, username),
        f"You and {username} are no longer friends.",
    )
