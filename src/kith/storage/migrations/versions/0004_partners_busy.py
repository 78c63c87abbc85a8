"""partners: busy intervals from imported calendars (free/busy only, no titles)

Revision ID: 0004_partners_busy
Revises: 0003_partners
Create Date: 2026-11-22 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kith.storage.base

revision: str = "0004_partners_busy"
down_revision: str | None = "0003_partners"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_busy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", kith.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", kith.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kith.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_partner_busy_positive")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_partner_busy_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_busy")),
    )
    with op.batch_alter_table("partner_busy", schema=None) as batch_op:
        batch_op.create_index(
            "ix_partner_busy_user_id_starts_at", ["user_id", "starts_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_partner_busy_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("partner_busy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_busy_expires_at"))
        batch_op.drop_index("ix_partner_busy_user_id_starts_at")
    op.drop_table("partner_busy")
