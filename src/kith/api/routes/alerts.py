"""The alerts inbox, its live stream, answers, and meetups with calendar files."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from kith.accounts.access import authenticate_token
from kith.accounts.models import User
from kith.accounts.schemas import UserOut
from kith.api.deps import DB, AppState, CurrentUser, IdPath, Now, State, bearer_token, state_of
from kith.errors import NotAuthenticated
from kith.presence import actions, queries
from kith.presence.ics import meetup_ics
from kith.presence.models import Meetup
from kith.presence.queries import AlertEntry
from kith.presence.schemas import AlertOut, AnswerIn, AnswerOut, MeetupOut
from kith.web.session import SESSION_COOKIE

router = APIRouter(tags=["alerts"])
HEARTBEAT_SECONDS = 15.0
# A stream looks at the inbox when woken. Wake-ups are not lost in one process, and the
# Redis listener wakes every stream when it (re)subscribes; this slow re-check, at a
# random phase per stream, only bounds the delay if an event is lost some other way.
RECHECK_SECONDS = (45.0, 75.0)


def _spread(low: float, high: float) -> float:
    """Timing jitter, not a secret: the standard generator is right here."""
    return random.uniform(low, high)  # noqa: S311


def alert_out(entry: AlertEntry) -> AlertOut:
    a = entry.alert
    return AlertOut(
        id=a.id,
        kind=a.kind,
        other=UserOut.of(entry.other),
        activity=a.activity,
        starts_at=a.starts_at,
        ends_at=a.ends_at,
        label=entry.label,
        created_at=a.created_at.replace(second=0, microsecond=0),
        answer=a.answer,
        meetup_id=a.meetup_id,
    )


def meetup_out(meetup: Meetup, other: User) -> MeetupOut:
    return MeetupOut(
        id=meetup.id,
        with_user=UserOut.of(other),
        activity=meetup.activity,
        starts_at=meetup.starts_at,
        ends_at=meetup.ends_at,
        ics_url=f"/api/v1/meetups/{meetup.id}.ics",
    )


@router.get("/alerts", response_model_by_alias=True)
def list_alerts(
    user: CurrentUser,
    db: DB,
    state: State,
    now: Now,
    after: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[AlertOut]:
    entries = queries.list_alerts(db, user, state.live, now=now, after_id=after, limit=limit)
    db.commit()  # the ledger entries for the distance labels
    return [alert_out(e) for e in entries]


@router.post("/alerts/{alert_id}/respond", response_model_by_alias=True)
def respond(
    alert_id: IdPath, body: AnswerIn, user: CurrentUser, db: DB, state: State, now: Now
) -> AnswerOut:
    answer = actions.do_respond_alert(db, user, alert_id, body.answer, state.live, now=now)
    state.events.publish(answer.notified)
    other = db.get(User, answer.alert.other_id)
    assert other is not None
    entry = AlertEntry(answer.alert, other, None)
    return AnswerOut(
        alert=alert_out(entry), meetup=meetup_out(answer.meetup, other) if answer.meetup else None
    )


def _stream_user(state: AppState, request: Request) -> User:
    """The stream accepts the bearer token, or the web app's session cookie (EventSource
    cannot send headers). It only reads, so a cookie here carries no CSRF risk."""
    token = bearer_token(request) or request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated("send Authorization: Bearer <token>")
    with state.database.session() as db:
        user, _ = authenticate_token(db, token, now=state.clock.now())
        db.expunge(user)
        return user


def _fetch(state: AppState, user: User, after: int) -> list[AlertOut]:
    # A deleted account has no alerts left (they go with it): nothing to check first.
    with state.database.session() as db:
        entries = queries.list_alerts(
            db, user, state.live, now=state.clock.now(), after_id=after, limit=200
        )
        out = [alert_out(e) for e in entries]
        db.commit()  # the ledger entries for the distance labels
        return out


@router.get(
    "/alerts/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_alerts(
    request: Request,
    after: Annotated[int | None, Query(ge=0, le=2_147_483_647)] = None,
    max_seconds: Annotated[float, Query(gt=0, le=3600)] = 300.0,
) -> StreamingResponse:
    """Server-sent events: the backlog after ``Last-Event-ID`` (or ``after``), then live
    alerts as they arrive. Each event's id is the alert id, so a reconnecting client
    misses none and sees none twice, across server restarts too."""
    state = state_of(request)
    user = await run_in_threadpool(_stream_user, state, request)
    header = request.headers.get("last-event-id", "")
    resumable = header.isascii() and header.isdigit() and len(header) <= 10
    last = after if after is not None else (int(header) if resumable else 0)
    last = min(last, 2_147_483_647)

    async def events() -> AsyncIterator[str]:
        nonlocal last
        wake = state.events.subscribe(user.id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_seconds
        try:
            yield "retry: 2000\n\n"
            look = True
            recheck_at = loop.time() + _spread(*RECHECK_SECONDS)
            while loop.time() < deadline:
                if look or loop.time() >= recheck_at:
                    look = False
                    recheck_at = loop.time() + _spread(*RECHECK_SECONDS)
                    wake.clear()
                    for alert in await run_in_threadpool(_fetch, state, user, last):
                        last = max(last, alert.id)
                        data = json.dumps(alert.model_dump(mode="json", by_alias=True))
                        yield f"id: {alert.id}\nevent: alert\ndata: {data}\n\n"
                if await request.is_disconnected():
                    return
                # Streams opened together must not beat (and re-check) together.
                beat = _spread(0.8, 1.2) * HEARTBEAT_SECONDS
                timeout = min(beat, max(0.0, deadline - loop.time()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=timeout)
                    look = True
                    continue
                yield ": keep-alive\n\n"
        finally:
            state.events.unsubscribe(user.id, wake)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/meetups", response_model_by_alias=True)
def list_meetups(user: CurrentUser, db: DB, now: Now) -> list[MeetupOut]:
    return [meetup_out(m, other) for m, other in queries.list_meetups(db, user, now=now)]


@router.get(
    "/meetups/{meetup_id}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
def meetup_calendar(meetup_id: IdPath, user: CurrentUser, db: DB) -> Response:
    meetup, other = queries.access_meetup(db, user, meetup_id)
    body = meetup_ics(
        meetup_id=meetup.id,
        activity=meetup.activity,
        other_name=other.display_name,
        starts_at=meetup.starts_at,
        ends_at=meetup.ends_at,
        created_at=meetup.created_at,
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="meetup-{meetup.id}.ics"'},
    )
