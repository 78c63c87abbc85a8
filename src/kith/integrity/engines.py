"""Where the SQL plan runs: DuckDB on one machine (default), or Spark.

Both engines expose the same small port, so the pipeline in
:mod:`kith.integrity.pipeline` is written once. DuckDB runs out of core: past
``memory_limit`` it spills to ``temp_directory`` instead of failing.
"""

# ruff: noqa: S608  (SQL is built from fixed fragments, numbers and escaped literals only)

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kith.errors import InvalidInput
from kith.integrity.schema import InputFormat
from kith.integrity.sql import DUCKDB, SPARK, ColumnKind, Dialect

if TYPE_CHECKING:
    import _duckdb
    import pyarrow as pa

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")


class Engine(Protocol):
    dialect: Dialect
    # The column numbering input rows (set by load), whether it follows the file's
    # order, and whether the typed input is left a view over the file instead of
    # copied into a table.
    row_column: str
    file_order: bool
    streams_input: bool
    # The engine's memory limit in GB, as it understood the setting (None: it manages
    # its memory itself, as Spark does).
    memory_gb: float | None

    def load(self, path: Path, fmt: InputFormat, *, encoding: str) -> dict[str, ColumnKind]:
        """Expose the file as view ``raw``; Spark adds a ``_row`` file-order column."""
        ...

    def create(self, name: str, sql: str) -> None:
        """Materialise ``sql`` as table ``name`` (Spark: lazily, cached on first use)."""
        ...

    def view(self, name: str, sql: str) -> None:
        """Name ``sql`` without materialising it: for cheap filters read a few times."""
        ...

    def append(self, name: str, sql: str) -> None:
        """Add the rows of ``sql`` to table ``name`` (made by :meth:`create`)."""
        ...

    def create_in_file_order(self, name: str, sql: str) -> None:
        """:meth:`create`, numbering rows (``row_column``) in the file's order."""
        ...

    def drop(self, name: str) -> None:
        """Free a table no later step reads (DuckDB would otherwise keep it, spilled)."""
        ...

    def arrow(self, sql: str) -> pa.Table: ...

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """A small result as plain rows."""
        ...

    def register(self, name: str, table: pa.Table) -> None: ...

    def write_parquet(self, sql: str, path: Path) -> None: ...

    def close(self) -> None: ...


def input_kind(path: Path) -> str:
    """'csv' or 'parquet' from the file name, after checking the file is usable."""
    if not path.exists():
        raise InvalidInput(f"input file not found: {path}", field="input", code="no-input")
    if path.is_file() and path.stat().st_size == 0:
        raise InvalidInput(f"input file is empty: {path}", field="input", code="empty-input")
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES) or path.is_dir():
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    raise InvalidInput(
        f"cannot tell the format of {path.name}: use a .parquet or .csv file",
        field="input",
        code="unknown-format",
    )


def _out_of_memory(exc: Exception) -> InvalidInput:
    """The one error for running out of memory, wherever DuckDB did."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return InvalidInput(
        f"out of memory ({first}): give DuckDB more with --memory-limit",
        field="memory_limit",
        code="out-of-memory",
    )


def _read_error(path: Path, exc: Exception) -> InvalidInput:
    text = str(exc).strip()
    if "out of memory" in text.lower():
        return _out_of_memory(exc)
    first = text.splitlines()[0] if text else type(exc).__name__
    hint = ""
    if "does not support the encoding" in text:  # a name it does not know
        hint = " (use utf-8, latin-1 or utf-16)"
    elif any(word in text.lower() for word in ("unicode", "utf-8", "utf8", "encoding")):
        hint = " (the file is not valid UTF-8: pass --encoding latin-1 or utf-16)"
    return InvalidInput(f"could not read {path.name}: {first}{hint}", field="input")


# DuckDB renders sizes in binary units ("3.7 GiB", "488.2 MiB").
_SIZE_UNITS = {"bytes": 1.0, "KiB": 2.0**10, "MiB": 2.0**20, "GiB": 2.0**30, "TiB": 2.0**40}


def size_in_gb(rendered: str) -> float | None:
    """A size as DuckDB prints a setting ("3.7 GiB") in GB (10^9 bytes); None if not one."""
    number, _, unit = rendered.strip().partition(" ")
    try:
        return float(number) * _SIZE_UNITS[unit] / 1e9
    except (KeyError, ValueError):
        return None


def _duck_kind(type_name: str) -> ColumnKind:
    upper = type_name.upper()
    if upper.endswith("]"):
        return ColumnKind.LIST
    if upper.startswith("TIMESTAMP") or upper == "DATE":
        return ColumnKind.TIMESTAMP
    if any(
        upper.startswith(p)
        for p in ("TINYINT", "SMALLINT", "INT", "BIGINT", "HUGEINT", "UTINY", "USMALL", "UINT")
    ) or upper.startswith(("UBIGINT", "DOUBLE", "FLOAT", "REAL", "DECIMAL")):
        return ColumnKind.NUMBER
    return ColumnKind.STRING


def _duckdb_core() -> Any:
    """DuckDB's engine module. ``import duckdb`` costs ~0.1-0.3 s, most of it the
    package's Python relational API, which the pipeline never uses: it sends SQL
    strings. The compiled ``_duckdb`` module the package re-exports has the same
    connections and exceptions; :func:`_duckdb_package` adds Arrow scans when needed."""
    try:
        import _duckdb
    except ImportError:  # a DuckDB build that does not ship it separately
        import duckdb

        return duckdb
    return _duckdb


def _duckdb_package() -> None:
    """Importing the package sets up Arrow scans (``register``) on ``_duckdb`` too."""
    import duckdb  # noqa: F401


class DuckDBEngine:
    dialect = DUCKDB

    def __init__(self, *, temp_directory: Path, memory_limit: str, threads: int | None) -> None:
        duckdb = _duckdb_core()
        self._duckdb = duckdb
        config: dict[str, Any] = {
            "memory_limit": memory_limit,
            "temp_directory": str(temp_directory),
        }
        if threads:
            config["threads"] = threads
        try:
            self.con: _duckdb.DuckDBPyConnection = duckdb.connect(":memory:", config=config)
        except (duckdb.ParserException, duckdb.InvalidInputException) as exc:
            first = str(exc).strip().splitlines()[0]
            raise InvalidInput(
                f"memory limit {memory_limit!r}: {first}", field="memory_limit"
            ) from exc
        self._execute("SET TimeZone = 'UTC'")
        # No table's row order matters (keeping it costs time and, out of core,
        # memory): a table's rowid only numbers its rows. The one place the file's
        # order counts, which copy of a duplicated id comes first, asks for it.
        self._execute("SET preserve_insertion_order = false")
        # The limit as DuckDB resolved it: "4GB", "2GiB" and "80%" alike.
        limit = self._execute("SELECT current_setting('memory_limit')").fetchone()
        self.memory_gb = size_in_gb(str(limit[0])) if limit else None
        self._path = Path("input")
        self._lenient_source: str | None = None
        self.row_column = "rowid"
        self.file_order = False
        self.streams_input = False

    def load(self, path: Path, fmt: InputFormat, *, encoding: str) -> dict[str, ColumnKind]:
        self._path = path
        literal = DUCKDB.string(str(path))
        # A Parquet file is read where it lies (columns on demand, compressed): no
        # copy of the input spills, which keeps inputs far above memory in bounds;
        # its row numbers are the file's. Other inputs are copied once into the
        # typed table, whose rowid numbers them in no particular order.
        self.row_column, self.file_order, self.streams_input = "rowid", False, False
        if input_kind(path) == "parquet":
            if path.is_dir():
                source = f"SELECT * FROM read_parquet({DUCKDB.string(str(path / '*.parquet'))})"
            else:
                source = (
                    "SELECT * EXCLUDE (file_row_number), file_row_number AS _row "
                    f"FROM read_parquet({literal}, file_row_number = true)"
                )
                self.row_column, self.file_order, self.streams_input = "_row", True, True
            self._lenient_source = None
        else:
            # The strict reader is the parallel one (several times faster); a file it
            # refuses (stray quotes, ragged rows) is read again leniently, see create().
            options = f"header = true, all_varchar = true, encoding = {DUCKDB.string(encoding)}"
            csv = f"SELECT * FROM read_csv({literal}, {options}"
            source = self._sniffed(literal, options) or csv + ")"
            self._lenient_source = csv + ", strict_mode = false)"
        try:
            try:
                described = self._create_raw(source)
            except self._duckdb.Error:
                if self._lenient_source is None:
                    raise
                described = self._create_raw(self._lenient_source)
                self._lenient_source = None
        except self._duckdb.Error as exc:
            raise _read_error(path, exc) from exc
        return {str(row[0]): _duck_kind(str(row[1])) for row in described if row[0] != "_row"}

    def _sniffed(self, literal: str, options: str) -> str | None:
        """The CSV read with its dialect and columns spelled out, sniffed once.

        A ``read_csv`` left to detect them sniffs the file every time a query binds
        the view (~30 ms each); DuckDB's ``sniff_csv`` prints the equivalent explicit
        call. None when it cannot: the caller then lets ``read_csv`` detect (and
        report) the problem itself. The printed call does not escape quotes, so a
        path or a column name with a ``'`` is left to ``read_csv`` as well."""
        if "'" in literal[1:-1]:  # the path holds a quote (doubled in the literal)
            return None
        try:
            row = self.con.execute(
                f"SELECT Prompt, Columns FROM sniff_csv({literal}, {options})"
            ).fetchone()
        except self._duckdb.Error:
            return None
        prompt = str(row[0]).strip() if row else ""
        names = [str(column.get("name", "")) for column in (row[1] if row else None) or []]
        if any("'" in name for name in names) or not (
            prompt.startswith("FROM read_csv(") and prompt.endswith(");")
        ):
            return None
        return "SELECT * " + prompt[:-1]

    def _create_raw(self, source: str) -> list[Any]:
        self.con.execute(f"CREATE OR REPLACE VIEW raw AS {source}")
        return self.con.execute("DESCRIBE raw").fetchall()

    def _execute(self, sql: str) -> Any:
        """Run ``sql``; running out of memory is a clear error, not a traceback."""
        try:
            return self.con.execute(sql)
        except self._duckdb.OutOfMemoryException as exc:
            raise _out_of_memory(exc) from exc

    def create(self, name: str, sql: str) -> None:
        try:
            self._execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
        except self._duckdb.ConversionException as exc:
            raise InvalidInput(f"a value in the input could not be converted: {exc}") from exc
        except self._duckdb.InvalidInputException as exc:
            if self._lenient_source is None:
                raise _read_error(self._path, exc) from exc
            # The strict CSV reader gave up part-way: read the file leniently, once.
            lenient, self._lenient_source = self._lenient_source, None
            try:
                self._create_raw(lenient)
            except self._duckdb.Error as again:
                raise _read_error(self._path, again) from again
            self.create(name, sql)

    def view(self, name: str, sql: str) -> None:
        self._execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")

    def append(self, name: str, sql: str) -> None:
        self._execute(f"INSERT INTO {name} {sql}")

    def create_in_file_order(self, name: str, sql: str) -> None:
        self._execute("SET preserve_insertion_order = true")
        try:
            self.create(name, sql)
        finally:
            self._execute("SET preserve_insertion_order = false")
        self.file_order = True

    def drop(self, name: str) -> None:
        self._execute(f"DROP TABLE IF EXISTS {name}")

    def arrow(self, sql: str) -> pa.Table:
        _duckdb_package()
        try:
            return self.con.sql(sql).to_arrow_table()
        except self._duckdb.OutOfMemoryException as exc:
            raise _out_of_memory(exc) from exc

    def rows(self, sql: str) -> list[dict[str, Any]]:
        # Plain tuples: small results need no pyarrow (half a second to import).
        result = self._execute(sql)
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def register(self, name: str, table: pa.Table) -> None:
        _duckdb_package()
        self.con.register(f"{name}_arrow", table)
        try:
            self._execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
        finally:
            self.con.unregister(f"{name}_arrow")

    def write_parquet(self, sql: str, path: Path) -> None:
        target = DUCKDB.string(str(path))
        self._execute(f"COPY ({sql}) TO {target} (FORMAT parquet, COMPRESSION zstd)")

    def close(self) -> None:
        self.con.close()


def _spark_kind(type_name: str) -> ColumnKind:
    lower = type_name.lower()
    if lower.startswith("array"):
        return ColumnKind.LIST
    if lower.startswith(("timestamp", "date")):
        return ColumnKind.TIMESTAMP
    if lower in {"tinyint", "smallint", "int", "bigint", "float", "double"} or lower.startswith(
        "decimal"
    ):
        return ColumnKind.NUMBER
    return ColumnKind.STRING


class SparkEngine:
    """The same plan on Spark SQL. Pass a running session, or one is started
    (``local[2]`` by default; point ``master`` at a cluster for big data)."""

    dialect = SPARK
    row_column = "_row"  # monotonically_increasing_id: it follows the file
    file_order = True
    memory_gb: float | None = None
    streams_input = False  # created tables are lazy and cached anyway

    def __init__(self, *, session: Any = None, master: str = "local[2]") -> None:
        if session is None:
            from pyspark.sql import SparkSession

            session = (
                SparkSession.builder.master(master)
                .appName("kith-integrity")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .getOrCreate()
            )
        session.conf.set("spark.sql.session.timeZone", "UTC")
        self.spark = session
        self._cached: list[Any] = []

    def load(self, path: Path, fmt: InputFormat, *, encoding: str) -> dict[str, ColumnKind]:
        from pyspark.sql import functions as F

        try:
            if input_kind(path) == "parquet":
                frame = self.spark.read.parquet(str(path))
            else:
                frame = (
                    self.spark.read.option("header", True)
                    .option("multiLine", True)
                    .option("escape", '"')
                    .option("encoding", encoding)
                    .csv(str(path))
                )
        except Exception as exc:  # Spark wraps JVM errors in many classes
            raise _read_error(path, exc) from exc
        frame.withColumn("_row", F.monotonically_increasing_id()).createOrReplaceTempView("raw")
        return {name: _spark_kind(kind) for name, kind in frame.dtypes}

    def create(self, name: str, sql: str) -> None:
        # No count here: every Spark action is a job, and jobs dominate on small data.
        frame = self.spark.sql(sql).cache()
        self._cached.append(frame)
        frame.createOrReplaceTempView(name)

    def view(self, name: str, sql: str) -> None:
        self.spark.sql(sql).createOrReplaceTempView(name)

    def create_in_file_order(self, name: str, sql: str) -> None:
        self.create(name, sql)

    def drop(self, name: str) -> None:
        pass  # a cached frame is dropped with the session; later frames may still read it

    def append(self, name: str, sql: str) -> None:
        frame = self.spark.table(name).unionByName(self.spark.sql(sql)).cache()
        self._cached.append(frame)
        frame.createOrReplaceTempView(name)

    def arrow(self, sql: str) -> pa.Table:
        return self.spark.sql(sql).toArrow()

    def rows(self, sql: str) -> list[dict[str, Any]]:
        return [row.asDict() for row in self.spark.sql(sql).collect()]

    def register(self, name: str, table: pa.Table) -> None:
        # Spark 4 takes Arrow directly (no pandas needed).
        frame = self.spark.createDataFrame(table).cache()
        self._cached.append(frame)
        frame.createOrReplaceTempView(name)

    def write_parquet(self, sql: str, path: Path) -> None:
        # One file, named like DuckDB's, so readers never care which engine ran.
        staging = path.with_name(path.name + ".spark")
        self.spark.sql(sql).coalesce(1).write.mode("overwrite").parquet(str(staging))
        part = next(staging.glob("part-*.parquet"))
        part.replace(path)
        shutil.rmtree(staging, ignore_errors=True)

    def close(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        for view in ("raw",):
            self.spark.catalog.dropTempView(view)
