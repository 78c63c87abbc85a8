"""CLI commands for privacy (being built)."""

from __future__ import annotations

import typer

app = typer.Typer(help="privacy commands.", no_args_is_help=True)


def register(root: typer.Typer, eval_app: typer.Typer) -> None:
    """Add this capability's top-level commands (``kith purge``) to the CLI."""
