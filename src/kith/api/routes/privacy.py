"""Your data: ledger, consent, export and deletion (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["privacy"])
