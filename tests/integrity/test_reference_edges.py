"""kith's edges equal coordination-network-toolkit's on the real IRA slice.

The 100k slice is the reference's own "100k" input (row_id < 100000), so the
comparison is complete, not a sample; bench/integrity.py compares the 1M slice."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kith.integrity.networks import DetectConfig
from kith.integrity.pipeline import compute_edges
from tests.integrity.conftest import DATA, need


def _rows(table: object) -> set[tuple[str, str, int]]:
    data = table.to_pylist()  # type: ignore[attr-defined]
    return {(r["user_1"], r["user_2"], r["weight"]) for r in data}


@pytest.mark.parametrize("network", ["co_tweet", "co_retweet", "co_link"])
def test_edges_equal_reference_at_60s(network: str, ira_100k: Path, tmp_path: Path) -> None:
    reference = need(DATA / "cnt_reference_edges" / f"ira_100k_{network}_w60.parquet")
    config = DetectConfig(network=network, window=60).peer_compatible()
    ours = compute_edges(ira_100k, config, work_dir=tmp_path)
    expected = _rows(pq.read_table(reference))
    assert expected  # the reference is not empty, so equality means something
    assert _rows(ours) == expected


def test_text_guard_drops_exactly_the_short_text_matches(ira_100k: Path, tmp_path: Path) -> None:
    """kith's default differs from the toolkit on purpose: empty, mention-only and very
    short texts never link. Its edges equal the toolkit's on the input without them."""
    import re

    import pyarrow as pa

    table = pq.read_table(ira_100k)

    def normalised(text: str) -> str:
        return " ".join(re.sub(r"@\S*", "", text.lower()).split())

    short = [
        reshare == "" and len(normalised(text)) < 10
        for text, reshare in zip(
            table.column("text").to_pylist(), table.column("reshare_of").to_pylist(), strict=True
        )
    ]
    assert sum(short) > 0
    kept = tmp_path / "kept.parquet"
    pq.write_table(table.filter(pa.array([not s for s in short])), kept)

    guarded = DetectConfig(network="co_tweet", window=60, max_accounts_per_object=None)
    peer = guarded.peer_compatible()
    ours = _rows(compute_edges(ira_100k, guarded, work_dir=tmp_path))
    assert ours == _rows(compute_edges(kept, peer, work_dir=tmp_path))
    assert ours < _rows(compute_edges(ira_100k, peer, work_dir=tmp_path))


@pytest.mark.parametrize("network", ["co_tweet", "co_retweet", "co_link"])
def test_the_join_in_time_chunks_gives_the_same_edges(
    network: str, ira_100k: Path, tmp_path: Path
) -> None:
    """An input larger than memory is joined bucket range by bucket range; on the real
    slice, seven ranges give exactly the edges of one piece (and the reference)."""
    config = DetectConfig(network=network, window=60).peer_compatible()
    whole = _rows(compute_edges(ira_100k, replace(config, join_chunks=1), work_dir=tmp_path))
    chunked = _rows(compute_edges(ira_100k, replace(config, join_chunks=7), work_dir=tmp_path))
    assert whole  # something to compare
    assert chunked == whole
    reference = need(DATA / "cnt_reference_edges" / f"ira_100k_{network}_w60.parquet")
    assert chunked == _rows(pq.read_table(reference))
