"""Who's up for it?: warm ``suggest()`` latency for one viewer with N friends, p50/p99.

Seeds a fresh database (SQLite file, or PostgreSQL with ``--postgres URL``) with a viewer
and ``--friends`` friends, each with a month of history (check-ins at shared venues,
meetups, past invites with answers, a calendar, live intents, grants at several
precisions, half of them keeping the viewer in "close"), then times in-process
``kith.partners.serving.suggest`` for different plans, warm (the model file and the
history cache loaded by earlier requests, as on a running server).

The peer is the straightforward implementation a team would write first, measured in
the same run on the same database: the same access rules, the same features, model and
re-ranking, but reading each friend's rows with ORM queries of its own and building the
history and co-location index afresh on every request (see ``PerFriendPeer``). Both
must return the same ranking, scores and reasons; the script stops if they differ.

    .venv/bin/python bench/partners.py [--friends 50] [--repeats 200]
        [--model baseline|learned] [--postgres postgresql://postgres@127.0.0.1/postgres]

Progress goes to stderr; the last line on stdout is one JSON object with p50/p90/p99 in
milliseconds for kith and the peer, and peer/kith ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kith.accounts.actions import (
    do_accept_friend_request,
    do_create_user,
    do_move_friend,
    do_send_friend_request,
)
from kith.accounts.models import Circle, Friendship, User
from kith.accounts.passwords import Passwords
from kith.config import Settings
from kith.partners.access import Helpers, helpers, history_helps
from kith.partners.actions import touch_history
from kith.partners.activities import Activity
from kith.partners.current import current_signals
from kith.partners.models.base import PartnerModel
from kith.partners.plans import Plan
from kith.partners.serving import CALENDAR_DETAIL, LEDGER_PURPOSE, Friend, _current
from kith.partners.tables import (
    CHECKIN,
    YES,
    BusyInterval,
    Invite,
    Invitee,
    PartnerEvent,
    PartnerSettings,
)
from kith.presence.access import grant_book, grant_books
from kith.presence.actions import do_set_circle_grant, ensure_settings
from kith.presence.geo import Precision, cell_at
from kith.presence.matcher import friend_links
from kith.presence.models import Intent, IntentAudience, Meetup, Presence, PresenceSettings
from kith.privacy.ledger import HISTORY, INTENT, record_use
from kith.storage.engine import Database
from kith.storage.migrate import upgrade

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
# Venues around lower Manhattan: a few dozen places people share.
VENUES = 40
ACTIVITIES = (
    Activity.COFFEE,
    Activity.LUNCH,
    Activity.TENNIS,
    Activity.RUN,
    Activity.DRINKS,
    Activity.GYM,
)
EVENTS_PER_USER = 40  # a month of check-ins and captured intents


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def seed(db: Session, settings: Settings, *, friends: int, seed: int = 0) -> User:
    """A viewer and ``friends`` friends with a month of history each; returns the viewer."""
    rng = np.random.default_rng(seed)
    passwords = Passwords(settings)
    now = NOW
    people = [
        do_create_user(
            db,
            passwords,
            username=f"u{i:04d}",
            password="bench-password-1",
            display_name=f"U {i}",
            now=now,
        )
        for i in range(friends + 1)
    ]
    viewer, others = people[0], people[1:]
    for index, friend in enumerate(others):
        outcome = do_send_friend_request(db, viewer, friend.username, now=now)
        assert outcome.request is not None
        do_accept_friend_request(db, friend, outcome.request.id, now=now)
        if index % 2 == 0:
            do_move_friend(db, friend, viewer.username, "close")
        if index % 3 == 0:
            do_move_friend(db, viewer, friend.username, "close")
    # Friends among the friends, for the mutual-friend signals.
    for index, friend in enumerate(others):
        for other in others[index + 1 : index + 4]:
            outcome = do_send_friend_request(db, friend, other.username, now=now)
            if outcome.request is not None:
                do_accept_friend_request(db, other, outcome.request.id, now=now)
    precisions = (Precision.BLOCK, Precision.NEIGHBOURHOOD, Precision.CITY, Precision.OFF)
    for index, person in enumerate(people):
        ensure_settings(db, person.id).timezone = "America/New_York"
        do_set_circle_grant(db, person, "close", precisions[index % 4], None, now=now)
        if index % 5 == 1:
            db.add(PartnerSettings(user_id=person.id, history_helps="friends", updated_at=now))
    db.commit()
    venues = [(40.70 + 0.004 * (v % 8), -74.01 + 0.005 * (v // 8)) for v in range(VENUES)]
    cells = [cell_at(lat, lon, Precision.BLOCK) for lat, lon in venues]
    db.add(Presence(user_id=viewer.id, cell=cells[0], recorded_at=now))
    for person in people:
        favourite = rng.choice(VENUES, size=4, replace=False)
        for _ in range(EVENTS_PER_USER):
            venue = (
                int(favourite[rng.integers(4)]) if rng.random() < 0.7 else int(rng.integers(VENUES))
            )
            day = int(rng.integers(1, 30))
            hour = int(rng.choice([7, 8, 12, 13, 18, 19, 20]))
            db.add(
                PartnerEvent(
                    user_id=person.id,
                    activity=ACTIVITIES[venue % len(ACTIVITIES)].value,
                    cell=cells[venue],
                    at=(now - timedelta(days=day)).replace(hour=hour, minute=0),
                    source=CHECKIN,
                    source_id=None,
                    created_at=now,
                )
            )
    for index, friend in enumerate(others):
        for k in range(index % 4):
            starts = now - timedelta(days=2 + 3 * k + index % 5, hours=index % 7)
            db.add(
                Meetup(
                    user_a_id=viewer.id,
                    user_b_id=friend.id,
                    activity=ACTIVITIES[(index + k) % len(ACTIVITIES)].value,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=2),
                    dedupe_key=f"bench-{index}-{k}",
                    created_at=now,
                )
            )
    db.flush()
    for k in range(20):
        starts = now - timedelta(days=1 + k, hours=k % 5)
        invite = Invite(
            host_id=viewer.id,
            activity=ACTIVITIES[k % len(ACTIVITIES)].value,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            note="",
            created_at=starts - timedelta(days=2),
        )
        db.add(invite)
        db.flush()
        for friend in others[k % 7 :: 7]:
            answer = YES if (k + friend.id) % 3 else "no"
            db.add(
                Invitee(invite_id=invite.id, user_id=friend.id, answer=answer, answered_at=starts)
            )
    for index, friend in enumerate(others):
        if index % 4 == 0:
            for day in range(1, 14):
                starts = (now + timedelta(days=day)).replace(hour=9 + index % 6)
                db.add(
                    BusyInterval(
                        user_id=friend.id,
                        starts_at=starts,
                        ends_at=starts + timedelta(hours=3),
                        expires_at=now + timedelta(days=30),
                    )
                )
        if index % 6 == 0:
            intent = Intent(
                user_id=friend.id,
                activity=ACTIVITIES[index % len(ACTIVITIES)].value,
                starts_at=now,
                ends_at=now + timedelta(hours=20),
                radius_m=2000,
                created_at=now,
            )
            db.add(intent)
            db.flush()
            close = db.scalar(
                select(Circle.id).where(Circle.owner_id == friend.id, Circle.name_key == "close")
            )
            assert close is not None
            db.add(IntentAudience(intent_id=intent.id, circle_id=close))
    # Written here directly rather than through the actions, so as kith's actions do.
    touch_history(db, [p.id for p in people])
    db.commit()
    return viewer


# --- the peer -------------------------------------------------------------------------


class PerFriendPeer:
    """The straightforward implementation: ask, for each friend, through the one-owner choke
    point, then read that friend's rows as ORM objects, and build everything per request.

    Same access rules (``history_helps``, each friend's grant, each person's retention),
    same place keys, features, model, re-ranking (``current_signals``, shared with kith,
    already batched) and ledger entries (one ``record_use`` per use), so the answers
    must be equal to kith's.
    """

    def __init__(self, model: PartnerModel) -> None:
        self.model = model

    def suggest(self, db: Session, viewer: User, plan: Plan, *, limit: int) -> list[Answer]:
        from kith.partners.explain import reasons
        from kith.partners.features import FeatureBuilder
        from kith.partners.history import History, Query
        from kith.partners.queries import (
            _h3,
            _invite_key,
            _meetup_key,
            _private_key,
            _timezone,
            _visible,
            retention_days,
        )

        now = NOW
        links = {link.friend_id: link for link in friend_links(db, viewer.id)}
        helping = {f for f in links if history_helps(db, f, viewer.id)}
        rows: list[tuple[int, datetime, int, int, int]] = []
        used: set[int] = set()
        precisions = {
            f: grant_book(db, f, now=now).precision_for(viewer.id, links[f].their_circle_id)
            for f in helping
        }
        for person in sorted({viewer.id, *helping}):
            since = now - timedelta(days=retention_days(db, person))
            own = person == viewer.id
            for event in db.scalars(select(PartnerEvent).where(PartnerEvent.user_id == person)):
                if not since <= event.at < now:
                    continue
                seen = _visible(event.cell, own, precisions.get(person, Precision.OFF))
                place, area = (_private_key(event.id),) * 2 if seen is None else _h3(seen)
                rows.append((person, event.at, place, area, _code(event.activity)))
                used.add(person)
            for meetup in db.scalars(
                select(Meetup).where(or_(Meetup.user_a_id == person, Meetup.user_b_id == person))
            ):
                if since <= meetup.starts_at < now:
                    key = _meetup_key(meetup.id)
                    rows.append((person, meetup.starts_at, key, key, _code(meetup.activity)))
                    used.add(person)
            hosted = select(Invite).where(Invite.host_id == person, Invite.starts_at < now)
            joined = (
                select(Invite)
                .join(Invitee, Invitee.invite_id == Invite.id)
                .where(Invitee.user_id == person, Invitee.answer == YES, Invite.starts_at < now)
            )
            plans = {i.id: i for i in [*db.scalars(hosted), *db.scalars(joined)]}
            for invite in plans.values():
                yes = db.scalars(
                    select(Invitee).where(Invitee.invite_id == invite.id, Invitee.answer == YES)
                ).all()
                if yes and since <= invite.starts_at:
                    key = _invite_key(invite.id)
                    rows.append((person, invite.starts_at, key, key, _code(invite.activity)))
                    used.add(person)
        friends = {viewer.id: sorted(links)}
        for friend in helping:
            theirs = {
                f.friend_id
                for f in db.scalars(select(Friendship).where(Friendship.user_id == friend))
                if f.friend_id in helping
            } | {viewer.id}
            friends[friend] = sorted(theirs)
            if len(theirs) > 1:
                used.add(friend)
        used.discard(viewer.id)
        tz = _timezone(db.get(PresenceSettings, viewer.id))
        stored = db.get(Presence, viewer.id)
        history = History.from_arrays(
            [r[0] for r in rows],
            [int(r[1].timestamp()) for r in rows],
            [r[2] for r in rows],
            [r[4] for r in rows],
            tz=tz,
            area=[r[3] for r in rows],
        )
        query = Query.at(
            viewer.id,
            plan.starts_at,
            sorted(links),
            tz=tz,
            activity=plan.activity,
            cell=_h3(stored.cell)[0] if stored is not None else None,
            now=now,
        )
        features = FeatureBuilder(history, friends).build([query], consenting=helping)
        scores = self.model.predict(features)
        explanations = self.model.explain(features)
        books = {f: grant_book(db, f, now=now) for f in links}
        signals = current_signals(
            db, viewer, Helpers(links, frozenset(helping)), books, plan, now=now
        )
        answers: list[tuple[int, float, Friend, list[str]]] = []
        for row, friend_id in enumerate(features.candidate.tolist()):
            account = db.get(User, friend_id)
            assert account is not None
            named = Friend(account.id, account.username, account.display_name)
            values = dict(zip(features.names, features.values[row].tolist(), strict=True))
            tier, first = _current(named, plan, signals)
            why = first + reasons(named.display_name, query, values, explanations[row])
            answers.append((tier, round(float(scores[row]), 4), named, why))
        answers.sort(key=lambda a: (a[0], -a[1], a[2].display_name.casefold(), a[2].username))
        for friend_id in sorted(used):
            record_use(
                db,
                subject_id=friend_id,
                actor_id=viewer.id,
                what=HISTORY,
                detail=plan.activity.value,
                purpose=LEDGER_PURPOSE,
                now=now,
            )
        uses = [(f, HISTORY, CALENDAR_DETAIL) for f in sorted(signals.busy)]
        uses += [(f, INTENT, a) for f, a in sorted(signals.up_for.items())]
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
        db.commit()
        return [(f.username, score, why) for _, score, f, why in answers[:limit]]


def _code(activity: str) -> int:
    from kith.partners.queries import _activity_code

    return _activity_code(activity)


# --- the run --------------------------------------------------------------------------

Answer = tuple[str, float, list[str]]


def plans(count: int) -> list[Plan]:
    """Different questions, as people ask them: activities, days and hours vary."""
    out = []
    for i in range(count):
        starts = NOW + timedelta(days=1 + i % 9, hours=1 + (3 * i) % 13)
        out.append(Plan(ACTIVITIES[i % len(ACTIVITIES)], starts, starts + timedelta(hours=2)))
    return out


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {
        "p50": at(0.5),
        "p90": at(0.9),
        "p99": at(0.99),
        "mean": round(statistics.fmean(ordered), 3),
    }


def learned_model(database: Database, viewer_id: int, path: Path) -> PartnerModel:
    """A boosted model (the server's default kind and size) fitted on this world."""
    from kith.partners.models.learned import BoostedPartnerModel
    from kith.partners.serving import HistoryCache, snapshot

    with database.session() as db:
        viewer = db.get(User, viewer_id)
        assert viewer is not None
        helping = helpers(db, viewer.id)
        built = snapshot(
            db,
            viewer,
            helping,
            grant_books(db, helping.links, now=NOW),
            now=NOW,
            cache=HistoryCache(),
        )
        from kith.partners.history import Query

        queries = [
            Query.at(
                viewer.id,
                p.starts_at - timedelta(days=14),
                sorted(helping.links),
                tz=built.tz,
                activity=p.activity,
                cell=built.cell,
                now=p.starts_at - timedelta(days=15),
            )
            for p in plans(40)
        ]
        features = built.builder.build(queries, consenting=helping.helping)
    # Labels: friends met often come more often (a synthetic but learnable answer).
    rng = np.random.default_rng(1)
    chance = 1 / (1 + np.exp(-(features.column("coattend") - 1.5)))
    labels = rng.random(len(features)) < chance
    model = BoostedPartnerModel().fit(features, labels)
    model.save(path)
    return model


def run(
    database: Database, viewer_id: int, *, model_path: Path, peer: PerFriendPeer, repeats: int
) -> dict[str, Any]:
    from kith.partners.serving import HistoryCache, ModelCache, suggest

    models, histories = ModelCache(), HistoryCache()
    questions = plans(repeats)
    # Wall-clock milliseconds per request, and this process's CPU milliseconds (on SQLite
    # that includes the database's own work; it is far less sensitive to a busy machine).
    wall: dict[str, list[float]] = {"kith": [], "kith_cold": [], "peer": []}
    cpu: dict[str, list[float]] = {"kith": [], "kith_cold": [], "peer": []}

    def timed(name: str, ask: Callable[[Session, User], list[Answer]]) -> list[Answer]:
        with database.session() as db:
            viewer = db.get(User, viewer_id)
            assert viewer is not None
            started, started_cpu = time.perf_counter(), time.process_time()
            answer = ask(db, viewer)
            wall[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append((time.process_time() - started_cpu) * 1000)
        return answer

    def kith(plan: Plan, cache: HistoryCache) -> Callable[[Session, User], list[Answer]]:
        def ask(db: Session, viewer: User) -> list[Answer]:
            result = suggest(
                db, viewer, plan, limit=10, now=NOW, models=models, path=model_path, histories=cache
            )
            return [(s.user.username, s.score, s.reasons) for s in result.items]

        return ask

    def other(plan: Plan) -> Callable[[Session, User], list[Answer]]:
        return lambda db, viewer: peer.suggest(db, viewer, plan, limit=10)

    for plan in questions[:10]:  # warm up: model file, history cache, statement caches
        timed("kith", kith(plan, histories))
        timed("peer", other(plan))
    for samples in (*wall.values(), *cpu.values()):
        samples.clear()
    for index, plan in enumerate(questions):
        # Interleaved, so both sides see the same machine load.
        mine = timed("kith", kith(plan, histories))
        timed("kith_cold", kith(plan, HistoryCache()))
        theirs = timed("peer", other(plan))
        if mine != theirs:
            raise SystemExit(f"kith and the peer disagree on plan {index}: {mine} != {theirs}")
        if index % 50 == 0:
            log(f"  {index}/{len(questions)}")
    result: dict[str, Any] = {name: percentiles(samples) for name, samples in wall.items()}
    result["cpu"] = {name: percentiles(samples) for name, samples in cpu.items()}
    result["peer_over_kith"] = {
        k: round(result["peer"][k] / result["kith"][k], 1) for k in ("p50", "p99")
    }
    return result


@contextmanager
def database_at(postgres: str | None) -> Iterator[tuple[Settings, str]]:
    """A fresh database: a SQLite file in a temporary folder, or a new PostgreSQL database."""
    if postgres is None:
        with tempfile.TemporaryDirectory() as folder:
            yield (
                Settings(database_url=f"sqlite:///{folder}/bench.db", password_hashing="fast"),
                "sqlite",
            )
        return
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"kith_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(postgres).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres).set(drivername="postgresql+psycopg", database=name)
    try:
        yield (
            Settings(
                database_url=url.render_as_string(hide_password=False), password_hashing="fast"
            ),
            "postgresql",
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--friends", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--model", choices=("baseline", "learned"), default="baseline")
    parser.add_argument(
        "--postgres", metavar="URL", help="run on PostgreSQL (a new database on this server)"
    )
    args = parser.parse_args()
    with database_at(args.postgres) as (settings, backend), tempfile.TemporaryDirectory() as folder:
        upgrade(settings)
        database = Database(settings)
        try:
            log(f"seeding {args.friends} friends on {backend}")
            with database.session() as db:
                viewer_id = seed(db, settings, friends=args.friends).id
            path = Path(folder) / "partners.json"
            if args.model == "learned":
                log("training a boosted model on the seeded world")
                model: PartnerModel = learned_model(database, viewer_id, path)
            else:
                from kith.partners.models.baselines import CoAttendance

                model = CoAttendance()  # what the server serves without a model file
            log(f"timing {args.repeats} suggestions each")
            result = run(
                database,
                viewer_id,
                model_path=path,
                peer=PerFriendPeer(model),
                repeats=args.repeats,
            )
        finally:
            database.dispose()
    load = os.getloadavg()
    report = {
        "backend": backend,
        "model": args.model,
        "friends": args.friends,
        "repeats": args.repeats,
        "events_per_person": EVENTS_PER_USER,
        "load_average_1m": round(load[0], 2),
        "cpus": os.cpu_count(),
        "ms": result,
    }
    log(json.dumps(report, indent=2))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
