"""The review queue for moderators, and notices with appeals for everyone.

``router`` (``/moderation``) serves the queue, a case page with the evidence and the
timeline, and the decision form; to anyone who is not a moderator each of its pages
is the same "not found" page as a case that does not exist. ``notices_router``
(``/notices``) shows a person the decisions about their posts, with the evidence
summary and an appeal form. The same actions and queries as the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session
from starlette.responses import Response

from kith.accounts.models import User
from kith.errors import InvalidInput
from kith.integrity import actions, queries
from kith.integrity.access import access_case, is_moderator
from kith.integrity.models import APPEAL_MAX, DECISION_LABEL_MAX, REASON_MAX, Action, CaseStatus
from kith.web.deps import MemberPage, PostedForm

router = APIRouter()
notices_router = APIRouter()

# What each decision does, in the words the form shows.
ACTIONS: tuple[tuple[str, str], ...] = (
    (Action.LABEL.value, "Label the posts (the label shows with each post)"),
    (Action.SUPPRESS.value, "Keep the posts out of every feed"),
    (Action.SUSPEND.value, "Suspend the accounts (no log-in, no posting)"),
    (Action.DISMISS.value, "Dismiss (and lift anything this case did)"),
)
STATUSES = ("waiting", *(s.value for s in CaseStatus), "all")
# Ids are 32-bit on every backend; larger numbers name nothing.
NoticeId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def visible_to(db: Session, user: User) -> bool:
    """Whether the nav shows "Moderation" to ``user``: moderators only."""
    return is_moderator(db, user)


def unanswered_count(db: Session, user: User) -> int:
    """The "Notices" badge: decisions about the user's posts not yet appealed."""
    return queries.unanswered_notices(db, user)


def _case_path(case_key: str) -> str:
    return f"/moderation/cases/{case_key}"


@router.get("/moderation")
def queue(page: MemberPage, status: Annotated[str, Query(max_length=16)] = "waiting") -> Response:
    wanted = None if status == "waiting" else status
    rows = queries.list_cases(page.db, page.user, status=wanted, limit=queries.CASES_MAX)
    return page.render("moderation.html", rows=rows, shown=status, statuses=STATUSES)


@router.get("/moderation/cases/{case_key}")
def case_page(page: MemberPage, case_key: str) -> Response:
    case = access_case(page.db, page.user, case_key)
    detail = queries.case_detail(page.db, page.user, case, now=page.now)
    page.db.commit()  # the ledger entries written by case_detail
    return page.render(
        "moderation_case.html",
        detail=detail,
        actions=ACTIONS,
        label_max=DECISION_LABEL_MAX,
        reason_max=REASON_MAX,
    )


@router.post("/moderation/cases/{case_key}/decision")
def decide(page: MemberPage, form: PostedForm, case_key: str) -> Response:
    # Only a moderator reaches the action; anyone else gets the not-found page, as on GET.
    access_case(page.db, page.user, case_key)
    try:
        action = Action(form.text("action"))
    except ValueError:
        return page.redirect(_case_path(case_key), error=InvalidInput("choose a decision"))
    label = form.text("label") if action is Action.LABEL else None
    return page.attempt(
        _case_path(case_key),
        lambda: actions.do_decide(
            page.db,
            page.user,
            case_key,
            action=action,
            label=label,
            reason=form.text("reason"),
            now=page.now,
        ),
        lambda d: (
            f"Decision recorded: {d.action}"
            + (f" “{d.label}”" if d.label else "")
            + ". The people affected have been told."
        ),
    )


@notices_router.get("/notices")
def notices_page(page: MemberPage) -> Response:
    return page.render(
        "moderation_notices.html",
        notices=queries.list_notices(page.db, page.user),
        appeal_max=APPEAL_MAX,
    )


@notices_router.post("/notices/{notice_id}/appeal")
def appeal(page: MemberPage, form: PostedForm, notice_id: NoticeId) -> Response:
    return page.attempt(
        "/notices",
        lambda: actions.do_appeal(page.db, page.user, notice_id, form.text("text"), now=page.now),
        "Your appeal was sent; a moderator will look at the case again.",
    )
