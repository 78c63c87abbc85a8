"""Find accounts acting in lockstep, with the evidence a reviewer needs.

``detect`` runs one coordination network (co_tweet, co_retweet, co_link ...) over a
messages file on DuckDB (default) or Spark and writes edges, evidence and ranked
cases. Findings are for human review, never automatic enforcement.
"""

from __future__ import annotations

from kith.integrity.cases import Case, SharedObject
from kith.integrity.networks import NETWORKS, DetectConfig, EngineName, Network
from kith.integrity.pipeline import DetectResult, detect, read_cases, read_summary
from kith.integrity.schema import InputFormat, LoadReport

__all__ = [
    "NETWORKS",
    "Case",
    "DetectConfig",
    "DetectResult",
    "EngineName",
    "InputFormat",
    "LoadReport",
    "Network",
    "SharedObject",
    "detect",
    "read_cases",
    "read_summary",
]
