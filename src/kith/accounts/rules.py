"""Pure rules for usernames, passwords and circle names."""

from __future__ import annotations

import re

from kith.errors import InvalidInput
from kith.text import clean_text, has_unsafe_chars

USERNAME_MIN = 3
USERNAME_MAX = 30
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{3,30}$")
# Names that would read as the system speaking, or collide with routes.
RESERVED_USERNAMES = frozenset(
    {"admin", "administrator", "api", "kith", "me", "root", "support", "system", "static"}
)
PASSWORD_MIN = 8
PASSWORD_MAX = 256
DISPLAY_NAME_MAX = 60
CIRCLE_NAME_MAX = 40


def username_key(username: str) -> str:
    return username.lower()


def is_valid_username(username: str) -> bool:
    return bool(USERNAME_RE.fullmatch(username))


def check_username(username: str) -> str:
    if not is_valid_username(username):
        raise InvalidInput(
            f"usernames are {USERNAME_MIN}-{USERNAME_MAX} characters: "
            "letters, digits and underscores",
            field="username",
        )
    if username_key(username) in RESERVED_USERNAMES:
        raise InvalidInput("that username is reserved", field="username")
    return username


def check_password(password: str) -> str:
    if has_unsafe_chars(password):
        raise InvalidInput("password contains characters that are not allowed", field="password")
    if len(password) < PASSWORD_MIN:
        raise InvalidInput(f"passwords need at least {PASSWORD_MIN} characters", field="password")
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(f"passwords are at most {PASSWORD_MAX} characters", field="password")
    return password


def check_display_name(display_name: str) -> str:
    return clean_text(display_name, field="display_name", max_len=DISPLAY_NAME_MAX)


def check_circle_name(name: str) -> str:
    return clean_text(name, field="circle", max_len=CIRCLE_NAME_MAX)


def circle_key(name: str) -> str:
    return name.casefold()
