"""``kith integrity``: find coordinated behaviour, list the cases, write a report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kith.errors import KithError

app = typer.Typer(help="integrity commands.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


def _progress(*, transient: bool) -> Progress:
    """A progress bar on stderr; ``transient`` when stdout carries JSON."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=transient,
    )


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[red]Error:[/red] {message}")
    return typer.Exit(code)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def detect(ctx: typer.Context) -> None:
    """Build a coordination network, its evidence and ranked cases (--help: the options)."""
    from kith.cli.integrity_detect import main

    code = main(ctx.args)
    if code:
        raise typer.Exit(code)


@app.command()
def cases(
    out: Annotated[Path, typer.Option(help="The folder `kith integrity detect` wrote.")],
    top: Annotated[int, typer.Option(help="How many cases to list.", min=1)] = 20,
    case_id: Annotated[str | None, typer.Option("--case", help="Show one case in full.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the ranked cases of a detection run, or show one with its evidence."""
    from kith.integrity.pipeline import read_cases
    from kith.integrity.report import case_evidence

    try:
        found = read_cases(out)
    except KithError as exc:
        raise _fail(exc.detail) from exc
    if case_id is not None:
        match = [c for c in found if c.case_id == case_id]
        if not match:
            raise _fail(f"no case {case_id} in {out}")
        case = match[0]
        evidence = case_evidence(out, case, limit=50)
        if as_json:
            console.print_json(json.dumps({**case.to_json(), "evidence": evidence}))
            return
        console.print(f"[bold]{case.case_id}[/bold] rank {case.rank}, score {case.score:.1f}")
        console.print("Accounts: " + ", ".join(case.accounts))
        for obj in case.shared_objects:
            console.print(
                f"  shared {obj.object[:80]!r}: {obj.messages} messages, {obj.accounts} accounts"
            )
        for row in evidence[:20]:
            console.print(
                f"  {row['user_1']} ({row['ts_1']:.0f}) ~ {row['user_2']} ({row['ts_2']:.0f}): "
                f"{(row['text_1'] or '')[:70]!r}"
            )
        return
    if as_json:
        console.print_json(json.dumps([c.to_json() for c in found[:top]]))
        return
    table = Table(title=f"Cases in {out}")
    for column in ("rank", "case", "accounts", "matched", "coactive", "synchrony", "score"):
        table.add_column(column, no_wrap=column == "case")
    for c in found[:top]:
        table.add_row(
            str(c.rank),
            c.case_id,
            str(c.size),
            str(c.matched_messages),
            str(c.coactive_messages),
            f"{c.synchrony:.2f}",
            f"{c.score:.1f}",
        )
    console.print(table)


@app.command()
def report(
    out: Annotated[Path, typer.Option(help="The folder `kith integrity detect` wrote.")],
    html: Annotated[
        Path | None, typer.Option(help="Where to write (default OUT/report.html).")
    ] = None,
    top: Annotated[int, typer.Option(help="How many cases to show.", min=1)] = 10,
) -> None:
    """Write an HTML report with network and timeline plots of the top cases."""
    from kith.integrity.report import write_report

    target = html or out / "report.html"
    try:
        with console.status("Drawing the report"):
            write_report(out, target, top=top)
    except KithError as exc:
        raise _fail(exc.detail) from exc
    console.print(f"[green]Report written[/green] to {target}")


# --- the review queue: kith's own posts ------------------------------------------------

moderator_app = typer.Typer(help="Grant or revoke the moderator role.", no_args_is_help=True)
app.add_typer(moderator_app, name="moderator")


@contextmanager
def _database() -> Iterator[Any]:
    """A migrated database from the environment's settings, or a readable error."""
    from kith.config import get_settings
    from kith.storage.engine import Database
    from kith.storage.migrate import upgrade

    try:
        settings = get_settings()
    except ValueError as exc:
        raise _fail(f"configuration: {exc}") from exc
    upgrade(settings)
    database = Database(settings)
    try:
        yield database
    finally:
        database.dispose()


@moderator_app.command("add")
def moderator_add(
    username: Annotated[str, typer.Argument(help="Who becomes a moderator.")],
) -> None:
    """Let USERNAME open the review queue and decide cases."""
    from kith.clock import utc_now
    from kith.integrity.actions import do_grant_moderator

    with _database() as database, database.session() as db:
        try:
            user = do_grant_moderator(db, username, now=utc_now())
        except KithError as exc:
            raise _fail(exc.detail, 1) from exc
    console.print(f"[green]{user.username} is a moderator[/green]")


@moderator_app.command("remove")
def moderator_remove(
    username: Annotated[str, typer.Argument(help="Who stops moderating.")],
) -> None:
    """Take the moderator role away from USERNAME."""
    from kith.integrity.actions import do_revoke_moderator

    with _database() as database, database.session() as db:
        try:
            user = do_revoke_moderator(db, username)
        except KithError as exc:
            raise _fail(exc.detail, 1) from exc
    console.print(f"{user.username} is no longer a moderator")


@app.command()
def scan(
    networks: Annotated[
        list[str] | None,
        typer.Option("--network", help="Repeat for several (default: co_tweet and co_link)."),
    ] = None,
    window: Annotated[float, typer.Option(help="Seconds either side that count as together.")] = 60,
    lookback_days: Annotated[int, typer.Option(help="Scan posts this recent.", min=1)] = 30,
    min_matched: Annotated[
        int, typer.Option(help="Matched posts a group needs to become a case.", min=1)
    ] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Run detection on kith's own posts and open cases in the moderator queue.

    Safe to repeat: a group found again updates its case instead of opening another.
    Nothing is enforced until a moderator decides."""
    from dataclasses import asdict

    from kith.clock import utc_now
    from kith.integrity.actions import ScanConfig, do_scan_posts

    try:
        config = ScanConfig(
            networks=tuple(networks or ScanConfig.networks),
            window=window,
            lookback_days=lookback_days,
            min_matched_messages=min_matched,
        )
    except KithError as exc:
        raise _fail(exc.detail) from exc
    progress = _progress(transient=as_json)
    with _database() as database, database.session() as db, progress:
        task = progress.add_task("exporting posts", total=None)

        def on_progress(what: str, done: int, total: int) -> None:
            progress.update(task, description=what, completed=done, total=total)

        try:
            result = do_scan_posts(db, config, now=utc_now(), on_progress=on_progress)
        except KithError as exc:
            raise _fail(exc.detail) from exc
    if as_json:
        typer.echo(json.dumps(asdict(result)))
        return
    console.print(
        f"Scanned {result.posts:,} posts: {result.cases_found} cases, {result.opened} new, "
        f"{result.updated} with new evidence, {result.unchanged} unchanged"
    )


REPO_ROOT = Path(__file__).resolve().parents[3]


def eval_integrity(
    data: Annotated[
        Path | None,
        typer.Option(
            help="CooRTweet's german_elections.parquet (default: the shared data folder)."
        ),
    ] = None,
    seeds: Annotated[str, typer.Option(help="Comma-separated planting seeds.")] = "0,1,2",
    top: Annotated[str, typer.Option(help="Comma-separated top-k cut-offs.")] = "10,20,50",
    groups: Annotated[int, typer.Option(help="Planted groups per seed.", min=1, max=200)] = 10,
    window: Annotated[float, typer.Option(help="co_link window in seconds.")] = 60,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Plant coordinated groups in real German-election posts; are they the top cases?"""
    import tempfile

    from kith.integrity.datasets import GERMAN_ELECTIONS, shared_data_dir
    from kith.integrity.planted import evaluate_planted, planted_steps

    try:
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
        top_list = [int(k) for k in top.split(",") if k.strip()]
    except ValueError as exc:
        raise _fail("--seeds and --top are comma-separated whole numbers") from exc
    if not seed_list or not top_list or min(top_list) < 1:
        raise _fail("give at least one seed and top-k values of at least 1")
    source = data or shared_data_dir(REPO_ROOT) / GERMAN_ELECTIONS
    if not source.exists():
        raise _fail(f"no data at {source} (pass --data or set KITH_SHARED_DATA)")
    progress = _progress(transient=as_json)
    with progress, tempfile.TemporaryDirectory(prefix="kith-eval-") as tmp:
        task = progress.add_task("reading posts", total=planted_steps(seed_list))
        try:
            report = evaluate_planted(
                source,
                Path(tmp),
                seeds=seed_list,
                top_ks=top_list,
                groups=groups,
                window=window,
                on_step=lambda what: progress.update(task, advance=1, description=what),
            )
        except KithError as exc:
            raise _fail(exc.detail) from exc
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    table = Table(
        title=f"{groups} planted groups in {report['posts']:,} posts "
        f"({report['cases_before_planting']} cases before planting), co_link {window:g} s"
    )
    for column in (
        "top k",
        "precision (strict)",
        "recall (strict)",
        "precision (new)",
        "recall (new)",
    ):
        table.add_column(column, justify="right")
    for k in top_list:
        runs = [report["seeds"][str(s)][str(k)] for s in seed_list]

        def cell(kind: str, metric: str, runs: list[dict[str, Any]] = runs) -> str:
            return " / ".join(f"{run[kind][metric]:.2f}" for run in runs)

        table.add_row(
            str(k),
            cell("strict", "precision"),
            cell("strict", "recall"),
            cell("new_cases", "precision"),
            cell("new_cases", "recall"),
        )
    console.print(table, width=max(console.width, 130))
    console.print(f"Seeds {', '.join(map(str, seed_list))} (one value per seed in each cell).")


def register(root: typer.Typer, eval_app: typer.Typer) -> None:
    """Add ``kith eval integrity`` (the planted-campaign evaluation)."""
    eval_app.command("integrity")(eval_integrity)
