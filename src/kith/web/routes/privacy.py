"""Your data: the ledger in plain words, consent switches, export and account deletion."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query
from starlette.responses import Response

from kith.errors import KithError
from kith.presence.live import LivePositions
from kith.privacy import deletion, export, queries
from kith.privacy.consent import (
    HELP_CHOICES,
    PURPOSES,
    Purpose,
    Setting,
    consent_state,
    do_set_consent,
)
from kith.privacy.ledger import KNOWN_WHAT
from kith.web.deps import MemberPage, PostedForm, client_address
from kith.web.session import clear_session_cookie, rotate_csrf, session_token

router = APIRouter()
PAGE_SIZE = 30


def _live(page: MemberPage) -> LivePositions:
    # The web app's AppState protocol leaves presence out; the real state carries it.
    live: LivePositions = page.request.app.state.kith.live
    return live


@router.get("/data")
def ledger_page(
    page: MemberPage,
    what: Annotated[str, Query(max_length=40)] = "",
    actor: Annotated[str, Query(max_length=60)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    flt = queries.LedgerFilter(what=what or None, actor=actor.strip() or None)
    try:
        found = queries.ledger_page(page.db, page.user, flt, cursor=cursor or None, limit=PAGE_SIZE)
    except KithError as exc:
        return page.redirect("/data", error=exc)
    return page.render(
        "privacy_ledger.html",
        sentences=queries.week_summary(page.db, page.user, now=page.now),
        rows=found.rows,
        next_cursor=found.next_cursor,
        what=what,
        actor=actor,
        kinds=KNOWN_WHAT,
    )


@router.get("/data/consent")
def consent_page(page: MemberPage) -> Response:
    state = consent_state(page.db, page.user, now=page.now)
    switches = [(p.value, PURPOSES[p], state[p]) for p in Purpose]
    return page.render("privacy_consent.html", switches=switches, choices=HELP_CHOICES)


@router.post("/data/consent")
def set_consent(page: MemberPage, form: PostedForm) -> Response:
    try:
        purpose = Purpose(form.text("purpose"))
    except ValueError:
        return page.redirect("/data/consent", error="that is not one of the switches")
    if purpose is Purpose.HELP_FRIENDS_PLAN:
        # The one choice that is not on/off: whom your history helps.
        value: Setting = form.text("helps")
        said = HELP_CHOICES.get(form.text("helps"), "").lower()
    else:
        value = form.text("on") == "true"
        said = "on" if value else "off"
    return page.attempt(
        "/data/consent",
        lambda: do_set_consent(page.db, page.user, {purpose: value}, _live(page), now=page.now),
        f"{PURPOSES[purpose].label}: {said}.",
    )


def _job_context(page: MemberPage) -> dict[str, Any]:
    job = export.latest_job(page.db, page.user)
    return {
        "job": job,
        "working": job is not None and job.state in (export.PENDING, export.RUNNING),
    }


@router.get("/data/export")
def export_page(page: MemberPage) -> Response:
    return page.render("privacy_export.html", **_job_context(page))


@router.get("/data/export/status")
def export_status(page: MemberPage) -> Response:
    """The progress box alone, polled by the export page while a job runs."""
    return page.render("privacy_export_status.html", **_job_context(page))


@router.post("/data/export")
def start_export(page: MemberPage, background: BackgroundTasks) -> Response:
    job = export.do_request_export(page.db, page.user, now=page.now)
    if job.state == export.PENDING:
        state = page.request.app.state.kith
        background.add_task(export.run_export_job, state.database.sessionmaker, job.id, state.clock)
    return page.redirect("/data/export", ok="Your export is being prepared.")


@router.get("/data/export/download")
def download_export(page: MemberPage) -> Response:
    job = export.latest_job(page.db, page.user)
    data = export.job_archive(page.db, job) if job is not None else None
    if job is None or data is None:
        return page.redirect("/data/export", error="there is no finished export yet")
    return page.finish(
        Response(
            data,
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="kith-{page.user.username}.zip"',
                "Cache-Control": "no-store",
            },
        )
    )


@router.get("/data/delete")
def delete_page(page: MemberPage) -> Response:
    return page.render("privacy_delete.html", error=None)


@router.post("/data/delete")
def delete_account(page: MemberPage, form: PostedForm) -> Response:
    token = session_token(page.request) or ""
    user_id = page.user.id
    try:
        deletion.do_delete_account(
            page.db,
            page.app.passwords,
            page.settings,
            page.user,
            password=form.text("password"),
            token=token,
            client=client_address(page.request),
            now=page.now,
        )
    except KithError as exc:
        return page.render("privacy_delete.html", status=exc.status, error=exc)
    _live(page).forget(user_id)
    rotate_csrf(page.request)
    response = page.redirect(
        "/login", ok="Your account and everything kith held about you are deleted."
    )
    clear_session_cookie(response, secure=page.settings.cookie_secure)
    return response
