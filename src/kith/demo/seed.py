"""Seed the demo world (placeholder until the Gowalla-derived demo lands)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console

from kith.config import Settings


@dataclass
class SeedSummary:
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    password: str = ""


def seed_demo(settings: Settings, *, users: int, console: Console) -> SeedSummary:
    raise NotImplementedError("the demo world is not built yet")


def print_logins(summary: SeedSummary, *, console: Console) -> None:
    for username, display_name, note in summary.logins:
        console.print(f"{username:20} {display_name:24} {note}")
