"""The one input schema detection reads, and the limits it enforces.

Every input is a table of messages, one row per message::

    message_id   text or integer, unique; duplicates after the first are rejected (counted)
    account_id   text or integer, who posted it
    timestamp    UTC datetime, ISO-8601 text, or epoch seconds (integer or fractional)
    text         the message text (may be empty)
    urls         a list of URLs, or one string of space-separated URLs
    reshare_of   id of the re-shared (retweeted) message, or empty for an original post
    hashtags     optional: a list, or space-separated
    domains      optional: a list, or space-separated
    image_hash   optional: one perceptual hash per message

Only ``message_id``, ``account_id`` and ``timestamp`` are always required; a network
that needs another column (co_link needs ``urls``) refuses to run without it rather
than silently finding nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from kith.errors import InvalidInput

REQUIRED_COLUMNS: tuple[str, ...] = ("message_id", "account_id", "timestamp")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "text",
    "urls",
    "reshare_of",
    "hashtags",
    "domains",
    "image_hash",
)
ALL_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# Columns that may hold several values per message (a list, or space-separated text).
LIST_COLUMNS: frozenset[str] = frozenset({"urls", "hashtags", "domains"})

# A window is "seconds either side". Zero means "the same second". More than 30 days
# no longer describes acting in lockstep, and the candidate join grows with it.
MAX_WINDOW_SECONDS = 30 * 24 * 3600
# Epoch seconds beyond this (year ~33,600) are almost surely milliseconds or garbage;
# such rows are rejected as out of range rather than silently mis-windowed.
MAX_ABS_EPOCH_SECONDS = 1e12


class InputFormat(StrEnum):
    """How the columns of an input file are named."""

    KITH = "kith"  # by name, as in the module docstring
    # coordination-network-toolkit's CSV: columns by position, names ignored:
    # message_id, user_id, username, repost_id, reply_id, message, timestamp, urls
    CNT = "cnt"


CNT_POSITIONAL: tuple[str | None, ...] = (
    "message_id",
    "account_id",
    None,  # username: display only
    "reshare_of",
    None,  # reply_id: no co_reply network here
    "text",
    "timestamp",
    "urls",
)


class Reject(StrEnum):
    """Why an input row was left out. Each is counted and reported."""

    MISSING_MESSAGE_ID = "missing_message_id"
    MISSING_ACCOUNT_ID = "missing_account_id"
    BAD_TIMESTAMP = "bad_timestamp"
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"
    DUPLICATE_MESSAGE_ID = "duplicate_message_id"


@dataclass(frozen=True)
class LoadReport:
    """What loading made of the input: rows read, kept, and rejected by reason."""

    rows_read: int
    rows_valid: int
    rejects: dict[str, int] = field(default_factory=dict)
    columns: tuple[str, ...] = ()

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejects.values())

    def check(self, *, max_reject_fraction: float) -> None:
        """Refuse to go on when the input is empty or mostly unusable."""
        if self.rows_read == 0:
            raise InvalidInput("the input has no rows", field="input", code="empty-input")
        if self.rows_valid == 0:
            raise InvalidInput(
                f"no usable rows: all {self.rows_read} were rejected ({self._reasons()})"
                f"{self._hint()}",
                field="input",
                code="no-valid-rows",
            )
        fraction = self.rows_rejected / self.rows_read
        if fraction > max_reject_fraction:
            raise InvalidInput(
                f"{fraction:.1%} of rows were rejected ({self._reasons()}), more than the "
                f"allowed {max_reject_fraction:.1%}{self._hint()}",
                field="input",
                code="too-many-rejects",
            )

    def _hint(self) -> str:
        if self.rejects.get(Reject.TIMESTAMP_OUT_OF_RANGE):
            return " (timestamps beyond 1e12 look like milliseconds: divide by 1000)"
        return ""

    def _reasons(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.rejects.items()) if v)


def check_window(seconds: float) -> float:
    """A usable window in seconds, or a clear error."""
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidInput("the window must be a number of seconds >= 0", field="window")
    if seconds > MAX_WINDOW_SECONDS:
        raise InvalidInput(
            f"a window of {seconds:g} s is longer than 30 days ({MAX_WINDOW_SECONDS} s); "
            "that no longer measures acting in lockstep",
            field="window",
        )
    return float(seconds)


def resolve_columns(present: list[str], fmt: InputFormat) -> dict[str, str]:
    """Map schema names to the source's column names, or say what is missing."""
    if fmt is InputFormat.CNT:
        if len(present) < len(CNT_POSITIONAL):
            raise InvalidInput(
                f"a coordination-network-toolkit CSV has {len(CNT_POSITIONAL)} columns "
                f"(message_id, user_id, username, repost_id, reply_id, message, timestamp, "
                f"urls); this one has {len(present)}",
                field="input",
                code="missing-columns",
            )
        return {
            name: source
            for name, source in zip(CNT_POSITIONAL, present, strict=False)
            if name is not None
        }
    lowered = {c.strip().lstrip("\ufeff").lower(): c for c in present}
    missing = [c for c in REQUIRED_COLUMNS if c not in lowered]
    if missing:
        raise InvalidInput(
            f"missing required column(s): {', '.join(missing)} (found: {', '.join(present)})",
            field="input",
            code="missing-columns",
        )
    return {c: lowered[c] for c in ALL_COLUMNS if c in lowered}
