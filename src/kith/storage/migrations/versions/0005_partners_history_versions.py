"""partners: a history version per user, the key of the suggestion history cache

Revision ID: 0005_partners_history_versions
Revises: 0004_partners_busy
Create Date: 2026-11-22 02:00:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_partners_history_versions"
down_revision: str | None = "0004_partners_busy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    versions = op.create_table(
        "partner_history_versions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_partner_history_versions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_partner_history_versions")),
    )
    # Everyone who already has events gets a version, so "no row" keeps meaning "none".
    owners = op.get_bind().execute(sa.text("SELECT DISTINCT user_id FROM partner_events"))
    rows = [{"user_id": owner, "version": uuid.uuid4().hex} for (owner,) in owners]
    if rows:
        op.bulk_insert(versions, rows)


def downgrade() -> None:
    op.drop_table("partner_history_versions")
