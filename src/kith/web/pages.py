"""The web app: server-rendered pages over the same actions and queries as the API.

Pages are Jinja2 templates in ``web/templates`` extending ``base.html``; htmx (vendored
at build time into ``/static/vendor``, never a CDN) boosts links and forms so
navigation does not reload the page, and every page still works without JavaScript.

Adding a page (map, sharing, intents, alerts inbox, feed, ledger ...)
    1. Write ``web/routes/<name>.py`` with ``router = APIRouter()`` and handlers that
       take ``page: MemberPage`` (see :mod:`kith.web.deps`) and return
       ``page.render("<name>.html", ...)`` or, after a form post,
       ``page.redirect(url, ok=... | error=exc)``.
    2. Write ``web/templates/<name>.html`` starting with ``{% extends "base.html" %}``
       and filling ``{% block title %}`` and ``{% block content %}``; put
       ``{{ csrf_field() }}`` in every ``<form method="post">``.
    3. Append one :class:`Section` to :data:`SECTIONS` below: it adds the nav entry
       and mounts the router with CSRF checks on every state-changing request.

Errors: handlers catch :class:`~kith.errors.KithError` and show ``exc.detail`` on the
page. Anything that still escapes on a non-API path (domain error, bad request, 404,
a bug) becomes a readable HTML page here; API paths keep their problem+json.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kith import __version__
from kith.accounts.models import User
from kith.config import Settings
from kith.errors import KithError
from kith.web import session as cookies
from kith.web.deps import (
    LoginRequired,
    NavLink,
    WebState,
    app_state,
    is_local_path,
    login_url,
    sentence,
    tile_source,
    web_state,
)
from kith.web.routes import (
    accounts,
    alerts,
    blocks,
    circles,
    feed,
    friends,
    intents,
    maps,
    moderation,
    partners,
    privacy,
    requests,
    sharing,
)

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
# Everything under this prefix belongs to the API and keeps its JSON errors.
API_PATHS = "/api/"


@dataclass(frozen=True, slots=True)
class Section:
    """A page group in the nav: its label, where the label links, and its routes."""

    label: str
    path: str
    router: APIRouter
    badge: Callable[[Session, User], int] | None = None
    visible: Callable[[Session, User], bool] | None = None


# The nav bar, in order. Append one entry per new page group.
SECTIONS: tuple[Section, ...] = (
    Section("Friends", "/friends", friends.router),
    Section("Requests", "/requests", requests.router, badge=requests.pending_count),
    Section("Circles", "/circles", circles.router),
    Section("Blocked", "/blocked", blocks.router),
    Section("Map", "/map", maps.router),
    Section("Sharing", "/sharing", sharing.router),
    Section("Intents", "/intents", intents.router),
    Section("Alerts", "/alerts", alerts.router),
    Section("Who's up?", "/partners", partners.router, badge=partners.unanswered_count),
    Section("Feed", "/feed", feed.router),
    Section("Your data", "/data", privacy.router),
    Section("Notices", "/notices", moderation.notices_router, badge=moderation.unanswered_count),
    Section("Moderation", "/moderation", moderation.router, visible=moderation.visible_to),
)
# Routes outside the nav (sign-up, log-in, log-out, the front door).
PUBLIC_ROUTERS: tuple[APIRouter, ...] = (accounts.router,)

# Built-in circles read better with a longer label; the value posted stays the name.
CIRCLE_LABELS = {"close": "Close friends", "friends": "Friends", "acquaintances": "Acquaintances"}


@pass_context
def _csrf_field(context: Context) -> Markup:
    # Markup.format escapes its arguments.
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        cookies.CSRF_FIELD, context["csrf_token"]
    )


def _circle_label(name: str) -> str:
    return CIRCLE_LABELS.get(name, name)


def make_templates(directory: Path = TEMPLATES_DIR) -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=True,
        # A misspelt variable fails the page test instead of rendering as blank.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["csrf_field"] = _csrf_field
    env.globals["version"] = __version__
    env.filters["circle_label"] = _circle_label
    env.filters["sentence"] = sentence
    return Jinja2Templates(env=env)


def install_web(app: FastAPI) -> None:
    """Mount static files, the pages of :data:`SECTIONS`, and HTML error pages."""
    web = WebState(
        templates=make_templates(),
        nav=[NavLink(s.label, s.path, s.badge, s.visible) for s in SECTIONS],
    )
    settings: Settings = app.state.kith.settings
    tiles = tile_source(settings.tile_url)
    if tiles is not None:
        web.img_sources.append(tiles)
    app.state.kith_web = web
    checked = [Depends(cookies.csrf_protect)]
    for router in (*PUBLIC_ROUTERS, *(s.router for s in SECTIONS)):
        app.include_router(router, dependencies=checked, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _install_error_pages(app)


# --- error pages ------------------------------------------------------------------


def render_error(request: Request, status: int, title: str, message: str) -> Response:
    """A stand-alone error page; it needs no database, so it works when that is down."""
    web = web_state(request)
    back = urlsplit(request.headers.get("referer", "")).path
    response = web.templates.TemplateResponse(
        request,
        "error.html",
        {
            "viewer": None,
            "nav": [],
            "flash": None,
            "csrf_token": cookies.csrf_token(request),
            "title": title,
            "message": message,
            "back": back if is_local_path(back) else "/",
        },
        status_code=status,
        headers=web.security_headers(),
    )
    cookies.apply_csrf_cookie(request, response, secure=app_state(request).settings.cookie_secure)
    return response


Handler = Callable[[Request, Exception], Response | Awaitable[Response]]

_HTTP_TITLES = {
    404: ("Page not found", "There is nothing at this address."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Too much data", "That form sent more than this server accepts."),
}


def _page_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, KithError):
        return render_error(request, exc.status, exc.title, sentence(exc.detail))
    if isinstance(exc, RequestValidationError):
        return render_error(request, 400, "Bad request", "That request was not understood.")
    if isinstance(exc, StarletteHTTPException):
        title, message = _HTTP_TITLES.get(
            exc.status_code, ("Something is wrong", "That request could not be handled.")
        )
        return render_error(request, exc.status_code, title, message)
    log.exception("unhandled error on a page", exc_info=exc)
    return render_error(
        request, 500, "Something broke", "A bug on our side; nothing was changed. Try again."
    )


def _pages_get_html(app: FastAPI, exc_class: type[Exception]) -> Handler:
    """Wrap the API's handler for ``exc_class``: API paths keep it, pages get HTML."""
    api_handler: Handler | None = app.exception_handlers.get(exc_class)

    async def handler(request: Request, exc: Exception) -> Response:
        if api_handler is not None and request.url.path.startswith(API_PATHS):
            result = api_handler(request, exc)
            return await result if inspect.isawaitable(result) else result
        return _page_error(request, exc)

    return handler


def _to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(login_url(exc.next_path), status_code=303)


def _csrf_rejected(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, cookies.CsrfRejected)
    log.info("CSRF check failed on %s: %s", request.url.path, exc.reason)
    return render_error(
        request,
        403,
        "This form has expired",
        "For your safety kith only accepts forms from its own pages. Go back, reload "
        "the page and send the form again.",
    )


# The API's handlers for these are wrapped; ``Exception`` covers bugs (500).
WRAPPED_ERRORS: tuple[type[Exception], ...] = (
    KithError,
    RequestValidationError,
    StarletteHTTPException,
    Exception,
)


def _install_error_pages(app: FastAPI) -> None:
    for exc_class in WRAPPED_ERRORS:
        app.add_exception_handler(exc_class, _pages_get_html(app, exc_class))
    app.add_exception_handler(LoginRequired, _to_login)
    app.add_exception_handler(cookies.CsrfRejected, _csrf_rejected)
