"""Reads of the review queue: the case list, one case in full, a person's notices.

Reading a case shows its accounts' posts to a moderator: :func:`case_detail` writes
one ledger entry per account whose posts it shows, in the caller's transaction
(callers commit), as every read of someone's data does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from kith.accounts.models import User
from kith.errors import InvalidInput
from kith.feed.models import Post
from kith.integrity.access import access_queue
from kith.integrity.models import (
    Action,
    Appeal,
    CaseAccount,
    CaseEvidence,
    CasePost,
    CaseStatus,
    Decision,
    Notice,
    ReviewCase,
    Suspension,
)
from kith.privacy.ledger import record_use

# The queue shows what waits for a decision unless asked for more.
WAITING = (CaseStatus.OPEN.value, CaseStatus.APPEALED.value)
CASES_MAX = 200
# A case page shows at most this many evidence pairs and timeline posts.
EVIDENCE_MAX = 200
TIMELINE_MAX = 500
# Ledger vocabulary for a moderator reading someone's posts in a case.
LEDGER_WHAT = "posts"
LEDGER_PURPOSE = "integrity review of coordinated posting"


@dataclass(frozen=True)
class CaseRow:
    case: ReviewCase
    accounts: int
    posts: int
    appeals: int


def list_cases(
    db: Session, viewer: User, *, status: str | None = None, limit: int = 50
) -> list[CaseRow]:
    """The queue: appealed cases first, then open ones, by score; ``status`` picks one
    status or ``all``."""
    access_queue(db, viewer)
    if status is None:
        wanted: tuple[str, ...] = WAITING
    elif status == "all":
        wanted = tuple(s.value for s in CaseStatus)
    elif status in {s.value for s in CaseStatus}:
        wanted = (status,)
    else:
        raise InvalidInput(
            f"status is one of all, {', '.join(s.value for s in CaseStatus)}", field="status"
        )
    accounts = (
        select(func.count())
        .where(CaseAccount.case_id == ReviewCase.id)
        .correlate(ReviewCase)
        .scalar_subquery()
    )
    posts = (
        select(func.count())
        .where(CasePost.case_id == ReviewCase.id)
        .correlate(ReviewCase)
        .scalar_subquery()
    )
    appeals = (
        select(func.count(Appeal.id))
        .join(Notice, Notice.id == Appeal.notice_id)
        .where(Notice.case_id == ReviewCase.id)
        .correlate(ReviewCase)
        .scalar_subquery()
    )
    appealed_first = (ReviewCase.status != CaseStatus.APPEALED.value).label("later")
    rows = db.execute(
        select(ReviewCase, accounts, posts, appeals)
        .where(ReviewCase.status.in_(wanted))
        .order_by(appealed_first, ReviewCase.score.desc(), ReviewCase.id)
        .limit(min(max(limit, 1), CASES_MAX))
    )
    return [CaseRow(case, int(a), int(p), int(n)) for case, a, p, n in rows]


@dataclass(frozen=True)
class AccountView:
    user: User
    posts: int
    suspended: bool


@dataclass(frozen=True)
class SharedView:
    shared: str
    posts: int
    accounts: int


@dataclass(frozen=True)
class PostView:
    post: Post
    author: User


@dataclass(frozen=True)
class EvidenceView:
    first: PostView
    second: PostView
    shared: str

    @property
    def seconds_apart(self) -> float:
        return abs((self.second.post.created_at - self.first.post.created_at).total_seconds())


@dataclass(frozen=True)
class DecisionView:
    decision: Decision
    moderator: User | None


@dataclass(frozen=True)
class AppealView:
    appeal: Appeal
    user: User
    notice: Notice


@dataclass(frozen=True)
class CaseDetail:
    case: ReviewCase
    accounts: list[AccountView]
    shared: list[SharedView]
    timeline: list[PostView]
    evidence: list[EvidenceView]
    evidence_total: int
    decisions: list[DecisionView]
    appeals: list[AppealView]


def case_detail(db: Session, viewer: User, case: ReviewCase, *, now: datetime) -> CaseDetail:
    """Everything a moderator needs to decide ``case`` (from :func:`access_case`)."""
    timeline = [
        PostView(post, author)
        for post, author in db.execute(
            select(Post, User)
            .join(CasePost, CasePost.post_id == Post.id)
            .join(User, User.id == Post.author_id)
            .where(CasePost.case_id == case.id)
            .order_by(Post.created_at, Post.id)
            .limit(TIMELINE_MAX)
        )
    ]
    per_author: dict[int, int] = defaultdict(int)
    for item in timeline:
        per_author[item.author.id] += 1
    suspended = set(
        db.scalars(
            select(Suspension.user_id)
            .join(CaseAccount, CaseAccount.user_id == Suspension.user_id)
            .where(CaseAccount.case_id == case.id)
        )
    )
    accounts = [
        AccountView(user, per_author.get(user.id, 0), user.id in suspended)
        for user in db.scalars(
            select(User)
            .join(CaseAccount, CaseAccount.user_id == User.id)
            .where(CaseAccount.case_id == case.id)
            .order_by(User.username_key)
        )
    ]
    evidence, total = _evidence(db, case)
    for author_id in sorted(per_author):
        record_use(
            db,
            subject_id=author_id,
            actor_id=viewer.id,
            what=LEDGER_WHAT,
            detail=f"case {case.case_key}",
            purpose=LEDGER_PURPOSE,
            now=now,
        )
    return CaseDetail(
        case=case,
        accounts=accounts,
        shared=_shared(db, case),
        timeline=timeline,
        evidence=evidence,
        evidence_total=total,
        decisions=[
            DecisionView(d, m)
            for d, m in db.execute(
                select(Decision, User)
                .outerjoin(User, User.id == Decision.moderator_id)
                .where(Decision.case_id == case.id)
                .order_by(Decision.at, Decision.id)
            )
        ],
        appeals=[
            AppealView(a, u, n)
            for a, n, u in db.execute(
                select(Appeal, Notice, User)
                .join(Notice, Notice.id == Appeal.notice_id)
                .join(User, User.id == Notice.user_id)
                .where(Notice.case_id == case.id)
                .order_by(Appeal.created_at, Appeal.id)
            )
        ],
    )


def _shared(db: Session, case: ReviewCase) -> list[SharedView]:
    """The objects the case's posts share, most posts first."""
    rows = db.execute(
        select(CaseEvidence.shared, Post.id, Post.author_id)
        .join(Post, Post.id.in_((CaseEvidence.post_1_id, CaseEvidence.post_2_id)))
        .where(CaseEvidence.case_id == case.id)
    )
    posts: dict[str, set[int]] = defaultdict(set)
    authors: dict[str, set[int]] = defaultdict(set)
    for shared, post_id, author_id in rows:
        posts[shared].add(post_id)
        authors[shared].add(author_id)
    views = [SharedView(s, len(posts[s]), len(authors[s])) for s in posts]
    return sorted(views, key=lambda v: (-v.posts, v.shared))[:20]


def _evidence(db: Session, case: ReviewCase) -> tuple[list[EvidenceView], int]:
    first, second = aliased(Post), aliased(Post)
    first_author, second_author = aliased(User), aliased(User)
    where = CaseEvidence.case_id == case.id
    total = db.scalar(select(func.count()).select_from(CaseEvidence).where(where)) or 0
    rows = db.execute(
        select(CaseEvidence.shared, first, first_author, second, second_author)
        .join(first, first.id == CaseEvidence.post_1_id)
        .join(first_author, first_author.id == first.author_id)
        .join(second, second.id == CaseEvidence.post_2_id)
        .join(second_author, second_author.id == second.author_id)
        .where(where)
        .order_by(first.created_at, second.created_at, CaseEvidence.id)
        .limit(EVIDENCE_MAX)
    )
    return [
        EvidenceView(PostView(p1, a1), PostView(p2, a2), shared) for shared, p1, a1, p2, a2 in rows
    ], int(total)


@dataclass(frozen=True)
class NoticeView:
    notice: Notice
    appeal: Appeal | None
    # Whether an appeal can still be sent: an action, not yet appealed, not yet lifted.
    can_appeal: bool


def list_notices(db: Session, user: User) -> list[NoticeView]:
    """The viewer's own notices, newest first."""
    rows = db.execute(
        select(Notice, Appeal, ReviewCase.status)
        .outerjoin(Appeal, Appeal.notice_id == Notice.id)
        .join(ReviewCase, ReviewCase.id == Notice.case_id)
        .where(Notice.user_id == user.id)
        .order_by(Notice.created_at.desc(), Notice.id.desc())
    )
    return [
        NoticeView(
            notice,
            appeal,
            appeal is None
            and notice.action != Action.DISMISS.value
            and status != CaseStatus.DISMISSED.value,
        )
        for notice, appeal, status in rows
    ]


def unanswered_notices(db: Session, user: User) -> int:
    """Notices of an action the viewer has not appealed: a badge for the nav."""
    return sum(1 for view in list_notices(db, user) if view.can_appeal)
