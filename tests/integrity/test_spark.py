"""The same plan on Spark (local[2]) gives exactly DuckDB's edges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kith.integrity.networks import DetectConfig, EngineName
from kith.integrity.pipeline import compute_edges
from tests.integrity.conftest import write_messages

pytestmark = pytest.mark.spark

T0 = 1_600_000_000


def _data(path: Path) -> Path:
    """Small, varied data: repeated texts (some near-duplicates, in several scripts,
    some mention-only), shared links (some empty), re-shares, timing at the window
    edge, and a duplicate message id."""
    texts = [
        "vote early the polls close at eight tonight",
        "Vote early @bob the polls close at eight tonight",
        "vote early the polls close at eight tonight friends",
        "голосуйте рано участки закрываются в восемь",
        "@alice @bob",
        "",
    ]
    rows: list[dict[str, Any]] = []
    for i in range(120):
        rows.append(
            {
                "message_id": i,
                "account_id": f"acc{i % 9}",
                "timestamp": T0 + (i * 37) % 600 + (i % 3) * 0.5,
                "text": texts[i % len(texts)],
                "urls": [f"https://n.example/{i % 4}", ""] if i % 5 else [],
                "reshare_of": f"post{i % 7}" if i % 4 == 0 else None,
            }
        )
    rows.append({**rows[3], "account_id": "dup"})  # duplicate id: the first one wins
    return write_messages(path, rows)


# Two networks keep the suite quick; they exercise the most dialect-specific SQL
# (regular expressions, lambdas over lists, hashing). bench and docs compare all.
@pytest.mark.parametrize("network", ["co_tweet", "co_similar_tweet"])
def test_spark_edges_equal_duckdb_edges(network: str, spark: Any, tmp_path: Path) -> None:
    source = _data(tmp_path / "in.parquet")
    config = DetectConfig(network=network, window=60, min_text_length=0)
    duck = compute_edges(source, config, work_dir=tmp_path)
    sparked = compute_edges(
        source,
        DetectConfig(network=network, window=60, min_text_length=0, engine=EngineName.SPARK),
        work_dir=tmp_path,
        spark_session=spark,
    )
    assert duck.num_rows > 0
    assert sorted(sparked.to_pylist(), key=str) == sorted(duck.to_pylist(), key=str)


def test_spark_splits_space_separated_lists_like_duckdb(spark: Any, tmp_path: Path) -> None:
    """A CSV's list columns arrive as strings: both engines split them the same way
    (repeats, runs of spaces, lone '#', one value or several) and read '#Vote' and
    'vote' as one hashtag, different from 'foo' or 'bar'."""
    source = tmp_path / "in.csv"
    source.write_text(
        "message_id,account_id,timestamp,urls,hashtags\n"
        f"1,a,{T0},https://x.example/1  https://x.example/1 ,#Wahl wahl #\n"
        f"2,b,{T0 + 1},https://x.example/1,WAHL\n"
        f"3,c,{T0 + 2}, ,#\n"
        f"4,d,{T0 + 3},https://y.example https://x.example/1,# #\n"
        f"5,e,{T0 + 4},,#vote\n"
        f"6,f,{T0 + 5},,#Vote\n"
        f"7,g,{T0 + 6},,foo\n"
        f"8,h,{T0 + 7},,bar\n",
        encoding="utf-8",
    )
    hashtag_edges = {("a", "b", 1), ("b", "a", 1), ("e", "f", 1), ("f", "e", 1)}
    for network in ("co_link", "co_hashtag"):
        duck = compute_edges(source, DetectConfig(network=network, window=60), work_dir=tmp_path)
        sparked = compute_edges(
            source,
            DetectConfig(network=network, window=60, engine=EngineName.SPARK),
            work_dir=tmp_path,
            spark_session=spark,
        )
        assert duck.num_rows > 0
        assert sorted(sparked.to_pylist(), key=str) == sorted(duck.to_pylist(), key=str)
        if network == "co_hashtag":
            got = {(e["user_1"], e["user_2"], e["weight"]) for e in duck.to_pylist()}
            assert got == hashtag_edges
