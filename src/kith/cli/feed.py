"""``kith feed``, ``kith eval feed`` and ``kith simulate``: rankers, offline evaluation, simulator.

Thin edges: parse options, call :mod:`kith.feed.evaluation` or :mod:`kith.feed.simulate`,
render. numpy, implicit and matplotlib load inside the commands, so ``kith --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from kith.errors import KithError
from kith.feed.rankers.registry import RANKERS, ranker_names

app = typer.Typer(help="Feed rankers and the simulator.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)

POLICIES = ranker_names(user_facing_only=True)


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]Error:[/red] {message}")
    return typer.Exit(2)


@app.command("rankers")
def list_rankers() -> None:
    """List the rankers in the registry."""
    table = Table("name", "what it does", "scrolling", "offered to users")
    for spec in RANKERS.values():
        scrolling = "infinite" if spec.infinite_scroll else "pages of 20 + stopping cues"
        table.add_row(spec.name, spec.summary, scrolling, "yes" if spec.user_facing else "no")
    console.print(table)


def eval_feed(
    ratings: Annotated[Path, typer.Option(help="Ratings file (.parquet or .csv).")],
    items: Annotated[Path, typer.Option(help="Items file with genres (.parquet or .csv).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    seeds: Annotated[int, typer.Option(help="Random splits to average over.", min=1)] = 5,
    users: Annotated[
        int | None, typer.Option(help="Evaluate only the first N users (smoke runs).", min=1)
    ] = None,
    feedback_rounds: Annotated[
        int, typer.Option(help="Rounds of the feedback-loop run (0 skips it).", min=0)
    ] = 10,
    plot: Annotated[
        Path | None, typer.Option(help="Write the feedback-loop plot to this PNG.")
    ] = None,
) -> None:
    """Evaluate every ranker on ratings data (nDCG, recall, ILD, miscalibration, coverage, Gini)."""
    from kith.feed import evaluation
    from kith.feed.data import load_ratings

    try:
        data = load_ratings(ratings, items)
    except KithError as exc:
        raise _fail(exc.detail) from exc
    per_seed = []
    progress_console = err_console if as_json else console
    with Progress(console=progress_console, transient=True) as progress:
        n_users = data.n_users if users is None else min(users, data.n_users)
        task = progress.add_task("seeds", total=seeds * n_users)
        for seed in range(seeds):
            per_seed.append(
                evaluation.evaluate_seed(
                    data,
                    seed=seed,
                    users=users,
                    progress=lambda _: progress.advance(task),
                )
            )
            progress.update(task, completed=(seed + 1) * n_users)
        summary: dict[str, Any] = evaluation.summarize(per_seed)
        summary["targets"] = evaluation.check_targets(summary["rankers"])
        summary["protocol"] = {
            "positive": f"rating >= {evaluation.POSITIVE}",
            "holdout": evaluation.HOLDOUT,
            "k": evaluation.K,
            "seeds": list(range(seeds)),
            "users": n_users,
            "items": data.n_items,
            "spread": "standard deviation over seeds",
        }
        if feedback_rounds:
            loop_task = progress.add_task("feedback loop", total=feedback_rounds * 4)
            summary["feedback_loop"] = evaluation.feedback_loop(
                data,
                rounds=feedback_rounds,
                users=users,
                progress=lambda _: progress.advance(loop_task),
            )
    if plot is not None and feedback_rounds:
        from kith.feed.plots import plot_feedback_loop

        plot_feedback_loop(summary["feedback_loop"], plot)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    table = Table("ranker", *evaluation.METRICS)
    for name, metrics in summary["rankers"].items():
        spread = summary["spread"][name]
        table.add_row(name, *(f"{metrics[m]:.4f} ± {spread[m]:.4f}" for m in evaluation.METRICS))
    console.print(table)
    console.print(f"aligned targets: {summary['targets']}")
    if feedback_rounds:
        for name, loop in summary["feedback_loop"]["rankers"].items():
            console.print(
                f"feedback loop {name}: KL from stated mix after {feedback_rounds} rounds "
                f"{loop['final_kl_from_stated']:.4f}"
            )


def simulate_command(
    policy: Annotated[
        list[str],
        typer.Option(help=f"Ranker to simulate ({', '.join(POLICIES)}); repeat to compare."),
    ],
    users: Annotated[int, typer.Option(help="Simulated users.", min=2, max=5000)] = 100,
    days: Annotated[int, typer.Option(help="Simulated days.", min=1, max=365)] = 30,
    seed: Annotated[int, typer.Option(help="Random seed (same world for every policy).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write the plots to this PNG.")] = None,
) -> None:
    """Simulate users under each policy: high-arousal share, minutes, budget, homogenisation."""
    unknown = [p for p in policy if p not in POLICIES]
    if unknown:
        raise _fail(f"unknown policy {unknown[0]!r}; choose from {', '.join(POLICIES)}")
    if len(set(policy)) != len(policy):
        raise _fail("name each policy once")
    from kith.feed.simulate import simulate

    with Progress(console=err_console if as_json else console, transient=True) as progress:
        task = progress.add_task("simulating", total=days * len(policy))
        results = simulate(
            policy,
            users=users,
            days=days,
            seed=seed,
            progress=lambda _: progress.advance(task),
        )
    if plot is not None:
        from kith.feed.plots import plot_simulation

        plot_simulation(results, plot)
    output: dict[str, Any]
    if len(results) == 1:
        output = {"users": users, "days": days, "seed": seed, **next(iter(results.values()))}
    else:
        output = {"users": users, "days": days, "seed": seed, "policies": results}
    if as_json:
        typer.echo(json.dumps(output, indent=2))
        return
    table = Table(
        "policy",
        "high-arousal share (last week)",
        "minutes/day",
        "days over budget",
        "homogenisation",
        "entropy (bits)",
        "distance from goals",
        "interest shift",
    )
    for name, r in results.items():
        table.add_row(
            name,
            f"{r['high_arousal_share']:.3f}",
            f"{r['minutes_per_day']:.1f}",
            f"{r['days_over_budget']:.2f}",
            f"{r['homogenization']:.4f}",
            f"{r['topic_entropy_bits']:.3f}",
            f"{r['goal_distance']:.3f}",
            f"{r['preference_shift']:.3f}",
        )
    console.print(table)


def register(root: typer.Typer, eval_app: typer.Typer) -> None:
    """Add ``kith simulate`` and ``kith eval feed``."""
    root.command("simulate")(simulate_command)
    eval_app.command("feed")(eval_feed)
