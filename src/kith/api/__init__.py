"""The HTTP API (v1) and the ASGI application that also serves the web app."""

from kith.api.app import create_app

__all__ = ["create_app"]
