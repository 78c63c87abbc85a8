"""kith's own posts as detection input, in the documented schema (see schema.py).

``message_id`` is the post id, ``account_id`` the author's user id (both as text, so
case ids and evidence name them the same way on every engine), ``timestamp`` the
creation time in epoch seconds, ``text`` the post text, ``urls`` the post's link (a
one-element list, or empty) and ``reshare_of`` empty: kith has no re-shares.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.feed.models import Post

# Posts are written in batches of this many rows, so memory stays flat however many
# posts there are.
EXPORT_BATCH = 10_000


def export_posts(db: Session, target: Path, *, since: datetime | None = None) -> int:
    """Write every post created at or after ``since`` to ``target`` (Parquet); returns
    how many were written. Nothing is written when there are none."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("message_id", pa.string()),
            ("account_id", pa.string()),
            ("timestamp", pa.float64()),
            ("text", pa.string()),
            ("urls", pa.list_(pa.string())),
            ("reshare_of", pa.string()),
        ]
    )
    query = select(Post.id, Post.author_id, Post.created_at, Post.text, Post.link).order_by(Post.id)
    if since is not None:
        query = query.where(Post.created_at >= since)
    written = 0
    writer: pq.ParquetWriter | None = None
    try:
        result = db.execute(query.execution_options(yield_per=EXPORT_BATCH))
        for rows in result.partitions():
            batch = pa.table(
                {
                    "message_id": [str(r.id) for r in rows],
                    "account_id": [str(r.author_id) for r in rows],
                    "timestamp": [r.created_at.timestamp() for r in rows],
                    "text": [r.text for r in rows],
                    "urls": [[r.link] if r.link else [] for r in rows],
                    "reshare_of": [None] * len(rows),
                },
                schema=schema,
            )
            if writer is None:
                writer = pq.ParquetWriter(target, schema)
            writer.write_table(batch)
            written += len(rows)
    finally:
        if writer is not None:
            writer.close()
    return written
