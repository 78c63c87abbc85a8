"""Recording uses of a user's data: the only way entries are written.

Access functions call :func:`record_use` in the same database transaction as the
read they record, so there is no path that reads without leaving an entry. The
entry is only added to the session here; the caller's commit makes both durable.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from kith.privacy.models import LedgerEntry

USER = "user"


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
            actor_kind=actor_kind,
            what=what[:40],
            detail=detail[:80],
            purpose=purpose[:120],
            at=now,
        )
    )
