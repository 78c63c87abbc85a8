"""``kith presence`` commands, and ``kith replay gowalla``: the alert policy on real check-ins."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kith.errors import KithError

app = typer.Typer(help="presence commands.", no_args_is_help=True)
replay_app = typer.Typer(
    help="Replay real location data through kith's alert policy.", no_args_is_help=True
)
console = Console()
err_console = Console(stderr=True)

# In a checkout (and in CI) the shared data sits beside the repository; KITH_GOWALLA_DIR
# points elsewhere.
GOWALLA_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "gowalla_nyc"


def gowalla_dir() -> Path:
    return Path(os.environ.get("KITH_GOWALLA_DIR", str(GOWALLA_DIR)))


def register(root: typer.Typer, eval_app: typer.Typer) -> None:
    """Add this capability's top-level and ``kith eval`` commands (if any) to the CLI."""
    root.add_typer(replay_app, name="replay")


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[red]Error:[/red] {message}")
    return typer.Exit(code)


def _day(value: str | None) -> datetime | None:
    if value is None or value.lower() == "none":
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise _fail(f"--split must be a date like 2010-03-01 (or none), not {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@replay_app.command("gowalla")
def replay_gowalla(
    checkins: Annotated[
        Path | None, typer.Option(help="Check-ins (.parquet or .csv). Default: shared data.")
    ] = None,
    friendships: Annotated[
        Path | None, typer.Option(help="Friendships (.parquet or .csv). Default: shared data.")
    ] = None,
    venues: Annotated[
        Path | None, typer.Option(help="Venue names (.parquet or .csv). Default: shared data.")
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            help="Close friends come from meetups before this UTC date; only later ones "
            "are replayed and scored ('none': use and score everything)."
        ),
    ] = "2010-03-01",
    close: Annotated[
        str, typer.Option(help="Who is close: 'top' (5 friends met most before --split) or 'all'.")
    ] = "top",
    open_to_hang_out: Annotated[
        bool,
        typer.Option(
            "--open-to-hang-out", help="Everyone marked open to hang out (kith's default: no)."
        ),
    ] = False,
    radius: Annotated[
        int, typer.Option(help="Radius of the inferred intents, metres.", min=100, max=50_000)
    ] = 2000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the numbers as JSON.")] = False,
) -> None:
    """How many real friend meetups the default alert policy would have announced beforehand,
    and how many alerts it would have fired without a meetup (see docs/presence-benchmark.md)."""
    try:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from kith.presence.replay import Protocol, load_gowalla, replay
    except ImportError as exc:  # numpy / pyarrow live in the analysis extra
        raise _fail(f"{exc.name} is missing: install kith with the 'analysis' extra") from exc

    base = gowalla_dir()
    paths = (
        checkins or base / "checkins.parquet",
        friendships or base / "friendships.parquet",
        venues or base / "venues.parquet",
    )
    try:
        protocol = Protocol(
            split=_day(split), close=close, open_to_hang_out=open_to_hang_out, radius_m=radius
        )
        data = load_gowalla(*paths)
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} updates"),
            TimeElapsedColumn(),
            console=err_console,
            transient=as_json,
        ) as bar:
            task = bar.add_task("Replaying check-ins", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = replay(data, protocol, progress=advance)
    except KithError as exc:
        raise _fail(exc.detail) from exc

    numbers = report.as_dict()
    if as_json:
        typer.echo(json.dumps(numbers))
        return
    table = Table(title="Gowalla NYC replay through kith's alert policy")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in numbers.items():
        shown = json.dumps(value) if isinstance(value, dict) else str(value)
        table.add_row(key.replace("_", " "), shown)
    console.print(table)
