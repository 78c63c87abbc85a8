"""What a page handler gets: a :class:`Page` (or :class:`Member` when logged in) and a form.

A handler declares ``page: MemberPage`` to require a logged-in user (anyone else is
sent to the log-in page and back afterwards), or ``page: AnyPage`` for public pages.
``page.render(...)`` draws a template that extends ``base.html``;
``page.redirect(..., ok=... | error=...)`` answers a form post with a short message
shown on the next page (post/redirect/get, so reloading never re-sends a form).

The web app must not import :mod:`kith.api` (edges do not import each other, and the
API imports the web app), so the shared application state is described here as a
protocol that ``kith.api.deps.AppState`` satisfies.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol, TypeVar
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kith.accounts.access import authenticate_token
from kith.accounts.models import AuthSession, User
from kith.accounts.passwords import Passwords
from kith.clock import Clock
from kith.config import Settings
from kith.errors import KithError, NotAuthenticated
from kith.storage.engine import Database
from kith.web import session as cookies

R = TypeVar("R", bound=Response)
T = TypeVar("T")

FLASH_COOKIE = "kith_flash"
# A message is one sentence; longer text is cut so the cookie stays far below 4 KB.
FLASH_MAX_CHARS = 300

# Headers on every HTML page. The CSP allows only our own scripts and styles (htmx is
# configured in base.html not to inject inline styles); images may also come from the
# map tile server in ``settings.tile_url`` (see :func:`tile_source`). No page may be
# framed (clickjacking). A page that needs more must say why, here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src {img}; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


def tile_source(tile_url: str) -> str | None:
    """The CSP source for a tile URL template, e.g. ``https://*.tile.example.org``.

    Templates name sub-domains as ``{s}``; CSP allows a wildcard only as the leftmost
    label, so any other placeholder in the host means no source (tiles stay blocked).
    """
    parts = urlsplit(tile_url)
    host = parts.netloc.replace("{s}", "*", 1) if parts.netloc.startswith("{s}.") else parts.netloc
    if parts.scheme not in ("https", "http") or not host or "{" in host or "*" in host[1:]:
        return None
    return f"{parts.scheme}://{host}"


class AppState(Protocol):
    """The parts of ``app.state.kith`` (built by ``create_app``) the web app uses."""

    @property
    def settings(self) -> Settings: ...
    @property
    def database(self) -> Database: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def passwords(self) -> Passwords: ...


@dataclass(frozen=True, slots=True)
class NavLink:
    """One entry of the navigation bar, in :data:`kith.web.pages.SECTIONS` order."""

    label: str
    path: str
    # Optional small count shown beside the label (pending requests, unread alerts ...).
    badge: Callable[[Session, User], int] | None = None
    # Optional: who sees the link at all (the moderation queue: moderators only).
    visible: Callable[[Session, User], bool] | None = None


@dataclass
class WebState:
    """Built once by ``install_web`` and kept on ``app.state.kith_web``."""

    templates: Jinja2Templates
    nav: Sequence[NavLink]
    img_sources: list[str] = field(default_factory=lambda: ["'self'", "data:"])

    def security_headers(self) -> dict[str, str]:
        return {
            "Content-Security-Policy": CONTENT_SECURITY_POLICY.format(
                img=" ".join(self.img_sources)
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            # Pages show private data: never keep them in shared or back-button caches.
            "Cache-Control": "no-store",
        }


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.kith
    return state


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.kith_web
    return state


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def is_local_path(target: str) -> bool:
    """True for paths on this site only, so ``?next=`` cannot send people elsewhere."""
    return (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(ch) < 32 for ch in target)
    )


# --- flash messages -----------------------------------------------------------------

Level = Literal["ok", "error"]


@dataclass(frozen=True, slots=True)
class Flash:
    level: Level
    text: str


def _encode_flash(flash: Flash) -> str:
    raw = json.dumps([flash.level, flash.text[:FLASH_MAX_CHARS]]).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _decode_flash(value: str) -> Flash | None:
    """The message in the cookie, or None for anything we did not write."""
    try:
        level, text = json.loads(base64.urlsafe_b64decode(value.encode("ascii")))
    except (ValueError, TypeError, binascii.Error, UnicodeError, RecursionError):
        return None
    if level not in ("ok", "error") or not isinstance(text, str):
        return None
    return Flash(level, text[:FLASH_MAX_CHARS])


def sentence(text: str) -> str:
    """Domain messages are lower-case fragments ("no such user"); pages show sentences."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


# --- forms --------------------------------------------------------------------------


class Form:
    """A submitted form with text-only accessors: files and repeats are ignored."""

    def __init__(self, data: FormData) -> None:
        self._data = data

    def text(self, name: str) -> str:
        value = self._data.get(name)
        return value if isinstance(value, str) else ""

    def number(self, name: str) -> int | None:
        value = self.text(name).strip()
        # Ids are 32-bit on every backend; anything else names nothing.
        if not value.isascii() or not value.isdigit() or len(value) > 10:
            return None
        number = int(value)
        return number if 1 <= number <= 2_147_483_647 else None


async def read_form(request: Request) -> Form:
    return Form(await request.form())


# --- pages --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Authenticated:
    user: User
    session: AuthSession


class LoginRequired(Exception):
    """Raised by :func:`member_page`; the web app redirects to the log-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Page:
    """One request to a page: database session, time, viewer, and how to answer."""

    def __init__(
        self,
        request: Request,
        db: Session,
        *,
        now: datetime,
        auth: Authenticated | None,
        drop_session_cookie: bool = False,
    ) -> None:
        self.request = request
        self.db = db
        self.now = now
        self.auth = auth
        self.app = app_state(request)
        self.web = web_state(request)
        # The browser holds a session cookie that no longer works: remove it.
        self._drop_session_cookie = drop_session_cookie

    @property
    def settings(self) -> Settings:
        return self.app.settings

    @property
    def viewer(self) -> User | None:
        return self.auth.user if self.auth else None

    def flash(self) -> Flash | None:
        value = self.request.cookies.get(FLASH_COOKIE)
        return _decode_flash(value) if value else None

    def _nav(self) -> list[dict[str, Any]]:
        viewer = self.viewer
        if viewer is None:
            return []
        path = self.request.url.path
        return [
            {
                "label": link.label,
                "path": link.path,
                "current": path == link.path or path.startswith(link.path + "/"),
                "badge": link.badge(self.db, viewer) if link.badge else 0,
            }
            for link in self.web.nav
            if link.visible is None or link.visible(self.db, viewer)
        ]

    def render(self, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        flash = self.flash()
        response = self.web.templates.TemplateResponse(
            self.request,
            template,
            {
                "viewer": self.viewer,
                "nav": self._nav(),
                "flash": flash,
                "csrf_token": cookies.csrf_token(self.request),
                **context,
            },
            status_code=status,
            headers=self.web.security_headers(),
        )
        if flash is not None:
            # Shown once: the next page starts clean.
            response.delete_cookie(FLASH_COOKIE, path="/")
        return self.finish(response)

    def redirect(
        self, target: str, *, ok: str | None = None, error: KithError | str | None = None
    ) -> RedirectResponse:
        """See-other to ``target``, carrying one message for the next page."""
        response = RedirectResponse(target, status_code=303)
        flash: Flash | None = None
        if isinstance(error, KithError):
            flash = Flash("error", sentence(error.detail))
        elif error is not None:
            flash = Flash("error", sentence(error))
        elif ok is not None:
            flash = Flash("ok", ok)
        if flash is not None:
            response.set_cookie(
                FLASH_COOKIE,
                _encode_flash(flash),
                path="/",
                httponly=True,
                samesite="lax",
                secure=self.settings.cookie_secure,
            )
        return self.finish(response)

    def attempt(
        self, target: str, action: Callable[[], T], ok: str | Callable[[T], str]
    ) -> RedirectResponse:
        """Answer a form post: run one action, then see-other to ``target`` with its outcome.

        A domain error becomes the message on the next page; nothing else is caught.
        """
        try:
            result = action()
        except KithError as exc:
            return self.redirect(target, error=exc)
        return self.redirect(target, ok=ok(result) if callable(ok) else ok)

    def finish(self, response: R) -> R:
        """Apply the cookie changes this request decided on; every answer passes here."""
        secure = self.settings.cookie_secure
        cookies.apply_csrf_cookie(self.request, response, secure=secure)
        if self._drop_session_cookie:
            cookies.clear_session_cookie(response, secure=secure)
        return response


class Member(Page):
    """A page for a logged-in user."""

    def __init__(self, request: Request, db: Session, *, now: datetime, auth: Authenticated):
        super().__init__(request, db, now=now, auth=auth)
        self.user: User = auth.user
        self.session: AuthSession = auth.session


async def get_db(request: Request) -> AsyncIterator[Session]:
    async with app_state(request).database.request_session() as db:
        yield db


def _authenticate(request: Request, db: Session, now: datetime) -> Authenticated | None:
    token = cookies.session_token(request)
    if token is None:
        return None
    try:
        user, auth_session = authenticate_token(db, token, now=now)
    except NotAuthenticated:
        return None
    return Authenticated(user, auth_session)


def any_page(request: Request, db: Annotated[Session, Depends(get_db)]) -> Page:
    now = app_state(request).clock.now()
    auth = _authenticate(request, db, now)
    stale = auth is None and cookies.session_token(request) is not None
    return Page(request, db, now=now, auth=auth, drop_session_cookie=stale)


def member_page(request: Request, db: Annotated[Session, Depends(get_db)]) -> Member:
    now = app_state(request).clock.now()
    auth = _authenticate(request, db, now)
    if auth is None:
        raise LoginRequired(_come_back_to(request))
    return Member(request, db, now=now, auth=auth)


def _come_back_to(request: Request) -> str:
    """Where to return after logging in: this page, or for a form post the page it was on."""
    if request.method == "GET":
        query = request.url.query
        return request.url.path + ("?" + query if query else "")
    path = urlsplit(request.headers.get("referer", "")).path
    return path if is_local_path(path) else "/"


def login_url(next_path: str) -> str:
    if not is_local_path(next_path) or next_path in ("/", "/login"):
        return "/login"
    return "/login?next=" + quote(next_path, safe="/")


AnyPage = Annotated[Page, Depends(any_page)]
MemberPage = Annotated[Member, Depends(member_page)]
PostedForm = Annotated[Form, Depends(read_form)]
