"""``kith integrity detect``: raw file in, network, evidence and cases out.

A batch command run over and over on big files, so its start-up is kept small: it
parses its options with argparse and imports neither Typer (whose per-call option
coercion imports pydantic, ~0.25 s) nor Rich unless a terminal shows the progress
bar. The ``kith`` entry point (:func:`kith.cli.main`) routes ``kith integrity
detect`` here before building the Typer app; through the Typer app (``kith
integrity ...`` in tests and scripts) the same :func:`main` runs, so there is one
set of options and one behaviour. The parser only reads the options; the choices
come from the network registry and the values are checked by
:class:`~kith.integrity.networks.DetectConfig`, as for every other caller.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kith.errors import KithError

PROG = "kith integrity detect"


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only where there is one to show (not for required options or
    plain switches)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.required or action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    # The run imports the integrity package anyway; only --help pays for it early.
    from kith.integrity.networks import NETWORKS, EngineName
    from kith.integrity.schema import InputFormat

    p = argparse.ArgumentParser(
        prog=PROG,
        description="Build a coordination network, its evidence and ranked cases.",
        formatter_class=_HelpFormatter,
    )
    p.add_argument(
        "--input",
        type=Path,
        required=True,
        metavar="FILE",
        help="messages as .parquet or .csv (see docs/integrity.md)",
    )
    p.add_argument("--network", required=True, choices=tuple(NETWORKS), help="which network")
    p.add_argument(
        "--window",
        type=float,
        required=True,
        metavar="SECONDS",
        help="seconds either side that count as together",
    )
    p.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="folder for edges, evidence, cases"
    )
    p.add_argument(
        "--engine",
        default="duckdb",
        choices=[e.value for e in EngineName],
        help="where the plan runs (spark needs the spark extra)",
    )
    p.add_argument(
        "--format",
        dest="input_format",
        default="kith",
        choices=[f.value for f in InputFormat],
        help="kith (columns by name) or cnt (the toolkit's CSV)",
    )
    p.add_argument("--encoding", default="utf-8", help="CSV text encoding")
    p.add_argument(
        "--max-accounts",
        type=int,
        default=1000,
        help="leave out objects shared by more accounts (0 = no cap)",
    )
    p.add_argument(
        "--min-text-length",
        type=int,
        default=10,
        help="co_tweet: shortest normalised text that links (0 = toolkit)",
    )
    p.add_argument("--min-weight", type=int, default=1, help="drop lighter edges")
    p.add_argument("--similarity", type=float, default=0.8, help="co_similar_tweet Jaccard")
    p.add_argument(
        "--peer-compatible",
        action="store_true",
        help="coordination-network-toolkit semantics (no cap, no guard)",
    )
    p.add_argument(
        "--edges-only", action="store_true", help="stop at the edges: no evidence or cases"
    )
    p.add_argument("--memory-limit", default="4GB", help="DuckDB memory before spilling")
    p.add_argument(
        "--max-reject-fraction",
        type=float,
        default=0.05,
        help="fail when more input rows than this are unusable",
    )
    p.add_argument("--json", dest="as_json", action="store_true", help="print the summary as JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (0, or 2 for unusable input)."""
    args = build_parser().parse_args(argv)
    from kith.integrity.networks import DetectConfig, EngineName
    from kith.integrity.pipeline import detect, stages
    from kith.integrity.schema import InputFormat

    try:
        config = DetectConfig(
            network=args.network,
            window=args.window,
            engine=EngineName(args.engine),
            max_accounts_per_object=args.max_accounts or None,
            min_text_length=args.min_text_length,
            min_weight=args.min_weight,
            similarity_threshold=args.similarity,
            memory_limit=args.memory_limit,
            max_reject_fraction=args.max_reject_fraction,
            edges_only=args.edges_only,
        )
        if args.peer_compatible:
            config = config.peer_compatible()
        with _progress(f"{args.network} on {args.input.name}", len(stages(config))) as step:
            result = detect(
                args.input,
                config,
                args.out,
                input_format=InputFormat(args.input_format),
                encoding=args.encoding,
                on_stage=lambda name: step(f"{args.network}: {name} done"),
            )
    except KithError as exc:
        return _fail(_in_option_terms(exc))
    if args.as_json:
        print(json.dumps(result.summary, indent=2))
    else:
        _print_summary(result.summary)
    return 0


# DetectConfig names its settings; the command line knows them as these options, and
# says what it means differently (the Python API has no "0").
OPTIONS: dict[str, tuple[str, str]] = {
    "max_accounts_per_object": ("--max-accounts", " (0 = no cap)"),
    "similarity_threshold": ("--similarity", ""),
    "min_text_length": ("--min-text-length", ""),
    "min_weight": ("--min-weight", ""),
    "max_reject_fraction": ("--max-reject-fraction", ""),
    "memory_limit": ("--memory-limit", ""),
}


def _in_option_terms(exc: KithError) -> str:
    """The error's text with a setting's name replaced by the option that sets it."""
    setting = getattr(exc, "field", None) or ""
    if setting not in OPTIONS or setting not in exc.detail:
        return exc.detail
    option, note = OPTIONS[setting]
    return exc.detail.replace(setting, option) + note


def _fail(message: str) -> int:
    print(f"Error: {message}", file=sys.stderr)
    return 2


@contextmanager
def _progress(description: str, total: int) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr when it is a terminal; silent otherwise."""
    if not sys.stderr.isatty():
        yield lambda _: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda what: bar.update(task, advance=1, description=what)


def _print_summary(summary: dict[str, Any]) -> None:
    rows = summary["rows"]
    print(
        f"{summary['network']} window {summary['window']:g} s: "
        f"{rows['valid']:,} of {rows['read']:,} rows used, {summary['edges']:,} edges, "
        f"{summary['accounts']:,} accounts, {summary['cases']:,} cases, "
        f"{summary['capped_objects']:,} capped objects ({summary['seconds']['total']:.1f} s)"
    )
    if rows["rejects"]:
        print("Rejected rows: " + ", ".join(f"{k} {v}" for k, v in rows["rejects"].items()))


if __name__ == "__main__":
    sys.exit(main())
