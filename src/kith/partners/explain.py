"""Reasons a person can check: turn a model's top signals into plain sentences. Pure.

    "Ana joined 4 of your last 5 Sunday tennis outings"
    "Ana is often out on Sunday mornings (9 of 20 check-ins)"

Only signals that *raised* a friend's score become reasons, strongest first, and each
sentence states the evidence itself (counts, days), never the model's weights. The
wording avoids guessing anyone's pronoun.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from kith.partners.activities import Activity
from kith.partners.features import RECENCY_DAYS
from kith.partners.history import DAY_NAMES, N_PARTS, PARTS_OF_DAY, Query, slot_name
from kith.partners.models.base import Contribution

MAX_REASONS = 3


def _times(n: float) -> str:
    k = round(n)
    return "once" if k == 1 else "twice" if k == 2 else f"{k} times"


def _activity(query: Query) -> str:
    if query.activity is None or query.activity is Activity.ANYTHING:
        return "outings"
    return f"{query.activity.value} outings"


def _share(row: Mapping[str, float], name: str) -> str:
    # Shares are k / (n + SHARE_PRIOR), so "usually" needs several events, not one.
    value = row[name]
    return "usually" if value >= 0.5 else "often"


_Template = Callable[[str, Query, Mapping[str, float]], str | None]


def _recent(name: str, q: Query, row: Mapping[str, float]) -> str | None:
    day = DAY_NAMES[q.slot // N_PARTS]
    sessions = round(row.get("recent_sessions", 0))
    if sessions == 0:
        return None
    activity = _activity(q)
    return f"{name} joined {round(row['recent_joined'])} of your last {sessions} {day} {activity}"


def _recency(name: str, q: Query, row: Mapping[str, float]) -> str | None:
    value = row["recency"]
    if value <= 0:
        return None
    days = round(-RECENCY_DAYS * math.log(value))
    when = "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"
    return f"you last met {name} {when}"


_TEMPLATES: dict[str, _Template] = {
    "coattend": lambda n, q, r: f"{n} has been out with you {_times(r['coattend'])}",
    "coattend_activity": lambda n, q, r: (
        f"{n} joined you for {_activity(q)} {_times(r['coattend_activity'])}"
    ),
    "coattend_slot": lambda n, q, r: (
        f"{n} met you on {slot_name(q.slot)} {_times(r['coattend_slot'])}"
    ),
    "recent_joined": _recent,
    "recency": _recency,
    "adamic_adar": lambda n, q, r: f"you and {n} keep running into the same people",
    "mutual_friends": lambda n, q, r: (
        f"you and {n} have {round(r['mutual_friends'])} friends in common"
    ),
    "mutual_adamic_adar": lambda n, q, r: f"you and {n} share a close circle of friends",
    "friend_slot_share": lambda n, q, r: (
        f"{n} is {_share(r, 'friend_slot_share')} out on {slot_name(q.slot)}"
    ),
    "friend_part_share": lambda n, q, r: (
        f"{n} is {_share(r, 'friend_part_share')} out in the {PARTS_OF_DAY[q.slot % N_PARTS][0]}"
    ),
    "friend_day_share": lambda n, q, r: (
        f"{n} is {_share(r, 'friend_day_share')} out on {DAY_NAMES[q.slot // N_PARTS]}s"
    ),
    "friend_activity_share": lambda n, q, r: (
        f"{n} {_share(r, 'friend_activity_share')} goes for "
        f"{q.activity.value if q.activity else 'that'}"
    ),
    "friend_area_share": lambda n, q, r: f"{n} spends a lot of time around there",
    "friend_cell_visits": lambda n, q, r: (
        f"{n} has been to this place {_times(r['friend_cell_visits'])}"
    ),
}


def reasons(
    name: str,
    query: Query,
    row: Mapping[str, float],
    contributions: Sequence[Contribution],
    *,
    limit: int = MAX_REASONS,
) -> list[str]:
    """Sentences for one friend: ``row`` holds the feature values, ``contributions``
    the model's signals for that row (largest first, as ``PartnerModel.explain`` gives)."""
    out: list[str] = []
    for feature, weight in contributions:
        if weight <= 0 or row.get(feature, 0) <= 0:
            continue
        template = _TEMPLATES.get(feature)
        sentence = template(name, query, row) if template else None
        if sentence and sentence not in out:
            out.append(sentence)
        if len(out) >= limit:
            break
    return out
