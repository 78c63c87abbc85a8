"""Answers feed back into training: this instance's invites as labelled questions.

Each past invite is a question asked the way the server asks it: rank the invitees for
the host's plan, with features built by :func:`kith.partners.queries.planning_history`
as of the moment the invite was sent (so the answer never counts as its own evidence,
and the same access rules apply). Invitees who said "yes" are the positives, "no" the
negatives; "maybe" and unanswered invitees say nothing and are left out. An answer is
the invitee's data: it is used only while the invitee's history helps the host.

``kith partners retrain`` fits a model on these and saves it where the server looks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.accounts.models import User
from kith.partners.access import helpers
from kith.partners.activities import parse_activity
from kith.partners.features import FeatureBuilder, FeatureMatrix
from kith.partners.history import History, Query
from kith.partners.queries import planning_history
from kith.partners.tables import NO, YES, Invite, Invitee


@dataclass(frozen=True, eq=False)
class TrainingSet:
    features: FeatureMatrix
    labels: npt.NDArray[np.bool_]
    questions: int


def answered_questions(
    db: Session, *, now: datetime, progress: Callable[[int, int], None] | None = None
) -> TrainingSet:
    """Every invite that started before ``now`` with at least one usable yes or no."""
    invites = list(db.scalars(select(Invite).where(Invite.starts_at < now).order_by(Invite.id)))
    matrices: list[FeatureMatrix] = []
    labels: list[npt.NDArray[np.bool_]] = []
    for done, invite in enumerate(invites, start=1):
        built = _question(db, invite)
        if built is not None:
            matrices.append(built[0])
            labels.append(built[1])
        if progress is not None:
            progress(done, len(invites))
    return TrainingSet(
        stack(matrices),
        np.concatenate(labels) if labels else np.zeros(0, dtype=bool),
        len(matrices),
    )


def _question(db: Session, invite: Invite) -> tuple[FeatureMatrix, npt.NDArray[np.bool_]] | None:
    host = db.get(User, invite.host_id)
    if host is None:
        return None
    helping = helpers(db, host.id)
    answers = {
        user_id: answer
        for user_id, answer in db.execute(
            select(Invitee.user_id, Invitee.answer).where(
                Invitee.invite_id == invite.id, Invitee.answer.in_((YES, NO))
            )
        )
        if user_id in helping.helping  # the answer is the invitee's data
    }
    if not answers:
        return None
    data = planning_history(db, host, helping, now=invite.created_at)
    history = History.from_arrays(
        data.user, data.time, data.place, data.activity, tz=data.tz, area=data.area
    )
    candidates = sorted(answers)
    query = Query.at(
        host.id,
        invite.starts_at,
        candidates,
        tz=data.tz,
        activity=parse_activity(invite.activity),
        cell=data.cell,
        now=invite.created_at,
    )
    features = FeatureBuilder(history, data.friends).build([query], consenting=helping.helping)
    return features, np.array([answers[c] == YES for c in candidates], dtype=bool)


def stack(matrices: Sequence[FeatureMatrix]) -> FeatureMatrix:
    """One matrix from several, each keeping its questions apart."""
    from kith.partners.features import COLUMNS

    if not matrices:
        empty = np.zeros(0, dtype=np.int64)
        return FeatureMatrix(
            np.zeros((0, len(COLUMNS))),
            COLUMNS,
            empty,
            empty,
            empty.astype(bool),
            empty.astype(bool),
        )
    offsets = np.cumsum([0] + [int(m.query_index.max()) + 1 if len(m) else 0 for m in matrices])
    return FeatureMatrix(
        values=np.vstack([m.values for m in matrices]),
        names=matrices[0].names,
        query_index=np.concatenate(
            [m.query_index + offset for m, offset in zip(matrices, offsets, strict=False)]
        ),
        candidate=np.concatenate([m.candidate for m in matrices]),
        used=np.concatenate([m.used for m in matrices]),
        no_history=np.concatenate([m.no_history for m in matrices]),
    )
