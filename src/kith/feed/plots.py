"""PNG plots of simulator and feedback-loop results (matplotlib, headless)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

POLICY_COLOURS = {
    "engagement": "#d1495b",
    "aligned": "#00798c",
    "chronological": "#edae49",
    "als": "#66a182",
}


def plot_simulation(results: Mapping[str, Mapping[str, Any]], path: Path) -> None:
    """Four panels: high-arousal share by day, minutes by day, last-week mix, goal distance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    first = next(iter(results.values()))
    topic = first["high_arousal_topic"]
    ax = axes[0][0]
    for policy, result in results.items():
        share = result["topic_share_by_day"][topic]
        ax.plot(range(1, len(share) + 1), share, label=policy, color=POLICY_COLOURS.get(policy))
    ax.axhline(first["stated_mix"][topic], color="grey", linestyle="--", label="stated goal")
    ax.set(title=f'Share of consumption: "{topic}" (high arousal)', xlabel="day", ylim=(0, 1))
    ax.legend()
    ax = axes[0][1]
    for policy, result in results.items():
        mins = result["minutes_by_day"]
        ax.plot(range(1, len(mins) + 1), mins, label=policy, color=POLICY_COLOURS.get(policy))
    ax.set(title="Minutes per user per day", xlabel="day", ylim=(0, None))
    ax.legend()
    ax = axes[1][0]
    topics = list(first["stated_mix"])
    width = 0.8 / (len(results) + 1)
    xs = range(len(topics))
    ax.bar(
        [x - 0.4 + width / 2 for x in xs],
        [first["stated_mix"][t] for t in topics],
        width,
        label="stated goals",
        color="grey",
    )
    for i, (policy, result) in enumerate(results.items(), start=1):
        ax.bar(
            [x - 0.4 + width / 2 + i * width for x in xs],
            [result["consumed_mix_last_week"][t] for t in topics],
            width,
            label=policy,
            color=POLICY_COLOURS.get(policy),
        )
    ax.set_xticks(list(xs), topics, rotation=30)
    ax.set(title="Topic mix consumed in the last week vs stated goals")
    ax.legend()
    ax = axes[1][1]
    names = list(results)
    metrics = ("goal_distance", "preference_shift", "homogenization")
    width = 0.8 / len(names)
    for i, policy in enumerate(names):
        ax.bar(
            [m + i * width for m in range(len(metrics))],
            [results[policy][k] for k in metrics],
            width,
            label=policy,
            color=POLICY_COLOURS.get(policy),
        )
    ax.set_xticks(
        [m + 0.4 - width / 2 for m in range(len(metrics))],
        ["distance from goals", "interest shift", "homogenisation"],
    )
    ax.set(title="Where users ended up (0 = unchanged / identical to goals)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_feedback_loop(loop: Mapping[str, Any], path: Path) -> None:
    """KL(stated mix || consumed mix) by round, one line per ranker."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, result in loop["rankers"].items():
        kl = result["kl_from_stated_by_round"]
        ax.plot(range(1, len(kl) + 1), kl, marker="o", label=name, color=POLICY_COLOURS.get(name))
    ax.set(
        title="Feedback loop on MovieLens: consumption vs the stated genre mix",
        xlabel="round (refit, serve 10, consume)",
        ylabel="KL(stated || consumed)",
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
