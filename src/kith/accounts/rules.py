"""Pure rules for usernames, passwords and circle names."""

from __future__ import annotations

import re
import unicodedata

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


# Zero-width joiners stay: emoji sequences and scripts such as Persian need them.
NAME_FORMAT_CHARS_KEPT = frozenset("\u200c\u200d")


def has_invisible_formatting(value: str) -> bool:
    """Format characters (bidi overrides, zero-width spaces, soft hyphens, BOMs ...).

    They change how a name looks or reads without showing themselves, so in a name
    they only serve to make one person pass for another. Emoji tag characters
    (U+E0020-E007F, subdivision flags) are kept.
    """
    return any(
        unicodedata.category(ch) == "Cf"
        and ch not in NAME_FORMAT_CHARS_KEPT
        and not "\U000e0020" <= ch <= "\U000e007f"
        for ch in value
    )


def check_name(value: str, *, field: str, max_len: int) -> str:
    """A single-line name people recognise each other or their circles by."""
    cleaned = clean_text(value, field=field, max_len=max_len)
    if has_invisible_formatting(cleaned):
        raise InvalidInput(f"{field} contains invisible formatting characters", field=field)
    return cleaned


def check_display_name(display_name: str) -> str:
    return check_name(display_name, field="display_name", max_len=DISPLAY_NAME_MAX)


def check_circle_name(name: str) -> str:
    cleaned = check_name(name, field="circle", max_len=CIRCLE_NAME_MAX)
    # The case-folded key is stored too, and folding can lengthen text ("ß" -> "ss"):
    # it has to fit the same limit, or the database refuses it as a 500.
    if len(circle_key(cleaned)) > CIRCLE_NAME_MAX:
        raise InvalidInput(
            f"circle names are at most {CIRCLE_NAME_MAX} characters, "
            "counting letters like ß as two",
            field="circle",
        )
    return cleaned


def circle_key(name: str) -> str:
    return name.casefold()
