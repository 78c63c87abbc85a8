"""Request and response shapes for the ledger, consent, export and deletion."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr


class LedgerActorOut(BaseModel):
    username: str
    display_name: str


class LedgerEntryOut(BaseModel):
    id: int
    at: datetime
    # "Ana", "a deleted account", or "kith (<function>)".
    who: str
    # The person, while their account exists; null for kith functions and deleted accounts.
    actor: LedgerActorOut | None
    actor_kind: str
    what: str
    detail: str
    purpose: str


class LedgerPageOut(BaseModel):
    entries: list[LedgerEntryOut]
    # Pass as ?cursor= for the next (older) page; null on the last page.
    next_cursor: str | None


class LedgerSummaryOut(BaseModel):
    period: str
    sentences: list[str]


# Whom "let my history help friends plan with me" helps (close friends by default).
HelpScope = Literal["nobody", "close", "friends"]


class ConsentOut(BaseModel):
    share_location: bool
    help_friends_plan: HelpScope
    rank_my_feed: bool
    keep_history: bool


class ConsentIn(BaseModel):
    """Any subset of the switches; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    share_location: StrictBool | None = None
    help_friends_plan: HelpScope | None = None
    rank_my_feed: StrictBool | None = None
    keep_history: StrictBool | None = None


class ExportJobOut(BaseModel):
    id: int
    state: str  # pending, running, done, failed
    steps_done: int
    steps_total: int
    created_at: datetime
    finished_at: datetime | None
    size_bytes: int | None
    download_url: str | None


class DeleteAccountIn(BaseModel):
    password: StrictStr = Field(max_length=1000)
