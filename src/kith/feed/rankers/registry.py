"""The ranker registry: one table drives the CLI's choices, the API's validation and dispatch.

Importing this module is cheap (no numpy): ranker classes load when first made.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kith.errors import InvalidInput

if TYPE_CHECKING:
    from kith.feed.rankers.base import Ranker


@dataclass(frozen=True)
class RankerSpec:
    name: str
    summary: str
    target: str  # "module:Class"
    # Offered to users in settings; "als" is the offline baseline only.
    user_facing: bool = True
    # Pages of 20 with caught-up and budget cards, or infinite scroll.
    infinite_scroll: bool = False


RANKERS: dict[str, RankerSpec] = {
    spec.name: spec
    for spec in (
        RankerSpec(
            "chronological",
            "Newest first, from people you follow.",
            "kith.feed.rankers.chronological:ChronologicalRanker",
        ),
        RankerSpec(
            "aligned",
            "Relevant posts in the mix you chose, diverse, with a little labelled exploration.",
            "kith.feed.rankers.aligned:AlignedRanker",
        ),
        RankerSpec(
            "engagement",
            "What other platforms do: X's weighted predicted engagement, infinite scroll.",
            "kith.feed.rankers.engagement:EngagementRanker",
            infinite_scroll=True,
        ),
        RankerSpec(
            "als",
            "Predicted relevance alone (implicit ALS): the offline evaluation baseline.",
            "kith.feed.rankers.chronological:RelevanceRanker",
            user_facing=False,
        ),
    )
}


def ranker_names(*, user_facing_only: bool = False) -> tuple[str, ...]:
    return tuple(n for n, s in RANKERS.items() if s.user_facing or not user_facing_only)


def make_ranker(name: str, **params: Any) -> Ranker:
    """A new ranker by registry name, with optional hyperparameters."""
    spec = RANKERS.get(name)
    if spec is None:
        raise InvalidInput(
            f"unknown ranker {name!r}; choose one of {', '.join(RANKERS)}", field="ranker"
        )
    module_name, _, class_name = spec.target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    ranker: Ranker = cls(**params)
    return ranker
