"""The thing kith replaces: X's weighted predicted engagement, faithfully.

The score is a weighted sum of predicted engagement probabilities with the weights X
published for its heavy ranker (twitter/the-algorithm-ml, projects/home/recap/README.md,
April 2023), then X's home-mixer heuristics: out-of-network posts scaled by 0.75, and
author diversity: the ``j``-th post by the same author (``j`` = 0, 1, ...) multiplied by
``(1 - floor) * decay**j + floor`` with decay 0.5 and floor 0.25, after which the list is
re-sorted. It scrolls forever (``infinite_scroll``): no caught-up card, no budget card.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from kith.errors import InvalidInput
from kith.feed.rankers.base import (
    ENGAGEMENT_HEADS,
    CandidateSet,
    Ranker,
    Ranking,
    Viewer,
    top_k,
)

X_WEIGHTS: Mapping[str, float] = {
    "fav": 0.5,
    "retweet": 1.0,
    "reply": 13.5,
    "good_profile_click": 12.0,
    "video_playback50": 0.005,
    "reply_engaged_by_author": 75.0,
    "good_click": 11.0,
    "good_click_v2": 10.0,
    "negative_feedback_v2": -74.0,
    "report": -369.0,
}
AUTHOR_DECAY = 0.5
AUTHOR_FLOOR = 0.25
OUT_OF_NETWORK_SCALE = 0.75


class EngagementRanker(Ranker):
    name = "engagement"
    infinite_scroll = True

    def __init__(
        self,
        *,
        weights: Mapping[str, float] = X_WEIGHTS,
        author_decay: float = AUTHOR_DECAY,
        author_floor: float = AUTHOR_FLOOR,
        out_of_network_scale: float = OUT_OF_NETWORK_SCALE,
    ) -> None:
        self.weights = dict(weights)
        self.author_decay = author_decay
        self.author_floor = author_floor
        self.out_of_network_scale = out_of_network_scale

    def order(self, viewer: Viewer, candidates: CandidateSet, *, k: int | None = None) -> Ranking:
        if candidates.engagement is None:
            raise InvalidInput(
                "the engagement ranker needs engagement predictions", field="candidates"
            )
        w = np.array([self.weights.get(head, 0.0) for head in ENGAGEMENT_HEADS])
        contributions = candidates.engagement * w  # (n, heads)
        weighted = contributions.sum(axis=1)
        network = np.where(candidates.in_network, 1.0, self.out_of_network_scale)
        scaled = weighted * network
        # Author diversity is listwise: in score order, the j-th post of an author gets
        # (1 - floor) * decay**j + floor. Vectorised: j is the rank within the author's posts.
        first_pass = np.lexsort((-candidates.created_at, -scaled))
        place = np.empty(len(candidates), dtype=np.int64)
        place[first_pass] = np.arange(len(candidates))
        by_author = np.lexsort((place, candidates.author_ids))
        authors = candidates.author_ids[by_author]
        starts = np.r_[0, np.flatnonzero(authors[1:] != authors[:-1]) + 1]
        group_start = np.repeat(starts, np.diff(np.r_[starts, len(authors)]))
        j = np.empty(len(candidates), dtype=np.int64)
        j[by_author] = np.arange(len(candidates)) - group_start
        diversity = (1 - self.author_floor) * self.author_decay**j + self.author_floor
        final = scaled * diversity
        rows = top_k(final, k, tiebreak=candidates.created_at)
        parts = {
            head: contributions[rows, i]
            for i, head in enumerate(ENGAGEMENT_HEADS)
            if self.weights.get(head, 0.0) != 0.0
        }
        parts["out_of_network_scale"] = network[rows]
        parts["author_diversity"] = diversity[rows]
        return Ranking(
            rows=rows,
            scores=final[rows],
            parts=parts,
            exploration=np.zeros(len(rows), dtype=np.bool_),
        )
