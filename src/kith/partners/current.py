"""What friends say about the plan's window *now*: calendars, live intents, who is going.

The trained model ranks on history; these signals re-rank on top of its score in
:func:`kith.partners.serving.suggest`, so the model's features (and saved model files)
stay unchanged. Each is read for all friends at once (a few queries per suggestion,
never one per friend), through the same rules as elsewhere:

* **busy** (calendar free/busy, :mod:`kith.partners.calendar`): only for friends whose
  history helps the viewer (:func:`kith.partners.access.helpers`), as a share of the
  window; nothing about what they are doing.
* **up for it** (presence intents): a friend's live intent for a compatible activity
  overlapping the window, exactly when :func:`kith.presence.queries.list_intents` would
  show it to the viewer: the friend is not a ghost and the intent's audience includes
  the circle the friend keeps the viewer in.
* **already going**: a friend's "yes" to an overlapping plan of a compatible activity
  that the viewer hosts or was invited to (the only answers anyone else ever sees),
  unless the viewer and that plan's host block each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import BindParameter, bindparam, or_, select
from sqlalchemy.orm import Session

from kith.accounts.models import Friendship, User
from kith.partners.access import Helpers
from kith.partners.calendar import Interval, busy_share
from kith.partners.plans import Plan
from kith.partners.queries import blocked_with
from kith.partners.tables import YES, BusyInterval, Invite, Invitee
from kith.presence.access import GrantBook
from kith.presence.activities import compatible
from kith.presence.models import Intent, IntentAudience


@dataclass
class CurrentSignals:
    busy: dict[int, float] = field(default_factory=dict)  # friend -> share of the window
    up_for: dict[int, str] = field(default_factory=dict)  # friend -> their intent's activity
    # friend -> whose plan they said yes to (None: the viewer's own)
    going: dict[int, User | None] = field(default_factory=dict)


def current_signals(
    db: Session,
    viewer: User,
    helping: Helpers,
    books: Mapping[int, GrantBook],
    plan: Plan,
    *,
    now: datetime,
) -> CurrentSignals:
    """``books``: every friend's grants as of ``now`` (:func:`grant_books`)."""
    out = CurrentSignals()
    _busy(db, out, viewer, helping, plan, now=now)
    _intents(db, out, viewer, helping, books, plan, now=now)
    _going(db, out, viewer, helping, plan)
    return out


# Statements built once: they run on every suggestion. Parameters: the ``viewer`` (rows
# of all their friends are read, then kept as the rules say), ``now``, and the plan's
# window ``starts`` to ``ends``.
_VIEWER: BindParameter[int] = bindparam("viewer")
_FRIENDS = select(Friendship.friend_id).where(Friendship.user_id == _VIEWER).scalar_subquery()
_NOW: BindParameter[datetime] = bindparam("now")
_STARTS: BindParameter[datetime] = bindparam("starts")
_ENDS: BindParameter[datetime] = bindparam("ends")
_BUSY = select(BusyInterval.user_id, BusyInterval.starts_at, BusyInterval.ends_at).where(
    BusyInterval.user_id.in_(_FRIENDS),
    BusyInterval.expires_at > _NOW,
    BusyInterval.starts_at < _ENDS,
    BusyInterval.ends_at > _STARTS,
)
_INTENTS = (
    select(Intent.user_id, Intent.activity, IntentAudience.circle_id)
    .join(IntentAudience, IntentAudience.intent_id == Intent.id)
    .where(
        Intent.user_id.in_(_FRIENDS),
        Intent.ends_at > _NOW,
        Intent.starts_at < _ENDS,
        Intent.ends_at > _STARTS,
    )
    .order_by(Intent.starts_at, Intent.id)
)
_PLANS = select(Invite.id, Invite.host_id, Invite.activity).where(
    or_(
        Invite.host_id == _VIEWER,
        Invite.id.in_(select(Invitee.invite_id).where(Invitee.user_id == _VIEWER)),
    ),
    Invite.starts_at < _ENDS,
    Invite.ends_at > _STARTS,
)


def _busy(
    db: Session, out: CurrentSignals, viewer: User, helping: Helpers, plan: Plan, *, now: datetime
) -> None:
    if not helping.helping:
        return
    intervals: dict[int, list[Interval]] = defaultdict(list)
    window = {"viewer": viewer.id, "starts": plan.starts_at, "ends": plan.ends_at, "now": now}
    for user_id, starts_at, ends_at in db.execute(_BUSY, window):
        if user_id not in helping.helping:
            continue  # only the calendars of friends whose history helps
        intervals[user_id].append((starts_at, ends_at))
    for user_id, theirs in intervals.items():
        out.busy[user_id] = busy_share(theirs, plan.starts_at, plan.ends_at)


def _intents(
    db: Session,
    out: CurrentSignals,
    viewer: User,
    helping: Helpers,
    books: Mapping[int, GrantBook],
    plan: Plan,
    *,
    now: datetime,
) -> None:
    links = helping.links
    visible = {f for f in links if not books[f].ghost}
    if not visible:
        return
    window = {"viewer": viewer.id, "starts": plan.starts_at, "ends": plan.ends_at, "now": now}
    for user_id, activity, circle_id in db.execute(_INTENTS, window):
        if user_id not in visible:
            continue  # a ghost shows no intents
        if circle_id != links[user_id].their_circle_id:
            continue  # the viewer is not in this intent's audience
        if compatible(activity, plan.activity.value) and user_id not in out.up_for:
            out.up_for[user_id] = activity


def _going(db: Session, out: CurrentSignals, viewer: User, helping: Helpers, plan: Plan) -> None:
    window = {"viewer": viewer.id, "starts": plan.starts_at, "ends": plan.ends_at}
    invites = {
        invite_id: (host_id, activity)
        for invite_id, host_id, activity in db.execute(_PLANS, window)
        if compatible(activity, plan.activity.value)
    }
    if not invites:
        return
    blocked = blocked_with(db, viewer.id, {h for h, _ in invites.values()})
    hosts = {
        u.id: u
        for u in db.scalars(select(User).where(User.id.in_({h for h, _ in invites.values()})))
    }
    for invite_id, user_id in db.execute(
        select(Invitee.invite_id, Invitee.user_id)
        .where(Invitee.invite_id.in_(invites), Invitee.answer == YES)
        .order_by(Invitee.invite_id)
    ):
        host_id = invites[invite_id][0]
        if user_id not in helping.links or host_id in blocked or user_id in out.going:
            continue
        out.going[user_id] = None if host_id == viewer.id else hosts[host_id]
