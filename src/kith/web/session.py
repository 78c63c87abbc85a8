"""The web app's cookies: the login session and CSRF protection.

Session
    The token from :func:`kith.accounts.actions.do_login` lives in the HTTP-only cookie
    ``kith_session`` (SameSite=Lax, Secure when ``settings.cookie_secure``), so page
    scripts can never read it. The API ignores this cookie (it takes bearer tokens
    only), which is why the API needs no CSRF defence and the web app does.

CSRF (double submit)
    Any page with a form gets a random token twice: in the HTTP-only cookie
    ``kith_csrf`` and in the form's hidden ``csrf_token`` field (or, for htmx and
    ``fetch`` calls, the ``X-CSRF-Token`` header; ``base.html`` sets it for htmx). A
    state-changing request is accepted only when both are present and equal, compared
    in constant time. Another site can make a browser *send* our cookies but cannot
    *read* them, so it cannot fill in the matching field. SameSite=Lax is a second
    wall, not the only one.

Reusing it in a new page
    * Routers added through :data:`kith.web.pages.SECTIONS` are included with
      :func:`csrf_protect` as a dependency, so every POST/PUT/PATCH/DELETE they serve is
      checked before the handler runs; nothing to remember per route.
    * In templates, put ``{{ csrf_field() }}`` inside every ``<form method="post">``.
    * A failed check raises :class:`CsrfRejected`; the web app turns it into a readable
      403 page.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "kith_session"
CSRF_COOKIE = "kith_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# token_urlsafe(32) gives 43 characters; anything else in the cookie is not ours.
_CSRF_BYTES = 32
_CSRF_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")
# Keys under request.state; the token is decided once per request.
_STATE_TOKEN = "kith_csrf_token"
_STATE_NEW = "kith_csrf_new"


class CsrfRejected(Exception):
    """A state-changing request without a matching CSRF token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- session cookie ---------------------------------------------------------------


def session_token(request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    return token or None


def set_session_cookie(
    response: Response, token: str, *, expires_at: datetime, secure: bool
) -> None:
    # The cookie lives exactly as long as the server-side session it names.
    response.set_cookie(
        SESSION_COOKIE,
        token,
        expires=expires_at,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")


# --- CSRF ---------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The token for forms on this response: the browser's, or a fresh one.

    A fresh token is only remembered here; :func:`apply_csrf_cookie` puts it on the
    response, so call that on every response that renders a form.
    """
    token: str | None = getattr(request.state, _STATE_TOKEN, None)
    if token is not None:
        return token
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if _CSRF_SHAPE.fullmatch(cookie):
        token = cookie
        setattr(request.state, _STATE_NEW, False)
    else:
        token = secrets.token_urlsafe(_CSRF_BYTES)
        setattr(request.state, _STATE_NEW, True)
    setattr(request.state, _STATE_TOKEN, token)
    return token


def rotate_csrf(request: Request) -> str:
    """Start a new token, e.g. when someone logs in or out.

    A token planted in the browser before log-in (by someone on a shared machine, or a
    sibling sub-domain) stops working once the session changes hands.
    """
    token = secrets.token_urlsafe(_CSRF_BYTES)
    setattr(request.state, _STATE_TOKEN, token)
    setattr(request.state, _STATE_NEW, True)
    return token


def apply_csrf_cookie(request: Request, response: Response, *, secure: bool) -> None:
    """Set the CSRF cookie when this request chose a new token."""
    if not getattr(request.state, _STATE_NEW, False):
        return
    response.set_cookie(
        CSRF_COOKIE,
        getattr(request.state, _STATE_TOKEN),
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


async def check_csrf(request: Request) -> None:
    """Raise :class:`CsrfRejected` unless the request proves it came from our page."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not _CSRF_SHAPE.fullmatch(cookie):
        raise CsrfRejected("no CSRF cookie: the page was opened before cookies were allowed")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()  # Starlette caches it, so handlers can read it again
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    # Compare bytes: compare_digest refuses non-ASCII str, and the field is user-controlled.
    if not hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), cookie.encode("ascii")):
        raise CsrfRejected("the form's CSRF token does not match")


async def csrf_protect(request: Request) -> None:
    """Router dependency: check every state-changing request, let reads through."""
    if request.method not in SAFE_METHODS:
        await check_csrf(request)
