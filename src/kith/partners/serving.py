"""Serve suggestions: rank a viewer's friends for a plan, with reasons, in milliseconds.

    result = suggest(db, viewer, plan, limit=10, now=now, path=settings.partners_model)
    # commits the ledger entries

**The model** is the instance's trained file (``kith partners train`` or ``kith partners
retrain`` write it), at ``Settings.partners_model`` (``KITH_PARTNERS_MODEL``, read once
with the other settings). It is read once per file version and kept by
:class:`ModelCache` (a retrained file is picked up on the next request, without a
restart). When the file is missing, corrupt, from another version, or fails on the
features, suggestions fall back to the co-attendance baseline and say so in
``Suggestions.note``: never an error.

**Speed.** A warm request reads only what decides access (friends, settings, grants)
and small digests of the rest; the viewer's built history (events, co-location index)
is kept between requests by :class:`HistoryCache` and reused only while all of that is
unchanged. Feature rows for all friends are built with a fixed number of array
operations. ``bench/partners.py`` measures it.

**Privacy.** Features come only from :func:`kith.partners.queries.planning_history`
(the access rules live there). A friend whose history does not help the viewer gets
an all-zero row: they are still listed, ranked on nothing of theirs, and look exactly
like a friend with no history at all, so the list never reveals anyone's setting or
circles. Every friend whose rows were used gets one ledger entry, in the same
transaction as the suggestion, whether the history came from the cache or not.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kith.accounts.models import Friendship, User
from kith.errors import ModelUnavailable
from kith.partners.access import Helpers, helpers
from kith.partners.current import CurrentSignals, current_signals
from kith.partners.plans import Plan
from kith.partners.queries import PlanningInputs, planning_history, planning_inputs
from kith.presence.access import GrantBook, grant_books
from kith.privacy.ledger import HISTORY, INTENT, record_uses

if TYPE_CHECKING:  # numpy and the models load on the first suggestion, not at start-up
    import numpy as np
    import numpy.typing as npt

    from kith.partners.features import FeatureBuilder, FeatureMatrix
    from kith.partners.models.base import Contribution, PartnerModel

log = logging.getLogger(__name__)

FALLBACK_KIND = "baseline_coattendance"
FALLBACK_NOTE = (
    "the trained model is not available ({why}); friends are ranked by how often you "
    "met them (the co-attendance baseline)"
)
LEDGER_PURPOSE = "suggested as a partner for a plan"
CALENDAR_DETAIL = "calendar free/busy"


@dataclass(frozen=True, slots=True)
class LoadedModel:
    model: PartnerModel
    kind: str
    problem: str | None  # why the fallback is used, if it is


class ModelCache:
    """The model file, read once per version (path, size, modification time).

    Thread-safe: the server's worker threads share one instance. A file that fails to
    load is remembered too, so a corrupt file is not re-read on every request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, int, int] | None = None
        self._loaded: LoadedModel | None = None

    def get(self, path: Path) -> LoadedModel:
        from kith.partners.models.base import load_model

        try:
            stat = path.stat()
            key: tuple[str, int, int] | None = (str(path), stat.st_size, stat.st_mtime_ns)
        except OSError:
            key = None
        with self._lock:
            # A missing file (key None) is remembered too, until a file appears.
            if key == self._key and self._loaded is not None:
                return self._loaded
            try:
                model = load_model(path)
                loaded = LoadedModel(model, model.kind, None)
            except ModelUnavailable as exc:
                log.warning("partners model unavailable: %s", exc.detail)
                loaded = _fallback("missing" if key is None else "unreadable")
            self._key, self._loaded = key, loaded
            return loaded


def _fallback(why: str) -> LoadedModel:
    from kith.partners.models.baselines import CoAttendance

    return LoadedModel(CoAttendance(), FALLBACK_KIND, FALLBACK_NOTE.format(why=why))


# One per process: models are read-only after loading, so sharing them is safe.
MODELS = ModelCache()


@dataclass(frozen=True, eq=False)
class Snapshot:
    """A viewer's planning history, indexed for features, and what it was built from."""

    inputs: PlanningInputs
    built_at: datetime
    valid_until: datetime | None  # see PlanningHistory.valid_until
    builder: FeatureBuilder
    tz: ZoneInfo
    cell: int | None
    used: frozenset[int]  # friends whose rows went in (one ledger entry each)

    def fits(self, inputs: PlanningInputs, now: datetime) -> bool:
        in_window = self.built_at <= now and (self.valid_until is None or now <= self.valid_until)
        return in_window and inputs == self.inputs


class HistoryCache:
    """Each recent viewer's built history, reused while nothing it came from changed.

    Correctness comes from the key, not from anyone remembering to invalidate: a
    snapshot is reused only when the inputs read fresh on this request
    (:class:`~kith.partners.queries.PlanningInputs`: who helps, the precision each
    grants, retention, time zone, position, meetups, plans, friendships and every
    owner's history version) equal those it was built from, and the clock has not
    passed the moment an event joins or leaves the window. So a revoked setting or
    grant, a new check-in or a deleted one, in this process or another, takes effect on
    the very next request. Thread-safe; keeps the :data:`HISTORY_CACHE_SIZE` most
    recent viewers.
    """

    def __init__(self, size: int = 0) -> None:
        self._size = size or HISTORY_CACHE_SIZE
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, Snapshot] = OrderedDict()

    def get(self, inputs: PlanningInputs, now: datetime) -> Snapshot | None:
        with self._lock:
            found = self._entries.get(inputs.viewer_id)
            if found is None or not found.fits(inputs, now):
                return None
            self._entries.move_to_end(inputs.viewer_id)
            return found

    def put(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._entries[snapshot.inputs.viewer_id] = snapshot
            self._entries.move_to_end(snapshot.inputs.viewer_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


# A snapshot of a viewer with 50 friends is about 100 KB: 512 of them stay under 64 MB.
HISTORY_CACHE_SIZE = 512
# One per process, like MODELS; entries are read-only once built.
HISTORIES = HistoryCache()


def snapshot(
    db: Session,
    viewer: User,
    helping: Helpers,
    books: Mapping[int, GrantBook],
    *,
    now: datetime,
    cache: HistoryCache | None = None,
) -> Snapshot:
    """The viewer's planning history as of ``now``, from ``cache`` when still exact."""
    from kith.partners.features import FeatureBuilder
    from kith.partners.history import History

    inputs = planning_inputs(db, viewer, helping, books)
    cached = cache.get(inputs, now) if cache is not None else None
    if cached is not None:
        return cached
    data = planning_history(db, viewer, helping, now=now, inputs=inputs)
    history = History.from_arrays(
        data.user, data.time, data.place, data.activity, tz=data.tz, area=data.area
    )
    built = Snapshot(
        inputs=inputs,
        built_at=now,
        valid_until=data.valid_until,
        builder=FeatureBuilder(history, data.friends),
        tz=data.tz,
        cell=data.cell,
        used=frozenset(data.used),
    )
    if cache is not None:
        cache.put(built)
    return built


@dataclass(frozen=True, slots=True)
class Friend:
    """Who a suggestion names: read as three columns, not as a full account."""

    id: int
    username: str
    display_name: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    user: Friend
    score: float
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class Suggestions:
    plan: Plan
    items: list[Suggestion]
    model: str  # the model kind that ranked ("boosted", "baseline_coattendance" ...)
    note: str | None  # set when the fallback ranked, saying why


def suggest(
    db: Session,
    viewer: User,
    plan: Plan,
    *,
    limit: int,
    now: datetime,
    path: Path,
    models: ModelCache | None = None,
    histories: HistoryCache | None = None,
) -> Suggestions:
    """Rank the viewer's friends for ``plan``; records the ledger entries and commits.

    ``path``: the model file (``settings.partners_model``); ``models`` and ``histories``:
    where loaded models and built histories are kept between requests (default the
    process's :data:`MODELS` and :data:`HISTORIES`).
    """
    from kith.partners.explain import reasons
    from kith.partners.history import Query

    helping = helpers(db, viewer.id)
    loaded = (models or MODELS).get(path)
    if not helping.links:
        return Suggestions(plan, [], loaded.kind, loaded.problem)
    # One read of every friend's grants serves the history (precision) and the intents.
    books = grant_books(db, helping.links, now=now)
    built = snapshot(db, viewer, helping, books, now=now, cache=histories or HISTORIES)
    candidates = sorted(helping.links)
    query = Query.at(
        viewer.id,
        plan.starts_at,
        candidates,
        tz=built.tz,
        activity=plan.activity,
        cell=built.cell,
        now=now,
    )
    features = built.builder.build([query], consenting=helping.helping)
    users = {row[0]: Friend(*row) for row in db.execute(_FRIENDS, {"viewer": viewer.id})}
    now_signals = current_signals(db, viewer, helping, books, plan, now=now)
    friends = [users[int(c)] for c in features.candidate.tolist()]
    said = [_current(friend, plan, now_signals) for friend in friends]

    def order(row: int, score: float) -> tuple[int, float, str, str]:
        # What friends say now re-ranks on top of the model (see _current); ties (friends
        # with no evidence either way) are listed by name, never by a hidden rule.
        friend = friends[row]
        return (said[row][0], -round(score, 4), friend.display_name.casefold(), friend.username)

    loaded, scores, shown, explanations = _score(loaded, features, order, limit)
    items: list[Suggestion] = []
    for row, explained in zip(shown, explanations, strict=True):
        values = dict(zip(features.names, features.values[row].tolist(), strict=True))
        why = said[row][1] + reasons(friends[row].display_name, query, values, explained)
        items.append(Suggestion(friends[row], round(float(scores[row]), 4), why))
    # One entry per friend whose rows were used: their history, calendar, intent.
    uses = [(f, HISTORY, plan.activity.value) for f in sorted(built.used)]
    uses += [(f, HISTORY, CALENDAR_DETAIL) for f in sorted(now_signals.busy)]
    uses += [(f, INTENT, activity) for f, activity in sorted(now_signals.up_for.items())]
    record_uses(db, actor_id=viewer.id, uses=uses, purpose=LEDGER_PURPOSE, now=now)
    db.commit()
    return Suggestions(plan, items, loaded.kind, loaded.problem)


_FRIENDS = select(User.id, User.username, User.display_name).where(
    User.id.in_(select(Friendship.friend_id).where(Friendship.user_id == bindparam("viewer")))
)


# Tiers of the re-ranking: a friend who said so comes first, one whose calendar is
# busy for most of the window last; inside a tier, the model's score orders.
SAID_SO, NO_WORD, BUSY = 0, 1, 2
# "Busy for most of the window": more than half of it in the friend's calendar.
BUSY_SHARE = 0.5


def _current(friend: Friend, plan: Plan, signals: CurrentSignals) -> tuple[int, list[str]]:
    """The friend's tier and the reasons from what they say now, strongest first.

    A "yes" or a live intent is the friend's own word about this very window, so it
    outranks their calendar (which may well hold the plan they said yes to).
    """
    said: list[str] = []
    if friend.id in signals.going:
        host = signals.going[friend.id]
        whose = "your" if host is None else f"{host.display_name}'s"
        said.append(f"already going: {whose} {plan.activity.value} plan")
    if friend.id in signals.up_for:
        said.append(f"{friend.display_name} is up for {signals.up_for[friend.id]} then")
    if said:
        return SAID_SO, said
    if signals.busy.get(friend.id, 0.0) > BUSY_SHARE:
        return BUSY, [f"{friend.display_name} is busy then (calendar)"]
    return NO_WORD, []


def _score(
    loaded: LoadedModel,
    features: FeatureMatrix,
    order: Callable[[int, float], tuple[int, float, str, str]],
    limit: int,
) -> tuple[LoadedModel, npt.NDArray[np.float64], list[int], list[list[Contribution]]]:
    """Every row's score, the ``limit`` rows shown (by ``order``) and their explanations.

    Only the rows shown are explained: explaining is the costly part for a learned model.
    A model that fails on these features falls back to the baseline.
    """
    import numpy as np

    def ranked(model: PartnerModel) -> tuple[npt.NDArray[np.float64], list[int], Any]:
        scores = np.asarray(model.predict(features), dtype=np.float64)
        if scores.shape != (len(features),) or not np.all(np.isfinite(scores)):
            raise ValueError("the model gave no usable scores")
        shown = sorted(range(len(features)), key=lambda r: order(r, float(scores[r])))[:limit]
        return scores, shown, model.explain(features.take(shown))

    try:
        scores, shown, explanations = ranked(loaded.model)
        return loaded, scores, shown, explanations
    # A model file is outside input: whatever it does wrong, the viewer still gets a list.
    except Exception as exc:
        log.warning("partners model %s failed, using the fallback: %r", loaded.kind, exc)
        fallback = _fallback("it failed on this question")
        scores, shown, explanations = ranked(fallback.model)
        return fallback, scores, shown, explanations
