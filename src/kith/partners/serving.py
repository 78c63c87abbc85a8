"""Serve suggestions: rank a viewer's friends for a plan, with reasons, in milliseconds.

    result = suggest(db, viewer, plan, limit=10, now=now)   # commits the ledger entries

**The model** is the instance's trained file (``kith partners train`` or ``kith partners
retrain`` write it), found at ``$KITH_PARTNERS_MODEL`` or :data:`DEFAULT_MODEL_PATH`. It
is read once per file version and kept by :class:`ModelCache` (a retrained file is
picked up on the next request, without a restart). When the file is missing, corrupt,
from another version, or fails on the features, suggestions fall back to the
co-attendance baseline and say so in ``Suggestions.note``: never an error.

**Privacy.** Features come only from :func:`kith.partners.queries.planning_history`
(the access rules live there). A friend whose history does not help the viewer gets
an all-zero row: they are still listed, ranked on nothing of theirs, and look exactly
like a friend with no history at all, so the list never reveals anyone's setting or
circles. Every friend whose rows were used gets one ledger entry, in the same
transaction as the suggestion.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.accounts.models import User
from kith.errors import ModelUnavailable
from kith.partners.access import helpers
from kith.partners.current import CurrentSignals, current_signals
from kith.partners.plans import Plan
from kith.partners.queries import planning_history
from kith.privacy.ledger import HISTORY, INTENT, record_use

if TYPE_CHECKING:  # numpy and the models load on the first suggestion, not at start-up
    import numpy as np
    import numpy.typing as npt

    from kith.partners.features import FeatureMatrix
    from kith.partners.models.base import Contribution, PartnerModel

log = logging.getLogger(__name__)

MODEL_ENV = "KITH_PARTNERS_MODEL"
DEFAULT_MODEL_PATH = Path("var/models/partners.json")
FALLBACK_KIND = "baseline_coattendance"
FALLBACK_NOTE = (
    "the trained model is not available ({why}); friends are ranked by how often you "
    "met them (the co-attendance baseline)"
)
LEDGER_PURPOSE = "suggested as a partner for a plan"
CALENDAR_DETAIL = "calendar free/busy"


def model_path() -> Path:
    """The model file when no settings are at hand (CLI defaults): ``$KITH_PARTNERS_MODEL``.

    The server passes ``settings.partners_model`` (the same variable, read once)."""
    return Path(os.environ.get(MODEL_ENV) or DEFAULT_MODEL_PATH)


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


@dataclass(frozen=True, slots=True)
class Suggestion:
    user: User
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
    models: ModelCache | None = None,
    path: Path | None = None,
) -> Suggestions:
    """Rank the viewer's friends for ``plan``; records the ledger entries and commits."""
    from kith.partners.explain import reasons
    from kith.partners.features import FeatureBuilder
    from kith.partners.history import History, Query

    helping = helpers(db, viewer.id)
    loaded = (models or MODELS).get(path or model_path())
    if not helping.links:
        return Suggestions(plan, [], loaded.kind, loaded.problem)
    data = planning_history(db, viewer, helping, now=now)
    history = History.from_arrays(
        data.user, data.time, data.place, data.activity, tz=data.tz, area=data.area
    )
    candidates = sorted(helping.links)
    query = Query.at(
        viewer.id,
        plan.starts_at,
        candidates,
        tz=data.tz,
        activity=plan.activity,
        cell=data.cell,
        now=now,
    )
    features = FeatureBuilder(history, data.friends).build([query], consenting=helping.helping)
    loaded, scores, explanations = _score(loaded, features)
    users = {u.id: u for u in db.scalars(select(User).where(User.id.in_(candidates)))}
    now_signals = current_signals(db, viewer, helping, plan, now=now)
    items: list[Suggestion] = []
    tiers: dict[int, int] = {}
    for row in range(len(candidates)):
        friend = users[int(features.candidate[row])]
        values = dict(zip(features.names, features.values[row].tolist(), strict=True))
        tiers[friend.id], first = _current(friend, plan, now_signals)
        why = first + reasons(friend.display_name, query, values, explanations[row])
        items.append(Suggestion(friend, round(float(scores[row]), 4), why))
    # What friends say now re-ranks on top of the model (see _current); ties (friends
    # with no evidence either way) are listed by name, never by a hidden rule.
    items.sort(
        key=lambda s: (tiers[s.user.id], -s.score, s.user.display_name.casefold(), s.user.username)
    )
    for friend_id in sorted(data.used):
        record_use(
            db,
            subject_id=friend_id,
            actor_id=viewer.id,
            what=HISTORY,
            detail=plan.activity.value,
            purpose=LEDGER_PURPOSE,
            now=now,
        )
    _record_current(db, viewer, now_signals, now=now)
    db.commit()
    return Suggestions(plan, items[:limit], loaded.kind, loaded.problem)


# Tiers of the re-ranking: a friend who said so comes first, one whose calendar is
# busy for most of the window last; inside a tier, the model's score orders.
SAID_SO, NO_WORD, BUSY = 0, 1, 2
# "Busy for most of the window": more than half of it in the friend's calendar.
BUSY_SHARE = 0.5


def _current(friend: User, plan: Plan, signals: CurrentSignals) -> tuple[int, list[str]]:
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


def _record_current(db: Session, viewer: User, signals: CurrentSignals, *, now: datetime) -> None:
    """A ledger entry for each friend whose calendar or intent was read for this plan."""
    uses = [(f, HISTORY, CALENDAR_DETAIL) for f in sorted(signals.busy)]
    uses += [(f, INTENT, activity) for f, activity in sorted(signals.up_for.items())]
    for friend_id, what, detail in uses:
        record_use(
            db,
            subject_id=friend_id,
            actor_id=viewer.id,
            what=what,
            detail=detail,
            purpose=LEDGER_PURPOSE,
            now=now,
        )


def _score(
    loaded: LoadedModel, features: FeatureMatrix
) -> tuple[LoadedModel, npt.NDArray[np.float64], list[list[Contribution]]]:
    """Scores and explanations; a model that fails on these features falls back."""
    import numpy as np

    try:
        scores = np.asarray(loaded.model.predict(features), dtype=np.float64)
        explanations = loaded.model.explain(features)
        if scores.shape != (len(features),) or not np.all(np.isfinite(scores)):
            raise ValueError("the model gave no usable scores")
        return loaded, scores, explanations
    # A model file is outside input: whatever it does wrong, the viewer still gets a list.
    except Exception as exc:
        log.warning("partners model %s failed, using the fallback: %r", loaded.kind, exc)
        fallback = _fallback("it failed on this question")
        return fallback, fallback.model.predict(features), fallback.model.explain(features)
