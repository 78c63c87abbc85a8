"""Edge semantics on hand-made data with known answers (table-driven)."""

# ruff: noqa: RUF001  (text in other scripts is the point of these tests)

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from kith.integrity.networks import DetectConfig
from kith.integrity.pipeline import compute_edges, detect
from kith.integrity.schema import InputFormat
from tests.integrity.conftest import DATA, need, write_messages

T0 = 1_600_000_000


def edge_set(path: Path, **config: Any) -> set[tuple[str, str, int]]:
    table = compute_edges(path, DetectConfig(**config), work_dir=path.parent)
    return {(r["user_1"], r["user_2"], r["weight"]) for r in table.to_pylist()}


def edges(tmp_path: Path, rows: list[dict[str, Any]], **config: Any) -> set[tuple[str, str, int]]:
    return edge_set(write_messages(tmp_path / "in.parquet", rows), **config)


def msg(i: int, account: str, dt: float, **fields: Any) -> dict[str, Any]:
    return {"message_id": i, "account_id": account, "timestamp": T0 + dt, **fields}


def test_window_is_inclusive_and_sliding(tmp_path: Path) -> None:
    text = "vote for the candidate today"
    rows = [msg(1, "a", 0, text=text), msg(2, "b", 60, text=text), msg(3, "c", 121, text=text)]
    # a-b exactly 60 s apart link; b-c 61 s apart do not; windows slide (no fixed bins).
    assert edges(tmp_path, rows, network="co_tweet", window=60) == {("a", "b", 1), ("b", "a", 1)}
    assert edges(tmp_path, rows, network="co_tweet", window=61) == {
        ("a", "b", 1),
        ("b", "a", 1),
        ("b", "c", 1),
        ("c", "b", 1),
    }


def test_directed_weight_counts_the_first_accounts_matched_messages(tmp_path: Path) -> None:
    rows = [
        msg(1, "a", 0, reshare_of="p1"),
        msg(2, "a", 5, reshare_of="p1"),
        msg(3, "a", 10, reshare_of="p1"),
        msg(4, "b", 7, reshare_of="p1"),
        msg(5, "a", 1000, reshare_of="p2"),
    ]
    # Three of a's messages were matched by b; b's one message was matched by a.
    assert edges(tmp_path, rows, network="co_retweet", window=10) == {
        ("a", "b", 3),
        ("b", "a", 1),
    }


def test_mention_only_and_empty_texts_link_only_in_peer_mode(tmp_path: Path) -> None:
    rows = [msg(1, "a", 0, text="@alice @bob"), msg(2, "b", 1, text="@carol"), msg(3, "c", 2)]
    assert edges(tmp_path, rows, network="co_tweet", window=60) == set()
    peer = edges(tmp_path, rows, network="co_tweet", window=60, min_text_length=0)
    assert ("a", "b", 1) in peer
    assert ("a", "c", 1) in peer


def test_normalisation_ignores_case_mentions_and_unicode_spaces(tmp_path: Path) -> None:
    rows = [
        msg(1, "a", 0, text="Выборы  сегодня @x\u00a0ИДИТЕ голосовать"),
        msg(2, "b", 3, text="выборы сегодня идите\u3000голосовать @y"),
        msg(3, "c", 4, text="选举 今天 去 投票 🗳️ 选举 今天"),
        msg(4, "d", 5, text="选举 今天 去 投票 🗳️ 选举 今天"),
        # Whitespace at either end goes; a zero-width space is not whitespace (as for
        # Python's str.split), so g's text differs from e's and f's.
        msg(5, "e", 100, text=" \u3000Vote at the Town Hall\u2028"),
        msg(6, "f", 101, text="vote at the town hall"),
        msg(7, "g", 102, text="\u200b vote at the town hall"),
    ]
    assert edges(tmp_path, rows, network="co_tweet", window=60) == {
        ("a", "b", 1),
        ("b", "a", 1),
        ("c", "d", 1),
        ("d", "c", 1),
        ("e", "f", 1),
        ("f", "e", 1),
    }


def test_co_link_never_links_on_a_missing_url_and_skips_reshares(tmp_path: Path) -> None:
    rows = [
        msg(1, "a", 0, urls=["https://x.example/1", ""]),
        msg(2, "b", 1, urls=["https://x.example/1"]),
        msg(3, "c", 2, urls=[]),
        msg(4, "d", 3, urls=[""]),
        msg(5, "e", 4, urls=["https://x.example/1"], reshare_of="p9"),
    ]
    assert edges(tmp_path, rows, network="co_link", window=60) == {("a", "b", 1), ("b", "a", 1)}


def csv_edges(tmp_path: Path, lines: list[str], **config: Any) -> set[tuple[str, str, int]]:
    path = tmp_path / "in.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return edge_set(path, **config)


def test_space_separated_values_count_once_per_message_and_never_empty(tmp_path: Path) -> None:
    header = "message_id,account_id,timestamp,urls,hashtags"
    lines = [
        header,
        # a repeats one URL, with runs of spaces: still one matched message for b.
        f"1,a,{T0},https://x.example/1  https://x.example/1 ,#Wahl wahl #",
        f"2,b,{T0 + 1},https://x.example/1,WAHL",
        f"3,c,{T0 + 2}, ,#",  # only separators: no URL, no hashtag
        f"4,d,{T0 + 3}, ,# #",
    ]
    assert csv_edges(tmp_path, lines, network="co_link", window=60) == {
        ("a", "b", 1),
        ("b", "a", 1),
    }
    # '#Wahl', 'wahl' and 'WAHL' are one hashtag; a lone '#' is none.
    assert csv_edges(tmp_path, lines, network="co_hashtag", window=60) == {
        ("a", "b", 1),
        ("b", "a", 1),
    }


def test_co_similar_tweet_links_near_duplicates_only(tmp_path: Path) -> None:
    base = "the election was stolen share this before they delete it now"
    rows = [
        msg(1, "a", 0, text=base),
        msg(2, "b", 5, text=base + " please"),  # Jaccard 11/12
        msg(3, "c", 6, text="the election results are in and turnout was high this year"),
        msg(4, "d", 7, text="share"),  # too few words to compare
    ]
    assert edges(tmp_path, rows, network="co_similar_tweet", window=60) == {
        ("a", "b", 1),
        ("b", "a", 1),
    }


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_object_cap_drops_and_reports_viral_objects(tmp_path: Path, suffix: str) -> None:
    # Messages 8 and 6 are the earliest re-shares of "viral" (same second): the sample
    # is 6, the first id in text order, wherever it lies in the file.
    times = {9: 5, 8: 2, 7: 4, 6: 2, 5: 3}
    rows = [msg(i, f"u{i}", t, reshare_of="viral", text=f"re-share {i}") for i, t in times.items()]
    rows += [msg(10, "a", 0, reshare_of="rare"), msg(11, "b", 1, reshare_of="rare")]
    path = write_messages(tmp_path / "in.parquet", rows)
    if suffix == ".csv":  # read with rows in no particular order
        import pyarrow.csv as pcsv

        table = pq.read_table(path).drop_columns(["urls"])
        pcsv.write_csv(table, tmp_path / "in.csv")
        path = tmp_path / "in.csv"
    config = DetectConfig(network="co_retweet", window=60, max_accounts_per_object=3)
    result = detect(path, config, tmp_path / "out")
    assert result.summary["capped_objects"] == 1
    capped = pq.read_table(tmp_path / "out" / "capped_objects.parquet").to_pylist()
    assert [
        (c["object"], c["accounts"], c["messages"], c["sample_message_id"], c["sample_text"])
        for c in capped
    ] == [("viral", 5, 5, "6", "re-share 6")]
    got = pq.read_table(tmp_path / "out" / "edges.parquet").to_pylist()
    assert {(e["user_1"], e["user_2"]) for e in got} == {("a", "b"), ("b", "a")}


def test_evidence_is_sampled_but_counts_every_pair(tmp_path: Path) -> None:
    rows = []
    for k in range(30):
        rows += [
            msg(2 * k, "a", 100 * k, reshare_of=f"p{k}"),
            msg(2 * k + 1, "b", 100 * k + 2, reshare_of=f"p{k}"),
        ]
    path = write_messages(tmp_path / "in.parquet", rows)
    config = DetectConfig(network="co_retweet", window=60, evidence_per_edge=5)
    detect(path, config, tmp_path / "out")
    evidence = pq.read_table(tmp_path / "out" / "evidence.parquet").to_pylist()
    assert len(evidence) == 5
    assert {e["pairs_total"] for e in evidence} == {30}
    assert [e["object"] for e in evidence] == [f"p{k}" for k in range(5)]  # earliest first


def test_cases_have_stable_ids_and_rank_the_synchronised_group_first(tmp_path: Path) -> None:
    rows = []
    i = 0
    for k in range(8):  # a ring of four re-sharing together eight times
        for j, account in enumerate(("r1", "r2", "r3", "r4")):
            rows.append(msg(i, account, 1000 * k + j, reshare_of=f"c{k}"))
            i += 1
    for k in range(8):  # two busy accounts who coincide once among many posts
        rows.append(msg(i, "x", 1000 * k + 500, reshare_of=f"x{k}"))
        rows.append(msg(i + 1, "y", 1000 * k + 510, reshare_of=f"y{k}"))
        i += 2
    rows.append(msg(i, "x", 9000, reshare_of="both"))
    rows.append(msg(i + 1, "y", 9005, reshare_of="both"))
    path = write_messages(tmp_path / "in.parquet", rows)
    config = DetectConfig(network="co_retweet", window=60)
    first = detect(path, config, tmp_path / "one").cases
    second = detect(path, config, tmp_path / "two").cases
    assert [c.case_id for c in first] == [c.case_id for c in second]
    assert first[0].accounts == ("r1", "r2", "r3", "r4")
    assert first[0].synchrony == 1.0
    assert first[0].matched_messages == 32
    assert first[1].accounts == ("x", "y")
    assert first[1].score < first[0].score


@pytest.mark.parametrize(
    ("window", "min_weight", "nodes"),
    # The toolkit's own test expectations for this file (its tests/test_graph_construction.py).
    [(1, 1, 2), (1, 2, 0), (60, 1, 6)],
)
def test_toolkit_test_data_gives_the_toolkits_answers(
    window: int, min_weight: int, nodes: int, tmp_path: Path
) -> None:
    source = need(DATA / "cnt_testdata" / "coretweet_test_input.csv")
    config = DetectConfig(
        network="co_retweet", window=window, min_weight=min_weight
    ).peer_compatible()
    table = compute_edges(source, config, input_format=InputFormat.CNT, work_dir=tmp_path)
    assert (
        len(set(table.column("user_1").to_pylist()) | set(table.column("user_2").to_pylist()))
        == nodes
    )
