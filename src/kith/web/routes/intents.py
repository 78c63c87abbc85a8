"""Intents: "up for <activity> now / from-to within <radius>", for chosen circles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter
from starlette.responses import Response

from kith.accounts import queries as accounts
from kith.errors import InvalidInput, NotFound
from kith.presence import actions, queries
from kith.presence.activities import ACTIVITY_MAX, VOCABULARY
from kith.presence.models import Intent
from kith.web.deps import MemberPage, PostedForm
from kith.web.routes.presence import presence_state, read_choice, viewer_times

router = APIRouter()

OTHER = "other"  # the activity select's "something else": the text field says what
# "Now" lasts one of these many hours (an intent lasts at most 24 h).
NOW_HOURS: dict[str, timedelta] = {h: timedelta(hours=int(h)) for h in ("1", "2", "3", "4", "6")}
# Radii offered, in metres, within the action's 100 m to 50 km.
RADII: dict[str, int] = {
    "500": 500,
    "1000": 1000,
    "2000": 2000,
    "5000": 5000,
    "10000": 10000,
    "25000": 25000,
}
DEFAULT_RADIUS = "2000"
DEFAULT_AUDIENCE = "close"
AUDIENCE_FIELD = "audience:"  # one checkbox per circle: the form reader keeps one value per name


def radius_label(metres: int) -> str:
    return f"{metres} m" if metres < 1000 else f"{metres / 1000:g} km"


@dataclass(frozen=True, slots=True)
class Posted:
    intent: Intent
    matched: bool  # the poster got an alert: a friend's intent matches


@router.get("/intents")
def intents_page(page: MemberPage) -> Response:
    state = presence_state(page)
    times = viewer_times(page)
    mine, theirs = queries.list_intents(page.db, page.user, state.live, now=page.now)
    page.db.commit()  # the ledger entries written by list_intents
    return page.render(
        "intents.html",
        mine=mine,
        theirs=theirs,
        circles=accounts.list_circles(page.db, page.user),
        vocabulary=VOCABULARY,
        other=OTHER,
        activity_max=ACTIVITY_MAX,
        now_hours=NOW_HOURS,
        radii=RADII,
        default_radius=DEFAULT_RADIUS,
        default_audience=DEFAULT_AUDIENCE,
        audience_field=AUDIENCE_FIELD,
        radius_label=radius_label,
        times=times,
        later_start=times.field(page.now + timedelta(hours=1)),
        later_end=times.field(page.now + timedelta(hours=3)),
    )


@router.post("/intents")
def post_intent(page: MemberPage, form: PostedForm) -> Response:
    state = presence_state(page)
    times = viewer_times(page)
    circles = accounts.list_circles(page.db, page.user)

    def activity() -> str:
        choice = form.text("activity")
        if choice == OTHER:
            text = form.text("activity_other").strip()
            if not text:
                raise InvalidInput(
                    "write what you are up for, or choose it from the list", field="activity"
                )
            return text
        if choice not in VOCABULARY:
            raise InvalidInput("choose an activity from the list", field="activity")
        return choice

    def window() -> tuple[datetime | None, datetime]:
        when = form.text("when")
        if when == "now":
            return None, page.now + read_choice(form, "hours", NOW_HOURS, "how long")
        if when == "later":
            starts = times.parse(form.text("starts_at"), "The start", "starts_at")
            ends = times.parse(form.text("ends_at"), "The end", "ends_at")
            if ends <= starts:  # said here in words; the action names its fields
                raise InvalidInput("the end must be after the start", field="ends_at")
            return starts, ends
        raise InvalidInput("choose now or a time", field="when")

    def post() -> Posted:
        starts_at, ends_at = window()
        intent, notified = actions.do_create_intent(
            page.db,
            page.user,
            state.live,
            activity=activity(),
            starts_at=starts_at,
            ends_at=ends_at,
            radius_m=read_choice(form, "radius_m", RADII, "a distance"),
            audience=[c.name for c in circles if form.text(AUDIENCE_FIELD + c.name)],
            now=page.now,
        )
        state.events.publish(notified)  # after the action's commit
        return Posted(intent, page.user.id in notified)

    def posted(result: Posted) -> str:
        i = result.intent
        text = f"Posted: up for {i.activity} {times.span(i.starts_at, i.ends_at)}."
        return text + (" It matches a friend's plan: see Alerts." if result.matched else "")

    return page.attempt("/intents", post, posted)


@router.post("/intents/delete")
def delete_intent(page: MemberPage, form: PostedForm) -> Response:
    def delete() -> None:
        intent_id = form.number("id")
        if intent_id is None:
            raise NotFound("no such intent")
        actions.do_delete_intent(page.db, page.user, intent_id)

    return page.attempt("/intents", delete, "Intent deleted.")
