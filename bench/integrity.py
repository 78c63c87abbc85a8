"""Benchmark: kith integrity vs coordination-network-toolkit, same input, same run.

For each input size, both tools go from the same raw CSV (the toolkit's format) to
edges for co_tweet, co_retweet and co_link with a 60 s window; every run is a fresh
subprocess, so its peak memory (max RSS, including the workers it waited for) is its
own. The edge sets are checked for equality, and the last line printed is JSON with
times, memory and kith's speed-up ratios.

    .venv/bin/python bench/integrity.py --quick          # 100k rows only
    .venv/bin/python bench/integrity.py                  # 100k, 1M, dense 10M
    .venv/bin/python bench/integrity.py --sizes dense10m --peer-timeout 3600
    .venv/bin/python bench/integrity.py --sizes none --out-of-core-rows 100000000

What is timed, per network:

- toolkit: ``preprocess`` (CSV into SQLite) + ``compute <network>`` (all CPUs). It
  preprocesses once per size and computes the three networks on that database, as a
  user would; its per-network time counts the preprocessing in full (as if run alone),
  and ``all_three`` counts it once. Its CSV loader adds an empty-string "URL" for every
  message without a link; that row is deleted before co_link (as for the published
  reference edges), otherwise every link-less message would match every other one.
- kith: ``kith integrity detect --format cnt --peer-compatible --edges-only``, raw
  file to the edges Parquet (the toolkit's scope), run ``--kith-runs`` times (3) with
  the median reported (every run's edges must be equal), and separately (at ``--full-sizes``,
  100k and 1M by default) the full pipeline without ``--edges-only`` (edges, evidence,
  Louvain cases, summary), reported as ``kith_full_s`` and ``speedup_full``.

Both tools run as installed with byte-code caches: one untimed warm-up call each
writes them (``PYTHONDONTWRITEBYTECODE`` is cleared for the subprocesses), so no run
pays for compiling Python sources.

The dense sets clone every IRA account nine times (1M -> 10M rows, or 100k -> 1M for
``dense1m``, small enough for the toolkit to finish) with 1-10 s of time jitter per
message. With ``--peer-timeout`` a toolkit run that takes longer is
stopped and the ratio reported as a lower bound (``speedup_at_least``).

``--out-of-core-rows N`` runs kith alone (co_retweet) on a generated N-row Parquet set
(groups of ten accounts re-sharing the same post within 10 s, over a background of
scattered re-shares) with a DuckDB ``memory_limit`` far below the data size, and
reports its peak RSS and the disk it spilled to; generated files are deleted after.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
from rich.console import Console

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from kith.integrity.datasets import IRA_TWEETS, ira_messages, shared_data_dir, write_cnt_csv  # noqa: E402

NETWORKS = ("co_tweet", "co_retweet", "co_link")  # co_link last: it edits the toolkit's db
WINDOW = 60
PY = sys.executable
TIME = "/usr/bin/time"
KITH = str(Path(sys.executable).parent / "kith")
CNT = [PY, "-m", "coordination_network_toolkit"]
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
console = Console(stderr=True)
Edges = set[tuple[str, str, int]]


class TimedOut(Exception):
    pass


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: int
    cpu_s: float  # user + system CPU seconds, its workers included: steadier under load


def run(cmd: list[str], timeout: float | None = None) -> Run:
    """Wall seconds and peak RSS (MB) of one subprocess and the workers it waited for.

    GNU time measures the RSS: a child forked from this (large) process would report
    this process's size as its own peak."""
    rss = Path(os.environ.get("TMPDIR", "/tmp")) / f"kith-bench-rss-{os.getpid()}"
    start = time.perf_counter()
    proc = subprocess.Popen(
        [TIME, "-f", "%M %U %S", "-o", str(rss), *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=ENV,
        start_new_session=True,
    )
    err: list[bytes] = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read() if proc.stderr else b""))
    reader.start()
    timer = None
    if timeout is not None:
        # The whole process group: the toolkit's compute runs worker processes.
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, 9))
        timer.start()
    status = proc.wait()
    seconds = time.perf_counter() - start
    if timer is not None:
        timer.cancel()
    reader.join()
    if timeout is not None and seconds >= timeout:
        raise TimedOut(f"stopped after {timeout:.0f} s: {' '.join(cmd)}")
    if status != 0:
        text = b"".join(err).decode(errors="replace")
        raise SystemExit(f"failed ({status}): {' '.join(cmd)}\n{text[-2000:]}")
    peak_kb, user, system = rss.read_text().split()[-3:]
    rss.unlink()
    return Run(seconds, int(peak_kb) // 1024, round(float(user) + float(system), 2))


def warm_up() -> None:
    """Write both tools' byte-code caches, so no timed run compiles sources."""
    subprocess.run(
        [KITH, "integrity", "detect", "--help"], env=ENV, capture_output=True, check=True
    )
    subprocess.run([*CNT, "--help"], env=ENV, capture_output=True, check=False)
    subprocess.run(
        [PY, "-c", "import coordination_network_toolkit.compute_networks"],
        env=ENV,
        capture_output=True,
        check=True,
    )


def dense_csv(base: Path, target: Path, clones: int = 9) -> int:
    """The base CSV plus ``clones`` copies of every account (``name~k``), each message
    shifted by 1-10 s (a fixed hash, so the set is the same every time)."""
    src = str(base).replace("'", "''")
    copies = (
        "SELECT message_id || 'c' || k AS message_id, user_id || '~' || k AS user_id, "
        "username || '~' || k AS username, repost_id, reply_id, message, "
        "CAST(CAST(timestamp AS BIGINT) + 1 + hash(message_id, k) % 10 AS VARCHAR) AS timestamp, "
        f"urls FROM b, range(1, {clones + 1}) r(k)"
    )
    with duckdb.connect() as con:
        con.execute(
            f"CREATE VIEW b AS SELECT * FROM read_csv('{src}', header = true, all_varchar = true)"
        )
        con.execute(
            f"COPY (SELECT * FROM b UNION ALL {copies}) TO '{target}' "
            "(FORMAT csv, HEADER, FORCE_QUOTE *)"
        )
        rows = con.execute(f"SELECT count(*) FROM read_csv('{target}')").fetchone()
    return int(rows[0]) if rows else 0


def remove_db(db: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)


def toolkit_edges(db: Path, network: str) -> Edges:
    table = f"{network}_network"
    with sqlite3.connect(db) as con:
        rows = con.execute(f"SELECT user_1, user_2, weight FROM {table} WHERE user_1 != user_2")
        return {(str(a), str(b), int(w)) for a, b, w in rows}


def read_edges(path: Path) -> Edges:
    table = pq.read_table(path)
    return set(
        zip(
            table.column("user_1").to_pylist(),
            table.column("user_2").to_pylist(),
            table.column("weight").to_pylist(),
            strict=True,
        )
    )


def kith_run(
    csv: Path, work: Path, network: str, memory: str, *, edges_only: bool
) -> tuple[Run, Path]:
    """One timed kith run; returns its edges as a Parquet file kept in ``work``."""
    out = work / f"kith_{network}{'_edges' if edges_only else ''}"
    cmd = [
        KITH,
        "integrity",
        "detect",
        "--input",
        str(csv),
        "--format",
        "cnt",
        "--network",
        network,
        "--window",
        str(WINDOW),
        "--out",
        str(out),
        "--peer-compatible",
        "--memory-limit",
        memory,
        "--json",
    ]
    result = run([*cmd, "--edges-only"] if edges_only else cmd)
    edges = work / f"{out.name}.parquet"
    (out / "edges.parquet").replace(edges)
    shutil.rmtree(out, ignore_errors=True)
    return result, edges


def kith_size(
    size: str, csv: Path, work: Path, memory: str, *, full: bool, runs: int
) -> dict[str, dict[str, object]]:
    """kith's runs for every network (before the toolkit's: they do not depend on it).

    Each edges-only run is repeated ``runs`` times and the median reported: a run of
    one or two seconds moves by a third with the other jobs on a shared machine,
    while the toolkit's minute-long run averages that out by itself."""
    rows: dict[str, dict[str, object]] = {}
    for network in NETWORKS:
        console.print(f"{size} {network}: kith x{runs}")
        timed: list[Run] = []
        edge_sets: list[Edges] = []
        for _ in range(runs):
            k, k_path = kith_run(csv, work, network, memory, edges_only=True)
            timed.append(k)
            edge_sets.append(read_edges(k_path))
        k_edges = edge_sets[0]
        row: dict[str, object] = {
            "edges": len(k_edges),
            "kith_s": round(statistics.median(r.seconds for r in timed), 2),
            "kith_cpu_s": round(statistics.median(r.cpu_s for r in timed), 2),
            "kith_runs_s": [round(r.seconds, 2) for r in timed],
            "kith_peak_mb": max(r.peak_mb for r in timed),
            "kith_runs_equal": all(e == k_edges for e in edge_sets),
        }
        if full:
            kf, kf_path = kith_run(csv, work, network, memory, edges_only=False)
            row.update(
                kith_full_s=round(kf.seconds, 2),
                kith_full_peak_mb=kf.peak_mb,
                full_edges_equal=read_edges(kf_path) == k_edges,
            )
            kf_path.unlink()
        rows[network] = row
    return rows


def _ratios(row: dict[str, object], peer_s: float, *, bound: bool) -> None:
    """kith's speed-ups against ``peer_s`` (a lower bound when the toolkit was stopped)."""
    suffix = "_at_least" if bound else ""
    row["speedup" + suffix] = round(peer_s / float(str(row["kith_s"])), 1)
    if "kith_full_s" in row:
        row["speedup_full" + suffix] = round(peer_s / float(str(row["kith_full_s"])), 1)


def _total(per: dict[str, object], key: str) -> float:
    total = 0.0
    for network in NETWORKS:
        row = per[network]
        assert isinstance(row, dict)
        total += float(row[key])
    return total


def bench_size(
    size: str,
    csv: Path,
    work: Path,
    memory: str,
    peer_timeout: float | None,
    *,
    full: bool,
    runs: int,
) -> dict[str, object]:
    per: dict[str, object] = dict(kith_size(size, csv, work, memory, full=full, runs=runs))
    db = work / "toolkit.db"
    remove_db(db)
    console.print(f"{size}: toolkit preprocess")
    try:
        prep = run([*CNT, str(db), "preprocess", str(csv)], peer_timeout)
    except TimedOut:
        # Preprocessing alone outlasted the budget: every network's ratio is a bound.
        remove_db(db)
        per["toolkit_preprocess_s"] = f">= {peer_timeout:.0f}"
        for network in NETWORKS:
            row = per[network]
            assert isinstance(row, dict)
            row.update(toolkit_s=f">= {peer_timeout:.0f}", equal=None)
            _ratios(row, float(peer_timeout or 0.0), bound=True)
            (work / f"kith_{network}_edges.parquet").unlink()
        return per
    per["toolkit_preprocess_s"] = round(prep.seconds, 2)
    per["toolkit_preprocess_cpu_s"] = prep.cpu_s
    compute_total = 0.0
    all_done = True
    for network in NETWORKS:
        row = per[network]
        assert isinstance(row, dict)
        if network == "co_link":
            with sqlite3.connect(db) as con:
                con.execute("DELETE FROM message_url WHERE url = ''")
        console.print(f"{size} {network}: toolkit compute")
        budget = None if peer_timeout is None else max(peer_timeout - prep.seconds, 1.0)
        k_path = work / f"kith_{network}_edges.parquet"
        k_cpu = max(float(str(row["kith_cpu_s"])), 0.01)
        try:
            compute = run(
                [
                    *CNT,
                    str(db),
                    "compute",
                    network,
                    "--time_window",
                    str(WINDOW),
                    "--min_edge_weight",
                    "1",
                    "--n_cpus",
                    str(os.cpu_count() or 2),
                ],
                budget,
            )
        except TimedOut:
            all_done = False
            peer_s = prep.seconds + (budget or 0.0)
            row.update(toolkit_s=f">= {peer_s:.0f}", equal=None)
            _ratios(row, peer_s, bound=True)
        else:
            compute_total += compute.seconds
            peer_s = prep.seconds + compute.seconds
            row.update(
                equal=toolkit_edges(db, network) == read_edges(k_path),
                toolkit_s=round(peer_s, 2),
                toolkit_compute_s=round(compute.seconds, 2),
                toolkit_cpu_s=round(prep.cpu_s + compute.cpu_s, 2),
                speedup_cpu=round((prep.cpu_s + compute.cpu_s) / k_cpu, 1),
                toolkit_peak_mb=max(prep.peak_mb, compute.peak_mb),
            )
            _ratios(row, peer_s, bound=False)
        k_path.unlink()
        console.print(f"{size} {network}: {json.dumps(row)}")
    remove_db(db)
    if all_done:
        kith_total = _total(per, "kith_s")
        separately = len(NETWORKS) * prep.seconds + compute_total
        once = prep.seconds + compute_total
        per["speedup_total"] = round(separately / kith_total, 1)
        if full:
            kith_full = _total(per, "kith_full_s")
            per["speedup_total_full"] = round(separately / kith_full, 1)
        # The toolkit preprocesses once for all three; kith reads the CSV three times.
        per["all_three"] = {
            "toolkit_s": round(once, 1),
            "kith_s": round(kith_total, 1),
            "speedup": round(once / kith_total, 1),
        }
    return per


def generated_parquet(rows: int, path: Path) -> int:
    """``rows`` re-shares in kith's schema: accounts in groups of ten, every account
    posting once per 10-minute slot; in a tenth of the (group, slot)s the whole group
    re-shares one post within 10 s, otherwise each re-shares a random one of rows/4
    posts. Returns the number of accounts."""
    accounts = max(rows // 1000, 100)
    with duckdb.connect(config={"memory_limit": "2GB"}) as con:
        con.execute(
            f"COPY (SELECT 'm' || i AS message_id, 'a' || (i % {accounts}) AS account_id, "
            f"1600000000 + (i // {accounts}) * 600 + hash(i) % 10 AS timestamp, "
            "CASE WHEN hash(i // "
            f"{accounts}, (i % {accounts}) // 10) % 10 = 0 "
            f"THEN 'g' || (i // {accounts}) || '_' || ((i % {accounts}) // 10) "
            f"ELSE 'r' || hash(i, 7) % {max(rows // 4, 1)} END AS reshare_of "
            f"FROM range({rows}) t(i)) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)"
        )
    return accounts


def _disk_watch(folder: Path, stop: threading.Event, peak: list[int]) -> None:
    while not stop.wait(1.0):
        used = 0
        for root, _, files in os.walk(folder):
            for name in files:
                with contextlib.suppress(OSError):  # a spill file removed meanwhile
                    used += (Path(root) / name).stat().st_size
        peak[0] = max(peak[0], used)


def out_of_core(rows: int, work: Path, memory: str) -> dict[str, object]:
    """kith alone on a generated set far larger than its memory limit."""
    path = work / f"generated_{rows}.parquet"
    out = work / "ooc"
    console.print(f"out of core: generating {rows:,} rows")
    accounts = generated_parquet(rows, path)
    size_mb = path.stat().st_size // 2**20
    console.print(f"out of core: kith on {rows:,} rows, memory limit {memory}")
    stop = threading.Event()
    peak = [0]
    watcher = threading.Thread(target=_disk_watch, args=(out, stop, peak))
    watcher.start()
    try:
        result = run(
            [
                KITH,
                "integrity",
                "detect",
                "--input",
                str(path),
                "--network",
                "co_retweet",
                "--window",
                str(WINDOW),
                "--out",
                str(out),
                "--edges-only",
                "--memory-limit",
                memory,
                "--json",
            ]
        )
    finally:
        stop.set()
        watcher.join()
    summary = json.loads((out / "summary.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    path.unlink(missing_ok=True)
    return {
        "rows": rows,
        "accounts": accounts,
        "input_mb": size_mb,
        "network": "co_retweet",
        "seconds": round(result.seconds, 1),
        "cpu_s": result.cpu_s,
        "stages_s": summary["seconds"],
        "peak_rss_mb": result.peak_mb,
        "peak_spill_mb": peak[0] // 2**20,
        "memory_limit": memory,
        "message_pairs": summary["message_pairs"],
        "edges": summary["edges"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="100k rows only")
    parser.add_argument("--sizes", default="100k,1m,dense10m", help="or 'none'")
    parser.add_argument("--work", type=Path, default=Path("/tmp/kith-bench-integrity"))
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument(
        "--full-sizes",
        default="100k,1m",
        help="sizes where kith's full pipeline (evidence, cases) is timed too",
    )
    parser.add_argument("--peer-timeout", type=float, default=None, help="seconds per network")
    parser.add_argument(
        "--kith-runs", type=int, default=3, help="kith runs per network (the median is reported)"
    )
    parser.add_argument("--out-of-core-rows", type=int, default=0)
    parser.add_argument("--out-of-core-memory", default="2GB")
    args = parser.parse_args()
    sizes = ["100k"] if args.quick else [s for s in args.sizes.split(",") if s != "none"]
    args.work.mkdir(parents=True, exist_ok=True)
    source = shared_data_dir(REPO) / IRA_TWEETS
    results: dict[str, object] = {"load_average_start": os.getloadavg()[0]}
    warm_up()
    all_equal = True
    unchecked: list[str] = []
    for size in sizes:
        console.print(f"{size}: preparing input")
        n = {"100k": 100_000, "1m": 1_000_000, "dense1m": 100_000, "dense10m": 1_000_000}[size]
        csv = args.work / f"{size}.csv"
        write_cnt_csv(ira_messages(source, n), csv)
        rows = n
        if size.startswith("dense"):
            base = args.work / "dense_base.csv"
            csv.replace(base)
            rows = dense_csv(base, csv)
            base.unlink()
        full = size in args.full_sizes.split(",")
        timing = bench_size(
            size,
            csv,
            args.work,
            args.memory_limit,
            args.peer_timeout,
            full=full,
            runs=max(args.kith_runs, 1),
        )
        per = {"rows": rows, **timing}
        csv.unlink(missing_ok=True)
        for network in NETWORKS:
            row = per[network]
            assert isinstance(row, dict)
            all_equal &= (
                row["equal"] is not False
                and row.get("full_edges_equal") is not False
                and row["kith_runs_equal"] is not False
            )
            if row["equal"] is None:  # the toolkit was stopped: nothing to compare with
                unchecked.append(f"{size} {network}")
        results[size] = per
        console.print(f"{size}: {json.dumps(per)}")
    if args.out_of_core_rows:
        results["out_of_core"] = out_of_core(
            args.out_of_core_rows, args.work, args.out_of_core_memory
        )
    results["edges_equal"] = all_equal  # over the runs both tools finished
    results["edges_not_compared"] = unchecked
    results["load_average_end"] = os.getloadavg()[0]
    results["cpus"] = os.cpu_count()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
