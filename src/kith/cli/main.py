"""``kith``: serve, run the demo, migrate, manage users."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from kith.errors import KithError

if TYPE_CHECKING:  # pydantic-settings costs half a second: only commands that need it pay
    from kith.config import Settings

app = typer.Typer(
    name="kith",
    help="kith: a social platform that works for the people who use it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
users_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")

# Capability command groups; each module imports its heavy libraries inside its commands.
from kith.cli import feed as feed_cli  # noqa: E402
from kith.cli import integrity as integrity_cli  # noqa: E402
from kith.cli import partners as partners_cli  # noqa: E402
from kith.cli import presence as presence_cli  # noqa: E402
from kith.cli import privacy as privacy_cli  # noqa: E402

eval_app = typer.Typer(help="Evaluate kith's models on real data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
app.add_typer(integrity_cli.app, name="integrity", help="Find coordinated inauthentic behaviour.")
app.add_typer(partners_cli.app, name="partners", help='"Who\'s up for it?" models.')
app.add_typer(feed_cli.app, name="feed", help="Feed rankers and the simulator.")
app.add_typer(presence_cli.app, name="presence", help="Presence, sharing and meetup alerts.")
app.add_typer(privacy_cli.app, name="privacy", help="Your data: ledger, export, deletion.")
for _module in (feed_cli, integrity_cli, partners_cli, presence_cli, privacy_cli):
    _module.register(app, eval_app)

console = Console()
err_console = Console(stderr=True)


def _settings() -> Settings:
    from kith.config import get_settings

    try:
        return get_settings()
    except ValueError as exc:
        err_console.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]Error:[/red] {message}")
    return typer.Exit(code)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes.", min=1, max=64)] = 1,
) -> None:
    """Serve the web app and the API."""
    import uvicorn

    settings = _settings()
    from kith.storage.migrate import upgrade

    upgrade(settings)
    console.print(
        f"kith serving on [bold]http://{host}:{port}[/bold] (database: {settings.database_url})"
    )
    if workers > 1:
        uvicorn.run(
            "kith.cli.asgi:app",
            host=host,
            port=port,
            workers=workers,
            factory=True,
            log_level="info",
        )
    else:
        from kith.api.app import serving_app

        uvicorn.run(serving_app(settings), host=host, port=port, log_level="info")


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    seed_only: Annotated[bool, typer.Option("--seed-only", help="Seed, then exit.")] = False,
    users: Annotated[int, typer.Option(help="How many demo users.", min=2, max=500)] = 60,
) -> None:
    """Create the database, seed the demo world from real Gowalla data, and serve it."""
    settings = _settings()
    from kith.demo.seed import print_logins, seed_demo
    from kith.storage.migrate import upgrade

    upgrade(settings)
    summary = seed_demo(settings, users=users, console=console)
    print_logins(summary, console=console)
    if not seed_only:
        serve(host=host, port=port, workers=1)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision (default: all heads).")
    ] = "heads",
) -> None:
    """Create or migrate the database to the latest schema."""
    settings = _settings()
    from kith.storage.migrate import upgrade

    upgrade(settings, revision)
    console.print(f"[green]Database migrated to {revision}[/green] ({settings.database_url})")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="3-30 letters, digits or underscores.")],
    display_name: Annotated[str, typer.Option("--display-name", "-n", help="Shown name.")] = "",
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="KITH_NEW_PASSWORD",
            help="At least 8 characters.",
        ),
    ] = "",
) -> None:
    """Create an account."""
    settings = _settings()
    from kith.accounts.actions import do_create_user
    from kith.accounts.passwords import Passwords
    from kith.clock import utc_now
    from kith.storage.engine import Database
    from kith.storage.migrate import upgrade

    upgrade(settings)
    database = Database(settings)
    try:
        with database.session() as db:
            user = do_create_user(
                db,
                Passwords(settings),
                username=username,
                password=password,
                display_name=display_name or username,
                now=utc_now(),
            )
    except KithError as exc:
        raise fail(exc.detail) from exc
    finally:
        database.dispose()
    console.print(f"[green]Created[/green] {user.username} ({user.display_name})")


def main() -> None:
    app()
