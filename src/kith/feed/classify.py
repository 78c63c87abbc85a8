"""Infer a post's topics from its text: a small keyword-centroid classifier (pure, no I/O).

Each topic of :data:`kith.feed.topics.FEED_TOPICS` has a hand-written list of cue words
(its "centroid" as a bag of words; written for kith, not learned from any data set).
A post's words are lower-cased and lightly stemmed, each cue is weighted by how
specific it is (``1 / number of topics that share it``), and a topic's score is the sum
of the cues found. The best topic wins; a second topic joins when it scores at least
:data:`SECOND_TOPIC_SHARE` of the first. No cue at all means no topic: the post counts
toward no goal rather than being forced into one.

Measured on the 2,000 MIND news articles in ``shared/data/mind_small_sample`` (title +
abstract against the editors' category) by ``tests/feed/test_classify.py``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from kith.feed.topics import FEED_TOPICS

# A second topic must be nearly as clear as the first, or the post is single-topic.
SECOND_TOPIC_SHARE = 0.75
MAX_INFERRED_TOPICS = 2

CUES: Mapping[str, str] = {
    "news": "police court judge trial election vote voter senate congress president governor "
    "mayor law lawsuit arrest arrested charged crime shooting killed fire protest government "
    "official officials impeachment democrat republican trump biden state county city council "
    "investigation sheriff suspect victim school district war military immigration policy "
    "campaign attorney prison",
    "sports": "game games team season coach player players league score scored win won loss "
    "match goal goals nfl nba mlb nhl football soccer basketball baseball hockey tennis golf "
    "race marathon championship playoff playoffs quarterback touchdown inning tournament "
    "olympic athlete stadium cup defeat victory rookie draft yard yards ncaa college "
    "bowl injury injured fan sox yankees patriots lakers cowboys packers raiders titans "
    "clemson alabama lsu ohio wolverines buckeyes preseason halftime",
    "finance": "money market markets stock stocks investor investors bank banks economy "
    "economic price prices tax taxes company companies earnings profit revenue retirement "
    "savings debt loan mortgage billion million dollar fund shares trade tariff inflation "
    "interest budget salary pay",
    "foodanddrink": "food recipe recipes cook cooking cooked bake baking bread dinner lunch "
    "breakfast restaurant restaurants chef dish meal meals eat eating taste delicious cheese "
    "chicken pizza coffee wine beer cocktail soup salad dessert cake kitchen thanksgiving "
    "pumpkin vegan sauce",
    "lifestyle": "home house family wedding fashion style dress beauty holiday halloween "
    "christmas gift gifts garden decor design relationship kid parent parents dog dogs cat "
    "cats pet pets shopping royal life hack cleaning",
    "weather": "weather storm storms snow rain rainy wind winds forecast temperature "
    "temperatures cold freeze freezing heat hurricane tornado flood flooding sunny cloudy "
    "winter frost degree degrees chill blizzard drought",
    "video": "video videos watch footage clip camera viral filmed caught livestream",
    "travel": "travel trip trips vacation flight flights airport airline airlines hotel "
    "hotels beach island cruise destination destinations tourist tourists visit passport "
    "road national park resort luggage",
    "health": "health doctor doctors hospital patient patients disease cancer diet weight "
    "exercise workout sleep medical medicine vaccine virus study symptoms heart brain "
    "mental therapy nurse drug drugs fitness calories",
    "autos": "car cars truck trucks vehicle vehicles driver drivers driving engine ford "
    "tesla toyota honda chevrolet bmw electric suv sedan recall mile miles horsepower "
    "dealer highway crash motorcycle",
    "music": "music song songs album albums singer band concert tour rapper guitar grammy "
    "grammys lyrics musician musicians spotify festival playlist vinyl chart",
    "tv": "tv television show shows episode episodes series season finale netflix hbo "
    "sitcom host hosts bachelor anchor network streaming premiere cast",
    "movies": "movie movies film films cinema actor actress director box office oscar "
    "oscars hollywood trailer sequel premiere screen marvel disney",
    "entertainment": "celebrity celebrities famous kardashian instagram "
    "gossip red carpet award awards rumor dating divorce couple",
    "kids": "kids child children toddler baby babies toy toys playground cartoon "
    "homework teacher classroom preschool storytime",
}

_WORD = re.compile(r"[a-z][a-z']+")


def stem(word: str) -> str:
    """A very light stemmer: enough that "storms" and "storm", "cooking" and "cook" meet."""
    word = word.strip("'")
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + keep
    return word


@dataclass(frozen=True)
class TopicClassifier:
    """Cue words per topic -> weights; :meth:`predict` returns topics best first."""

    cues: Mapping[str, str]

    def __post_init__(self) -> None:
        owners: dict[str, set[str]] = {}
        for topic, words in self.cues.items():
            for word in words.split():
                owners.setdefault(stem(word), set()).add(topic)
        weights = {
            topic: {stem(w): 1.0 / len(owners[stem(w)]) for w in words.split()}
            for topic, words in self.cues.items()
        }
        object.__setattr__(self, "_weights", weights)

    def scores(self, text: str) -> dict[str, float]:
        words = [stem(w) for w in _WORD.findall(text.lower())]
        weights: dict[str, dict[str, float]] = object.__getattribute__(self, "_weights")
        out: dict[str, float] = {}
        for topic, cue in weights.items():
            score = sum(cue.get(w, 0.0) for w in words)
            if score > 0:
                out[topic] = score
        return out

    def predict(self, text: str, *, limit: int = MAX_INFERRED_TOPICS) -> tuple[str, ...]:
        ranked = sorted(self.scores(text).items(), key=lambda kv: (-kv[1], kv[0]))
        if not ranked:
            return ()
        best = ranked[0][1]
        return tuple(t for t, s in ranked[:limit] if s >= SECOND_TOPIC_SHARE * best)


@functools.cache
def default_classifier() -> TopicClassifier:
    assert set(CUES) == set(FEED_TOPICS), "every feed topic needs cue words"
    return TopicClassifier(CUES)


def infer_topics(text: str) -> tuple[str, ...]:
    """The post's topics as kith infers them (at most two), or none."""
    return default_classifier().predict(text)
