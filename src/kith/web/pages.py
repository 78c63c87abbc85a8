"""Web pages (placeholder until the web app shell lands)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse


def install_web(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>kith</title><h1>kith</h1>")
