""" "Who's up for it?" from the command line: train, suggest, and ``kith eval partners``.

Thin: parse, call ``kith.partners``, render. Heavy libraries load inside commands.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kith.errors import KithError

if TYPE_CHECKING:
    from kith.partners.datasets import CheckinTable

app = typer.Typer(help='"Who\'s up for it?" models.', no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)

CheckinsOption = Annotated[
    Path, typer.Option("--checkins", help="Check-ins Parquet (shared/data/gowalla_nyc format).")
]
FriendshipsOption = Annotated[
    Path, typer.Option("--friendships", help="Friendships Parquet (both directions).")
]
VenuesOption = Annotated[Path, typer.Option("--venues", help="Venues Parquet (id, name).")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[red]Error:[/red] {message}")
    return typer.Exit(code)


def _moment(value: str, option: str) -> datetime:
    """A date or ISO datetime; without a zone it is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2010-04-01 or 2010-04-01T09:00", param_hint=option
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@contextmanager
def _steps(total: int, *, quiet: bool) -> Iterator[Any]:
    """A Rich progress bar advanced by a ``step(description)`` callback (stderr)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=quiet,
    ) as progress:
        task = progress.add_task("starting", total=total)
        started = False

        def step(description: str) -> None:
            nonlocal started
            if started:
                progress.advance(task)
            started = True
            progress.update(task, description=description)

        yield step
        progress.update(task, completed=total)


def _load(checkins: Path, friendships: Path, venues: Path) -> CheckinTable:
    from kith.partners.datasets import load_gowalla

    return load_gowalla(checkins, friendships, venues)


@app.command()
def train(
    checkins: CheckinsOption,
    friendships: FriendshipsOption,
    venues: VenuesOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the model (JSON).")],
    cutoff: Annotated[
        str | None,
        typer.Option(help="Train on check-ins before this date (default: all of them)."),
    ] = None,
    coarse: Annotated[
        int | None,
        typer.Option(help="Coarsen positions to this H3 resolution first.", min=0, max=15),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Train the learned model on past meetups and save it for the server."""
    from kith.partners.features import FeatureBuilder
    from kith.partners.history import coarsen_cells
    from kith.partners.protocol import (
        Protocol,
        Questions,
        build_questions,
        history_of,
        labels_of,
        learner,
        training_questions,
    )

    try:
        with _steps(5, quiet=False) as step:
            step("reading check-ins")
            table = _load(checkins, friendships, venues)
            if len(table) == 0:
                raise _fail("the check-in file is empty")
            end = (
                int(_moment(cutoff, "--cutoff").timestamp())
                if cutoff
                else int(table.time.max()) + 1
            )
            protocol = Protocol(cutoff=end, seed=seed)
            step("finding meetups")
            questions = build_questions(table, resolution=protocol.resolution, protocol=protocol)
            if coarse is not None:
                questions = Questions(
                    table,
                    questions.meetups,
                    coarsen_cells(questions.cells, coarse),
                    questions.slots,
                )
            step("computing features")
            labelled = training_questions(questions, protocol)
            if not labelled:
                raise _fail("no meetups before the cutoff to learn from")
            builder = FeatureBuilder(history_of(table, questions.cells, protocol), table.friends)
            features = builder.build([q.query for q in labelled])
            step("training")
            model = learner(seed).fit(features, labels_of(labelled))
            step("saving")
            model.save(out)
    except KithError as exc:
        raise _fail(exc.detail) from exc
    console.print(
        f"[green]Saved[/green] {model.kind} model to {out} "
        f"({len(labelled)} training questions, {len(features)} candidate rows)"
    )


@app.command()
def suggest(
    checkins: CheckinsOption,
    friendships: FriendshipsOption,
    venues: VenuesOption,
    user: Annotated[int, typer.Option(help="Whose friends to rank (a user id in the data).")],
    activity: Annotated[str, typer.Option(help="coffee, lunch, tennis ... or anything.")],
    at: Annotated[str, typer.Option(help="When, e.g. 2010-06-06T10:00 (UTC if no zone).")],
    model: Annotated[
        Path | None, typer.Option(help="Trained model; without it the baseline ranks.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many friends to show.", min=1, max=50)] = 10,
) -> None:
    """Rank a user's friends for an activity and a time, with reasons."""
    from zoneinfo import ZoneInfo

    from kith.partners.activities import parse_activity
    from kith.partners.explain import reasons
    from kith.partners.features import FeatureBuilder
    from kith.partners.history import History, Query
    from kith.partners.models.base import ModelUnavailable, PartnerModel, load_model
    from kith.partners.models.baselines import CoAttendance
    from kith.partners.protocol import Protocol

    try:
        wanted = parse_activity(activity)
        moment = _moment(at, "--at")
        table = _load(checkins, friendships, venues)
        friends = table.friends.get(user)
        if friends is None or len(friends) == 0:
            raise _fail(f"user {user} has no friends in {friendships}")
        tz = ZoneInfo(Protocol(cutoff=0).tz)
        history = History.from_arrays(
            table.user,
            table.time,
            table.cells(Protocol(cutoff=0).resolution),
            table.activity,
            tz=tz,
        ).before(int(moment.timestamp()))
        ranker: PartnerModel
        if model is None:
            ranker = CoAttendance()
            console.print("[yellow]No model given: ranking by past co-attendance.[/yellow]")
        else:
            try:
                ranker = load_model(model)
            except ModelUnavailable as exc:
                ranker = CoAttendance()
                console.print(f"[yellow]{exc.detail}; ranking by past co-attendance.[/yellow]")
        query = Query.at(user, moment, friends.tolist(), tz=tz, activity=wanted)
        features = FeatureBuilder(history, table.friends).build([query])
        scores = ranker.predict(features)
        explanations = ranker.explain(features)
    except KithError as exc:
        raise _fail(exc.detail) from exc
    table_out = Table(title=f"Who's up for {wanted.value}? ({moment:%A %Y-%m-%d %H:%M %Z})")
    table_out.add_column("friend", justify="right")
    table_out.add_column("score", justify="right")
    table_out.add_column("why")
    for row in sorted(range(len(scores)), key=lambda r: -scores[r])[:limit]:
        values = dict(zip(features.names, features.values[row].tolist(), strict=True))
        name = f"user {int(features.candidate[row])}"
        why = reasons(name, query, values, explanations[row]) or ["no evidence either way"]
        table_out.add_row(name, f"{scores[row]:.3f}", "; ".join(why))
    console.print(table_out)


@app.command()
def retrain(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the model (default: KITH_PARTNERS_MODEL, where the server looks).",
        ),
    ] = None,
    kind: Annotated[
        str, typer.Option(help="logistic (robust on few answers) or boosted.")
    ] = "logistic",
    min_questions: Annotated[
        int, typer.Option(help="Refuse to train on fewer answered invites.", min=1)
    ] = 20,
    as_of: Annotated[
        str | None, typer.Option(help="Use invites that started before this time (default: now).")
    ] = None,
) -> None:
    """Train on this instance's own invites and answers (yes / no) and save the model."""
    from kith.clock import utc_now
    from kith.config import get_settings
    from kith.partners.feedback import answered_questions
    from kith.partners.models.base import model_classes
    from kith.storage.engine import Database

    classes = model_classes()
    if kind not in ("logistic", "boosted"):
        raise _fail(f"--kind must be logistic or boosted, not {kind!r}")
    try:
        settings = get_settings()
    except ValueError as exc:
        raise _fail(f"configuration error: {exc}") from exc
    target = out or settings.partners_model  # where the server looks
    database = Database(settings)
    try:
        with _steps(3, quiet=False) as step, database.session() as db:
            step("building questions from answers")
            moment = _moment(as_of, "--as-of") if as_of else utc_now()
            data = answered_questions(db, now=moment)
            if data.questions < min_questions or len(set(data.labels.tolist())) < 2:
                raise _fail(
                    f"{data.questions} answered invites with both a yes and a no among them; "
                    f"need at least {min_questions} (see --min-questions)"
                )
            step("training")
            model = classes[kind]().fit(data.features, data.labels)
            step("saving")
            model.save(target)
    except KithError as exc:
        raise _fail(exc.detail) from exc
    finally:
        database.dispose()
    console.print(
        f"[green]Saved[/green] {model.kind} model to {target} "
        f"({data.questions} answered invites, {len(data.labels)} answers)"
    )


def eval_partners(
    checkins: CheckinsOption,
    friendships: FriendshipsOption,
    venues: VenuesOption,
    cutoff: Annotated[str, typer.Option(help="Train before this date, test from it on.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Also draw the results to this PNG.")] = None,
    resamples: Annotated[
        int, typer.Option(help="Bootstrap resamples for the intervals.", min=10, max=100_000)
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Train before the cutoff, rank friends at every meetup after it, report metrics."""
    from kith.partners.protocol import Protocol, run

    moment = _moment(cutoff, "--cutoff")
    try:
        with _steps(7, quiet=False) as step:
            step("reading check-ins")
            table = _load(checkins, friendships, venues)
            protocol = Protocol(cutoff=int(moment.timestamp()), resamples=resamples, seed=seed)
            report = run(table, protocol, progress=step).to_json()
    except KithError as exc:
        raise _fail(exc.detail) from exc
    report["protocol"]["cutoff"] = moment.isoformat()
    if plot is not None:
        from kith.partners.plot import plot_report

        plot_report(report, plot)
    if as_json:
        # Plain stdout: the JSON must stay parseable (no Rich wrapping or markup).
        typer.echo(json.dumps(report, indent=2))
        return
    _print_table(report)


def _print_table(report: dict[str, Any]) -> None:
    from kith.partners.evaluation import METRICS

    protocol = report["protocol"]
    table = Table(
        title=f"{protocol['test_events']} test meetups, {protocol['test_users']} users, "
        f"cutoff {protocol['cutoff']}"
    )
    table.add_column("model", no_wrap=True)
    for metric in METRICS:
        table.add_column(metric, justify="right")
    rows = {**report["models"], **report["reference"], **report["signals"]}
    for name, metrics in rows.items():
        cells = []
        for metric in METRICS:
            low, high = report["intervals"][name][metric]
            cells.append(f"{metrics[metric]:.3f} [{low:.2f}, {high:.2f}]")
        table.add_row(name, *cells)
    # Wide enough for every column even when piped (Rich assumes 80 then).
    console.print(table, width=max(console.width, 120))


def register(root: typer.Typer, eval_app: typer.Typer) -> None:
    """Add ``kith eval partners``."""
    eval_app.command("partners")(eval_partners)
