"""Sign-up, log-in, log-out and the current account."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from kith.accounts import actions
from kith.accounts.schemas import AccountCreate, MeOut, SessionCreate, TokenOut, UserOut
from kith.api.deps import DB, CurrentAuth, CurrentUser, Now, State, client_address

router = APIRouter(tags=["accounts"])


@router.post("/accounts", status_code=201)
def create_account(body: AccountCreate, db: DB, state: State, now: Now) -> UserOut:
    user = actions.do_create_user(
        db,
        state.passwords,
        username=body.username,
        password=body.password,
        display_name=body.display_name,
        now=now,
    )
    return UserOut.of(user)


@router.post("/sessions", status_code=201)
def create_session(
    body: SessionCreate, request: Request, db: DB, state: State, now: Now
) -> TokenOut:
    result = actions.do_login(
        db,
        state.passwords,
        state.settings,
        username=body.username,
        password=body.password,
        client=client_address(request),
        now=now,
    )
    return TokenOut(token=result.token, expires_at=result.expires_at)


@router.delete("/sessions/current", status_code=204)
def delete_session(auth: CurrentAuth, db: DB) -> Response:
    actions.do_logout(db, auth.session)
    return Response(status_code=204)


@router.get("/me")
def me(user: CurrentUser) -> MeOut:
    return MeOut(username=user.username, display_name=user.display_name, created_at=user.created_at)
