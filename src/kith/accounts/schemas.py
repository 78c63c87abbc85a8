"""Request and response shapes for accounts, friends, circles and blocks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from kith.accounts.models import User

# Generous caps at the parsing edge; the precise rules live in kith.accounts.rules.
ShortText = Annotated[StrictStr, Field(max_length=1000)]


class Input(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AccountCreate(Input):
    username: ShortText
    password: ShortText
    display_name: ShortText


class SessionCreate(Input):
    username: ShortText
    password: ShortText


class UsernameIn(Input):
    username: ShortText


class CircleIn(Input):
    circle: ShortText


class CircleCreate(Input):
    name: ShortText


class UserOut(BaseModel):
    username: str
    display_name: str

    @classmethod
    def of(cls, user: User) -> UserOut:
        """The public card of an account: what every response says about a person."""
        return cls(username=user.username, display_name=user.display_name)


class ProfileOut(UserOut):
    relationship: str


class MeOut(UserOut):
    created_at: datetime


class TokenOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class FriendOut(UserOut):
    circle: str
    since: datetime


class FriendRequestOut(BaseModel):
    id: int | None
    status: Literal["pending", "accepted"]
    from_user: UserOut = Field(serialization_alias="from")
    to_user: UserOut = Field(serialization_alias="to")
    created_at: datetime


class FriendRequestsOut(BaseModel):
    incoming: list[FriendRequestOut]
    outgoing: list[FriendRequestOut]


class CircleOut(BaseModel):
    name: str
    builtin: bool
    members: int


class HealthOut(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
