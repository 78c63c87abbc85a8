"""One detection run: file in, edges, evidence and ranked cases out.

Output is written to a staging folder and moved into place only when every stage
has finished, with ``summary.json`` (``"complete": true``) last: a run that fails
halfway leaves no output that looks complete.

Files in the output folder:

    edges.parquet           user_1, user_2, weight (directed, the toolkit's weights)
    evidence.parquet        matched message pairs per account pair (earliest N), with text
    capped_objects.parquet  objects left out for having too many accounts
    clusters.parquet        case_id, account_id, component
    cases.json              ranked cases
    summary.json            counts, rejects, timings; written last
"""

# ruff: noqa: S608  (SQL is built from fixed fragments, numbers and escaped literals only)

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kith.errors import InvalidInput, NotFound
from kith.integrity import sql
from kith.integrity.cases import (
    Case,
    CaseCounts,
    Cluster,
    SharedObject,
    find_clusters,
    rank_cases,
)
from kith.integrity.engines import DuckDBEngine, Engine, SparkEngine, input_kind
from kith.integrity.networks import DetectConfig, EngineName, KeyKind
from kith.integrity.schema import InputFormat, LoadReport, Reject, resolve_columns

if TYPE_CHECKING:
    import pyarrow as pa

EDGE_FILES = ("edges.parquet", "capped_objects.parquet")
OUTPUT_FILES = (*EDGE_FILES, "evidence.parquet", "clusters.parquet", "cases.json")
SUMMARY_FILE = "summary.json"
STAGES = ("load", "keys", "join", "edges", "evidence", "cases", "write")
EDGE_STAGES = ("load", "keys", "join", "edges", "write")


def stages(config: DetectConfig) -> tuple[str, ...]:
    """The stages a run goes through, in order (for progress bars)."""
    return EDGE_STAGES if config.edges_only else STAGES


StageHook = Callable[[str], None]


@dataclass(frozen=True)
class DetectResult:
    out_dir: Path
    summary: dict[str, Any]
    cases: list[Case]


def _make_engine(config: DetectConfig, work: Path, spark_session: Any) -> Engine:
    if config.engine is EngineName.SPARK:
        return SparkEngine(session=spark_session)
    return DuckDBEngine(
        temp_directory=work, memory_limit=config.memory_limit, threads=config.threads
    )


def detect(
    input_path: Path,
    config: DetectConfig,
    out_dir: Path,
    *,
    input_format: InputFormat = InputFormat.KITH,
    encoding: str = "utf-8",
    on_stage: StageHook | None = None,
    spark_session: Any = None,
) -> DetectResult:
    """Run detection on ``input_path`` and write the results to ``out_dir``."""
    input_kind(input_path)  # fail on a missing or empty file before starting an engine
    staging = out_dir / f".partial-{uuid.uuid4().hex[:12]}"
    try:
        staging.mkdir(parents=True)
    except OSError as exc:
        raise InvalidInput(
            f"cannot write to {out_dir}: {exc.strerror or exc}", field="out"
        ) from exc
    timings: dict[str, float] = {}
    try:
        engine = _make_engine(config, staging / "spill", spark_session)
        try:
            summary, cases = _run(
                engine, input_path, config, staging, input_format, encoding, on_stage, timings
            )
        finally:
            engine.close()
        summary["input"] = str(input_path)
        summary["seconds"] = {k: round(v, 3) for k, v in timings.items()}
        summary["seconds"]["total"] = round(sum(timings.values()), 3)
        (out_dir / SUMMARY_FILE).unlink(missing_ok=True)
        written = EDGE_FILES if config.edges_only else OUTPUT_FILES
        for name in OUTPUT_FILES:
            if name in written:
                (staging / name).replace(out_dir / name)
            else:  # never leave an earlier run's evidence beside these edges
                (out_dir / name).unlink(missing_ok=True)
        (out_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return DetectResult(out_dir=out_dir, summary=summary, cases=cases)


def _run(
    engine: Engine,
    input_path: Path,
    config: DetectConfig,
    staging: Path,
    input_format: InputFormat,
    encoding: str,
    on_stage: StageHook | None,
    timings: dict[str, float],
) -> tuple[dict[str, Any], list[Case]]:
    network = config.spec
    clock = [time.perf_counter()]

    def stage(name: str) -> None:
        now = time.perf_counter()
        timings[name] = now - clock[0]
        clock[0] = now
        if on_stage is not None:
            on_stage(name)

    report = build_edges(engine, input_path, config, input_format, encoding, stage)
    engine.write_parquet(
        "SELECT user_1, user_2, weight FROM edges ORDER BY user_1, user_2",
        staging / "edges.parquet",
    )
    engine.write_parquet("SELECT * FROM capped", staging / "capped_objects.parquet")
    stage("edges")

    cases: list[Case] = []
    clustered_edges = 0
    if not config.edges_only:
        engine.write_parquet(
            sql.evidence_sql(config) + " ORDER BY user_1, user_2, ts_1, ts_2",
            staging / "evidence.parquet",
        )
        stage("evidence")

        if config.cases:
            cases, clustered_edges = _cases(engine, config)
        _write_clusters(cases, staging / "clusters.parquet")
        (staging / "cases.json").write_text(
            json.dumps([c.to_json() for c in cases], indent=1), encoding="utf-8"
        )
        stage("cases")

    counts = _counts(engine, similar=network.kind is KeyKind.SIMILAR)
    summary: dict[str, Any] = {
        "complete": True,
        "edges_only": config.edges_only,
        "network": config.network,
        "window": config.window,
        "engine": config.engine.value,
        "rows": {
            "read": report.rows_read,
            "valid": report.rows_valid,
            "rejected": report.rows_rejected,
            "rejects": report.rejects,
        },
        **counts,
        "clustered_edges": clustered_edges,
        "cases": len(cases),
        "top_cases": [
            {
                "case_id": c.case_id,
                "size": c.size,
                "score": c.score,
                "synchrony": round(c.synchrony, 4),
                "matched_messages": c.matched_messages,
            }
            for c in cases[:5]
        ],
        "config": {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(config).items()},
    }
    stage("write")
    return summary, cases


def build_edges(
    engine: Engine,
    input_path: Path,
    config: DetectConfig,
    input_format: InputFormat = InputFormat.KITH,
    encoding: str = "utf-8",
    stage: StageHook | None = None,
) -> LoadReport:
    """Load and check the input, then build tables ``msgs``, ``keyed``, ``objects``,
    ``accounts``, ``pair_numbers``, ``edges`` and ``capped`` in ``engine`` (and
    ``pairs`` unless edges-only): raw file to edges."""
    d = engine.dialect
    network = config.spec
    kinds = engine.load(input_path, input_format, encoding=encoding)
    sources = resolve_columns(list(kinds), input_format)
    needed = network.column
    if needed is not None and needed not in sources:
        raise InvalidInput(
            f"network {network.name} needs a {needed!r} column, which the input does not have",
            field="network",
            code="missing-columns",
        )
    keep = needed_columns(config)
    typed = sql.typed_sql(
        d, sources, kinds, keep=keep, row=engine.row_column, originals_only=network.originals_only
    )
    if engine.streams_input:  # a Parquet file: read it again rather than copy it
        engine.view("typed", typed)
    else:
        engine.create("typed", typed)
    report = _load_report(engine, tuple(sorted(sources)))
    report.check(max_reject_fraction=config.max_reject_fraction)
    duplicates = report.rejects.get(Reject.DUPLICATE_MESSAGE_ID.value, 0)
    if duplicates and not engine.file_order:
        # The first copy of a duplicated id wins, so here (only) the file's order
        # counts: read the input again, numbering rows in order.
        engine.create_in_file_order("typed", typed)
    columns = sql.message_columns(keep)
    if duplicates:
        engine.create("msgs", sql.messages_sql(columns, deduplicate=True, row=engine.row_column))
    else:  # the usual case: no copy, the usable rows as they are
        engine.view("msgs", sql.messages_sql(columns, deduplicate=False, row=engine.row_column))
    if stage is not None:
        stage("load")

    if network.kind is KeyKind.SIMILAR or (
        network.kind is KeyKind.TEXT and config.min_text_length > 0
    ):
        engine.create("texts", sql.texts_sql(d, network))
    elif network.kind is KeyKind.TEXT:  # read once, unfiltered, by keyed: no copy needed
        engine.view("texts", sql.texts_sql(d, network))
    if network.kind is KeyKind.SIMILAR:
        engine.create("tokens", sql.tokens_sql(d, config))
    source = kinds[sources[needed]] if needed is not None else sql.ColumnKind.STRING
    # A plain filter of msgs is not worth a copy (objects, accounts and joinable read
    # it once each); normalised texts, split lists and LSH bands are.
    keyed_is_view = network.kind in (KeyKind.ALL, KeyKind.RESHARE, KeyKind.SCALAR)
    if keyed_is_view:
        engine.view("keyed", sql.keyed_sql(d, network, config, source))
    else:
        engine.create("keyed", sql.keyed_sql(d, network, config, source))
    if config.max_accounts_per_object is not None:
        engine.create("object_accounts", sql.object_accounts_sql())
    engine.create("objects", sql.objects_sql(d, config))
    engine.drop("object_accounts")
    engine.create("accounts", sql.accounts_sql(d))
    engine.create("joinable", sql.joinable_sql(d, network, config))
    capped_query = sql.capped_sql(d, config, with_text="text" in keep)
    if not _any_capped(engine, config):  # its samples would read every keyed message
        capped_query += " LIMIT 0"
    engine.create("capped", capped_query)
    if not keyed_is_view:
        engine.drop("keyed")  # all later steps read joinable, objects and accounts
    if stage is not None:
        stage("keys")

    pairs_table = "candidates" if network.kind is KeyKind.SIMILAR else "pair_numbers"
    ranges = _bucket_ranges(engine, config)
    engine.create(pairs_table, sql.candidate_pairs_sql(network, config, ranges[0]))
    for buckets in ranges[1:]:
        engine.append(pairs_table, sql.candidate_pairs_sql(network, config, buckets))
    if network.kind is KeyKind.SIMILAR:
        engine.create("pair_numbers", sql.similar_pairs_sql(d, config))
    if stage is not None:
        stage("join")
    if sql.single_object(network):
        engine.create("multi_posters", sql.multi_posters_sql())
    engine.create("edges", sql.edges_sql(network, config))
    if not config.edges_only:  # the evidence and the cases read pairs by their ids
        engine.create("pairs", sql.pairs_sql(d, network))
    return report


def _any_capped(engine: Engine, config: DetectConfig) -> bool:
    cap = config.max_accounts_per_object
    if cap is None or config.spec.kind is KeyKind.ALL:
        return False
    rows = engine.rows(f"SELECT count(*) AS n FROM objects WHERE accounts > {int(cap)}")
    return int(rows[0]["n"]) > 0


# Rows of ``joinable`` one chunk of the join may hold per GB of memory_limit: its hash
# table and the replicated neighbours take ~100-150 bytes a row, so this leaves room
# for the rest of the plan. Below it, the join runs in one piece.
JOIN_ROWS_PER_GB = 4_000_000
DEFAULT_MEMORY_GB = 4.0  # when an engine cannot say its limit


def _bucket_ranges(engine: Engine, config: DetectConfig) -> list[tuple[int, int] | None]:
    """The time-bucket ranges the windowed join runs over, one after another: a single
    ``None`` (all at once) unless the join would not fit in memory (DuckDB only;
    Spark partitions the join itself)."""
    if engine.dialect.spark:
        return [None]
    chunks = config.join_chunks
    stats = engine.rows("SELECT count(*) AS n, min(bk) AS lo, max(bk) AS hi FROM joinable")[0]
    if chunks is None:
        rows_fit = max(int((engine.memory_gb or DEFAULT_MEMORY_GB) * JOIN_ROWS_PER_GB), 1)
        chunks = -(-int(stats["n"]) // rows_fit)
    if chunks <= 1 or stats["lo"] is None:
        return [None]
    lo, hi = int(stats["lo"]), int(stats["hi"])
    step = -(-(hi - lo + 1) // chunks)
    return [(start, min(start + step - 1, hi)) for start in range(lo, hi + 1, step)]


def needed_columns(config: DetectConfig) -> frozenset[str]:
    """The optional input columns a run reads: its network's column, ``reshare_of``
    when it keeps original posts only, and ``text`` for evidence and capped objects.
    Nothing else is read, typed or carried."""
    network = config.spec
    keep = {network.column} if network.column is not None else set()
    if network.originals_only:
        keep.add("reshare_of")
    if not config.edges_only or config.max_accounts_per_object is not None:
        keep.add("text")  # evidence and capped objects show the messages' text
    return frozenset(keep)


def compute_edges(
    input_path: Path,
    config: DetectConfig,
    *,
    input_format: InputFormat = InputFormat.KITH,
    encoding: str = "utf-8",
    work_dir: Path,
    spark_session: Any = None,
) -> pa.Table:
    """Only the edges (user_1, user_2, weight), sorted: no evidence, cases or files."""
    input_kind(input_path)
    engine = _make_engine(config, work_dir, spark_session)
    try:
        build_edges(engine, input_path, config, input_format, encoding)
        return engine.arrow("SELECT user_1, user_2, weight FROM edges ORDER BY user_1, user_2")
    finally:
        engine.close()


def _load_report(engine: Engine, columns: tuple[str, ...]) -> LoadReport:
    """Rows read, kept and rejected, in one query (one Spark job). Ids are counted by
    grouping twice, not with a distinct count, whose hash tables cannot spill."""
    counts: dict[str, int] = {}
    usable = valid = 0
    for row in engine.rows(
        "SELECT coalesce(reject, '') AS reject, sum(n) AS n, count(*) AS ids FROM ("
        "SELECT reject, mid, count(*) AS n FROM typed GROUP BY reject, mid) per_id "
        "GROUP BY reject"
    ):
        if row["reject"]:
            counts[str(row["reject"])] = int(row["n"])
        else:
            usable, valid = int(row["n"]), int(row["ids"])
    rejects = {k: v for k, v in counts.items() if v}
    if usable > valid:
        rejects[Reject.DUPLICATE_MESSAGE_ID.value] = usable - valid
    return LoadReport(
        rows_read=usable + sum(counts.values()),
        rows_valid=valid,
        rejects=rejects,
        columns=columns,
    )


def _counts(engine: Engine, *, similar: bool) -> dict[str, int]:
    """The summary's sizes, in one query (one Spark job)."""
    pairs = "candidates" if similar else "pair_numbers"
    query = (
        "SELECT 'keyed_messages' AS k, coalesce(sum(messages), 0) AS n FROM objects "
        "UNION ALL SELECT 'objects' AS k, count(*) AS n FROM objects "
        "UNION ALL SELECT 'capped_objects' AS k, count(*) AS n FROM capped "
        f"UNION ALL SELECT 'candidate_pairs' AS k, count(*) AS n FROM {pairs} "
        "UNION ALL SELECT 'message_pairs' AS k, count(*) AS n FROM pair_numbers "
        "UNION ALL SELECT 'edges' AS k, count(*) AS n FROM edges "
        "UNION ALL SELECT 'accounts' AS k, count(DISTINCT u) AS n FROM ("
        "SELECT user_1 AS u FROM edges UNION ALL SELECT user_2 AS u FROM edges) a"
    )
    return {str(row["k"]): int(row["n"]) for row in engine.rows(query)}


def _cases(engine: Engine, config: DetectConfig) -> tuple[list[Case], int]:
    import pyarrow as pa

    limit = int(config.max_cluster_edges)
    edges = engine.rows(
        f"SELECT user_1, user_2, weight FROM edges ORDER BY weight DESC, user_1, user_2 "
        f"LIMIT {limit}"
    )
    clusters: list[Cluster] = find_clusters((e["user_1"], e["user_2"], e["weight"]) for e in edges)
    if not clusters:
        return [], len(edges)
    ids = [c.case_id(config.network, config.window) for c in clusters]
    members = pa.table(
        {
            "aid": [a for c in clusters for a in c.accounts],
            "case_id": [i for i, c in zip(ids, clusters, strict=True) for _ in c.accounts],
        }
    )
    engine.register("members", members)
    engine.create("case_matches", sql.case_matches_sql())
    engine.create("activity", sql.case_activity_sql(config))
    engine.create("baseline", sql.case_baseline_sql())
    totals = engine.rows(sql.case_totals_sql())
    counts = {
        str(row["case_id"]): CaseCounts(
            matched=int(row["matched"]),
            coactive=int(row["coactive"]),
            objects=int(row["objects"]),
            first_ts=float(row["first_ts"]),
            last_ts=float(row["last_ts"]),
        )
        for row in totals
    }
    shared: dict[str, list[SharedObject]] = {}
    for row in engine.rows(sql.case_objects_sql(5)):
        shared.setdefault(str(row["case_id"]), []).append(
            SharedObject(str(row["obj"]), int(row["messages"]), int(row["accounts"]))
        )
    for objs in shared.values():
        objs.sort(key=lambda o: (-o.messages, o.object))
    base = engine.rows(sql.global_baseline_sql(config))[0]
    p0 = int(base["matched"] or 0) / max(int(base["coactive"] or 0), 1)
    cases = rank_cases(
        clusters, counts, shared, network=config.network, window=config.window, p0=p0
    )
    return cases, len(edges)


def _write_clusters(cases: list[Case], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "case_id": pa.array([c.case_id for c in cases for _ in c.accounts], pa.string()),
            "rank": pa.array([c.rank for c in cases for _ in c.accounts], pa.int64()),
            "account_id": pa.array([a for c in cases for a in c.accounts], pa.string()),
            "component": pa.array([c.component for c in cases for _ in c.accounts], pa.int64()),
        }
    )
    pq.write_table(table, path)


def read_summary(out_dir: Path) -> dict[str, Any]:
    """The summary of a finished run in ``out_dir``; refuses incomplete output."""
    path = out_dir / SUMMARY_FILE
    if not path.exists():
        raise NotFound(f"no finished detection run in {out_dir} (run `kith integrity detect`)")
    summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if not summary.get("complete"):
        raise NotFound(f"the detection run in {out_dir} did not finish")
    return summary


def read_cases(out_dir: Path) -> list[Case]:
    if read_summary(out_dir).get("edges_only"):
        raise NotFound(f"the detection run in {out_dir} was edges-only: it has no cases")
    data = json.loads((out_dir / "cases.json").read_text(encoding="utf-8"))
    return [Case.from_json(item) for item in data]
