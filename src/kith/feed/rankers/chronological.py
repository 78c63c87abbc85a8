"""Newest first, nothing else: the feed as it was before ranking."""

from __future__ import annotations

import numpy as np

from kith.feed.rankers.base import (
    CandidateSet,
    Ranker,
    Ranking,
    Viewer,
    require_relevance,
    top_k,
)


class ChronologicalRanker(Ranker):
    name = "chronological"

    def order(self, viewer: Viewer, candidates: CandidateSet, *, k: int | None = None) -> Ranking:
        # Ties (same second) go to the higher item id: the later-created row.
        rows = np.lexsort((-candidates.item_ids, -candidates.created_at))
        rows = rows[: len(rows) if k is None else k].astype(np.int64)
        created = candidates.created_at[rows]
        return Ranking(
            rows=rows,
            scores=created.copy(),
            parts={"created_at": created},
            exploration=np.zeros(len(rows), dtype=np.bool_),
        )


class RelevanceRanker(Ranker):
    """Predicted relevance alone (implicit ALS in the evaluation): the offline baseline."""

    name = "als"

    def order(self, viewer: Viewer, candidates: CandidateSet, *, k: int | None = None) -> Ranking:
        relevance = require_relevance(candidates, self.name)
        rows = top_k(relevance, k)
        return Ranking(
            rows=rows,
            scores=relevance[rows],
            parts={"relevance": relevance[rows]},
            exploration=np.zeros(len(rows), dtype=np.bool_),
        )
