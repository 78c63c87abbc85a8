"""ASGI factory for multi-process serving: each worker reads settings itself."""

from __future__ import annotations

from fastapi import FastAPI

from kith.api.app import serving_app
from kith.config import get_settings


def app() -> FastAPI:
    return serving_app(get_settings())
