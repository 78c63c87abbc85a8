"""CLI commands for presence (being built)."""

from __future__ import annotations

import typer

app = typer.Typer(help="presence commands.", no_args_is_help=True)


def register(root: typer.Typer, eval_app: typer.Typer) -> None:
    """Add this capability's top-level and ``kith eval`` commands (if any) to the CLI."""
