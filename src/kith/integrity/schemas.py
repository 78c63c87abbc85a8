"""Request and response shapes of the review queue and of a person's notices.

Caps here are generous first lines of defence; the precise rules (a reason is one to
1000 characters, a label at most 80) live in :mod:`kith.integrity.actions`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from kith.accounts.schemas import UserOut

LongText = Annotated[StrictStr, Field(max_length=4000)]


class Input(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DecisionIn(Input):
    action: Literal["dismiss", "label", "suppress", "suspend"]
    reason: LongText
    # Only for "label": the text shown with every post of the case.
    label: Annotated[StrictStr, Field(max_length=400)] | None = None


class AppealIn(Input):
    text: LongText


class CaseSummaryOut(BaseModel):
    id: str
    status: str
    network: str
    window_seconds: float
    score: float
    synchrony: float
    matched_messages: int
    coactive_messages: int
    accounts: int
    posts: int
    appeals: int
    first_at: datetime
    last_at: datetime
    opened_at: datetime
    updated_at: datetime


class CasesOut(BaseModel):
    cases: list[CaseSummaryOut]


class CaseAccountOut(BaseModel):
    user: UserOut
    posts: int
    suspended: bool


class SharedObjectOut(BaseModel):
    shared: str
    posts: int
    accounts: int


class CasePostOut(BaseModel):
    id: int
    author: UserOut
    text: str
    link: str | None
    created_at: datetime
    label: str | None
    suppressed: bool


class EvidenceOut(BaseModel):
    shared: str
    seconds_apart: float
    first: CasePostOut
    second: CasePostOut


class DecisionOut(BaseModel):
    id: int
    action: str
    label: str | None
    reason: str
    at: datetime
    # None once the moderator's account is gone; the decision itself stays.
    moderator: UserOut | None


class CaseAppealOut(BaseModel):
    id: int
    user: UserOut
    notice_action: str
    text: str
    created_at: datetime


class CaseOut(BaseModel):
    case: CaseSummaryOut
    accounts: list[CaseAccountOut]
    shared_objects: list[SharedObjectOut]
    # The case's posts in time order (at most 500).
    timeline: list[CasePostOut]
    # Matched post pairs, earliest first (at most 200 of evidence_total).
    evidence: list[EvidenceOut]
    evidence_total: int
    decisions: list[DecisionOut]
    appeals: list[CaseAppealOut]


class AppealOut(BaseModel):
    id: int
    text: str
    created_at: datetime


class NoticeOut(BaseModel):
    id: int
    action: str
    label: str | None
    summary: str
    created_at: datetime
    appeal: AppealOut | None
    can_appeal: bool


class NoticesOut(BaseModel):
    notices: list[NoticeOut]
