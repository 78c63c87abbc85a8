"""Request and response shapes for suggestions, invites, check-ins and the history switch.

Responses say no more than the viewer may know: a suggestion is a friend, a score and
reasons built from evidence the viewer may use; an invite lists who said yes, and
(for its host only) who was invited; never anyone's "maybe" or "no".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictStr

from kith.accounts.schemas import UserOut
from kith.errors import InvalidInput
from kith.partners.actions import MAX_INVITEES, NOTE_MAX
from kith.partners.activities import Activity
from kith.partners.calendar import MAX_FILE_BYTES
from kith.partners.queries import InviteView
from kith.partners.tables import Invite, PartnerEvent
from kith.presence.geo import Precision, precision_of
from kith.presence.ics import event_ics
from kith.presence.schemas import Coordinate

Answer = Literal["yes", "maybe", "no"]
HistoryHelps = Literal["close", "friends", "nobody"]
Username = Annotated[StrictStr, Field(max_length=30)]


class Input(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SuggestionOut(UserOut):
    score: float
    reasons: list[str]


class InviteIn(Input):
    activity: Activity
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    invitees: Annotated[list[Username], Field(min_length=1, max_length=MAX_INVITEES)]
    note: Annotated[StrictStr, Field(max_length=NOTE_MAX)] = ""


class AnswerIn(Input):
    answer: Answer


class InviteOut(BaseModel):
    id: int
    host: UserOut
    activity: str
    starts_at: datetime
    ends_at: datetime
    note: str
    going: list[UserOut]
    # Everyone invited: for the host only (null for invitees).
    invited: list[UserOut] | None
    # The viewer's own answer, null until they answer (and for the host).
    my_answer: Answer | None
    is_host: bool
    ics_url: str


def _user(user: object) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


def invite_out(view: InviteView) -> InviteOut:
    invite: Invite = view.invite
    return InviteOut(
        id=invite.id,
        host=_user(view.host),
        activity=invite.activity,
        starts_at=invite.starts_at,
        ends_at=invite.ends_at,
        note=invite.note,
        going=[_user(u) for u in view.going],
        invited=[_user(u) for u in view.invited] if view.invited is not None else None,
        my_answer=view.my_answer,
        is_host=view.is_host,
        ics_url=f"/api/v1/invites/{invite.id}.ics",
    )


class CheckInIn(Input):
    activity: Activity
    lat: Coordinate | None = None
    lon: Coordinate | None = None


class CheckInOut(BaseModel):
    id: int
    activity: str
    at: datetime
    # The place as stored: the precision you share with anyone, never finer than a block.
    cell: str | None
    precision: Precision


def check_in_out(event: PartnerEvent) -> CheckInOut:
    return CheckInOut(
        id=event.id,
        activity=event.activity,
        at=event.at,
        cell=event.cell,
        precision=precision_of(event.cell) if event.cell else Precision.OFF,
    )


class PartnerSettingsIn(Input):
    history_helps: HistoryHelps


class PartnerSettingsOut(BaseModel):
    history_helps: HistoryHelps


def invite_ics(view: InviteView) -> str:
    """The invite as an iCalendar event: who hosts, and who said yes (nobody else)."""
    invite = view.invite
    going = ", ".join(u.display_name for u in view.going) or "nobody has said yes yet"
    note = f"\n{invite.note}" if invite.note else ""
    return event_ics(
        uid=f"invite-{invite.id}@kith",
        summary=f"{invite.activity.capitalize()} with {view.host.display_name}",
        description=f"Invited on kith. Going: {going}.{note}",
        starts_at=invite.starts_at,
        ends_at=invite.ends_at,
        created_at=invite.created_at,
    )


def ics_filename(view: InviteView) -> str:
    return f"invite-{view.invite.id}.ics"


class CalendarOut(BaseModel):
    busy: int  # busy intervals kept (those not over and within the planning horizon)
    expires_at: datetime


def calendar_text(raw: bytes, content_type: str) -> str:
    """The .ics text of an import body: ``text/calendar`` as is, or JSON ``{"ics": ...}``."""
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidInput("the calendar file is too large (2 MB at most)", field="ics")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the calendar must be UTF-8 text", field="ics") from exc
    if content_type.split(";")[0].strip().lower() != "application/json":
        return text
    try:
        body = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise InvalidInput('expected JSON {"ics": "BEGIN:VCALENDAR..."}', field="ics") from exc
    if not isinstance(body, dict) or not isinstance(body.get("ics"), str):
        raise InvalidInput('expected JSON {"ics": "BEGIN:VCALENDAR..."}', field="ics")
    return str(body["ics"])
