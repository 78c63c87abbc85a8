"""Fixtures for integrity tests: shared research data (skipped when absent) and a
small message-table writer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kith.integrity.datasets import IRA_TWEETS, shared_data_dir

REPO = Path(__file__).resolve().parents[2]
DATA = shared_data_dir(REPO)
IRA_ROWS = 100_000  # the reference edges' "100k" slice: row_id < 100000


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not found: {path} (set KITH_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def ira_100k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import pyarrow.parquet as pq

    from kith.integrity.datasets import ira_messages

    source = need(DATA / IRA_TWEETS)
    target = tmp_path_factory.mktemp("ira") / "ira_100k.parquet"
    pq.write_table(ira_messages(source, IRA_ROWS), target)
    return target


def write_messages(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Rows in kith's schema to Parquet; missing optional fields become empty."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = ["message_id", "account_id", "timestamp", "text", "urls", "reshare_of"]
    table = pa.table(
        {
            "message_id": pa.array([str(r["message_id"]) for r in rows]),
            "account_id": pa.array([r["account_id"] for r in rows]),
            "timestamp": pa.array([r["timestamp"] for r in rows], pa.float64()),
            "text": pa.array([r.get("text", "") for r in rows], pa.string()),
            "urls": pa.array([r.get("urls", []) for r in rows], pa.list_(pa.string())),
            "reshare_of": pa.array([r.get("reshare_of") for r in rows], pa.string()),
        }
    )
    pq.write_table(table.select(columns), path)
    return path


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local[2] Spark session for the whole test session, tuned for tiny inputs:
    on a hundred rows Spark's time goes to per-job overhead (planning, code
    generation, JIT, shuffles), not to the data, so each of those is cut down."""
    pyspark = pytest.importorskip("pyspark.sql", reason="pyspark (the spark extra) not installed")
    session = (
        pyspark.SparkSession.builder.master("local[2]")
        .appName("kith-integrity-tests")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        # Compiling generated Java per stage costs far more than interpreting 100 rows.
        .config("spark.sql.codegen.wholeStage", "false")
        # Adaptive re-planning adds work per shuffle that only pays off on big data.
        .config("spark.sql.adaptive.enabled", "false")
        # The quick JIT tier only: a short-lived test JVM never earns back full C2.
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
