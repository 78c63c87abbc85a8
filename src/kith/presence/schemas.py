"""Request and response shapes for presence, sharing, intents, alerts and meetups.

Responses carry no more than was granted: cells and their centres, labels in
distance buckets, times rounded down; never accuracy, speed, bearing or exact
distances.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictStr

from kith.accounts.schemas import UserOut
from kith.presence.geo import Precision

Coordinate = Annotated[float, Field(allow_inf_nan=False)]
ShortText = Annotated[StrictStr, Field(max_length=200)]


class Input(BaseModel):
    model_config = ConfigDict(extra="ignore")


class LocationIn(Input):
    lat: Coordinate
    lon: Coordinate
    accuracy_m: Annotated[float, Field(allow_inf_nan=False)] | None = None
    recorded_at: AwareDatetime | None = None


class GrantIn(Input):
    precision: Precision
    expires_at: AwareDatetime | None = None


class GhostIn(Input):
    until: AwareDatetime | None


class QuietHours(Input):
    start: Annotated[StrictStr, Field(max_length=8)]
    end: Annotated[StrictStr, Field(max_length=8)]


class AlertSettingsIn(Input):
    daily_budget: int | None = None
    quiet_hours: QuietHours | None = None
    open_to_hang_out: bool | None = None
    timezone: Annotated[StrictStr, Field(max_length=64)] | None = None


class HistoryIn(Input):
    keep: bool
    days: int | None = None


class IntentIn(Input):
    activity: ShortText
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime
    radius_m: int = 2000
    audience: Annotated[list[ShortText], Field(min_length=1, max_length=60)]


class AnswerIn(Input):
    answer: Literal["in", "not_now"]


class Point(BaseModel):
    lat: float
    lon: float


class LocationOut(BaseModel):
    precision: Precision
    cell: str
    center: Point
    label: str
    as_of: datetime


class GrantOut(BaseModel):
    name: str
    precision: Precision
    expires_at: datetime | None
    expired: bool


class SharingOut(BaseModel):
    circles: list[GrantOut]
    friends: list[GrantOut]
    ghost: bool
    ghost_until: datetime | None


class GhostOut(BaseModel):
    ghost: bool
    until: datetime | None


class AlertSettingsOut(BaseModel):
    daily_budget: int
    quiet_hours: QuietHours | None
    open_to_hang_out: bool
    timezone: str
    keep_history: bool
    history_days: int


class NearbyOut(UserOut):
    precision: Precision
    label: str | None


class IntentOut(BaseModel):
    id: int
    user: UserOut
    activity: str
    starts_at: datetime
    ends_at: datetime
    radius_m: int
    audience: list[str] | None = None
    label: str | None = None


class IntentsOut(BaseModel):
    mine: list[IntentOut]
    friends: list[IntentOut]


class AlertOut(BaseModel):
    id: int
    kind: Literal["intent", "nearby", "in"]
    other: UserOut = Field(serialization_alias="from")
    activity: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    label: str | None
    created_at: datetime
    answer: str | None
    meetup_id: int | None


class MeetupOut(BaseModel):
    id: int
    with_user: UserOut = Field(serialization_alias="with")
    activity: str
    starts_at: datetime
    ends_at: datetime
    ics_url: str


class AnswerOut(BaseModel):
    alert: AlertOut
    meetup: MeetupOut | None
