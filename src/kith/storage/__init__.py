"""Storage: engine and session factory, declarative base, Alembic migrations."""

from kith.storage.base import Base, UTCDateTime
from kith.storage.engine import Database, make_engine

__all__ = ["Base", "Database", "UTCDateTime", "make_engine"]
