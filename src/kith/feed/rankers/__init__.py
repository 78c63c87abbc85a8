"""Rankers behind one interface (:mod:`.base`) and one registry (:mod:`.registry`)."""

from kith.feed.rankers.registry import RANKERS, RankerSpec, make_ranker, ranker_names

__all__ = ["RANKERS", "RankerSpec", "make_ranker", "ranker_names"]
