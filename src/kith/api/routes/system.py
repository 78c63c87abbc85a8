"""Health and problem-type descriptions."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from kith.accounts.schemas import HealthOut
from kith.api.deps import DB
from kith.api.errors import PROBLEM_DESCRIPTIONS
from kith.errors import NotFound

router = APIRouter(tags=["system"])


@router.get("/health")
def health(db: DB) -> HealthOut:
    db.execute(text("SELECT 1"))
    return HealthOut(status="ok", database="ok")


@router.get("/problems/{code}")
def describe_problem(code: str) -> dict[str, str]:
    description = PROBLEM_DESCRIPTIONS.get(code)
    if description is None:
        raise NotFound("no such problem type")
    return {"type": f"/api/v1/problems/{code}", "description": description}
