"""Seed the demo world: real Gowalla users, their friendships and circles, as kith accounts.

Everything is written through the account actions (``do_create_user``,
``do_send_friend_request`` + ``do_accept_friend_request``, ``do_move_friend``), so the
demo obeys every invariant a real sign-up does. Seeding is idempotent: accounts and
friendships that already exist are left alone (a circle the user changed stays changed),
so a second ``kith demo`` on the same database skips straight to the logins.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.accounts.access import find_user
from kith.accounts.actions import (
    do_accept_friend_request,
    do_create_user,
    do_move_friend,
    do_send_friend_request,
)
from kith.accounts.models import Friendship, User
from kith.accounts.passwords import Passwords
from kith.accounts.rules import username_key
from kith.clock import utc_now
from kith.config import Settings
from kith.demo.circles import plan_circles
from kith.demo.presence import seed_presence
from kith.demo.sample import Sample, load_sample
from kith.errors import KithError
from kith.feed.demo import seed_posts
from kith.partners.demo import seed_history
from kith.storage.engine import Database
from kith.types import ACQUAINTANCES_CIRCLE, CLOSE_CIRCLE, DEFAULT_CIRCLE

# Printed on screen next to the logins: the demo is a sandbox, never a real deployment.
DEMO_PASSWORD = "kith-demo-2026"


class SharedHashPasswords(Passwords):
    """Passwords that hash each distinct password once and hand out that same hash again.

    Every demo account has the same, publicly printed password, so per-account salts
    protect nothing here, while argon2id with standard parameters costs ~50 ms of CPU and
    64 MiB per hash: 150 accounts would take many seconds for no benefit. Verification is
    untouched, so logging in checks the password exactly as for any other account.
    Only for seeding the demo; real sign-ups use :class:`Passwords`.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._hashes: dict[str, str] = {}

    def hash(self, password: str) -> str:
        if password not in self._hashes:
            self._hashes[password] = super().hash(password)
        return self._hashes[password]


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    display_name: str
    friends: int
    close: int
    acquaintances: int
    why: str


@dataclass
class SeedSummary:
    password: str = DEMO_PASSWORD
    logins: list[DemoLogin] = field(default_factory=list)
    users: int = 0  # demo accounts in the world
    friendships: int = 0  # undirected friendships in the world
    created_users: int = 0  # created by this run (0 on a re-run)
    created_friendships: int = 0
    skipped_friendships: int = 0  # refused by an action (e.g. a block set up by hand)


def pick_logins(sample: Sample, plan: dict[tuple[int, int], str]) -> list[DemoLogin]:
    """A handful of interesting accounts to log in as, each with the reason it is shown."""
    friends: Counter[int] = Counter(owner for owner, _ in plan)
    circles: dict[str, Counter[int]] = {
        name: Counter(owner for (owner, _), c in plan.items() if c == name)
        for name in (CLOSE_CIRCLE, ACQUAINTANCES_CIRCLE)
    }
    close = circles[CLOSE_CIRCLE]
    rank = {u.gowalla_id: u.rank for u in sample.users}
    picked: dict[int, str] = {}

    def take(score: Counter[int], why: str, *, sign: int = -1) -> None:
        left = [g for g in rank if g not in picked]
        if left:
            picked[min(left, key=lambda g: (sign * score[g], rank[g]))] = why

    take(friends, "most friends")
    take(close, "most close friends")
    take(close, "many close, too")
    take(circles[ACQUAINTANCES_CIRCLE], "most acquaintances")
    take(friends, "a quiet account", sign=1)
    by_id = {u.gowalla_id: u for u in sample.users}
    return [
        DemoLogin(
            username=by_id[g].username,
            display_name=by_id[g].display_name,
            friends=friends[g],
            close=close[g],
            acquaintances=circles[ACQUAINTANCES_CIRCLE][g],
            why=why,
        )
        for g, why in picked.items()
    ]


def _is_seeded(db: Session, sample: Sample) -> bool:
    """Whether every account and friendship of ``sample`` already exists."""
    keys = {username_key(u.username): u.gowalla_id for u in sample.users}
    rows = db.execute(select(User.username_key, User.id).where(User.username_key.in_(keys)))
    ids = {key: user_id for key, user_id in rows}
    if len(ids) < len(keys):
        return False
    account = {gowalla_id: ids[key] for key, gowalla_id in keys.items()}
    sides = db.execute(
        select(Friendship.user_id, Friendship.friend_id).where(
            Friendship.user_id.in_(account.values()), Friendship.friend_id.in_(account.values())
        )
    )
    existing = {(user_id, friend_id) for user_id, friend_id in sides}
    return all((account[f.a], account[f.b]) in existing for f in sample.friendships)


def seed_demo(settings: Settings, *, users: int, console: Console) -> SeedSummary:
    """Create the ``users`` best-connected sample users (capped at the sample's size)."""
    full = load_sample()
    if users > len(full.users):
        console.print(
            f"[yellow]The demo sample has {len(full.users)} users; seeding all of them.[/yellow]"
        )
    sample = full.top(users)
    plan = plan_circles(sample)
    summary = SeedSummary(
        logins=pick_logins(sample, plan),
        users=len(sample.users),
        friendships=len(sample.friendships),
    )
    database = Database(settings)
    try:
        with database.session() as db:
            if _is_seeded(db, sample):
                console.print("[green]The demo world is already seeded.[/green]")
            else:
                _seed(db, settings, sample, plan, summary, console)
            accounts = _accounts(db, sample)
            live = seed_presence(db, sample, accounts, now=utc_now())
            history = seed_history(db, sample, accounts, now=utc_now())
            posts = seed_posts(
                db,
                [accounts[u.gowalla_id] for u in sample.users if u.gowalla_id in accounts],
                utc_now(),
            )
    finally:
        database.dispose()
    if summary.created_users or summary.created_friendships:
        console.print(
            f"[green]Seeded[/green] {summary.created_users} accounts and "
            f"{summary.created_friendships} friendships from real Gowalla data."
        )
    console.print(
        f"[green]Positioned[/green] {live.positioned} people at their favourite "
        f"venues; {live.intents} are up for something now; {posts} demo posts shared; "
        f'{history} past check-ins added for "who\'s up for it?".'
    )
    if summary.skipped_friendships:
        console.print(
            f"[yellow]Left out {summary.skipped_friendships} friendships[/yellow] that blocks or "
            "pending requests made by hand stand in the way of."
        )
    return summary


def _seed(
    db: Session,
    settings: Settings,
    sample: Sample,
    plan: dict[tuple[int, int], str],
    summary: SeedSummary,
    console: Console,
) -> None:
    passwords = SharedHashPasswords(settings)
    accounts: dict[int, User] = {}
    with Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("accounts", total=len(sample.users))
        for person in sample.users:
            user = find_user(db, person.username)
            if user is None:
                user = do_create_user(
                    db,
                    passwords,
                    username=person.username,
                    password=DEMO_PASSWORD,
                    display_name=person.display_name,
                    now=utc_now(),
                )
                summary.created_users += 1
            accounts[person.gowalla_id] = user
            progress.advance(task)

        task = progress.add_task("friendships", total=len(sample.friendships))
        for friendship in sample.friendships:
            a, b = accounts[friendship.a], accounts[friendship.b]
            if db.get(Friendship, (a.id, b.id)) is None:
                try:
                    _befriend(db, a, b)
                    _place(db, a, b, plan[(friendship.a, friendship.b)])
                    _place(db, b, a, plan[(friendship.b, friendship.a)])
                    summary.created_friendships += 1
                except KithError:
                    # A block or a pending request someone made by hand: leave it as it is.
                    db.rollback()
                    summary.skipped_friendships += 1
            progress.advance(task)


def _accounts(db: Session, sample: Sample) -> dict[int, User]:
    keys = {username_key(u.username): u.gowalla_id for u in sample.users}
    users = db.scalars(select(User).where(User.username_key.in_(keys)))
    return {keys[u.username_key]: u for u in users}


def _befriend(db: Session, a: User, b: User) -> None:
    now = utc_now()
    outcome = do_send_friend_request(db, a, b.username, now=now)
    if outcome.request is not None:
        do_accept_friend_request(db, b, outcome.request.id, now=now)


def _place(db: Session, owner: User, friend: User, circle: str) -> None:
    if circle != DEFAULT_CIRCLE:  # a new friend starts in the default circle
        do_move_friend(db, owner, friend.username, circle)


def print_logins(summary: SeedSummary, *, console: Console) -> None:
    table = Table(title=f"Demo logins (password for every account: {summary.password})")
    table.add_column("username", style="bold")
    table.add_column("name")
    table.add_column("friends", justify="right")
    table.add_column("close", justify="right")
    table.add_column("acquaintances", justify="right")
    table.add_column("why this one")
    for login in summary.logins:
        table.add_row(
            login.username,
            login.display_name,
            str(login.friends),
            str(login.close),
            str(login.acquaintances),
            login.why,
        )
    console.print(table)
    console.print(
        f"{summary.users} demo accounts and {summary.friendships} friendships, built from real "
        "Gowalla check-ins in New York (Cho, Myers & Leskovec, KDD 2011); "
        "any demo username logs in with the same password."
    )
