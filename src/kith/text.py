"""Rules for free text people type: names, labels, titles.

Text is NFC-normalised and stripped; control characters, lone surrogates and
over-long values are refused with a message a person can act on. PostgreSQL cannot
store NUL and UTF-8 cannot encode lone surrogates, so refusing them here is what
keeps odd input a 400 instead of a 500.
"""

from __future__ import annotations

import unicodedata

from kith.errors import InvalidInput


def has_unsafe_chars(value: str) -> bool:
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cs":  # lone surrogate
            return True
        if category == "Cc" and ch not in "\t\n":
            return True
    return False


def clean_text(
    value: str, *, field: str, max_len: int, min_len: int = 1, multiline: bool = False
) -> str:
    if has_unsafe_chars(value):
        raise InvalidInput(f"{field} contains characters that are not allowed", field=field)
    cleaned = unicodedata.normalize("NFC", value).strip()
    if not multiline and ("\n" in cleaned or "\t" in cleaned):
        raise InvalidInput(f"{field} must be a single line", field=field)
    if len(cleaned) < min_len:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(cleaned) > max_len:
        raise InvalidInput(f"{field} must be at most {max_len} characters", field=field)
    return cleaned
