"""The coordination networks kith can build, and the settings of one detection run.

One registry drives both the CLI's ``--network`` choices and the engines' dispatch.
Each network links two accounts when they posted the same *object* (normalised
text, re-shared post, URL ...) within ``window`` seconds of each other. Edge weight
follows coordination-network-toolkit, so results can be checked against it: the
directed weight A->B counts A's messages that B matched at least once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import NoReturn

from kith.errors import InvalidInput
from kith.integrity.schema import check_window


class KeyKind(StrEnum):
    ALL = "all"  # every message matches every other one (co_post: the null model)
    TEXT = "text"  # normalised text of original posts
    RESHARE = "reshare"  # the re-shared post's id
    LIST = "list"  # each value of a list column (urls, hashtags, domains)
    SCALAR = "scalar"  # one value column (image_hash)
    SIMILAR = "similar"  # Jaccard over word sets, candidates from MinHash/LSH


@dataclass(frozen=True)
class Network:
    name: str
    kind: KeyKind
    column: str | None
    description: str
    # Whether re-shares are left out: a plain re-share repeats someone else's text and
    # links, which co_retweet already covers (the toolkit does the same).
    originals_only: bool = True


NETWORKS: dict[str, Network] = {
    n.name: n
    for n in (
        Network("co_post", KeyKind.ALL, None, "any two messages in the window", False),
        Network("co_tweet", KeyKind.TEXT, "text", "the same normalised text"),
        Network("co_retweet", KeyKind.RESHARE, "reshare_of", "re-shares of the same post", False),
        Network("co_link", KeyKind.LIST, "urls", "the same URL"),
        Network("co_similar_tweet", KeyKind.SIMILAR, "text", "near-identical text (Jaccard)"),
        Network("co_hashtag", KeyKind.LIST, "hashtags", "the same hashtag"),
        Network("co_domain", KeyKind.LIST, "domains", "a link to the same domain"),
        Network("co_image", KeyKind.SCALAR, "image_hash", "the same image hash"),
    )
}


class EngineName(StrEnum):
    DUCKDB = "duckdb"
    SPARK = "spark"


def get_network(name: str) -> Network:
    try:
        return NETWORKS[name]
    except KeyError:
        raise InvalidInput(
            f"unknown network {name!r}; choose one of {', '.join(NETWORKS)}", field="network"
        ) from None


def _invalid(setting: str, rule: str) -> NoReturn:
    raise InvalidInput(f"{setting} {rule}", field=setting)


@dataclass(frozen=True)
class DetectConfig:
    """Everything one detection run depends on. Defaults are kith's; see
    :meth:`peer_compatible` for the settings that reproduce the toolkit exactly."""

    network: str
    window: float
    engine: EngineName = EngineName.DUCKDB
    # An object shared by more accounts than this is left out of the join and reported:
    # a viral post would otherwise make the join quadratic, and sharing something
    # everybody shares says little about coordination. None = no cap (the toolkit).
    max_accounts_per_object: int | None = 1000
    # Normalised text shorter than this never links accounts: an empty or
    # mention-only text ("@a @b" normalises to "") or "lol" is not a shared message.
    # 0 reproduces the toolkit, which links all empty texts to each other.
    min_text_length: int = 10
    # Edges lighter than this are dropped (the toolkit's --min_edge_weight).
    min_weight: int = 1
    # Evidence: at most this many matched message pairs are kept per account pair
    # (the earliest ones); the pair count is always exact.
    evidence_per_edge: int = 20
    # co_similar_tweet: Jaccard threshold, minimum word-set size, and LSH shape
    # (bands x rows hashes; P(candidate | J=0.8) = 1-(1-0.8^rows)^bands = 0.9998).
    similarity_threshold: float = 0.8
    min_tokens: int = 4
    minhash_bands: int = 16
    minhash_rows: int = 4
    # Whether to cluster and rank cases (off: edges and evidence only).
    cases: bool = True
    # Stop once the edges are written: no evidence, clusters or cases (the network
    # alone, as coordination-network-toolkit computes it).
    edges_only: bool = False
    # Clustering only looks at the heaviest edges when there are very many.
    max_cluster_edges: int = 2_000_000
    # Engine resources: DuckDB spills to temp_directory beyond memory_limit.
    memory_limit: str = "4GB"
    # The windowed join runs over time-bucket ranges, one after another, so that its
    # hash table stays within memory (a match needs neighbouring buckets only, so
    # the result is the same). None: as many as memory_limit asks for (DuckDB).
    join_chunks: int | None = None
    threads: int | None = None
    max_reject_fraction: float = 0.05

    def __post_init__(self) -> None:
        get_network(self.network)
        check_window(self.window)
        # Each error names its setting, as message and as ``field`` (the CLI puts its
        # own option name in its place).
        if self.max_accounts_per_object is not None and self.max_accounts_per_object < 2:
            _invalid("max_accounts_per_object", "must be at least 2")
        if not 0.0 < self.similarity_threshold <= 1.0:
            _invalid("similarity_threshold", "must be in (0, 1]")
        if self.min_text_length < 0:
            _invalid("min_text_length", "must be at least 0")
        if self.min_weight < 1:
            _invalid("min_weight", "must be at least 1")
        if self.evidence_per_edge < 1:
            _invalid("evidence_per_edge", "must be at least 1")
        if self.join_chunks is not None and self.join_chunks < 1:
            _invalid("join_chunks", "must be at least 1")
        if not 0.0 <= self.max_reject_fraction <= 1.0:
            _invalid("max_reject_fraction", "must be in [0, 1]")

    @property
    def spec(self) -> Network:
        return get_network(self.network)

    def peer_compatible(self) -> DetectConfig:
        """The same run with coordination-network-toolkit's semantics: no object cap
        and no text guard (so empty and mention-only texts link, as in the toolkit)."""
        return replace(self, max_accounts_per_object=None, min_text_length=0)
