"""Limits on what a request may carry, applied before any route sees it."""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodySizeLimit:
    """Refuse bodies over ``max_bytes`` with 413 problem+json.

    Checks Content-Length first, then counts the bytes actually sent, so a client
    that lies or uses chunked encoding is held to the same limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.max_bytes:
                    await self._refuse(send)
                    return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        await _send_problem(
            send,
            413,
            "payload-too-large",
            "Payload too large",
            f"request bodies are limited to {self.max_bytes} bytes",
        )


class NulInUrlRefusal:
    """Refuse a path or query string carrying NUL (``%00``) with 400 problem+json.

    No kith name or id contains NUL, and PostgreSQL cannot store or even compare
    text holding it: let through, one route that forgets to check turns a probe into
    a 500. Refusing it here keeps every route, present and future, safe from that.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(scope["query_string"])
        ):
            await _send_problem(
                send, 400, "invalid-input", "Bad request", "the URL contains a NUL character"
            )
            return
        await self.app(scope, receive, send)


async def _send_problem(send: Send, status: int, code: str, title: str, detail: str) -> None:
    """A problem+json answer sent straight from middleware, before the app is reached."""
    body = json.dumps(
        {"type": f"/api/v1/problems/{code}", "title": title, "status": status, "detail": detail}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
