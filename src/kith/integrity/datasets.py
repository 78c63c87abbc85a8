"""Converters from the shared research data sets to kith's input schema.

The IRA conversion follows, exactly, the input mapping that produced the
coordination-network-toolkit reference edges (``cnt_reference_edges/README.md``),
so kith's edges can be compared with the toolkit's row for row.
"""

# ruff: noqa: S608  (SQL is built from fixed fragments, numbers and escaped literals only)

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

DATA_ENV = "KITH_SHARED_DATA"
IRA_TWEETS = Path("ira_tweets") / "ira_tweets_2016_1m.parquet"
GERMAN_ELECTIONS = Path("coortweet_examples") / "german_elections.parquet"
# Python's \S (Unicode-aware) as in the reference mapping, not RE2's ASCII one.
_URL = re.compile(r"https?://\S+")


def shared_data_dir(repo_root: Path) -> Path:
    """``../shared/data`` beside the repository, or ``$KITH_SHARED_DATA``."""
    override = os.environ.get(DATA_ENV)
    return Path(override) if override else repo_root / ".." / "shared" / "data"


def ira_messages(source: Path, rows: int) -> pa.Table:
    """The first ``rows`` IRA tweets by ``row_id``, in kith's schema.

    message_id = row_id; account_id = author_id; timestamp = publish_date (UTC epoch
    seconds); text = content (null -> ''); urls = the space-joined ``https?://\\S+``
    matches; reshare_of = 'rt_' + sha1(content)[:16] for retweets (the data carries
    no retweeted-tweet id, so identical text is what groups retweets)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(
        source,
        columns=["row_id", "author_id", "publish_date", "content", "retweet"],
        filters=[("row_id", "<", rows)],
    ).sort_by("row_id")
    content = [c or "" for c in table.column("content").to_pylist()]
    retweet = table.column("retweet").to_pylist()
    reshare = [
        "rt_" + hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]
        if flag == 1
        else ""
        for text, flag in zip(content, retweet, strict=True)
    ]
    seconds = pc.divide(
        table.column("publish_date").cast(pa.timestamp("ms")).cast(pa.int64()), 1000
    )
    return pa.table(
        {
            "message_id": table.column("row_id"),
            "account_id": table.column("author_id"),
            "timestamp": seconds,
            "text": pa.array(content, pa.string()),
            "urls": pa.array([" ".join(_URL.findall(text)) for text in content], pa.string()),
            "reshare_of": pa.array(reshare, pa.string()),
        }
    )


def write_cnt_csv(messages: pa.Table, path: Path) -> None:
    """The same messages in coordination-network-toolkit's CSV input format."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    n = messages.num_rows
    empty = pa.array([""] * n, pa.string())
    table = pa.table(
        {
            "message_id": messages.column("message_id").cast(pa.string()),
            "user_id": messages.column("account_id"),
            "username": messages.column("account_id"),
            "repost_id": messages.column("reshare_of"),
            "reply_id": empty,
            "message": messages.column("text"),
            "timestamp": messages.column("timestamp").cast(pa.string()),
            "urls": messages.column("urls"),
        }
    )
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="all_valid"))


def german_messages_sql(source: Path) -> str:
    """DuckDB SQL turning CooRTweet's German-election rows (one per post and object)
    into one message per post. Rows without a post id stay unmatched, so loading
    rejects and counts them."""
    path = str(source).replace("'", "''")
    return (
        "SELECT CAST(post_id AS VARCHAR) AS message_id, min(account_id) AS account_id, "
        "min(timestamp) AS timestamp, "
        "list_distinct(list(CAST(url_id AS VARCHAR)) FILTER (WHERE url_id IS NOT NULL)) AS urls, "
        "list_distinct(list(CAST(hashtag_id AS VARCHAR)) FILTER (WHERE hashtag_id IS NOT NULL)) "
        "AS hashtags, "
        "list_distinct(list(CAST(domain_id AS VARCHAR)) FILTER (WHERE domain_id IS NOT NULL)) "
        "AS domains, "
        "min(CAST(phash_id AS VARCHAR)) AS image_hash "
        f"FROM read_parquet('{path}') "
        "GROUP BY post_id, CASE WHEN post_id IS NULL THEN account_id || timestamp END"
    )
