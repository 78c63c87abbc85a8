"""Map every error to problem+json (RFC 9457), once, for the whole API.

Each problem ``type`` is a stable URI path, ``/api/v1/problems/<code>``, and that
path serves a short description of the problem, so clients can branch on it and
people can look it up.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kith.errors import InvalidInput, KithError, RateLimited

log = logging.getLogger(__name__)

PROBLEM_BASE = "/api/v1/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"

# Codes produced here or by the domain, with a sentence a client developer can act on.
PROBLEM_DESCRIPTIONS: dict[str, str] = {
    "malformed-json": "The request body is not valid JSON.",
    "validation-error": "A field is missing, has the wrong type, or is out of range.",
    "invalid-input": "A value is well-formed but not acceptable (see detail and field).",
    "not-authenticated": "Send Authorization: Bearer <token> from POST /api/v1/sessions.",
    "invalid-credentials": "The username or password is wrong.",
    "permission-denied": "You are logged in but may not do this.",
    "not-found": "It does not exist, or you may not see it; kith does not say which.",
    "conflict": "The current state does not allow this.",
    "username-taken": "Choose another username.",
    "already-friends": "You are already friends.",
    "request-already-sent": "You already sent this person a friend request.",
    "blocked-by-you": "Unblock this person first.",
    "circle-exists": "You already have a circle with that name.",
    "builtin-circle": "The built-in circles cannot be removed.",
    "too-many-circles": "Remove a circle before adding another.",
    "concurrent-change": "Something changed at the same time; retry the request.",
    "rate-limited": "Too many attempts; wait for Retry-After seconds.",
    "payload-too-large": "The request body is larger than this server accepts.",
    "method-not-allowed": "This path does not accept that HTTP method.",
    "unsupported-media-type": "Send the body as application/json.",
    "implausible-location": "Coordinates out of range, a time far off, or a jump over 300 km/h.",
    "already-answered": "You already answered this alert differently.",
    "alert-expired": "The alert's time window is over.",
    "model-unavailable": "The saved model is missing or unreadable; baselines are used instead.",
    "model-not-fitted": "A model was used before it was trained (a bug on our side).",
    "export-not-ready": "The export is still being prepared; poll its job.",
    "deletion-incomplete": "A bug: nothing was deleted; try again.",
    "account-suspended": "Suspended after a review; see GET /api/v1/me/notices to appeal.",
    "own-case": "You are in this case; another moderator must decide it.",
    "already-appealed": "Each decision can be appealed once.",
    "nothing-to-appeal": "This notice lifts a decision.",
    "decision-lifted": "The decision was already lifted.",
    "internal-error": "A bug on our side; nothing was changed.",
}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_CONTENT_TYPE, headers=headers)


def _from_domain(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KithError)
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    status = exc.status
    if isinstance(exc, InvalidInput):
        status = 422
        if exc.field:
            extra["field"] = exc.field
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if status >= 500:
        log.error("domain error surfaced as 500: %s", exc)
    return problem(status, exc.code, exc.title, exc.detail, extra=extra, headers=headers)


def _clean_location(loc: Any) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def _from_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in errors):
        return problem(
            400, "malformed-json", "Malformed JSON", "the request body is not valid JSON"
        )
    issues = [
        {"loc": _clean_location(err.get("loc", ())), "msg": str(err.get("msg", ""))}
        for err in errors[:20]
    ]
    first = issues[0] if issues else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"] if p != "body") or "request"
    return problem(
        422,
        "validation-error",
        "Invalid request",
        f"{where}: {first['msg']}",
        extra={"errors": issues},
    )


_HTTP_CODES = {
    400: ("invalid-input", "Bad request"),
    401: ("not-authenticated", "Not authenticated"),
    403: ("permission-denied", "Permission denied"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def _from_http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, title = _HTTP_CODES.get(exc.status_code, ("error", "Error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    headers = dict(exc.headers) if exc.headers else None
    return problem(exc.status_code, code, title, detail, headers=headers)


def _from_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "internal-error", "Internal error", "a bug on our side")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(KithError, _from_domain)
    app.add_exception_handler(RequestValidationError, _from_validation)
    app.add_exception_handler(StarletteHTTPException, _from_http)
    app.add_exception_handler(Exception, _from_unexpected)
