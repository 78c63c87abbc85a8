"""Who sees where you are: per circle, per-friend overrides, and ghost mode."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter
from starlette.responses import Response

from kith.accounts import queries as accounts
from kith.presence import actions, queries
from kith.presence.geo import Precision
from kith.presence.models import PresenceSettings, SharingGrant
from kith.web.deps import Member, MemberPage, PostedForm
from kith.web.routes.presence import (
    PRECISION_HINTS,
    PRECISION_LABELS,
    PRECISIONS,
    Times,
    presence_state,
    read_choice,
    viewer_times,
)

router = APIRouter()

# How long a grant lasts; "" is until changed. ``precise`` never lasts "until changed":
# the action gives it one hour, and 24 hours is its ceiling (actions.PRECISE_MAX).
DURATIONS: dict[str, timedelta | None] = {
    "": None,
    "1": timedelta(hours=1),
    "3": timedelta(hours=3),
    "8": timedelta(hours=8),
    "24": timedelta(hours=24),
}
DURATION_LABELS: dict[str, str] = {
    "": "until I change it",
    "1": "for 1 hour",
    "3": "for 3 hours",
    "8": "for 8 hours",
    "24": "for 24 hours",
}
# Ghost mode lasts 3 h, 24 h, or until turned off (None).
GHOST_CHOICES: dict[str, tuple[str, timedelta | None]] = {
    "3": ("for 3 hours", timedelta(hours=3)),
    "24": ("for 24 hours", timedelta(hours=24)),
    "always": ("until I turn it off", None),
}
# Pages that show the ghost controls; after a change, go back to the one used.
GHOST_PAGES = ("/sharing", "/map")
PHRASES: dict[Precision, str] = {
    Precision.OFF: "nothing of your position",
    Precision.CITY: "your city",
    Precision.NEIGHBOURHOOD: "your neighbourhood",
    Precision.BLOCK: "your block",
    Precision.PRECISE: "your exact point",
}


def _phrase(grant: SharingGrant, times: Times) -> str:
    precision = Precision(grant.precision)
    until = f" until {times.clock(grant.expires_at)}" if grant.expires_at else ""
    return PHRASES[precision] + (until if precision is not Precision.OFF else "")


def _expiry(form_duration: timedelta | None, now: datetime) -> datetime | None:
    return now + form_duration if form_duration is not None else None


@router.get("/sharing")
def sharing_page(page: MemberPage) -> Response:
    times = viewer_times(page)
    overview = queries.sharing_overview(page.db, page.user, now=page.now)
    friends = accounts.list_friends(page.db, page.user)
    people = {entry.user.username: entry.user for entry in friends}
    return page.render(
        "sharing.html",
        overview=overview,
        friends=friends,
        people=people,
        times=times,
        precisions=list(Precision),
        precision_labels=PRECISION_LABELS,
        precision_hints=PRECISION_HINTS,
        durations=DURATION_LABELS,
        ghost_choices=GHOST_CHOICES,
    )


def _set_grant(page: Member, form: PostedForm, *, circle: bool) -> Response:
    times = viewer_times(page)
    name = form.text("circle" if circle else "username")

    def grant() -> SharingGrant:
        precision = read_choice(form, "precision", PRECISIONS, "a precision")
        expires_at = _expiry(read_choice(form, "duration", DURATIONS, "how long"), page.now)
        if circle:
            return actions.do_set_circle_grant(
                page.db, page.user, name, precision, expires_at, now=page.now
            )
        return actions.do_set_friend_grant(
            page.db, page.user, name, precision, expires_at, now=page.now
        )

    who = f"People in “{name}” now see" if circle else f"@{name} now sees"
    return page.attempt("/sharing", grant, lambda g: f"{who} {_phrase(g, times)}.")


@router.post("/sharing/circle")
def share_with_circle(page: MemberPage, form: PostedForm) -> Response:
    return _set_grant(page, form, circle=True)


@router.post("/sharing/friend")
def share_with_friend(page: MemberPage, form: PostedForm) -> Response:
    return _set_grant(page, form, circle=False)


@router.post("/sharing/friend/remove")
def clear_friend(page: MemberPage, form: PostedForm) -> Response:
    username = form.text("username")
    return page.attempt(
        "/sharing",
        lambda: actions.do_clear_friend_grant(page.db, page.user, username, now=page.now),
        f"@{username} now sees what their circle sees.",
    )


def _back(form: PostedForm) -> str:
    back = form.text("back")
    return back if back in GHOST_PAGES else GHOST_PAGES[0]


@router.post("/sharing/ghost")
def ghost_on(page: MemberPage, form: PostedForm) -> Response:
    state = presence_state(page)
    times = viewer_times(page)

    def hide() -> PresenceSettings:
        _, length = read_choice(form, "ghost", GHOST_CHOICES, "how long to hide")
        until = page.now + length if length is not None else None
        return actions.do_set_ghost(page.db, page.user, until, state.live, now=page.now)

    def hidden(settings: PresenceSettings) -> str:
        if settings.ghost_until is None:
            return "Ghost mode is on until you turn it off: no one sees where you are."
        until = times.clock(settings.ghost_until)
        return f"Ghost mode is on until {until}: no one sees where you are."

    return page.attempt(_back(form), hide, hidden)


@router.post("/sharing/ghost/off")
def ghost_off(page: MemberPage, form: PostedForm) -> Response:
    return page.attempt(
        _back(form),
        lambda: actions.do_clear_ghost(page.db, page.user),
        "Ghost mode is off: friends see you again as you share with them.",
    )
