"""The activity vocabulary for intents, and how two activities match."""

from __future__ import annotations

from kith.errors import InvalidInput
from kith.text import clean_text

ANYTHING = "anything"
# Common activities offered in the apps; anything else is free text.
VOCABULARY: tuple[str, ...] = (
    "coffee",
    "lunch",
    "drinks",
    "walk",
    "run",
    "gym",
    "tennis",
    "surfing",
    "study",
    ANYTHING,
)
ACTIVITY_MAX = 40


def normalise_activity(text: str) -> str:
    """Lower-cased, trimmed activity; vocabulary words and free text alike."""
    cleaned = clean_text(text, field="activity", max_len=ACTIVITY_MAX)
    key = " ".join(cleaned.casefold().split())
    if not key:
        raise InvalidInput("activity must not be empty", field="activity")
    if len(key) > ACTIVITY_MAX:  # case-folding can lengthen text ("ß" -> "ss")
        raise InvalidInput(f"activity must be at most {ACTIVITY_MAX} characters", field="activity")
    return key


def compatible(a: str, b: str) -> bool:
    """Same activity, or one side is up for anything."""
    return a in (b, ANYTHING) or b == ANYTHING


def shared_activity(a: str, b: str) -> str:
    """What to call a match: the specific activity when one side said anything."""
    return b if a == ANYTHING else a
