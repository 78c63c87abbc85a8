"""The one ranker interface, and the plain data it ranks.

A ranker takes a :class:`Viewer` (whose target mix it may calibrate to) and a
:class:`CandidateSet` (columnar arrays: authors, topics, times, and whatever predictions
the caller has: relevance from :mod:`kith.feed.relevance`, engagement odds from any
model), and returns a :class:`Ranking`: positions into the candidate set with every
score part kept, so each item can say *why* it is there. No ranker touches a database.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from kith.errors import InvalidInput
from kith.feed.topics import TopicSpace

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# The engagement predictions a candidate can carry, named after the heads of X's
# open-sourced heavy ranker (the-algorithm-ml, projects/home/recap). Callers fill the
# heads their model predicts and leave the rest at zero.
ENGAGEMENT_HEADS: tuple[str, ...] = (
    "fav",
    "retweet",
    "reply",
    "good_profile_click",
    "video_playback50",
    "reply_engaged_by_author",
    "good_click",
    "good_click_v2",
    "negative_feedback_v2",
    "report",
)


@dataclass(frozen=True)
class Post:
    """One candidate as plain values (the feed API builds these from its tables)."""

    item_id: int
    author_id: int
    topics: tuple[str, ...]
    created_at: datetime
    in_network: bool = True
    relevance: float | None = None
    engagement: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CandidateSet:
    """Candidates as columns; row ``i`` of every array is the same item."""

    space: TopicSpace
    item_ids: IntArray
    author_ids: IntArray
    topic_weights: FloatArray  # (n, topics); each row sums to 1, or 0 for no topics
    created_at: FloatArray  # seconds since the epoch, UTC
    in_network: BoolArray
    relevance: FloatArray | None = None
    engagement: FloatArray | None = None  # (n, len(ENGAGEMENT_HEADS)) probabilities

    def __post_init__(self) -> None:
        n = len(self.item_ids)
        shapes = [len(self.author_ids), len(self.created_at), len(self.in_network)]
        if any(s != n for s in shapes) or self.topic_weights.shape != (n, len(self.space)):
            raise InvalidInput("candidate columns differ in length", field="candidates")
        if self.relevance is not None and self.relevance.shape != (n,):
            raise InvalidInput("one relevance score per candidate", field="candidates")
        if self.engagement is not None and self.engagement.shape != (n, len(ENGAGEMENT_HEADS)):
            raise InvalidInput("engagement must have one column per head", field="candidates")

    def __len__(self) -> int:
        return len(self.item_ids)

    @classmethod
    def from_posts(cls, space: TopicSpace, posts: Sequence[Post]) -> CandidateSet:
        relevance = None
        if posts and all(p.relevance is not None for p in posts):
            relevance = np.array([p.relevance for p in posts], dtype=np.float64)
        engagement = np.zeros((len(posts), len(ENGAGEMENT_HEADS)))
        for row, post in enumerate(posts):
            for head, odds in post.engagement.items():
                if head not in ENGAGEMENT_HEADS:
                    raise InvalidInput(f"unknown engagement head {head!r}", field="engagement")
                engagement[row, ENGAGEMENT_HEADS.index(head)] = odds
        return cls(
            space=space,
            item_ids=np.array([p.item_id for p in posts], dtype=np.int64),
            author_ids=np.array([p.author_id for p in posts], dtype=np.int64),
            topic_weights=space.weights([space.check(p.topics) for p in posts]),
            created_at=np.array([p.created_at.timestamp() for p in posts], dtype=np.float64),
            in_network=np.array([p.in_network for p in posts], dtype=np.bool_),
            relevance=relevance,
            engagement=engagement,
        )

    def take(self, rows: IntArray) -> CandidateSet:
        """The candidates at ``rows``, in that order."""
        return CandidateSet(
            space=self.space,
            item_ids=self.item_ids[rows],
            author_ids=self.author_ids[rows],
            topic_weights=self.topic_weights[rows],
            created_at=self.created_at[rows],
            in_network=self.in_network[rows],
            relevance=None if self.relevance is None else self.relevance[rows],
            engagement=None if self.engagement is None else self.engagement[rows],
        )

    def topics_of(self, row: int) -> tuple[str, ...]:
        return tuple(self.space.names[j] for j in np.flatnonzero(self.topic_weights[row]))


@dataclass(frozen=True)
class Viewer:
    """Who the feed is for: their target mix (a vector over the topic space) and its origins."""

    user_id: int
    target: FloatArray
    target_sources: Mapping[str, str] = field(default_factory=dict)
    seed: int = 0  # exploration draws are reproducible per (seed, user)


@dataclass(frozen=True)
class Why:
    """Why an item is on the page: where it came from, which goal it serves, the score parts."""

    ranker: str
    source: str  # "in-network", "out-of-network" or "exploration"
    goal: str | None  # the target topic this item counts toward, if any
    goal_source: str | None  # "stated", "set" or "learned"
    score: float
    parts: dict[str, float]


@dataclass(frozen=True)
class RankedItem:
    item_id: int
    author_id: int
    topics: tuple[str, ...]
    score: float
    why: Why


@dataclass(frozen=True)
class Ranking:
    """Rows into the candidate set, best first, with the parts each final score is made of."""

    rows: IntArray
    scores: FloatArray
    parts: dict[str, FloatArray]
    exploration: BoolArray


class Ranker(ABC):
    """Rank candidates for a viewer. Subclasses set ``name`` and implement :meth:`order`."""

    name: ClassVar[str]
    # True only for the engagement baseline: no pages, no caught-up card, no budget card.
    infinite_scroll: ClassVar[bool] = False

    @abstractmethod
    def order(self, viewer: Viewer, candidates: CandidateSet, *, k: int | None = None) -> Ranking:
        """The best ``k`` rows (all when ``None``), best first."""

    def rank(
        self, viewer: Viewer, candidates: CandidateSet, *, k: int | None = None
    ) -> list[RankedItem]:
        """Like :meth:`order`, as items that each carry their ``why``."""
        ranking = self.order(viewer, candidates, k=k)
        items: list[RankedItem] = []
        for pos, row in enumerate(ranking.rows.tolist()):
            goal, goal_source = goal_served(viewer, candidates, row)
            if ranking.exploration[pos]:
                source = "exploration"
            else:
                source = "in-network" if candidates.in_network[row] else "out-of-network"
            score = float(ranking.scores[pos])
            why = Why(
                ranker=self.name,
                source=source,
                goal=goal,
                goal_source=goal_source,
                score=score,
                parts={name: float(values[pos]) for name, values in ranking.parts.items()},
            )
            items.append(
                RankedItem(
                    item_id=int(candidates.item_ids[row]),
                    author_id=int(candidates.author_ids[row]),
                    topics=candidates.topics_of(row),
                    score=score,
                    why=why,
                )
            )
        return items


def goal_served(
    viewer: Viewer, candidates: CandidateSet, row: int
) -> tuple[str | None, str | None]:
    """The item's topic with the largest target share, and where that share came from."""
    weights = candidates.topic_weights[row]
    if viewer.target.shape != weights.shape:
        return None, None
    served = np.where(weights > 0, viewer.target, 0.0)
    if not served.any():
        return None, None
    topic = candidates.space.names[int(np.argmax(served))]
    return topic, viewer.target_sources.get(topic, "learned")


def top_k(scores: FloatArray, k: int | None, tiebreak: FloatArray | None = None) -> IntArray:
    """Rows of the ``k`` highest scores, best first; ties go to the higher ``tiebreak``."""
    n = len(scores)
    k = n if k is None else min(k, n)
    if tiebreak is None:
        if k < n:
            part = np.argpartition(-scores, k - 1)[:k]
            return part[np.argsort(-scores[part], kind="stable")].astype(np.int64)
        return np.argsort(-scores, kind="stable").astype(np.int64)
    return np.lexsort((-tiebreak, -scores))[:k].astype(np.int64)


def require_relevance(candidates: CandidateSet, ranker: str) -> FloatArray:
    if candidates.relevance is None:
        raise InvalidInput(f"the {ranker} ranker needs relevance scores", field="candidates")
    return candidates.relevance
