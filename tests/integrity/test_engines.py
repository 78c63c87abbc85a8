"""The DuckDB engine on its own: the memory limit as DuckDB resolved it (it sizes the
join), and how it reads a CSV it cannot describe in its sniffer's words."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kith.integrity.engines import DuckDBEngine, size_in_gb
from kith.integrity.schema import InputFormat


@pytest.mark.parametrize(
    ("rendered", "gb"),
    [("3.7 GiB", 3.7 * 2**30 / 1e9), ("488.2 MiB", 488.2 * 2**20 / 1e9), ("0 bytes", 0.0)],
)
def test_sizes_as_duckdb_prints_them(rendered: str, gb: float) -> None:
    assert size_in_gb(rendered) == pytest.approx(gb)


@pytest.mark.parametrize("rendered", ["", "4GB", "lots", "3.7 parsecs"])
def test_anything_else_is_not_a_size(rendered: str) -> None:
    assert size_in_gb(rendered) is None


@pytest.mark.parametrize(
    ("limit", "low", "high"), [("512MB", 0.5, 0.52), ("2GiB", 2.14, 2.15), ("4GB", 3.9, 4.01)]
)
def test_the_engine_knows_its_limit(tmp_path: Path, limit: str, low: float, high: float) -> None:
    engine = DuckDBEngine(temp_directory=tmp_path, memory_limit=limit, threads=1)
    try:
        assert engine.memory_gb is not None
        assert low <= engine.memory_gb <= high
    finally:
        engine.close()


def test_a_share_of_the_machine_is_understood_too(tmp_path: Path) -> None:
    # A share of the memory DuckDB finds (a container's limit may be below the RAM).
    total_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    half = DuckDBEngine(temp_directory=tmp_path, memory_limit="50%", threads=1)
    quarter = DuckDBEngine(temp_directory=tmp_path, memory_limit="25%", threads=1)
    try:
        assert half.memory_gb is not None
        assert quarter.memory_gb is not None
        assert 0 < half.memory_gb <= 0.55 * total_gb
        assert quarter.memory_gb == pytest.approx(half.memory_gb / 2, rel=0.05)
    finally:
        half.close()
        quarter.close()


def test_quotes_in_a_csv_path_or_header_keep_the_parallel_reader(tmp_path: Path) -> None:
    """DuckDB's sniffer prints its read_csv call without escaping quotes; such a file is
    read by read_csv's own detection instead, never by the slow lenient reader."""
    source = tmp_path / "o'brien.csv"
    source.write_text(
        "message_id,account_id,timestamp,it's\n"
        + "".join(f"{i},a{i % 3},{1_600_000_000 + i},x{i}\n" for i in range(50)),
        encoding="utf-8",
    )
    engine = DuckDBEngine(temp_directory=tmp_path, memory_limit="1GB", threads=1)
    try:
        kinds = engine.load(source, InputFormat.KITH, encoding="utf-8")
        assert list(kinds) == ["message_id", "account_id", "timestamp", "it's"]
        assert engine.rows("SELECT count(*) AS n FROM raw") == [{"n": 50}]
        assert engine._lenient_source is not None  # the strict reader is still in use
    finally:
        engine.close()
