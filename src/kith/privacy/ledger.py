"""Recording uses of a user's data: the only way entries are written.

Access functions call :func:`record_use` in the same database transaction as the
read they record, so there is no path that reads without leaving an entry. The
entry is only added to the session here; the caller's commit makes both durable.

Vocabulary (``what``), so the ledger page can say each in plain words:

``location``  the user's position; ``detail`` is the precision seen (city ... precise)
``intent``    a plan ("up for tennis"); ``detail`` is the activity
``history``   the user's past activities, used to suggest partners; ``detail`` is the activity
``profile``   the user's activity, used to rank a feed; ``detail`` says which signal
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from kith.privacy.models import LedgerEntry

# actor_kind of a person; any other value names the kith function that used the data.
USER = "user"

LOCATION = "location"
INTENT = "intent"
HISTORY = "history"
PROFILE = "profile"
POSTS = "posts"
KNOWN_WHAT: tuple[str, ...] = (LOCATION, INTENT, HISTORY, PROFILE, POSTS)

# Column widths of LedgerEntry; longer text is cut rather than refused, since a
# ledger entry must never be the reason a read fails.
WHAT_MAX, DETAIL_MAX, PURPOSE_MAX, ACTOR_KIND_MAX = 40, 80, 120, 32


def record_use(
    db: Session,
    *,
    subject_id: int,
    actor_id: int | None,
    what: str,
    detail: str,
    purpose: str,
    now: datetime,
    actor_kind: str = USER,
) -> None:
    if actor_id is not None and actor_id == subject_id:
        return  # people reading their own data is not a use by someone else
    db.add(
        LedgerEntry(
            subject_id=subject_id,
            actor_id=actor_id,
            actor_kind=actor_kind[:ACTOR_KIND_MAX],
            what=what[:WHAT_MAX],
            detail=detail[:DETAIL_MAX],
            purpose=purpose[:PURPOSE_MAX],
            at=now,
        )
    )


def record_uses(
    db: Session,
    *,
    actor_id: int | None,
    uses: Iterable[tuple[int, str, str]],
    purpose: str,
    now: datetime,
    actor_kind: str = USER,
) -> None:
    """:func:`record_use` for many ``(subject_id, what, detail)`` at once, one statement.

    For reads that touch many people's data in one request (a suggestion over 50
    friends); same rules and same transaction as :func:`record_use`.
    """
    rows = [
        {
            "subject_id": subject_id,
            "actor_id": actor_id,
            "actor_kind": actor_kind[:ACTOR_KIND_MAX],
            "what": what[:WHAT_MAX],
            "detail": detail[:DETAIL_MAX],
            "purpose": purpose[:PURPOSE_MAX],
            "at": now,
        }
        for subject_id, what, detail in uses
        if actor_id is None or actor_id != subject_id
    ]
    if rows:
        # One INSERT with many VALUES: one round trip, where executemany may take one per row.
        db.execute(insert(LedgerEntry).values(rows))
