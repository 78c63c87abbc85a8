"""Draw the evaluation's results as a PNG (matplotlib, imported only here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_report(report: dict[str, Any], path: Path) -> None:
    """MRR and AUC of every model and the "no check-in yet" signal, with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [*report["models"], *report["signals"]]
    intervals = report["intervals"]
    values = {**report["models"], **report["signals"]}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
    for ax, metric in zip(axes, ("mrr", "auc"), strict=True):
        means = [values[n][metric] for n in names]
        lows = [means[i] - intervals[n][metric][0] for i, n in enumerate(names)]
        highs = [intervals[n][metric][1] - means[i] for i, n in enumerate(names)]
        colours = [
            "#2a6f97"
            if n.startswith("learned")
            else "#9a9a9a"
            if n in report["signals"]
            else "#e09f3e"
            for n in names
        ]
        ax.barh(names, means, xerr=[lows, highs], color=colours, capsize=3)
        ax.set_xlim(0.3, 0.8)
        if metric == "auc":
            ax.axvline(0.5, color="#cccccc", lw=0.8, ls="--")  # a coin flip
        ax.set_title(f"{metric.upper()} (tie-averaged, 95% CI over users)")
    axes[0].invert_yaxis()  # the y axis is shared: inverting it once flips both
    protocol = report["protocol"]
    fig.suptitle(
        f"Who's up for it? Gowalla NYC, {protocol['test_events']} test meetups after the cutoff"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
