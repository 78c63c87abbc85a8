"""Request and response shapes for posts, the feed, goals, the profile and feedback.

Caps here are generous first lines of defence; the precise rules (mixes adding up to
100%, known topics, budgets between a minute and a day) live in the domain modules,
which refuse with :class:`~kith.errors.InvalidInput` and a field name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StrictStr

from kith.accounts.schemas import UserOut

TopicName = Annotated[StrictStr, Field(max_length=40)]
Share = Annotated[float, Field(allow_inf_nan=False)]


class Input(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PostIn(Input):
    text: Annotated[StrictStr, Field(max_length=4000)]
    link: Annotated[StrictStr, Field(max_length=1000)] | None = None
    topics: Annotated[list[TopicName], Field(max_length=10)] | None = None
    # Circle names; omitted means every circle (all friends).
    audience: (
        Annotated[list[Annotated[StrictStr, Field(max_length=40)]], Field(max_length=60)] | None
    ) = None


class PostOut(BaseModel):
    id: int
    author: UserOut
    text: str
    link: str | None
    topics: list[str]
    topics_source: Literal["author", "inferred", "none"]
    created_at: datetime
    # Set by the integrity review: shown on the post.
    label: str | None
    mine: bool
    # Only on the author's own posts: who may see it, and whether review suppressed it.
    audience: list[str] | None = None
    suppressed: bool | None = None


class PostsOut(BaseModel):
    posts: list[PostOut]
    next_before: int | None


class WhyOut(BaseModel):
    ranker: str
    source: Literal["in-network", "out-of-network", "exploration"]
    goal: str | None
    goal_source: str | None
    score: float
    parts: dict[str, float]
    reasons: list[str]
    uses_your_activity: bool


class FeedItemOut(BaseModel):
    post: PostOut
    why: WhyOut


class CardOut(BaseModel):
    kind: Literal["caught_up", "budget"]
    message: str
    choices: list[str]


class FeedOut(BaseModel):
    ranker: str
    infinite_scroll: bool
    items: list[FeedItemOut]
    card: CardOut | None
    next_cursor: str | None
    minutes_today: float
    budget_minutes: int
    uses_your_activity: bool
    target_mix: dict[str, float]
    hidden: int


class RuleIn(Input):
    kind: Literal["never", "less"]
    topic: TopicName | None = None
    username: Annotated[StrictStr, Field(max_length=60)] | None = None
    # Omitted: "less" fades after 14 days, "never" holds until removed.
    expires_at: AwareDatetime | None = None


class RuleOut(BaseModel):
    id: int
    kind: Literal["never", "less"]
    topic: str | None
    username: str | None
    created_at: datetime
    expires_at: datetime | None
    active: bool


class GoalsIn(Input):
    target_mix: Annotated[dict[TopicName, Share], Field(max_length=40)]
    daily_budget_minutes: Annotated[StrictInt, Field(ge=1, le=24 * 60 - 1)]
    ranker: Annotated[StrictStr, Field(max_length=32)]
    # Omitted: the rules stay as they are; a list replaces them all.
    rules: Annotated[list[RuleIn], Field(max_length=100)] | None = None


class RankerOut(BaseModel):
    name: str
    summary: str
    infinite_scroll: bool


class GoalsOut(BaseModel):
    target_mix: dict[str, float]
    daily_budget_minutes: int
    ranker: str
    rules: list[RuleOut]
    # False while the user has not saved goals: these are the defaults.
    stated: bool
    rankers: list[RankerOut]
    topics: list[str]


class ProfileEntryOut(BaseModel):
    topic: str
    weight: float
    source: Literal["learned", "set"]
    # Posts it was learned from that the user can still see, newest first.
    items: list[int]


class ProfileOut(BaseModel):
    learning: bool
    explanation: str
    entries: list[ProfileEntryOut]
    # The mix the next page aims for: stated goals, blended with this profile if learning.
    target_mix: dict[str, float]


class ProfileIn(Input):
    # topic -> share (0..1) to set it, or null to hand it back to learning.
    topics: Annotated[dict[TopicName, Share | None], Field(max_length=40)]


class FeedbackIn(Input):
    feedback: Literal["more", "less", "never"]
    about: Literal["post", "author", "topic"] = "post"
    topic: TopicName | None = None


class FeedbackOut(BaseModel):
    post_id: int
    feedback: str
    about: str
    rule: RuleOut | None
    hidden: bool
    used_for_ranking: bool
    message: str


class EngagementIn(Input):
    kind: Literal["open", "like", "reply"]


class BudgetIn(Input):
    choice: Literal["continue", "stop"]


class BudgetOut(BaseModel):
    minutes_today: float
    budget_minutes: int
    stopped: bool
