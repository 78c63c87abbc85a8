"""An endpoint for the OwnTracks app in HTTP mode (Basic auth with the kith account)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from starlette.concurrency import run_in_threadpool

from kith.accounts.actions import verify_credentials
from kith.api.deps import DB, Now, State, client_address
from kith.api.routes.presence import round_time
from kith.errors import NotAuthenticated
from kith.presence import actions, queries
from kith.presence.owntracks import friend_messages, parse_message

router = APIRouter(tags=["owntracks"])


def _basic_credentials(request: Request) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise NotAuthenticated("OwnTracks must send HTTP Basic auth with your kith account")
    try:
        username, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise NotAuthenticated("malformed Basic credentials") from exc
    if not sep:
        raise NotAuthenticated("malformed Basic credentials")
    return username, password


class OwnTracksMessage(BaseModel):
    """One message as the app sends it; fields kith does not use are accepted and ignored."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type_: Annotated[StrictStr, Field(alias="_type", max_length=32)]
    lat: float | None = None
    lon: float | None = None
    tst: int | None = None
    acc: float | None = None


@router.post("/owntracks")
async def owntracks(
    message: OwnTracksMessage, request: Request, db: DB, state: State, now: Now
) -> list[dict[str, Any]]:
    """Take an OwnTracks message; answer with friends' cards and locations."""
    username, password = _basic_credentials(request)
    fix = parse_message(message.model_dump(by_alias=True, exclude_none=True))
    return await _handle(db, state, now, username, password, client_address(request), fix)


async def _handle(
    db: DB, state: State, now: Now, username: str, password: str, client: str, fix: Any
) -> list[dict[str, Any]]:
    def work() -> list[dict[str, Any]]:
        user = verify_credentials(
            db,
            state.passwords,
            state.settings,
            username=username,
            password=password,
            client=client,
            now=now,
        )
        db.commit()
        if fix is not None:
            outcome = actions.do_update_location(
                db,
                state.live,
                user,
                lat=fix.lat,
                lon=fix.lon,
                accuracy_m=fix.accuracy_m,
                recorded_at=fix.recorded_at,
                now=now,
            )
            state.events.publish(outcome.notified)
        messages: list[dict[str, Any]] = []
        for shared in queries.shared_locations(
            db, user, state.live, now=now, purpose="sent to OwnTracks"
        ):
            messages += friend_messages(
                shared.user.username,
                shared.user.display_name,
                shared.cell,
                round_time(shared.recorded_at),
            )
        db.commit()
        return messages

    return await run_in_threadpool(work)
