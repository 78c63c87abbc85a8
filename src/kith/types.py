"""Shared vocabulary: ids and small enums used across capabilities."""

from __future__ import annotations

import enum
from typing import NewType

UserId = NewType("UserId", int)
CircleId = NewType("CircleId", int)
FriendRequestId = NewType("FriendRequestId", int)


class Relationship(enum.StrEnum):
    """How a viewer stands to a subject, from the subject's side.

    ``CLOSE``, ``FRIEND``, ``ACQUAINTANCE`` and ``CUSTOM`` are friendships, named by
    the circle the *subject* put the viewer in: that is what decides what the subject
    shares with the viewer.
    """

    SELF = "self"
    CLOSE = "close"
    FRIEND = "friend"
    ACQUAINTANCE = "acquaintance"
    CUSTOM = "custom"
    STRANGER = "stranger"
    BLOCKED = "blocked"
    ANONYMOUS = "anonymous"

    @property
    def is_friend(self) -> bool:
        return self in {
            Relationship.CLOSE,
            Relationship.FRIEND,
            Relationship.ACQUAINTANCE,
            Relationship.CUSTOM,
        }


# Built-in circles every account has; a new friend lands in DEFAULT_CIRCLE.
CLOSE_CIRCLE = "close"
DEFAULT_CIRCLE = "friends"
ACQUAINTANCES_CIRCLE = "acquaintances"
BUILTIN_CIRCLES: tuple[str, ...] = (CLOSE_CIRCLE, DEFAULT_CIRCLE, ACQUAINTANCES_CIRCLE)
