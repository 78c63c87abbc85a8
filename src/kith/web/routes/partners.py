""" "Who's up for it?": ranked friends with reasons, one-click invites, and the invites inbox.

The same actions and queries as ``/api/v1/suggestions``, ``/api/v1/invites`` and
``/api/v1/me/calendar``. Times on the page are the viewer's local time (their presence
time zone, UTC until set). "Let my history help friends plan with me" here is the same
setting as on the consent page (``/data/consent``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from kith.accounts.models import User
from kith.clock import utc_now
from kith.errors import InvalidInput, KithError
from kith.partners import actions, queries, schemas
from kith.partners.activities import Activity
from kith.partners.calendar import MAX_FILE_BYTES
from kith.partners.plans import DEFAULT_LIMIT, check_plan
from kith.partners.serving import Suggestions, suggest
from kith.partners.tables import ANSWERS, Invite, Invitee
from kith.presence.models import PresenceSettings
from kith.privacy.consent import HELP_CHOICES
from kith.web.deps import Member, MemberPage, PostedForm

router = APIRouter()

PAGE = "/partners"
INBOX = "/partners/invites"
# Plans people pick from; "anything" asks who is free at all.
CHOICES: tuple[Activity, ...] = tuple(a for a in Activity if a not in (Activity.BAR,))


def _zone(page: Member) -> ZoneInfo:
    settings = page.db.get(PresenceSettings, page.user.id)
    try:
        return ZoneInfo(settings.timezone if settings is not None else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local(day: str, clock: str, zone: ZoneInfo, field: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=zone)
    except ValueError:
        raise InvalidInput(f"{field} is not a date and time", field=field) from None


def _window(day: str, start: str, end: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    starts = _local(day, start, zone, "start")
    ends = _local(day, end, zone, "end")
    if ends <= starts:
        ends += timedelta(days=1)  # "22:00 to 01:00" ends the next day
    return starts, ends


def unanswered_count(db: Session, user: User) -> int:
    """Invites waiting for the user's answer (the nav badge)."""
    count = db.scalar(
        select(func.count())
        .select_from(Invitee)
        .join(Invite, Invite.id == Invitee.invite_id)
        .where(Invitee.user_id == user.id, Invitee.answer.is_(None), Invite.ends_at > utc_now())
    )
    return int(count or 0)


@router.get(PAGE)
def partners_page(
    page: MemberPage,
    activity: str = "",
    day: str = "",
    start: str = "10:00",
    end: str = "12:00",
) -> Response:
    zone = _zone(page)
    local_now = page.now.astimezone(zone)
    day = day or (local_now.date() + timedelta(days=1)).isoformat()
    result: Suggestions | None = None
    error: KithError | None = None
    if activity:
        try:
            starts, ends = _window(day, start, end, zone)
            plan = check_plan(activity, starts, ends, now=page.now)
            result = suggest(
                page.db,
                page.user,
                plan,
                limit=DEFAULT_LIMIT,
                now=page.now,
                path=page.settings.partners_model,
            )
        except KithError as exc:
            error = exc
    return page.render(
        "partners.html",
        choices=CHOICES,
        activity=activity,
        day=day,
        start=start,
        end=end,
        zone=str(zone),
        result=result,
        error=error,
        scope=queries.history_scope(page.db, page.user),
        scopes=list(HELP_CHOICES.items()),
        calendar_kb=min(MAX_FILE_BYTES, page.settings.max_body_bytes) // 1024,
        check_ins=queries.list_check_ins(page.db, page.user, limit=5),
    )


@router.post("/partners/invite")
def send_invite(page: MemberPage, form: PostedForm) -> Response:
    zone = _zone(page)
    activity, day, start, end = (form.text(k) for k in ("activity", "day", "start", "end"))
    back = f"{PAGE}?" + urlencode({"activity": activity, "day": day, "start": start, "end": end})
    names = [n for n in form.text("invitees").split(",") if n]

    def invite() -> Invite:
        starts, ends = _window(day, start, end, zone)
        return actions.do_create_invite(
            page.db,
            page.user,
            activity=activity,
            starts_at=starts,
            ends_at=ends,
            invitees=names,
            now=page.now,
        )

    return page.attempt(back, invite, f"Invite sent to {', '.join(names)}.")


@router.post("/partners/check-in")
def check_in(page: MemberPage, form: PostedForm) -> Response:
    activity = form.text("activity")
    return page.attempt(
        PAGE,
        lambda: actions.do_check_in(page.db, page.user, activity=activity, now=page.now),
        f"Checked in: {activity}.",
    )


@router.post("/partners/settings")
def settings(page: MemberPage, form: PostedForm) -> Response:
    return page.attempt(
        PAGE,
        lambda: actions.do_set_history_helps(
            page.db, page.user, form.text("history_helps"), now=page.now
        ),
        lambda scope: f"Your history now helps: {HELP_CHOICES[scope].lower()}.",
    )


@router.post("/partners/calendar")
async def import_calendar(page: MemberPage) -> Response:
    """An .ics file from the page's upload form (multipart; the CSRF check ran first)."""
    upload = (await page.request.form()).get("ics")
    raw = b""
    if isinstance(upload, UploadFile):
        raw = await upload.read(MAX_FILE_BYTES + 1)

    def load() -> actions.CalendarImport:
        if not raw:
            raise InvalidInput("choose an .ics file to import (it was empty or missing)")
        ics = schemas.calendar_text(raw, "text/calendar")
        return actions.do_import_calendar(page.db, page.user, ics, now=page.now)

    def done(result: actions.CalendarImport) -> str:
        until = result.expires_at.astimezone(_zone(page)).strftime("%d %b %Y")
        times = "time" if result.busy == 1 else "times"
        return f"Calendar imported: {result.busy} busy {times} ahead, kept until {until}."

    return page.attempt(PAGE, load, done)


@router.get(INBOX)
def inbox(page: MemberPage) -> Response:
    views = queries.list_invites(page.db, page.user, now=page.now)
    zone = _zone(page)
    return page.render(
        "partners_invites.html",
        received=[v for v in views if not v.is_host],
        hosted=[v for v in views if v.is_host],
        answers=ANSWERS,
        zone=zone,
        now=page.now,
    )


@router.post("/partners/invites/answer")
def answer(page: MemberPage, form: PostedForm) -> Response:
    invite_id = form.number("invite")
    reply = form.text("answer")

    def act() -> object:
        if invite_id is None:
            raise InvalidInput("no such invite")
        return actions.do_answer_invite(page.db, page.user, invite_id, reply, now=page.now)

    return page.attempt(INBOX, act, f"You answered {reply}.")


@router.get("/partners/invites/{invite_id}.ics")
def invite_ics(page: MemberPage, invite_id: int) -> Response:
    view = queries.invite_view(page.db, page.user, invite_id)
    return page.finish(
        Response(
            schemas.invite_ics(view),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{schemas.ics_filename(view)}"'},
        )
    )
