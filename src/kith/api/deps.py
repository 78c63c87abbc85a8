"""Request-scoped dependencies: database session, clock, current user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from kith.accounts.access import authenticate_token
from kith.accounts.models import AuthSession, User
from kith.accounts.passwords import Passwords
from kith.clock import Clock
from kith.config import Settings
from kith.errors import NotAuthenticated
from kith.presence.events import InboxEvents
from kith.presence.live import LivePositions
from kith.storage.engine import Database


@dataclass
class AppState:
    """Everything a request may need, built once in create_app."""

    settings: Settings
    database: Database
    clock: Clock
    passwords: Passwords
    live: LivePositions
    events: InboxEvents


# Dependencies that do no I/O are ``async def``: FastAPI runs every plain ``def``
# dependency in the thread pool, and each such hop costs CPU and, under load, a wait.


async def get_state(request: Request) -> AppState:
    return state_of(request)


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.kith
    return state


async def get_db(request: Request) -> AsyncIterator[Session]:
    async with state_of(request).database.request_session() as session:
        yield session


async def get_now(request: Request) -> datetime:
    return state_of(request).clock.now()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@dataclass(frozen=True, slots=True)
class Authenticated:
    user: User
    session: AuthSession


def get_auth(
    request: Request,
    db: Annotated[Session, Depends(get_db)],
    now: Annotated[datetime, Depends(get_now)],
) -> Authenticated:
    token = bearer_token(request)
    if token is None:
        raise NotAuthenticated("send Authorization: Bearer <token>")
    user, session = authenticate_token(db, token, now=now)
    # End the read transaction now: FastAPI runs the endpoint in another threadpool step,
    # and an open transaction would hold a pooled connection while the request queues.
    db.commit()
    return Authenticated(user, session)


async def get_user(auth: Annotated[Authenticated, Depends(get_auth)]) -> User:
    return auth.user


DB = Annotated[Session, Depends(get_db)]
Now = Annotated[datetime, Depends(get_now)]
State = Annotated[AppState, Depends(get_state)]
CurrentUser = Annotated[User, Depends(get_user)]
CurrentAuth = Annotated[Authenticated, Depends(get_auth)]
# Ids are 32-bit on every backend; larger numbers cannot name anything.
IdPath = Annotated[int, Path(ge=1, le=2_147_483_647)]
