"""The complete schema: every capability's tables on one MetaData.

Imported by Alembic (autogenerate) and by the tests that scan every table. Each
capability that adds tables adds its ``models`` module here.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from kith.storage.base import Base

MODEL_MODULES: tuple[str, ...] = (
    "kith.accounts.models",
    "kith.presence.models",
    "kith.privacy.models",
    "kith.partners.tables",
    "kith.feed.models",
    "kith.integrity.models",
)


def load_all_models() -> MetaData:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata
