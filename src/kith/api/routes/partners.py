""" "Who's up for it?": suggestions, invites and answers, check-ins, the history switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime

from kith.api.deps import DB, CurrentUser, IdPath, Now, State
from kith.partners import actions, queries, schemas
from kith.partners.activities import Activity
from kith.partners.calendar import MAX_FILE_BYTES
from kith.partners.plans import DEFAULT_LIMIT, MAX_LIMIT, check_plan
from kith.partners.schemas import (
    AnswerIn,
    CalendarOut,
    CheckInIn,
    CheckInOut,
    InviteIn,
    InviteOut,
    PartnerSettingsIn,
    PartnerSettingsOut,
    SuggestionOut,
    check_in_out,
    invite_out,
)
from kith.partners.serving import suggest

router = APIRouter(tags=["partners"])

# Which model ranked, and (only when the fallback did) why.
MODEL_HEADER = "Kith-Model"
NOTE_HEADER = "Kith-Model-Note"


@router.get(
    "/suggestions",
    responses={
        200: {
            "headers": {
                MODEL_HEADER: {
                    "description": "the model that ranked",
                    "schema": {"type": "string"},
                },
                NOTE_HEADER: {
                    "description": "present when the baseline ranked because the trained "
                    "model is missing or unreadable",
                    "schema": {"type": "string"},
                },
            }
        }
    },
)
def suggestions(
    user: CurrentUser,
    db: DB,
    state: State,
    now: Now,
    response: Response,
    activity: Activity,
    starts_at: AwareDatetime,
    ends_at: AwareDatetime,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> list[SuggestionOut]:
    """Friends ranked by how likely each is up for the plan, with reasons to check."""
    plan = check_plan(activity, starts_at, ends_at, now=now)
    result = suggest(db, user, plan, limit=limit, now=now, path=state.settings.partners_model)
    response.headers[MODEL_HEADER] = result.model
    if result.note:
        response.headers[NOTE_HEADER] = result.note
    return [
        SuggestionOut(
            username=s.user.username,
            display_name=s.user.display_name,
            score=s.score,
            reasons=s.reasons,
        )
        for s in result.items
    ]


@router.post("/invites", status_code=201)
def create_invite(body: InviteIn, user: CurrentUser, db: DB, now: Now) -> InviteOut:
    invite = actions.do_create_invite(
        db,
        user,
        activity=body.activity,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        invitees=body.invitees,
        note=body.note,
        now=now,
    )
    return invite_out(queries.invite_view(db, user, invite.id))


@router.get("/invites")
def list_invites(user: CurrentUser, db: DB, now: Now) -> list[InviteOut]:
    """Invites you host or were sent, from a week ago on, soonest first."""
    return [invite_out(v) for v in queries.list_invites(db, user, now=now)]


# Declared before /invites/{invite_id} so "12.ics" is never read as an id.
@router.get(
    "/invites/{invite_id}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
def invite_ics(invite_id: IdPath, user: CurrentUser, db: DB) -> Response:
    view = queries.invite_view(db, user, invite_id)
    return Response(
        schemas.invite_ics(view),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{schemas.ics_filename(view)}"'},
    )


@router.get("/invites/{invite_id}")
def get_invite(invite_id: IdPath, user: CurrentUser, db: DB) -> InviteOut:
    return invite_out(queries.invite_view(db, user, invite_id))


@router.put("/invites/{invite_id}/answer")
def answer_invite(
    invite_id: IdPath, body: AnswerIn, user: CurrentUser, db: DB, now: Now
) -> InviteOut:
    """Yes, maybe or no; only "yes" is ever shown to anyone else."""
    actions.do_answer_invite(db, user, invite_id, body.answer, now=now)
    return invite_out(queries.invite_view(db, user, invite_id))


@router.post("/me/check-ins", status_code=201)
def check_in(body: CheckInIn, user: CurrentUser, db: DB, now: Now) -> CheckInOut:
    """ "I'm at <activity>": the place is kept as precisely as you share it, at most a block."""
    event = actions.do_check_in(
        db, user, activity=body.activity, lat=body.lat, lon=body.lon, now=now
    )
    return check_in_out(event)


@router.get("/me/check-ins")
def list_check_ins(user: CurrentUser, db: DB) -> list[CheckInOut]:
    return [check_in_out(e) for e in queries.list_check_ins(db, user)]


@router.delete("/me/check-ins/{check_in_id}", status_code=204)
def delete_check_in(check_in_id: IdPath, user: CurrentUser, db: DB) -> Response:
    actions.do_delete_check_in(db, user, check_in_id)
    return Response(status_code=204)


@router.get("/me/partner-settings")
def get_partner_settings(user: CurrentUser, db: DB) -> PartnerSettingsOut:
    """Whom your history helps plan: close friends (the default), all friends, or nobody."""
    return PartnerSettingsOut(history_helps=queries.history_scope(db, user))


@router.put("/me/partner-settings")
def put_partner_settings(
    body: PartnerSettingsIn, user: CurrentUser, db: DB, now: Now
) -> PartnerSettingsOut:
    scope = actions.do_set_history_helps(db, user, body.history_helps, now=now)
    return PartnerSettingsOut(history_helps=scope)


@router.post(
    "/me/calendar",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "content": {
                "text/calendar": {"schema": {"type": "string", "maxLength": MAX_FILE_BYTES}},
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"ics": {"type": "string", "maxLength": MAX_FILE_BYTES}},
                    }
                },
            }
        }
    },
)
async def import_calendar(request: Request, user: CurrentUser, db: DB, now: Now) -> CalendarOut:
    """Your free/busy from an .ics file (replaces the last import): times only, no titles.

    Friends whose plans your history helps see "busy then (calendar)"; it expires after
    your history retention."""
    raw = await request.body()
    ics = schemas.calendar_text(raw, request.headers.get("content-type", ""))
    result = actions.do_import_calendar(db, user, ics, now=now)
    return CalendarOut(busy=result.busy, expires_at=result.expires_at)
