"""Every state change of the review queue: the moderator role, scans that open cases,
decisions, and appeals.

One ``do_*`` function per change; each validates first and commits once, so a
refused request changes nothing. Detection only ever *opens* cases: nothing is
enforced until a moderator decides (detection on new activity is mostly hurt by
false positives).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kith.accounts.access import find_user
from kith.accounts.models import User
from kith.errors import Conflict, InvalidInput, NotFound
from kith.feed.models import Post
from kith.integrity.access import access_case, access_notice
from kith.integrity.cases import Case
from kith.integrity.models import (
    APPEAL_MAX,
    DECISION_LABEL_MAX,
    REASON_MAX,
    SHARED_OBJECT_MAX,
    SUMMARY_MAX,
    Action,
    Appeal,
    CaseAccount,
    CaseEvidence,
    CasePost,
    CaseStatus,
    Decision,
    Moderator,
    Notice,
    ReviewCase,
    Suspension,
)
from kith.text import clean_text

# --- the moderator role -------------------------------------------------------------


def do_grant_moderator(db: Session, username: str, *, now: datetime) -> User:
    """Make ``username`` a moderator; granting twice is harmless."""
    user = find_user(db, username)
    if user is None:
        raise NotFound("no such user")
    if db.get(Moderator, user.id) is None:
        db.add(Moderator(user_id=user.id, granted_at=now))
        db.commit()
    return user


def do_revoke_moderator(db: Session, username: str) -> User:
    user = find_user(db, username)
    if user is None or db.get(Moderator, user.id) is None:
        raise NotFound("no such moderator")
    db.execute(delete(Moderator).where(Moderator.user_id == user.id))
    db.commit()
    return user


# --- scans: detection on kith's own posts opens cases --------------------------------


@dataclass(frozen=True)
class ScanConfig:
    """What a scan of kith's posts looks for, and how sure it must be to open a case."""

    networks: tuple[str, ...] = ("co_tweet", "co_link")
    window: float = 60.0
    # Only recent posts: coordination is about what is happening now, and the export
    # stays bounded however old the platform gets.
    lookback_days: int = 30
    # A case needs at least this many matched posts and more synchrony than accounts
    # that merely posted at the same times (score > min_score): two friends sharing
    # the same article once is not a campaign.
    min_matched_messages: int = 3
    min_score: float = 0.0
    # Evidence pairs kept per account pair; at kith's scale this keeps them all.
    evidence_per_edge: int = 500

    def __post_init__(self) -> None:
        from kith.integrity.networks import get_network
        from kith.integrity.schema import check_window

        if not self.networks:
            raise InvalidInput("choose at least one network", field="network")
        for name in self.networks:
            if get_network(name).column not in ("text", "urls"):
                raise InvalidInput(
                    f"kith's posts have text and links only; {name} cannot run on them",
                    field="network",
                )
        check_window(self.window)
        if self.lookback_days < 1 or self.min_matched_messages < 1:
            raise InvalidInput("lookback_days and min_matched_messages must be >= 1")


@dataclass(frozen=True)
class ScanResult:
    posts: int
    cases_found: int  # detection's cases that passed the thresholds
    opened: int  # new cases in the queue
    updated: int  # known cases with new evidence (back in the queue)
    unchanged: int  # known cases found again with nothing new


# (what is happening, steps done, steps in all): for a progress bar.
ScanProgress = Callable[[str, int, int], None]


def do_scan_posts(
    db: Session,
    config: ScanConfig,
    *,
    now: datetime,
    work_dir: Path | None = None,
    on_progress: ScanProgress | None = None,
) -> ScanResult:
    """Run detection on kith's recent posts and open (or refresh) cases in the queue.

    Idempotent by case id: the same group found again updates its case rather than
    opening another. The export lives in a temporary folder that is always removed.
    """
    from kith.integrity.kith_source import export_posts
    from kith.integrity.networks import DetectConfig
    from kith.integrity.pipeline import detect

    total = 1 + 2 * len(config.networks)
    done = 0

    def step(what: str) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(what, done, total)

    outcomes = {"opened": 0, "updated": 0, "unchanged": 0}
    found = 0
    with tempfile.TemporaryDirectory(prefix="kith-scan-", dir=work_dir) as tmp:
        source = Path(tmp) / "posts.parquet"
        posts = export_posts(db, source, since=now - timedelta(days=config.lookback_days))
        db.rollback()  # end the read before the long detection; nothing was written
        step(f"exported {posts:,} posts")
        if posts == 0:
            return ScanResult(0, 0, 0, 0, 0)
        for network in config.networks:
            detect_config = DetectConfig(
                network=network,
                window=config.window,
                evidence_per_edge=config.evidence_per_edge,
                # Every post is well-formed; a rejected row would be a bug, not input.
                max_reject_fraction=0.0,
            )
            result = detect(source, detect_config, Path(tmp) / network)
            step(f"{network}: {len(result.cases)} groups")
            chosen = [
                c
                for c in result.cases
                if c.matched_messages >= config.min_matched_messages and c.score > config.min_score
            ]
            found += len(chosen)
            pairs = _evidence_by_case(result.out_dir / "evidence.parquet", chosen)
            for case in chosen:
                outcomes[_upsert_case(db, case, pairs[case.case_id], now=now)] += 1
            db.commit()
            step(f"{network}: {len(chosen)} cases in the queue")
    return ScanResult(posts, found, **outcomes)


@dataclass(frozen=True)
class EvidencePair:
    post_1: int
    post_2: int
    shared: str


def _evidence_by_case(path: Path, cases: Sequence[Case]) -> dict[str, list[EvidencePair]]:
    """Evidence pairs between members of each case (a pair's two accounts are in the
    same case, since cases are disjoint groups of one run)."""
    import pyarrow.parquet as pq

    owner = {account: c.case_id for c in cases for account in c.accounts}
    by_case: dict[str, list[EvidencePair]] = {c.case_id: [] for c in cases}
    if not cases:
        return by_case
    columns = ["user_1", "user_2", "message_id_1", "message_id_2", "object"]
    for row in pq.read_table(path, columns=columns).to_pylist():
        case_id = owner.get(row["user_1"])
        if case_id is None or owner.get(row["user_2"]) != case_id:
            continue
        by_case[case_id].append(
            EvidencePair(
                int(row["message_id_1"]),
                int(row["message_id_2"]),
                str(row["object"])[:SHARED_OBJECT_MAX],
            )
        )
    return by_case


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _existing(db: Session, model: Any, ids: Iterable[int]) -> set[int]:
    """Which of ``ids`` still exist (a post or account may go between export and now)."""
    wanted = sorted(set(ids))
    return set(db.scalars(select(model.id).where(model.id.in_(wanted)))) if wanted else set()


def _upsert_case(db: Session, found: Case, pairs: list[EvidencePair], *, now: datetime) -> str:
    case = db.scalar(select(ReviewCase).where(ReviewCase.case_key == found.case_id))
    outcome = "unchanged"
    if case is None:
        case = ReviewCase(case_key=found.case_id, status=CaseStatus.OPEN.value, opened_at=now)
        db.add(case)
        outcome = "opened"
    case.network = found.network
    case.window_seconds = found.window
    case.score = found.score
    case.synchrony = found.synchrony
    case.matched_messages = found.matched_messages
    case.coactive_messages = found.coactive_messages
    case.first_at = _when(found.first_ts)
    case.last_at = _when(found.last_ts)
    case.updated_at = now
    db.flush()

    accounts = _existing(db, User, (int(a) for a in found.accounts))
    known_accounts = set(
        db.scalars(select(CaseAccount.user_id).where(CaseAccount.case_id == case.id))
    )
    db.add_all(CaseAccount(case_id=case.id, user_id=u) for u in accounts - known_accounts)

    alive = _existing(db, Post, (p for pair in pairs for p in (pair.post_1, pair.post_2)))
    known_posts = set(db.scalars(select(CasePost.post_id).where(CasePost.case_id == case.id)))
    new_posts = alive - known_posts
    db.add_all(
        CasePost(case_id=case.id, post_id=p, labelled=False, suppressed=False) for p in new_posts
    )
    known_pairs = {
        (a, b)
        for a, b in db.execute(
            select(CaseEvidence.post_1_id, CaseEvidence.post_2_id).where(
                CaseEvidence.case_id == case.id
            )
        )
    }
    db.add_all(
        CaseEvidence(case_id=case.id, post_1_id=p.post_1, post_2_id=p.post_2, shared=p.shared)
        for p in pairs
        if p.post_1 in alive and p.post_2 in alive and (p.post_1, p.post_2) not in known_pairs
    )
    if outcome == "unchanged" and new_posts:
        outcome = "updated"
        # New coordinated posts since the last decision: a moderator looks again. An
        # appealed case is already in the queue and keeps that status.
        if case.status != CaseStatus.APPEALED:
            case.status = CaseStatus.OPEN.value
    return outcome


# --- decisions ----------------------------------------------------------------------


def check_decision(action: Action, label: str | None, reason: str) -> tuple[str | None, str]:
    """The cleaned (label, reason) of a decision, or a clear error."""
    reason = clean_text(reason, field="reason", max_len=REASON_MAX, multiline=True)
    if action is Action.LABEL:
        if label is None or not label.strip():
            raise InvalidInput("a label decision needs the label text", field="label")
        return clean_text(label, field="label", max_len=DECISION_LABEL_MAX), reason
    if label is not None and label.strip():
        raise InvalidInput("only a label decision takes a label", field="label")
    return None, reason


def do_decide(
    db: Session,
    moderator: User,
    case_key: str,
    *,
    action: Action,
    reason: str,
    label: str | None = None,
    now: datetime,
) -> Decision:
    """Record a moderator's decision on a case and make it take effect, in one commit.

    label     puts ``label`` on every post of the case (shown with the post)
    suppress  keeps every post of the case out of every feed (the author still sees it)
    suspend   suspends every account of the case (no log-in, no posting)
    dismiss   closes the case and lifts whatever *this* case had done

    Everyone affected gets a notice with the evidence summary, and may appeal.
    """
    case = access_case(db, moderator, case_key)
    label, reason = check_decision(action, label, reason)
    members = set(db.scalars(select(CaseAccount.user_id).where(CaseAccount.case_id == case.id)))
    if moderator.id in members:
        raise Conflict(
            "you are one of this case's accounts; another moderator must decide it",
            code="own-case",
        )
    decision = Decision(
        case_id=case.id,
        moderator_id=moderator.id,
        action=action.value,
        label=label,
        reason=reason,
        at=now,
    )
    db.add(decision)
    db.flush()
    rows = [
        (link, post)
        for link, post in db.execute(
            select(CasePost, Post)
            .join(Post, Post.id == CasePost.post_id)
            .where(CasePost.case_id == case.id)
        )
    ]
    affected: set[int]
    if action is Action.LABEL:
        for link, post in rows:
            post.label = label
            link.labelled = True
        affected = {post.author_id for _, post in rows}
    elif action is Action.SUPPRESS:
        for link, post in rows:
            post.suppressed = True
            link.suppressed = True
        affected = {post.author_id for _, post in rows}
    elif action is Action.SUSPEND:
        suspended = set(
            db.scalars(select(Suspension.user_id).where(Suspension.user_id.in_(members)))
        )
        db.add_all(
            Suspension(user_id=u, case_id=case.id, decision_id=decision.id, since=now)
            for u in sorted(members - suspended)
        )
        affected = members
    elif case.status == CaseStatus.DISMISSED:
        affected = set()  # dismissed already: nothing left to lift, nobody to tell again
    else:
        affected = _lift(db, case, rows)
    case.status = (CaseStatus.DISMISSED if action is Action.DISMISS else CaseStatus.ACTIONED).value
    case.updated_at = now
    for user_id in sorted(affected):
        own = sorted(
            ((p.created_at, p.text) for _, p in rows if p.author_id == user_id),
            key=lambda item: item[0],
        )
        db.add(
            Notice(
                user_id=user_id,
                case_id=case.id,
                decision_id=decision.id,
                action=action.value,
                label=label,
                summary=notice_summary(
                    action,
                    label=label,
                    own_posts=own,
                    others=len(members - {user_id}),
                    window=case.window_seconds,
                ),
                created_at=now,
            )
        )
    db.commit()
    return decision


def _lift(db: Session, case: ReviewCase, rows: list[tuple[CasePost, Post]]) -> set[int]:
    """Undo this case's effects; another case's label or suppression of the same post
    stays. Returns the people this case had told of an action."""
    for link, post in rows:
        others = select(CasePost).where(CasePost.post_id == post.id, CasePost.case_id != case.id)
        if link.labelled:
            link.labelled = False
            if db.scalar(others.where(CasePost.labelled.is_(True))) is None:
                post.label = None
        if link.suppressed:
            link.suppressed = False
            if db.scalar(others.where(CasePost.suppressed.is_(True))) is None:
                post.suppressed = False
    db.execute(delete(Suspension).where(Suspension.case_id == case.id))
    told = db.scalars(
        select(Notice.user_id).where(
            Notice.case_id == case.id, Notice.action != Action.DISMISS.value
        )
    )
    return set(told)


_SAID = {
    Action.LABEL: "A moderator reviewed these posts and labelled them: “{label}”.",
    Action.SUPPRESS: "A moderator reviewed these posts and keeps them out of feeds; "
    "you can still see them.",
    Action.SUSPEND: "A moderator reviewed these posts and suspended your account: you "
    "cannot log in again or post until an appeal succeeds.",
    Action.DISMISS: "A moderator took another look and lifted the earlier decision on these posts.",
}
# Post texts quoted in a notice are cut to this many characters each.
QUOTE_CHARS = 140


def notice_summary(
    action: Action,
    *,
    label: str | None,
    own_posts: Sequence[tuple[datetime, str]],
    others: int,
    window: float,
) -> str:
    """What a person is told: the decision, and the evidence in their own terms (their
    posts, and how many other accounts posted the same within how long), never the
    other accounts' names or posts."""
    accounts = "1 other account" if others == 1 else f"{others} other accounts"
    lines = [_SAID[action].format(label=label)]
    if own_posts:
        lines.append(
            f"{len(own_posts)} of your posts matched what {accounts} posted within "
            f"{window:g} seconds of them:"
        )
        for at, text in own_posts:
            quote = text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"
            lines.append(f"- {at:%Y-%m-%d %H:%M} UTC: “{quote}”")
    else:
        lines.append(f"Your account posted in step with {accounts} within {window:g} seconds.")
    summary = "\n".join(lines)
    return summary if len(summary) <= SUMMARY_MAX else summary[: SUMMARY_MAX - 1] + "…"


# --- appeals ------------------------------------------------------------------------


def do_appeal(db: Session, user: User, notice_id: int, text: str, *, now: datetime) -> Appeal:
    """Appeal a decision one was told of; the case goes back to the queue."""
    notice = access_notice(db, user, notice_id)
    text = clean_text(text, field="text", max_len=APPEAL_MAX, multiline=True)
    if notice.action == Action.DISMISS.value:
        raise Conflict(
            "this notice lifts a decision; there is nothing to appeal", code="nothing-to-appeal"
        )
    if db.scalar(select(Appeal.id).where(Appeal.notice_id == notice.id)) is not None:
        raise Conflict("you already appealed this decision", code="already-appealed")
    case = db.get(ReviewCase, notice.case_id)
    assert case is not None, "a notice's case is deleted with it"
    if case.status == CaseStatus.DISMISSED:
        raise Conflict("this decision was already lifted", code="decision-lifted")
    appeal = Appeal(notice_id=notice.id, text=text, created_at=now)
    db.add(appeal)
    case.status = CaseStatus.APPEALED.value
    case.updated_at = now
    db.commit()
    return appeal
