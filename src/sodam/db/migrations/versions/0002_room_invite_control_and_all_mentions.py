"""room invite control and unread mentions of all

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chat_rooms") as batch:
        batch.add_column(
            sa.Column(
                "members_can_invite", sa.Boolean(), server_default=sa.text("true"), nullable=False
            )
        )
    op.create_index(
        "ix_messages_room_id_seq_mentions_all",
        "messages",
        ["room_id", "seq"],
        unique=False,
        postgresql_where=sa.text("mentions_all"),
        sqlite_where=sa.text("mentions_all"),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_room_id_seq_mentions_all", table_name="messages")
    with op.batch_alter_table("chat_rooms") as batch:
        batch.drop_column("members_can_invite")
