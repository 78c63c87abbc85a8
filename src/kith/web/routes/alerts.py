"""The alerts inbox: live alerts, "I'm in" / "Not now", meetups, and alert settings.

The page opens an ``EventSource`` on ``/api/v1/alerts/stream`` (it accepts the session
cookie). Each event only says "a new alert": the page then fetches the new items from
``/alerts/new`` as HTML rendered by the same template as the page, so an alert reads the
same whether it arrived live or with the page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from kith.errors import InvalidInput
from kith.presence import actions, queries
from kith.presence.actions import Answer
from kith.presence.ics import meetup_ics
from kith.presence.models import PresenceSettings
from kith.presence.policy import MAX_DAILY_BUDGET
from kith.web.deps import Member, MemberPage, PostedForm
from kith.web.routes.presence import presence_state, read_choice, read_int, viewer_times

router = APIRouter()

ANSWERS = {"in": "in", "not_now": "not_now"}
# Ids are 32-bit on every backend.
MAX_ID = 2_147_483_647
# More than anyone's inbox holds: alerts expire and the daily budget is at most 50.
INBOX_LIMIT = 200
TIMEZONE_MAX_CHARS = 64
QUIET_FIELDS = ("quiet_hours.start", "quiet_hours.end")


def _inbox(page: Member, *, after: int, fragment: bool) -> Response:
    """The context both the page and the live fragment render alerts and meetups with."""
    state = presence_state(page)
    entries = queries.list_alerts(
        page.db, page.user, state.live, now=page.now, after_id=after, limit=INBOX_LIMIT
    )
    meetups = queries.list_meetups(page.db, page.user, now=page.now)
    settings = actions.ensure_settings(page.db, page.user.id)
    page.db.commit()  # a first visit creates the default settings
    return page.render(
        "_alerts_new.html" if fragment else "alerts.html",
        alerts=entries,
        last_id=max((e.alert.id for e in entries), default=after),
        meetups=meetups,
        settings=settings,
        times=viewer_times(page),
        max_budget=MAX_DAILY_BUDGET,
    )


@router.get("/alerts")
def alerts_page(page: MemberPage) -> Response:
    return _inbox(page, after=0, fragment=False)


@router.get("/alerts/new")
def new_alerts(page: MemberPage, after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> Response:
    """Alerts after ``after`` as list items, and the meetups list swapped out of band."""
    return _inbox(page, after=after, fragment=True)


@router.post("/alerts/respond")
def respond(page: MemberPage, form: PostedForm) -> Response:
    state = presence_state(page)

    def answer() -> Answer:
        alert_id = form.number("id")
        if alert_id is None:
            raise InvalidInput("no such alert", field="id")
        given = read_choice(form, "answer", ANSWERS, "an answer")
        result = actions.do_respond_alert(
            page.db, page.user, alert_id, given, state.live, now=page.now
        )
        state.events.publish(result.notified)  # after the action's commit
        return result

    def answered(result: Answer) -> str:
        if result.meetup is None:
            return "Answered “not now”. No one is told."
        return f"You're in for {result.meetup.activity}. The meetup is below, with a calendar file."

    return page.attempt("/alerts", answer, answered)


@router.get("/alerts/meetups/{meetup_id}.ics")
def meetup_calendar(page: MemberPage, meetup_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
    meetup, other = queries.access_meetup(page.db, page.user, meetup_id)
    body = meetup_ics(
        meetup_id=meetup.id,
        activity=meetup.activity,
        other_name=other.display_name,
        starts_at=meetup.starts_at,
        ends_at=meetup.ends_at,
        created_at=meetup.created_at,
    )
    return page.finish(
        Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="meetup-{meetup.id}.ics"',
                "Cache-Control": "no-store",
            },
        )
    )


@router.post("/alerts/settings")
def update_settings(page: MemberPage, form: PostedForm) -> Response:
    state = presence_state(page)

    def quiet_hours() -> tuple[str, str] | None:
        start, end = form.text("quiet_start").strip(), form.text("quiet_end").strip()
        if not start and not end:
            return None
        if not start or not end:
            raise InvalidInput(
                "give quiet hours both a start and an end, or leave both empty",
                field="quiet_start",
            )
        return start, end

    def update() -> PresenceSettings:
        timezone = form.text("timezone").strip()
        if len(timezone) > TIMEZONE_MAX_CHARS:
            raise InvalidInput("timezone must be an IANA name like Europe/Lisbon", field="timezone")
        try:
            settings, notified = actions.do_update_alert_settings(
                page.db,
                page.user,
                daily_budget=read_int(
                    form, "daily_budget", "The daily limit", low=0, high=MAX_DAILY_BUDGET
                ),
                quiet_hours=quiet_hours(),
                open_to_hang_out=form.text("open_to_hang_out") == "on",
                timezone=timezone or None,
                now=page.now,
                live=state.live,
            )
        except InvalidInput as exc:
            if exc.field not in QUIET_FIELDS:
                raise
            # The action names its JSON fields; the form says it in words.
            raise InvalidInput("quiet hours must be times like 22:00", field="quiet_start") from exc
        state.events.publish(notified)  # after the action's commit
        return settings

    return page.attempt("/alerts", update, "Alert settings saved.")
