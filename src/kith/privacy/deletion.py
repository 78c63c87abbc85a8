"""Deleting an account: everything, at once, in one transaction.

How nothing is missed, including tables added after this was written:

1. Deleters registered with :func:`register_deleter` remove personal data that has
   no foreign key to ``users`` (log-in failures are keyed by username, for example).
2. Every foreign key to ``users.id`` in the schema is found from the metadata. Those
   declared ``ON DELETE CASCADE`` or ``SET NULL`` are left to the database; any other
   (a table that forgot) has its rows deleted, or the reference cleared when nullable.
3. The user row is deleted; the database cascades to every personal row, and the
   ledgers of people this user looked at keep their entries with no actor, shown as
   "a deleted account".
4. A scan of every users column checks nothing still points at the user; if anything
   does, the whole transaction is rolled back and nothing at all is deleted.
5. A receipt (the hash of the session token only) lets a retry of the same request
   answer "already deleted", and the commit makes it all durable together.

A crash at any point before the commit leaves everything as it was; after it,
nothing remains. Retrying after a crash simply starts again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kith.accounts.access import hash_token
from kith.accounts.actions import verify_credentials
from kith.accounts.models import LoginFailure, User
from kith.accounts.passwords import Passwords
from kith.accounts.rules import username_key
from kith.config import Settings
from kith.errors import KithError
from kith.privacy.models import DeletionReceipt
from kith.storage.metadata import load_all_models

Deleter = Callable[[Session, User], None]
_DELETERS: dict[str, Deleter] = {}
# What the database does by itself when a user row goes.
HANDLED_BY_DATABASE = ("CASCADE", "SET NULL")


class DeletionIncomplete(KithError):
    """Rows still point at the user after deletion: a bug; everything is rolled back."""

    code = "deletion-incomplete"
    title = "The account could not be deleted completely"
    status = 500


def register_deleter(name: str, deleter: Deleter) -> Deleter:
    """Run ``deleter(db, user)`` inside every account deletion, before the user row goes.

    For personal data the foreign keys cannot reach. It must not commit.
    """
    _DELETERS[name] = deleter
    return deleter


def unregister_deleter(name: str) -> None:
    _DELETERS.pop(name, None)


def _login_failures(db: Session, user: User) -> None:
    # Failed log-ins are counted under "user:<name>", which names the person.
    db.execute(
        delete(LoginFailure).where(LoginFailure.key == f"user:{username_key(user.username)}")
    )


register_deleter("accounts.login_failures", _login_failures)


def erase_user(db: Session, user_id: int) -> bool:
    """Delete the user and every personal row, without committing; False if already gone."""
    user = db.get(User, user_id)
    if user is None:
        return False
    for deleter in list(_DELETERS.values()):
        deleter(db, user)
    metadata = load_all_models()
    users = metadata.tables["users"]
    references = [
        (table, column, fk)
        for table in metadata.sorted_tables
        for column in table.columns
        for fk in column.foreign_keys
        if fk.column.table is users
    ]
    for table, column, fk in references:
        if (fk.ondelete or "").upper() in HANDLED_BY_DATABASE:
            continue
        if column.nullable:
            db.execute(update(table).where(column == user_id).values({column.name: None}))
        else:
            db.execute(delete(table).where(column == user_id))
    db.execute(delete(User).where(User.id == user_id))
    db.flush()
    db.expunge(user)
    for table, column, _fk in references:
        left = db.scalar(select(func.count()).select_from(table).where(column == user_id))
        if left:
            raise DeletionIncomplete(f"{left} rows of {table.name}.{column.name} remain")
    return True


def deleted_by(db: Session, token: str) -> bool:
    """Whether this session token already deleted its account (within a day)."""
    return db.get(DeletionReceipt, hash_token(token)) is not None


def do_delete_account(
    db: Session,
    passwords: Passwords,
    settings: Settings,
    user: User,
    *,
    password: str,
    token: str,
    client: str,
    now: datetime,
) -> None:
    """Check the password (throttled like log-in), then delete everything in one commit."""
    verify_credentials(
        db,
        passwords,
        settings,
        username=user.username,
        password=password,
        client=client,
        now=now,
    )
    try:
        erase_user(db, user.id)
        db.merge(DeletionReceipt(token_hash=hash_token(token), deleted_at=now))
        db.commit()
    except BaseException:
        db.rollback()
        raise
