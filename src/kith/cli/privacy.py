"""``kith purge`` (retention) and ``kith privacy export`` (a user's data, for an operator)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kith.errors import KithError

app = typer.Typer(help="Your data: export, retention.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]Error:[/red] {message}")
    return typer.Exit(code)


def purge_command() -> None:
    """Delete what is past retention: expired intents, alerts and grants, old history,
    old ledger entries, export archives and receipts. Safe to run at any time."""
    from kith.clock import utc_now
    from kith.config import get_settings
    from kith.privacy.retention import purge
    from kith.storage.engine import Database
    from kith.storage.migrate import upgrade

    try:
        settings = get_settings()
    except ValueError as exc:
        raise _fail(f"configuration: {exc}", 2) from exc
    upgrade(settings)
    database = Database(settings)
    try:
        with (
            console.status("Purging what is past retention..."),
            database.session() as db,
        ):
            report = purge(db, utc_now())
    finally:
        database.dispose()
    table = Table(title="Purged", show_header=True)
    table.add_column("what")
    table.add_column("rows", justify="right")
    for what, count in report.counts.items():
        table.add_row(what, str(count))
    console.print(table)
    console.print(f"[green]{report.total} rows purged.[/green]")


@app.command("export")
def export_command(
    username: Annotated[str, typer.Argument(help="Whose data to export.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Zip file to write (default: ./kith-<user>.zip)."),
    ] = None,
) -> None:
    """Write everything kith holds about one user to a zip (for a data-access request)."""
    from kith.accounts.access import find_user
    from kith.clock import utc_now
    from kith.config import get_settings
    from kith.privacy.export import build_archive
    from kith.storage.engine import Database

    try:
        settings = get_settings()
    except ValueError as exc:
        raise _fail(f"configuration: {exc}", 2) from exc
    database = Database(settings)
    try:
        with database.session() as db:
            user = find_user(db, username)
            if user is None:
                raise _fail(f"no user named {username!r}")
            target = out or Path(f"kith-{user.username}.zip")
            from rich.progress import Progress

            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("Exporting", total=None)

                def step(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                data = build_archive(db, user, now=utc_now(), progress=step)
    except KithError as exc:
        raise _fail(exc.detail) from exc
    finally:
        database.dispose()
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise _fail(f"cannot write {target}: {exc.strerror}") from exc
    console.print(f"[green]Wrote[/green] {target} ({len(data):,} bytes)")


def register(root: typer.Typer, eval_app: typer.Typer) -> None:
    """Add this capability's top-level commands (``kith purge``) to the CLI."""
    root.command("purge")(purge_command)
