"""Settings, read once from the environment (prefix ``KITH_``) and passed in.

Nothing here runs at import time: call :func:`get_settings` at an edge (CLI, server
start-up, tests) and hand the result down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///var/kith.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KITH_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    # FULL survives power loss; NORMAL (WAL) survives a killed process, and is faster.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"

    # Threads that run the blocking part of requests (database work). Few is faster: with
    # many, threads share the GIL a slice at a time, so every request in flight is slowed
    # by all the others, and the writer of the moment is too, while the rest queue behind
    # it; a request waiting for a thread waits in order instead. With 200 clients, 3-4
    # threads gave alert delivery p99 under 100 ms where 8 gave 130-350 ms
    # (docs/presence-benchmark.md).
    worker_threads: int = Field(default=4, ge=1, le=200)

    # Requests larger than this are refused with 413 before they are read.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=64 * 1024 * 1024)

    session_ttl_days: int = Field(default=30, ge=1, le=365)
    # "fast" argon2 parameters exist for the test suite only; production refuses them.
    password_hashing: Literal["standard", "fast"] = "standard"
    cookie_secure: bool = False

    # Login throttling: failures counted over a sliding window, per account and per client.
    login_window_seconds: int = Field(default=15 * 60, ge=1)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_client: int = Field(default=20, ge=1)

    # How often the server purges expired data (intents, alerts, grants, history);
    # 0 turns the background purge off (then run `kith purge` from cron).
    retention_interval_minutes: int = Field(default=60, ge=0, le=24 * 60)

    # "Who's up for it?": the trained model this instance serves (`kith partners train`).
    partners_model: Path = Path("var/models/partners.json")

    # Map tiles for the web app; empty means a plain background (works offline).
    tile_url: str = ""

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.env == "production":
            if self.password_hashing != "standard":
                raise ValueError("KITH_PASSWORD_HASHING=fast is for tests only")
            if not self.cookie_secure:
                raise ValueError("production needs KITH_COOKIE_SECURE=true (HTTPS)")
            if self.database_url.startswith("sqlite") and ":memory:" in self.database_url:
                raise ValueError("production cannot run on an in-memory database")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The database file for a SQLite URL (``sqlite:///relative`` or ``////abs``)."""
        prefix = "sqlite:///"
        if not self.database_url.startswith(prefix):
            return None
        path = self.database_url[len(prefix) :].split("?", 1)[0]
        if not path or path == ":memory:":
            return None
        return Path(path)


def get_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides winning."""
    return Settings(**overrides)  # type: ignore[arg-type]
