"""Planted-campaign evaluation: inject coordinated groups into real data, then ask
whether they come out at the top of the case ranking.

Pure functions over Arrow tables and :class:`~kith.integrity.cases.Case` lists; the
caller runs detection in between. A planted group is a set of new accounts that
post the same fresh link in bursts, each member after a log-normal delay (median
``jitter_median`` seconds, so some fall outside the window, as real campaigns'
stragglers do), and that otherwise look ordinary: each also re-posts a sample of
real messages' links and hashtags at random times.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kith.integrity.cases import Case

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class PlantSpec:
    groups: int = 10
    min_size: int = 4
    max_size: int = 12
    min_bursts: int = 4
    max_bursts: int = 10
    participation: float = 0.8
    jitter_median: float = 10.0
    jitter_sigma: float = 1.0
    background_posts: int = 20
    seed: int = 0


def plant_campaigns(messages: pa.Table, spec: PlantSpec) -> tuple[pa.Table, list[frozenset[str]]]:
    """``messages`` (kith schema with urls/hashtags lists) plus planted groups."""
    import pyarrow as pa

    rng = random.Random(spec.seed)  # noqa: S311  (reproducible simulation, not security)
    times = messages.column("timestamp").to_pylist()
    start, end = min(times), max(times)
    real = messages.select(["urls", "hashtags", "domains"]).to_pylist()
    rows: list[dict[str, object]] = []
    groups: list[frozenset[str]] = []
    for g in range(spec.groups):
        size = rng.randint(spec.min_size, spec.max_size)
        members = [f"planted_{g}_{i}" for i in range(size)]
        groups.append(frozenset(members))
        for burst in range(rng.randint(spec.min_bursts, spec.max_bursts)):
            moment = rng.uniform(start, end)
            url = f"planted_url_{g}_{burst}"
            for account in members:
                if rng.random() > spec.participation:
                    continue
                delay = math.exp(rng.gauss(math.log(spec.jitter_median), spec.jitter_sigma))
                rows.append(_row(f"p{g}_{burst}_{account}", account, int(moment + delay), [url]))
        for account in members:
            for k in range(spec.background_posts):
                sample = real[rng.randrange(len(real))]
                rows.append(
                    {
                        **_row(
                            f"bg_{account}_{k}",
                            account,
                            int(rng.uniform(start, end)),
                            list(sample["urls"] or []),
                        ),
                        "hashtags": list(sample["hashtags"] or []),
                        "domains": list(sample["domains"] or []),
                    }
                )
    planted = pa.Table.from_pylist(rows, schema=messages.schema)
    return pa.concat_tables([messages, planted]), groups


def _row(message_id: str, account: str, ts: int, urls: list[str]) -> dict[str, object]:
    return {
        "message_id": message_id,
        "account_id": account,
        "timestamp": ts,
        "urls": urls,
        "hashtags": [],
        "domains": [],
        "image_hash": None,
    }


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


@dataclass(frozen=True)
class PlantedScore:
    top_k: int
    precision: float  # top-k cases that are mostly one planted group
    recall: float  # planted groups found by a top-k case
    account_precision: float  # accounts in top-k cases that are planted
    account_recall: float  # planted accounts inside top-k cases


def planted_scores(
    cases: list[Case],
    groups: list[frozenset[str]],
    *,
    top_k: int,
    match: float = 0.5,
    known: frozenset[str] = frozenset(),
) -> PlantedScore:
    """How well the top ``top_k`` cases recover the planted groups.

    A case matches a group when their account sets have Jaccard >= ``match``. Case
    ids in ``known`` (found on the data before planting; ids are stable) are skipped:
    the real data holds unlabelled coordinated groups of its own."""
    top = [frozenset(c.accounts) for c in cases if c.case_id not in known][:top_k]
    hits = [any(_jaccard(case, g) >= match for g in groups) for case in top]
    found = [any(_jaccard(case, g) >= match for case in top) for g in groups]
    planted = frozenset().union(*groups) if groups else frozenset()
    flagged = frozenset().union(*top) if top else frozenset()
    return PlantedScore(
        top_k=top_k,
        precision=sum(hits) / len(top) if top else 0.0,
        recall=sum(found) / len(groups) if groups else 0.0,
        account_precision=len(flagged & planted) / len(flagged) if flagged else 0.0,
        account_recall=len(flagged & planted) / len(planted) if planted else 0.0,
    )
