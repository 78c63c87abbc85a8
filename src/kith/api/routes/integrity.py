"""The moderator queue (cases, evidence, decisions) and a person's notices and appeals.

Every moderation path answers anyone who is not a moderator with the same 404 as a
case that does not exist: the queue's existence is not advertised.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from kith.accounts.models import User
from kith.accounts.schemas import UserOut
from kith.api.deps import DB, CurrentUser, IdPath, Now
from kith.integrity import actions, queries
from kith.integrity.access import access_case
from kith.integrity.models import CASE_KEY_MAX, Action, Decision, ReviewCase
from kith.integrity.queries import CaseRow, PostView
from kith.integrity.schemas import (
    AppealIn,
    AppealOut,
    CaseAccountOut,
    CaseAppealOut,
    CaseOut,
    CasePostOut,
    CasesOut,
    CaseSummaryOut,
    DecisionIn,
    DecisionOut,
    EvidenceOut,
    NoticeOut,
    NoticesOut,
    SharedObjectOut,
)

router = APIRouter(tags=["integrity"])

CaseKey = Annotated[str, Path(max_length=CASE_KEY_MAX, description="A case id from the queue.")]


def _summary(row: CaseRow) -> CaseSummaryOut:
    case = row.case
    return CaseSummaryOut(
        id=case.case_key,
        status=case.status,
        network=case.network,
        window_seconds=case.window_seconds,
        score=case.score,
        synchrony=case.synchrony,
        matched_messages=case.matched_messages,
        coactive_messages=case.coactive_messages,
        accounts=row.accounts,
        posts=row.posts,
        appeals=row.appeals,
        first_at=case.first_at,
        last_at=case.last_at,
        opened_at=case.opened_at,
        updated_at=case.updated_at,
    )


def _decision(decision: Decision, moderator: User | None) -> DecisionOut:
    return DecisionOut(
        id=decision.id,
        action=decision.action,
        label=decision.label,
        reason=decision.reason,
        at=decision.at,
        moderator=UserOut.of(moderator) if moderator else None,
    )


def _post(view: PostView) -> CasePostOut:
    post = view.post
    return CasePostOut(
        id=post.id,
        author=UserOut.of(view.author),
        text=post.text,
        link=post.link,
        created_at=post.created_at,
        label=post.label,
        suppressed=post.suppressed,
    )


@router.get("/moderation/cases")
def list_cases(
    user: CurrentUser,
    db: DB,
    status: Annotated[
        str | None, Query(max_length=16, description="open, appealed, actioned, dismissed, all")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=queries.CASES_MAX)] = 50,
) -> CasesOut:
    """The queue: appealed and open cases, most unusual synchrony first."""
    rows = queries.list_cases(db, user, status=status, limit=limit)
    return CasesOut(cases=[_summary(row) for row in rows])


def _case_out(db: DB, user: User, case: ReviewCase, now: Now) -> CaseOut:
    detail = queries.case_detail(db, user, case, now=now)
    db.commit()  # the ledger entries written by case_detail
    return CaseOut(
        case=_summary(
            CaseRow(case, len(detail.accounts), len(detail.timeline), len(detail.appeals))
        ),
        accounts=[
            CaseAccountOut(user=UserOut.of(a.user), posts=a.posts, suspended=a.suspended)
            for a in detail.accounts
        ],
        shared_objects=[
            SharedObjectOut(shared=s.shared, posts=s.posts, accounts=s.accounts)
            for s in detail.shared
        ],
        timeline=[_post(p) for p in detail.timeline],
        evidence=[
            EvidenceOut(
                shared=e.shared,
                seconds_apart=e.seconds_apart,
                first=_post(e.first),
                second=_post(e.second),
            )
            for e in detail.evidence
        ],
        evidence_total=detail.evidence_total,
        decisions=[_decision(d.decision, d.moderator) for d in detail.decisions],
        appeals=[
            CaseAppealOut(
                id=a.appeal.id,
                user=UserOut.of(a.user),
                notice_action=a.notice.action,
                text=a.appeal.text,
                created_at=a.appeal.created_at,
            )
            for a in detail.appeals
        ],
    )


@router.get("/moderation/cases/{case_id}")
def get_case(case_id: CaseKey, user: CurrentUser, db: DB, now: Now) -> CaseOut:
    """One case: its accounts, shared objects, timeline, evidence, decisions and appeals.

    Reading it is written in each account's ledger (a moderator saw their posts)."""
    case = access_case(db, user, case_id)
    return _case_out(db, user, case, now)


@router.post("/moderation/cases/{case_id}/decision", status_code=201)
def decide(case_id: CaseKey, body: DecisionIn, user: CurrentUser, db: DB, now: Now) -> DecisionOut:
    """Dismiss, label the posts, keep them out of feeds, or suspend the accounts.

    Logged with moderator, time and reason; everyone affected gets a notice."""
    decision = actions.do_decide(
        db,
        user,
        case_id,
        action=Action(body.action),
        reason=body.reason,
        label=body.label,
        now=now,
    )
    return _decision(decision, user)


@router.get("/me/notices")
def my_notices(user: CurrentUser, db: DB) -> NoticesOut:
    """Decisions about your posts or account, with the evidence summary, newest first."""
    return NoticesOut(
        notices=[
            NoticeOut(
                id=v.notice.id,
                action=v.notice.action,
                label=v.notice.label,
                summary=v.notice.summary,
                created_at=v.notice.created_at,
                appeal=AppealOut(id=v.appeal.id, text=v.appeal.text, created_at=v.appeal.created_at)
                if v.appeal
                else None,
                can_appeal=v.can_appeal,
            )
            for v in queries.list_notices(db, user)
        ]
    )


@router.post("/me/notices/{notice_id}/appeal", status_code=201)
def appeal(notice_id: IdPath, body: AppealIn, user: CurrentUser, db: DB, now: Now) -> AppealOut:
    """Appeal a decision: the case goes back to the moderators' queue with your text."""
    made = actions.do_appeal(db, user, notice_id, body.text, now=now)
    return AppealOut(id=made.id, text=made.text, created_at=made.created_at)
