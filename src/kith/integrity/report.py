"""Reading a finished run back: a case's evidence, and the HTML report.

The report is one self-contained HTML file (plots embedded as PNG) that a reviewer
can open offline: the run's summary, then for each top case its accounts, shared
objects, a network drawing, a timeline of the matched messages, and the evidence
message pairs.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kith.integrity.cases import Case
from kith.integrity.pipeline import read_cases, read_summary


def case_evidence(out_dir: Path, case: Case, *, limit: int = 100) -> list[dict[str, Any]]:
    """The evidence pairs between members of ``case``, earliest first."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    members = list(case.accounts)
    table = pq.read_table(out_dir / "evidence.parquet")
    mask = pc.and_(
        pc.is_in(table.column("user_1"), value_set=_strings(members)),
        pc.is_in(table.column("user_2"), value_set=_strings(members)),
    )
    rows = table.filter(mask).sort_by([("ts_1", "ascending"), ("ts_2", "ascending")])
    result: list[dict[str, Any]] = rows.slice(0, limit).to_pylist()
    return result


def _strings(values: list[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, pa.string())


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _network_plot(out_dir: Path, case: Case) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx  # type: ignore[import-untyped]
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    edges = pq.read_table(out_dir / "edges.parquet")
    members = _strings(list(case.accounts))
    inner = edges.filter(
        pc.and_(
            pc.is_in(edges.column("user_1"), value_set=members),
            pc.is_in(edges.column("user_2"), value_set=members),
        )
    )
    graph = nx.Graph()
    graph.add_nodes_from(case.accounts)
    for row in inner.to_pylist():
        old = graph.get_edge_data(row["user_1"], row["user_2"], {"weight": 0})["weight"]
        graph.add_edge(row["user_1"], row["user_2"], weight=old + row["weight"])
    fig, ax = plt.subplots(figsize=(5, 4))
    layout = nx.spring_layout(graph, seed=0, weight="weight")
    widths = [0.5 + min(4.0, d["weight"] / 4) for _, _, d in graph.edges(data=True)]
    nx.draw_networkx_edges(graph, layout, ax=ax, width=widths, alpha=0.5)
    nx.draw_networkx_nodes(graph, layout, ax=ax, node_size=120, node_color="#c0392b")
    if case.size <= 25:
        nx.draw_networkx_labels(graph, layout, ax=ax, font_size=7)
    ax.set_axis_off()
    ax.set_title(f"{case.size} accounts, {case.edges} links")
    encoded = _png(fig)
    plt.close(fig)
    return encoded


def _timeline_plot(evidence: list[dict[str, Any]], case: Case) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = {account: i for i, account in enumerate(case.accounts)}
    xs: list[float] = []  # matplotlib date numbers: days since 1970-01-01 UTC
    ys: list[int] = []
    for row in evidence:
        for side in ("1", "2"):
            xs.append(float(row[f"ts_{side}"]) / 86400.0)
            ys.append(order[row[f"user_{side}"]])
    fig, ax = plt.subplots(figsize=(7, 0.6 + 0.22 * max(case.size, 4)))
    ax.scatter(xs, ys, s=10, color="#2c3e50", alpha=0.7)
    if case.size <= 30:
        ax.set_yticks(range(case.size), list(case.accounts), fontsize=6)
    ax.xaxis_date()
    ax.set_xlabel("time (UTC)")
    ax.set_title("matched messages (evidence sample)")
    fig.autofmt_xdate()
    encoded = _png(fig)
    plt.close(fig)
    return encoded


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def write_report(out_dir: Path, target: Path, *, top: int = 10) -> None:
    """Write the HTML report for the run in ``out_dir`` to ``target``."""
    summary = read_summary(out_dir)
    cases = read_cases(out_dir)[:top]
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>kith integrity: {esc(summary['network'])}</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px}"
        "section{border-top:2px solid #333;margin-top:2em}</style></head><body>",
        f"<h1>Coordination report: {esc(summary['network'])}, window {summary['window']:g} s</h1>",
        "<p>Findings are ranked for human review; none is proof on its own.</p>",
        "<table>",
    ]
    rows = summary["rows"]
    facts = {
        "input": summary.get("input", ""),
        "rows read / used": f"{rows['read']:,} / {rows['valid']:,}",
        "rejected rows": ", ".join(f"{k}: {v}" for k, v in rows["rejects"].items()) or "none",
        "edges": f"{summary['edges']:,}",
        "accounts in edges": f"{summary['accounts']:,}",
        "objects left out (too many accounts)": f"{summary['capped_objects']:,}",
        "cases": f"{summary['cases']:,}",
    }
    parts += [f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in facts.items()]
    parts.append("</table>")
    for case in cases:
        evidence = case_evidence(out_dir, case, limit=500)
        parts += [
            f"<section id='{esc(case.case_id)}'><h2>#{case.rank} {esc(case.case_id)}</h2>",
            f"<p>score {case.score:.1f}; {case.size} accounts; {case.matched_messages} matched "
            f"of {case.coactive_messages} co-active messages (synchrony {case.synchrony:.2f}); "
            f"{_when(case.first_ts)} to {_when(case.last_ts)} UTC</p>",
            "<p>Accounts: " + esc(", ".join(case.accounts)) + "</p>",
            "<table><tr><th>shared object</th><th>messages</th><th>accounts</th></tr>",
        ]
        parts += [
            f"<tr><td>{esc(o.object[:200])}</td><td>{o.messages}</td><td>{o.accounts}</td></tr>"
            for o in case.shared_objects
        ]
        parts.append("</table>")
        parts.append(
            f"<img alt='network' src='data:image/png;base64,{_network_plot(out_dir, case)}'>"
        )
        if evidence:
            timeline = _timeline_plot(evidence, case)
            parts.append(f"<img alt='timeline' src='data:image/png;base64,{timeline}'>")
        parts.append(
            "<table><tr><th>account</th><th>time</th><th>text</th>"
            "<th>account</th><th>time</th><th>text</th></tr>"
        )
        for row in evidence[:15]:
            parts.append(
                f"<tr><td>{esc(row['user_1'])}</td><td>{_when(row['ts_1'])}</td>"
                f"<td>{esc((row['text_1'] or '')[:140])}</td><td>{esc(row['user_2'])}</td>"
                f"<td>{_when(row['ts_2'])}</td><td>{esc((row['text_2'] or '')[:140])}</td></tr>"
            )
        parts.append("</table></section>")
    parts.append("</body></html>")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(parts), encoding="utf-8")
