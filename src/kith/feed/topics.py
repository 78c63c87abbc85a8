"""The topic vocabulary and topic mixes.

A *topic mix* maps topic names to shares that sum to 1 (a user's goals, a learned
profile, the make-up of a page). This module validates and combines mixes with plain
dicts so the API layer can use it without numpy; rankers turn a mix into a vector with
:meth:`TopicSpace.vector`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kith.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# The categories of the MIND news data set (Wu et al., ACL 2020), so real articles map
# onto kith topics one to one; authors may pick any of them for a post.
FEED_TOPICS: tuple[str, ...] = (
    "news",
    "sports",
    "finance",
    "foodanddrink",
    "lifestyle",
    "weather",
    "video",
    "travel",
    "health",
    "autos",
    "music",
    "tv",
    "movies",
    "entertainment",
    "kids",
)

# A mix may be off by this much from 1 (slider rounding) and is then rescaled; further
# off and it is refused, because "40% + 40% + 40%" is a mistake, not a rounding error.
MIX_SUM_TOLERANCE = 0.02


@dataclass(frozen=True)
class TopicSpace:
    """An ordered set of topic names; position ``i`` is column ``i`` of every topic vector."""

    names: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.names:
            raise InvalidInput("a topic space needs at least one topic", field="topics")
        if len(set(self.names)) != len(self.names):
            raise InvalidInput("topic names must be unique", field="topics")
        object.__setattr__(self, "_index", {name: i for i, name in enumerate(self.names)})

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def index(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise InvalidInput(f"unknown topic: {name!r}", field="topics") from None

    def check(self, names: Iterable[str]) -> tuple[str, ...]:
        """Return ``names`` as a tuple after refusing unknown ones."""
        result = tuple(names)
        for name in result:
            self.index(name)
        return result

    def vector(self, mix: Mapping[str, float]) -> npt.NDArray[np.float64]:
        """The mix as a vector over this space (unknown topics refused)."""
        import numpy as np

        out = np.zeros(len(self.names))
        for name, share in mix.items():
            out[self.index(name)] = share
        return out

    def weights(self, topic_lists: Sequence[Sequence[str]]) -> npt.NDArray[np.float64]:
        """Per-item topic weights, each item's topics sharing weight 1/|topics| (Steck 2018).

        An item with no topics gets a zero row: it counts toward no topic.
        """
        import numpy as np

        out = np.zeros((len(topic_lists), len(self.names)))
        for row, topics in enumerate(topic_lists):
            unique = set(topics)
            for name in unique:
                out[row, self.index(name)] = 1.0 / len(unique)
        return out


def normalize_mix(
    mix: Mapping[str, float], *, space: TopicSpace, field: str = "mix"
) -> dict[str, float]:
    """Validate a user-given mix and rescale it to sum to exactly 1.

    Refused: unknown topics, negative or non-finite shares, an empty or all-zero mix,
    and sums further than :data:`MIX_SUM_TOLERANCE` from 1.
    """
    if not mix:
        raise InvalidInput("choose at least one topic", field=field)
    total = 0.0
    for name, share in mix.items():
        space.index(name)
        if (
            not isinstance(share, int | float)
            or share != share
            or share in (float("inf"), -float("inf"))
        ):
            raise InvalidInput(f"share for {name!r} must be a number", field=field)
        if share < 0:
            raise InvalidInput(f"share for {name!r} must not be negative", field=field)
        total += float(share)
    if total <= 0:
        raise InvalidInput("at least one topic needs a share above zero", field=field)
    if abs(total - 1.0) > MIX_SUM_TOLERANCE:
        raise InvalidInput(f"shares must add up to 100% (they add up to {total:.0%})", field=field)
    return {name: float(share) / total for name, share in mix.items() if share > 0}


def blend(parts: Sequence[tuple[float, Mapping[str, float]]]) -> dict[str, float]:
    """A weighted average of mixes, renormalised; empty mixes drop out with their weight."""
    out: dict[str, float] = {}
    used = 0.0
    for weight, mix in parts:
        total = sum(mix.values())
        if weight <= 0 or total <= 0:
            continue
        used += weight
        for name, share in mix.items():
            out[name] = out.get(name, 0.0) + weight * share / total
    if used == 0:
        return {}
    return {name: share / used for name, share in out.items()}
