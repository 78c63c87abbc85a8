"""Clusters of coordinated accounts, as cases a reviewer can act on.

Pure: takes edges and per-case counts, returns ranked :class:`Case` objects.

Clusters are connected components of the undirected network, split into Louvain
communities. A case's score says how unusual its synchrony is: of the members'
messages posted in the same window bins as another member's (``coactive``: what
accounts that merely posted at the same time would give), how many were matches on
the same object (``matched``)? ``p0`` is the same ratio over all accounts in the
input (see ``sql.global_baseline_sql``): the chance that co-active messages share
an object. The score is the binomial log-likelihood ratio ``G/2`` of ``matched``
out of ``coactive`` against ``p0``: it grows with both the evidence and the excess
synchrony, and is negative when a case is *less* synchronised than the baseline.

Case ids are stable: a hash of the network, the window and the sorted member
accounts, so the same group found again gets the same id (a review queue can key
on it).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SharedObject:
    object: str
    messages: int
    accounts: int


@dataclass(frozen=True)
class Cluster:
    accounts: tuple[str, ...]
    component: int
    edges: int
    weight: int

    def case_id(self, network: str, window: float) -> str:
        digest = hashlib.sha1(
            "\n".join((network, f"{window:g}", *self.accounts)).encode(), usedforsecurity=False
        ).hexdigest()
        return f"{network}-w{window:g}-{digest[:12]}"


@dataclass(frozen=True)
class CaseCounts:
    matched: int
    coactive: int
    objects: int
    first_ts: float
    last_ts: float


@dataclass(frozen=True)
class Case:
    """One group of accounts, why it was flagged, and where the evidence is."""

    case_id: str
    rank: int
    network: str
    window: float
    accounts: tuple[str, ...]
    component: int
    edges: int
    weight: int
    matched_messages: int
    coactive_messages: int
    synchrony: float
    score: float
    first_ts: float
    last_ts: float
    shared_objects: tuple[SharedObject, ...] = field(default=())

    @property
    def size(self) -> int:
        return len(self.accounts)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["accounts"] = list(self.accounts)
        data["shared_objects"] = [asdict(o) for o in self.shared_objects]
        data["size"] = self.size
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Case:
        fields = {k: v for k, v in data.items() if k != "size"}
        fields["accounts"] = tuple(data["accounts"])
        fields["shared_objects"] = tuple(SharedObject(**o) for o in data["shared_objects"])
        return cls(**fields)


def find_clusters(edges: Iterable[tuple[str, str, int]], *, seed: int = 0) -> list[Cluster]:
    """Connected components of the (undirected) network, split by Louvain.

    Both directed weights of a pair add up to the undirected weight. The seed makes
    Louvain deterministic, so the same edges give the same clusters."""
    import networkx as nx  # type: ignore[import-untyped]

    graph = nx.Graph()
    for user_1, user_2, weight in edges:
        if user_1 == user_2:
            continue
        previous = graph.get_edge_data(user_1, user_2, {"weight": 0})["weight"]
        graph.add_edge(user_1, user_2, weight=previous + int(weight))
    clusters: list[Cluster] = []
    components = sorted(
        (sorted(c) for c in nx.connected_components(graph)), key=lambda c: (-len(c), c[0])
    )
    for index, component in enumerate(components):
        sub = graph.subgraph(component)
        parts = (
            [set(component)]
            if len(component) <= 3
            else nx.community.louvain_communities(sub, weight="weight", seed=seed)
        )
        for part in parts:
            if len(part) < 2:
                continue
            members = tuple(sorted(part))
            inner = sub.subgraph(members)
            clusters.append(
                Cluster(
                    accounts=members,
                    component=index,
                    edges=inner.number_of_edges(),
                    weight=int(inner.size(weight="weight")),
                )
            )
    return clusters


def _xlogy(x: float, y: float) -> float:
    return 0.0 if x == 0 else x * math.log(y)


def synchrony_score(matched: int, coactive: int, p0: float) -> float:
    """Signed binomial log-likelihood ratio of ``matched`` out of ``coactive`` vs ``p0``."""
    n = max(coactive, matched)
    if n == 0 or not 0.0 < p0 < 1.0:
        return 0.0
    k = matched
    rate = k / n
    llr = _xlogy(k, rate / p0) + _xlogy(n - k, (1 - rate) / (1 - p0))
    return llr if rate >= p0 else -llr


def rank_cases(
    clusters: list[Cluster],
    counts: Mapping[str, CaseCounts],
    objects: Mapping[str, list[SharedObject]],
    *,
    network: str,
    window: float,
    p0: float,
) -> list[Case]:
    """Score every cluster against the baseline rate ``p0`` and rank, best first."""
    ids = [c.case_id(network, window) for c in clusters]
    scored: list[Case] = []
    for case_id, cluster in zip(ids, clusters, strict=True):
        c = counts.get(case_id, CaseCounts(0, 0, 0, 0.0, 0.0))
        coactive = max(c.coactive, c.matched)
        scored.append(
            Case(
                case_id=case_id,
                rank=0,
                network=network,
                window=window,
                accounts=cluster.accounts,
                component=cluster.component,
                edges=cluster.edges,
                weight=cluster.weight,
                matched_messages=c.matched,
                coactive_messages=coactive,
                synchrony=c.matched / coactive if coactive else 0.0,
                score=round(synchrony_score(c.matched, coactive, p0), 6),
                first_ts=c.first_ts,
                last_ts=c.last_ts,
                shared_objects=tuple(objects.get(case_id, ())),
            )
        )
    scored.sort(key=lambda case: (-case.score, -case.matched_messages, case.case_id))
    return [Case(**{**case.__dict__, "rank": rank}) for rank, case in enumerate(scored, start=1)]
