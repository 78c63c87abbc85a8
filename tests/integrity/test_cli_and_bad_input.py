"""`kith integrity` end to end, and bad input: clear errors, counted rejects, and
never partial output presented as complete."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from kith.cli.main import app

runner = CliRunner()
HEADER = "message_id,account_id,timestamp,text,urls,reshare_of\n"


def csv(path: Path, body: str, encoding: str = "utf-8") -> Path:
    path.write_bytes((HEADER + body).encode(encoding))
    return path


def good_rows(n: int = 40) -> str:
    # Pairs of accounts re-sharing the same post 3 s apart.
    return "".join(
        f"{i},acc{i % 4},{1_600_000_000 + (i // 4) * 100 + i % 4},,,post{i // 4}\n"
        for i in range(n)
    )


def detect(
    source: Path, out: Path, *extra: str, network: str = "co_retweet", window: str = "60"
) -> Result:
    args = ["--input", str(source), "--network", network, "--window", window, "--out", str(out)]
    return runner.invoke(app, ["integrity", "detect", *args, *extra])


def test_detect_cases_report_through_the_cli(tmp_path: Path) -> None:
    source = csv(tmp_path / "in.csv", good_rows())
    out = tmp_path / "out"
    result = detect(source, out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["complete"] is True
    assert summary["rows"] == {"read": 40, "valid": 40, "rejected": 0, "rejects": {}}
    assert summary["edges"] == 12  # 4 accounts, every ordered pair
    assert pq.read_table(out / "edges.parquet").column_names == ["user_1", "user_2", "weight"]
    listed = runner.invoke(app, ["integrity", "cases", "--out", str(out), "--json"])
    assert listed.exit_code == 0, listed.output
    cases = json.loads(listed.stdout)
    assert cases[0]["accounts"] == ["acc0", "acc1", "acc2", "acc3"]
    shown = runner.invoke(
        app, ["integrity", "cases", "--out", str(out), "--case", cases[0]["case_id"], "--json"]
    )
    assert json.loads(shown.stdout)["evidence"][0]["object"].startswith("post")
    report = runner.invoke(app, ["integrity", "report", "--out", str(out)])
    assert report.exit_code == 0, report.output
    html = (out / "report.html").read_text()
    assert cases[0]["case_id"] in html
    assert html.count("data:image/png;base64,") == 2


def _fails(tmp_path: Path, source: Path, *extra: str, network: str = "co_retweet") -> str:
    out = tmp_path / "out"
    result = detect(source, out, *extra, network=network)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not (out / "summary.json").exists()
    assert not (out / "edges.parquet").exists()
    return " ".join(result.output.split())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "input has no rows"),
        ("1,a,yesterday,,,p\n2,b,last week,,,p\n", "bad_timestamp: 2"),
        ("1,a,1600000000000,,,p\n2,b,1600000001000,,,p\n", "look like milliseconds"),
        (",a,1600000000,,,p\n2,,1600000000,,,p\n", "missing_account_id: 1"),
    ],
)
def test_unusable_input_is_refused_clearly(tmp_path: Path, body: str, message: str) -> None:
    assert message in _fails(tmp_path, csv(tmp_path / "in.csv", body))


def test_empty_file_missing_columns_and_absurd_windows(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "empty" in _fails(tmp_path, empty)
    no_time = tmp_path / "no_time.csv"
    no_time.write_text("message_id,account_id\n1,a\n")
    assert "missing required column(s): timestamp" in _fails(tmp_path, no_time)
    no_urls = tmp_path / "no_urls.csv"
    no_urls.write_text("message_id,account_id,timestamp\n1,a,1\n")
    assert "needs a 'urls' column" in _fails(tmp_path, no_urls, network="co_link")
    source = csv(tmp_path / "in.csv", good_rows())
    for window in ("-1", "99999999"):
        result = detect(source, tmp_path / "w", window=window)
        assert result.exit_code == 2
        assert "window" in result.output


def test_some_bad_rows_are_counted_and_duplicates_keep_the_first(tmp_path: Path) -> None:
    body = good_rows(40) + "40,acc0,not a time,,,post0\n" + "0,acc3,1600000000,,,other\n"
    source = csv(tmp_path / "in.csv", body)
    out = tmp_path / "out"
    result = detect(source, out, "--json", "--max-reject-fraction", "0.1")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert rows == {
        "read": 42,
        "valid": 40,
        "rejected": 2,
        "rejects": {"bad_timestamp": 1, "duplicate_message_id": 1},
    }


def test_text_in_any_encoding_is_read_or_refused_with_a_hint(tmp_path: Path) -> None:
    body = "".join(
        f'{i},acc{i % 2},{1_600_000_000 + i},"Grüße aus Köln, straße {i // 2}",,\n'
        for i in range(6)
    )
    latin = csv(tmp_path / "latin.csv", body, encoding="latin-1")
    assert "--encoding" in _fails(tmp_path, latin, network="co_tweet")
    out = tmp_path / "ok"
    result = detect(latin, out, "--encoding", "latin-1", "--json", network="co_tweet")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["message_pairs"] == 3
    weights = pq.read_table(out / "edges.parquet").column("weight").to_pylist()
    assert weights == [3, 3]
    evidence = pq.read_table(out / "evidence.parquet").column("text_1").to_pylist()
    assert evidence[0].startswith("Grüße aus Köln")


def test_edges_only_writes_the_network_and_clears_older_evidence(tmp_path: Path) -> None:
    source = csv(tmp_path / "in.csv", good_rows())
    out = tmp_path / "out"
    assert detect(source, out).exit_code == 0
    assert (out / "evidence.parquet").exists()
    result = detect(source, out, "--edges-only", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["edges_only"] is True
    assert summary["edges"] == 12
    assert pq.read_table(out / "edges.parquet").num_rows == 12
    # The earlier full run's evidence and cases are gone, not left beside new edges.
    assert sorted(p.name for p in out.iterdir()) == [
        "capped_objects.parquet",
        "edges.parquet",
        "summary.json",
    ]
    for command in ("cases", "report"):
        refused = runner.invoke(app, ["integrity", command, "--out", str(out)])
        assert refused.exit_code == 2, refused.output
        assert "edges-only" in " ".join(refused.output.split())


def test_a_ragged_row_past_the_sniffed_sample_is_read_leniently(tmp_path: Path) -> None:
    """The fast (strict, parallel) CSV reader refuses a row with an extra field deep in
    the file; the run reads the file again leniently instead of failing half-way."""
    lines = good_rows(30_000).splitlines(keepends=True)
    lines.insert(25_000, "99999,acc1,1600000000,,,post0,extra\n")
    source = csv(tmp_path / "in.csv", "".join(lines))
    result = detect(source, tmp_path / "out", "--json", "--edges-only")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"]["read"] == 30_001


def test_a_run_reads_only_its_columns_and_still_requires_its_own(tmp_path: Path) -> None:
    """co_retweet reads no text or URLs: a CSV without them works, and a garbled value
    in a column the network does not use changes nothing. A column the network needs
    is still required."""
    retweets = tmp_path / "retweets.csv"
    retweets.write_text(
        "message_id,account_id,timestamp,reshare_of\n"
        + "".join(f"{i},acc{i % 2},{1_600_000_000 + i},post{i // 2}\n" for i in range(6))
    )
    result = detect(retweets, tmp_path / "rt", "--json", "--edges-only")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["edges"] == 2
    assert "needs a 'text' column" in _fails(tmp_path, retweets, network="co_tweet")
    assert "needs a 'urls' column" in _fails(tmp_path, retweets, network="co_link")
    no_reshares = tmp_path / "texts.csv"  # co_tweet without reshare_of: all are originals
    no_reshares.write_text(
        "message_id,account_id,timestamp,text\n"
        + "".join(f"{i},acc{i % 2},{1_600_000_000 + i},the same words {i // 2}\n" for i in range(6))
    )
    result = detect(no_reshares, tmp_path / "tw", "--json", network="co_tweet")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["message_pairs"] == 3


def test_the_first_of_duplicate_ids_is_kept_in_a_file_read_in_parallel(tmp_path: Path) -> None:
    """The strict reader splits a large file between threads; the first occurrence
    (in file order) of a duplicated id still wins, as in the toolkit."""
    rows = [f"{i},acc{i},{1_600_000_000 + 7 * i},,,solo{i}\n" for i in range(300_000)]
    rows[10] = "dup,first,1600000000,,,shared\n"
    rows.append("dup,second,1600000001,,,shared\n")
    rows.append("x,third,1600000002,,,shared\n")
    source = csv(tmp_path / "in.csv", "".join(rows))
    out = tmp_path / "out"
    result = detect(source, out, "--json", "--edges-only")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"]["rejects"] == {"duplicate_message_id": 1}
    edges = pq.read_table(out / "edges.parquet").to_pylist()
    assert {(e["user_1"], e["user_2"]) for e in edges} == {("first", "third"), ("third", "first")}


def test_the_kith_command_runs_detect_without_the_typer_app(tmp_path: Path) -> None:
    """`kith integrity detect` goes straight to its own parser (fast start-up): the
    same summary, the same clear errors, and the Typer app is never imported."""
    import subprocess
    import sys

    source = csv(tmp_path / "in.csv", good_rows())
    entry = (
        "import atexit, sys; atexit.register(lambda: print('typer' in sys.modules, "
        "file=sys.stderr)); from kith.cli import main; main()"
    )
    base = [sys.executable, "-c", entry, "integrity", "detect", "--input", str(source)]
    ok = subprocess.run(
        [
            *base,
            "--network",
            "co_retweet",
            "--window",
            "60",
            "--out",
            str(tmp_path / "o"),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["edges"] == 12
    assert ok.stderr.split()[-1] == "False"  # typer was never imported
    bad = subprocess.run(
        [*base, "--network", "co_retweet", "--window", "-1", "--out", str(tmp_path / "b")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "Error: the window must be" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_an_unusable_memory_limit_or_output_folder_is_a_clear_error(tmp_path: Path) -> None:
    source = csv(tmp_path / "in.csv", good_rows())
    assert "memory limit 'lots'" in _fails(tmp_path, source, "--memory-limit", "lots")
    taken = tmp_path / "taken"
    taken.write_text("a file, not a folder")
    result = detect(source, taken)
    assert result.exit_code == 2, result.output
    assert "cannot write to" in result.output
    assert taken.read_text() == "a file, not a folder"


def test_an_unknown_encoding_name_is_not_blamed_on_the_file(tmp_path: Path) -> None:
    source = csv(tmp_path / "in.csv", good_rows())
    message = _fails(tmp_path, source, "--encoding", "bogus")
    assert "use utf-8, latin-1 or utf-16" in message
    assert "not valid UTF-8" not in message


def test_help_names_what_each_option_takes_and_only_real_defaults() -> None:
    result = runner.invoke(app, ["integrity", "detect", "--help"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # the formatter wraps lines
    assert "--input FILE" in text
    assert "--window SECONDS" in text
    assert "(default: 1000)" in text  # --max-accounts
    assert "(default: None)" not in text
    assert "(default: False)" not in text


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--max-accounts", "-5", "--max-accounts must be at least 2 (0 = no cap)"),
        ("--min-weight", "0", "--min-weight must be at least 1"),
        ("--similarity", "1.5", "--similarity must be in (0, 1]"),
        ("--max-reject-fraction", "2", "--max-reject-fraction must be in [0, 1]"),
        ("--min-text-length", "-1", "--min-text-length must be at least 0"),
    ],
)
def test_an_option_out_of_bounds_is_named_as_typed(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    source = csv(tmp_path / "in.csv", good_rows())
    assert f"Error: {message}" in _fails(tmp_path, source, option, value)


@pytest.mark.parametrize(
    ("limit", "rows"),
    [("1KB", 40), ("100KB", 40), ("1MB", 20_000)],  # engine set-up, reading, the plan
)
def test_too_little_memory_is_a_clear_error_wherever_it_runs_out(
    tmp_path: Path, limit: str, rows: int
) -> None:
    source = csv(tmp_path / "in.csv", good_rows(rows))
    message = _fails(tmp_path, source, "--memory-limit", limit)
    assert "Error: out of memory" in message
    assert "give DuckDB more with --memory-limit" in message
    assert "UTF-8" not in message
