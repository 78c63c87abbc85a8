"""partners: "let my history help friends plan with me" is one setting

Until now two controls decided it: the partner setting ``history_helps`` (close
friends by default, all friends, or nobody) and the privacy page's switch
``consents.help_friends_plan`` (off by default), which widened "close friends" to all
friends; "nobody" always won. This keeps each person's effective choice and moves it
into the one setting: whoever had the switch on and the setting at "close" (or never
set) now helps all friends; "nobody" and "friends" stay as they were. Then the switch's
column goes, so nothing can read it again.

It needs the privacy branch's ``consents`` table, so it also merges that branch in
(``down_revision`` names both heads; a ``depends_on`` would hide ``0003_privacy`` from
the database's current heads). A later privacy revision may revise either this one or
``0003_privacy``.

Revision ID: 0006_partners_one_history
Revises: 0005_partners_history_versions, 0003_privacy
Create Date: 2026-11-22 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_partners_one_history"
down_revision: str | Sequence[str] | None = ("0005_partners_history_versions", "0003_privacy")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    on = {"on": True}
    bind.execute(
        sa.text(
            "UPDATE partner_settings SET history_helps = 'friends' "
            "WHERE history_helps = 'close' AND user_id IN "
            "(SELECT user_id FROM consents WHERE help_friends_plan = :on)"
        ),
        on,
    )
    bind.execute(
        sa.text(
            "INSERT INTO partner_settings (user_id, history_helps, updated_at) "
            "SELECT user_id, 'friends', updated_at FROM consents "
            "WHERE help_friends_plan = :on "
            "AND user_id NOT IN (SELECT user_id FROM partner_settings)"
        ),
        on,
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_column("help_friends_plan")


def downgrade() -> None:
    # The old switch comes back on for everyone whose history helps all friends: under
    # the old rules that gives every person the same effective choice as now.
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("help_friends_plan", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE consents SET help_friends_plan = :on WHERE user_id IN "
            "(SELECT user_id FROM partner_settings WHERE history_helps = 'friends')"
        ),
        {"on": True},
    )
