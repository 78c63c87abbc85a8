"""Your data: the ledger, consent switches, export and account deletion."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from fastapi.responses import JSONResponse

from kith.accounts.access import authenticate_token
from kith.accounts.models import User
from kith.api.deps import DB, CurrentUser, IdPath, Now, State, bearer_token, client_address
from kith.errors import Conflict, NotAuthenticated
from kith.privacy import deletion, export, queries
from kith.privacy.consent import Purpose, consent_state, do_set_consent
from kith.privacy.models import ExportJob
from kith.privacy.schemas import (
    ConsentIn,
    ConsentOut,
    DeleteAccountIn,
    ExportJobOut,
    LedgerActorOut,
    LedgerEntryOut,
    LedgerPageOut,
    LedgerSummaryOut,
)

router = APIRouter(tags=["privacy"])
POLL_SECONDS = 2


@router.get("/me/ledger")
def ledger(
    user: CurrentUser,
    db: DB,
    what: Annotated[str | None, Query(max_length=40)] = None,
    actor: Annotated[str | None, Query(max_length=60, description="A username.")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=queries.PAGE_MAX)] = 50,
) -> LedgerPageOut:
    """Every use of your data by someone else, newest first."""
    page = queries.ledger_page(
        db,
        user,
        queries.LedgerFilter(what=what, actor=actor, since=since, until=until),
        cursor=cursor,
        limit=limit,
    )
    return LedgerPageOut(
        entries=[
            LedgerEntryOut(
                id=r.entry.id,
                at=r.entry.at,
                who=r.actor_label,
                actor=LedgerActorOut(username=r.actor.username, display_name=r.actor.display_name)
                if r.actor
                else None,
                actor_kind=r.entry.actor_kind,
                what=r.entry.what,
                detail=r.entry.detail,
                purpose=r.entry.purpose,
            )
            for r in page.rows
        ],
        next_cursor=page.next_cursor,
    )


@router.get("/me/ledger/summary")
def ledger_summary(user: CurrentUser, db: DB, now: Now) -> LedgerSummaryOut:
    """The last week in plain sentences ("Ana saw your neighbourhood 3 times this week")."""
    return LedgerSummaryOut(period="this week", sentences=queries.week_summary(db, user, now=now))


def _consent(db: DB, user: User, now: datetime) -> ConsentOut:
    state = consent_state(db, user, now=now)
    return ConsentOut(**{p.value: on for p, on in state.items()})


@router.get("/me/consent")
def get_consent(user: CurrentUser, db: DB, now: Now) -> ConsentOut:
    return _consent(db, user, now)


@router.put("/me/consent")
def put_consent(body: ConsentIn, user: CurrentUser, db: DB, state: State, now: Now) -> ConsentOut:
    """Change any switches; each takes effect before this returns."""
    changes = {Purpose(k): v for k, v in body.model_dump(exclude_none=True).items()}
    do_set_consent(db, user, changes, state.live, now=now)
    return _consent(db, user, now)


def _job_out(job: ExportJob) -> ExportJobOut:
    return ExportJobOut(
        id=job.id,
        state=job.state,
        steps_done=job.steps_done,
        steps_total=job.steps_total,
        created_at=job.created_at,
        finished_at=job.finished_at,
        size_bytes=job.size_bytes,
        download_url=f"/api/v1/me/export/jobs/{job.id}/archive"
        if job.state == export.DONE
        else None,
    )


def _accepted(job: ExportJob) -> JSONResponse:
    return JSONResponse(
        _job_out(job).model_dump(mode="json"),
        status_code=202,
        headers={
            "Location": f"/api/v1/me/export/jobs/{job.id}",
            "Retry-After": str(POLL_SECONDS),
        },
    )


def _zip(db: DB, user: User, job: ExportJob) -> Response:
    data = export.job_archive(db, job)
    if data is None:
        raise Conflict("the export is not ready yet", code="export-not-ready")
    stamp = (job.finished_at or job.created_at).strftime("%Y%m%d")
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="kith-{user.username}-{stamp}.zip"',
            "Cache-Control": "no-store",
        },
    )


EXPORT_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/zip": {}}, "description": "The archive."},
    202: {"model": ExportJobOut, "description": "Being prepared; poll Location."},
}


@router.get("/me/export", response_class=Response, responses=EXPORT_RESPONSES)
def get_export(
    user: CurrentUser, db: DB, state: State, now: Now, background: BackgroundTasks
) -> Response:
    """Everything kith holds about you, as a zip. Large accounts get 202 and a job to poll;
    asking again while it is being prepared returns the same job."""
    job = export.do_request_export(db, user, now=now)
    if job.state == export.PENDING:
        small = export.estimate_rows(db, user) <= export.EXPORT_SYNC_MAX_ROWS
        db.commit()  # end this read, so the worker's writes are visible below
        if not small:
            background.add_task(
                export.run_export_job, state.database.sessionmaker, job.id, state.clock
            )
            return _accepted(job)
        export.run_export_job(state.database.sessionmaker, job.id, state.clock)
        db.refresh(job)
    if job.state != export.DONE:
        return _accepted(job)
    return _zip(db, user, job)


@router.post("/me/export/jobs", status_code=202)
def start_export(
    user: CurrentUser, db: DB, state: State, now: Now, background: BackgroundTasks
) -> JSONResponse:
    """Prepare an export in the background, whatever the account's size."""
    job = export.do_request_export(db, user, now=now)
    if job.state == export.PENDING:
        background.add_task(export.run_export_job, state.database.sessionmaker, job.id, state.clock)
    return _accepted(job)


@router.get("/me/export/jobs/{job_id}")
def export_status(job_id: IdPath, user: CurrentUser, db: DB) -> ExportJobOut:
    return _job_out(export.access_export_job(db, user, job_id))


@router.get(
    "/me/export/jobs/{job_id}/archive",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def export_archive(job_id: IdPath, user: CurrentUser, db: DB) -> Response:
    return _zip(db, user, export.access_export_job(db, user, job_id))


@router.delete("/me", status_code=204)
def delete_me(body: DeleteAccountIn, request: Request, db: DB, state: State, now: Now) -> Response:
    """Delete your account and everything in it, now. Needs your password. Retrying with
    the same token after success answers 204 again."""
    token = bearer_token(request)
    if token is None:
        raise NotAuthenticated("send Authorization: Bearer <token>")
    if deletion.deleted_by(db, token):
        return Response(status_code=204)
    user, _ = authenticate_token(db, token, now=now)
    user_id = user.id
    deletion.do_delete_account(
        db,
        state.passwords,
        state.settings,
        user,
        password=body.password,
        token=token,
        client=client_address(request),
        now=now,
    )
    state.live.forget(user_id)  # the exact point held in memory goes too
    return Response(status_code=204)
