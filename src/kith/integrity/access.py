"""The choke points of the review queue.

Cases are seen by moderators only, and through :func:`access_case` only; to anyone
else every case, and the queue itself, is the same :class:`~kith.errors.NotFound` as
a case that does not exist. A notice is seen by the person it is addressed to only.

:func:`check_not_suspended` is the one check other capabilities call to keep a
suspended account from logging in or posting (see docs/integrity.md for the hooks).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.accounts.models import User
from kith.errors import NotFound, PermissionDenied
from kith.integrity.models import CASE_KEY_MAX, Moderator, Notice, ReviewCase, Suspension

CASE_NOT_FOUND = "no such case"
NOTICE_NOT_FOUND = "no such notice"
# The shape of a detection case id ("co_tweet-w60-0123456789ab"); anything else names
# nothing and never reaches the database.
CASE_KEY_SHAPE = re.compile(r"^[a-z_]{1,32}-w[0-9.e+-]{1,20}-[0-9a-f]{12}$")


def is_moderator(db: Session, user: User) -> bool:
    return db.get(Moderator, user.id) is not None


def is_suspended(db: Session, user_id: int) -> bool:
    return db.get(Suspension, user_id) is not None


def check_not_suspended(db: Session, user_id: int) -> None:
    """Refuse a suspended account. For log-in and posting; reading one's notices and
    appealing stay open, so a suspension can always be answered."""
    if is_suspended(db, user_id):
        raise PermissionDenied(
            "this account is suspended after a review; see your notices to appeal",
            code="account-suspended",
        )


def access_queue(db: Session, viewer: User) -> None:
    """The queue exists only for moderators who are not suspended themselves."""
    if not is_moderator(db, viewer):
        raise NotFound(CASE_NOT_FOUND)
    if is_suspended(db, viewer.id):
        raise NotFound(CASE_NOT_FOUND)


def access_case(db: Session, viewer: User, case_key: str) -> ReviewCase:
    """One case, for a moderator."""
    access_queue(db, viewer)
    if len(case_key) > CASE_KEY_MAX or not CASE_KEY_SHAPE.match(case_key):
        raise NotFound(CASE_NOT_FOUND)
    case = db.scalar(select(ReviewCase).where(ReviewCase.case_key == case_key))
    if case is None:
        raise NotFound(CASE_NOT_FOUND)
    return case


def access_notice(db: Session, viewer: User, notice_id: int) -> Notice:
    """One of the viewer's own notices."""
    notice = db.get(Notice, notice_id)
    if notice is None:
        raise NotFound(NOTICE_NOT_FOUND)
    if notice.user_id != viewer.id:
        raise NotFound(NOTICE_NOT_FOUND)
    return notice
