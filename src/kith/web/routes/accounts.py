"""Sign up, log in, log out, and the front door."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from kith.accounts import actions
from kith.errors import KithError, RateLimited
from kith.web.deps import AnyPage, Page, PostedForm, client_address, is_local_path
from kith.web.session import clear_session_cookie, rotate_csrf, set_session_cookie

router = APIRouter()

HOME = "/friends"


@router.get("/")
def home(page: AnyPage) -> Response:
    return page.redirect(HOME if page.viewer else "/login")


def _next_or_home(value: str) -> str:
    return value if is_local_path(value) and not value.startswith(("/login", "/signup")) else HOME


def _form_error(page: Page, template: str, exc: KithError, **values: str) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else {}
    response = page.render(template, status=exc.status, error=exc, values=values)
    response.headers.update(headers)
    return response


def _logged_in(page: Page, login: actions.LoginResult, target: str, ok: str) -> Response:
    if page.auth is not None:
        # A new session over a live one (log-in or sign-up again): end the old one
        # rather than leave it orphaned on the server.
        actions.do_logout(page.db, page.auth.session)
    # A new session gets a new CSRF token, so one planted before log-in is worthless.
    rotate_csrf(page.request)
    response = page.redirect(target, ok=ok)
    set_session_cookie(
        response,
        login.token,
        expires_at=login.expires_at,
        secure=page.settings.cookie_secure,
    )
    return response


@router.get("/signup")
def signup_form(page: AnyPage) -> Response:
    if page.viewer:
        return page.redirect(HOME)
    return page.render("signup.html", error=None, values={})


@router.post("/signup")
def signup(page: AnyPage, form: PostedForm) -> Response:
    username = form.text("username")
    # The display name is optional on the page; the username stands in for it.
    display_name = form.text("display_name").strip() or username
    password = form.text("password")
    try:
        user = actions.do_create_user(
            page.db,
            page.app.passwords,
            username=username,
            password=password,
            display_name=display_name,
            now=page.now,
        )
        result = actions.do_login(
            page.db,
            page.app.passwords,
            page.settings,
            username=username,
            password=password,
            client=client_address(page.request),
            now=page.now,
        )
    except KithError as exc:
        return _form_error(
            page,
            "signup.html",
            exc,
            username=username,
            display_name=form.text("display_name"),
        )
    welcome = f"Welcome to kith, {user.display_name}. Find the people you know below."
    return _logged_in(page, result, HOME, welcome)


@router.get("/login")
def login_form(page: AnyPage, next_path: Annotated[str, Query(alias="next")] = "") -> Response:
    if page.viewer:
        return page.redirect(_next_or_home(next_path))
    return page.render("login.html", error=None, values={"next": next_path})


@router.post("/login")
def login(page: AnyPage, form: PostedForm) -> Response:
    username = form.text("username")
    target = _next_or_home(form.text("next"))
    try:
        result = actions.do_login(
            page.db,
            page.app.passwords,
            page.settings,
            username=username,
            password=form.text("password"),
            client=client_address(page.request),
            now=page.now,
        )
    except KithError as exc:
        return _form_error(page, "login.html", exc, username=username, next=form.text("next"))
    return _logged_in(page, result, target, f"Hello, {result.user.display_name}.")


@router.post("/logout")
def logout(page: AnyPage) -> Response:
    if page.auth is not None:
        actions.do_logout(page.db, page.auth.session)
    rotate_csrf(page.request)
    response = page.redirect("/login", ok="You are logged out.")
    clear_session_cookie(response, secure=page.settings.cookie_secure)
    return response
