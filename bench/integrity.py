"""Benchmark: kith integrity vs coordination-network-toolkit, same input, same run.

For each input size, both tools go from the same raw CSV (the toolkit's format) to
edges for co_tweet, co_retweet and co_link with a 60 s window; each run is a fresh
subprocess so peak memory (max RSS, including its workers) is per run. The edge
sets are checked for equality, and the last line printed is JSON with times,
memory and kith's speed-up ratios.

    .venv/bin/python bench/integrity.py --quick          # 100k rows only
    .venv/bin/python bench/integrity.py                  # 100k, 1M, dense 10M
    .venv/bin/python bench/integrity.py --sizes 1m --out-of-core-rows 100000000

The toolkit's empty-string "URL" (its CSV loader adds one for every message without
a link) is deleted before its co_link run, as for the published reference edges.
The dense set clones every IRA account nine times with 1-10 s of time jitter.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import Progress

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from kith.integrity.datasets import IRA_TWEETS, ira_messages, shared_data_dir, write_cnt_csv  # noqa: E402

NETWORKS = ("co_tweet", "co_retweet", "co_link")
WINDOW = 60
PY = sys.executable
KITH = str(Path(sys.executable).parent / "kith")
console = Console(stderr=True)


def run(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of one subprocess and the workers it waited for."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"failed ({status}): {' '.join(cmd)}\n{err[-2000:]}")
    return seconds, usage.ru_maxrss // 1024


def dense(messages: pa.Table, clones: int, seed: int = 0) -> pa.Table:
    rng = random.Random(seed)
    parts = [messages]
    n = messages.num_rows
    for c in range(1, clones + 1):
        jitter = pa.array([rng.randint(1, 10) for _ in range(n)], pa.int64())
        parts.append(
            pa.table(
                {
                    "message_id": pa.array(
                        [f"{m}c{c}" for m in messages.column("message_id").to_pylist()]
                    ),
                    "account_id": pa.array(
                        [f"{a}~{c}" for a in messages.column("account_id").to_pylist()]
                    ),
                    "timestamp": pa.compute.add(messages.column("timestamp"), jitter),
                    "text": messages.column("text"),
                    "urls": messages.column("urls"),
                    "reshare_of": messages.column("reshare_of"),
                }
            )
        )
    parts[0] = parts[0].set_column(0, "message_id", parts[0].column(0).cast(pa.string()))
    return pa.concat_tables(parts)


def peer(csv: Path, work: Path, network: str) -> tuple[float, int, set[tuple[str, str, int]]]:
    db = work / f"peer_{network}.db"
    db.unlink(missing_ok=True)
    cnt = [PY, "-m", "coordination_network_toolkit", str(db)]
    t1, m1 = run([*cnt, "preprocess", str(csv)])
    if network == "co_link":
        with sqlite3.connect(db) as con:
            con.execute("DELETE FROM message_url WHERE url = ''")
    t2, m2 = run(
        [
            *cnt,
            "compute",
            network,
            "--time_window",
            str(WINDOW),
            "--min_edge_weight",
            "1",
            "--n_cpus",
            str(os.cpu_count() or 2),
        ]
    )
    with sqlite3.connect(db) as con:
        table = {
            "co_tweet": "co_tweet_network",
            "co_retweet": "co_retweet_network",
            "co_link": "co_link_network",
        }[network]
        rows = con.execute(f"SELECT user_1, user_2, weight FROM {table} WHERE user_1 != user_2")
        edges = {(str(a), str(b), int(w)) for a, b, w in rows}
    db.unlink(missing_ok=True)
    return t1 + t2, max(m1, m2), edges


def kith(
    csv: Path, work: Path, network: str, memory: str
) -> tuple[float, int, set[tuple[str, str, int]]]:
    out = work / f"kith_{network}"
    seconds, mb = run(
        [
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
    )
    table = pq.read_table(out / "edges.parquet")
    edges = {(r["user_1"], r["user_2"], int(r["weight"])) for r in table.to_pylist()}
    return seconds, mb, edges


def out_of_core(rows: int, work: Path, memory: str) -> dict[str, object]:
    """kith alone on a generated dense set far larger than its memory limit."""
    path = work / f"generated_{rows}.parquet"
    accounts = max(rows // 2000, 100)
    duckdb.connect().execute(
        f"COPY (SELECT i AS message_id, 'a' || (i % {accounts}) AS account_id, "
        f"1600000000 + (i // {accounts}) * 7 + (hash(i) % 5) AS timestamp, '' AS text, "
        f"'' AS urls, 'p' || ((i // {accounts}) % 50000) || '_' || (i % 97) AS reshare_of "
        f"FROM range({rows}) t(i)) TO '{path}' (FORMAT parquet)"
    )
    seconds, mb = run(
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
            str(work / "ooc"),
            "--memory-limit",
            memory,
            "--json",
        ]
    )
    summary = json.loads((work / "ooc" / "summary.json").read_text())
    return {
        "rows": rows,
        "seconds": round(seconds, 1),
        "peak_mb": mb,
        "memory_limit": memory,
        "edges": summary["edges"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="100k rows only")
    parser.add_argument("--sizes", default="100k,1m,dense10m")
    parser.add_argument("--work", type=Path, default=Path("/tmp/kith-bench-integrity"))
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--out-of-core-rows", type=int, default=0)
    args = parser.parse_args()
    sizes = ["100k"] if args.quick else args.sizes.split(",")
    args.work.mkdir(parents=True, exist_ok=True)
    source = shared_data_dir(REPO) / IRA_TWEETS
    results: dict[str, object] = {}
    all_equal = True
    with Progress(console=console) as progress:
        task = progress.add_task("benchmark", total=len(sizes) * len(NETWORKS))
        for size in sizes:
            progress.update(task, description=f"{size}: preparing input")
            n = {"100k": 100_000, "1m": 1_000_000, "dense10m": 1_000_000}[size]
            messages = ira_messages(source, n)
            if size == "dense10m":
                messages = dense(messages, clones=9)
            csv = args.work / f"{size}.csv"
            write_cnt_csv(messages, csv)
            per: dict[str, object] = {"rows": messages.num_rows}
            for network in NETWORKS:
                progress.update(task, description=f"{size} {network}: toolkit")
                p_s, p_mb, p_edges = peer(csv, args.work, network)
                progress.update(task, description=f"{size} {network}: kith")
                k_s, k_mb, k_edges = kith(csv, args.work, network, args.memory_limit)
                equal = p_edges == k_edges
                all_equal &= equal
                per[network] = {
                    "edges": len(k_edges),
                    "equal": equal,
                    "peer_s": round(p_s, 2),
                    "kith_s": round(k_s, 2),
                    "speedup": round(p_s / k_s, 2),
                    "peer_peak_mb": p_mb,
                    "kith_peak_mb": k_mb,
                }
                progress.advance(task)
            total_p = sum(v["peer_s"] for k, v in per.items() if isinstance(v, dict))
            total_k = sum(v["kith_s"] for k, v in per.items() if isinstance(v, dict))
            per["speedup_total"] = round(total_p / total_k, 2)
            results[size] = per
            console.print(f"{size}: {json.dumps(per)}")
    if args.out_of_core_rows:
        results["out_of_core"] = out_of_core(args.out_of_core_rows, args.work, args.memory_limit)
    results["edges_equal"] = all_equal
    print(json.dumps(results))


if __name__ == "__main__":
    main()
