"""teams: a team's sessions form a series; action points get a follow-up (the Terugblik)

- team: a facilitator's own group, with the level it works at and the secret of its calendar feed;
- deliberation_session: team_id (the series it belongs to) and scheduled_for (the planned day);
- action_point: follow_up (open, done, in_progress, dropped, carried), its note, the day it was
  done, when it was looked back on, and carried_from_id (the point a carried-over point continues).

The columns are added in place (ALTER TABLE ... ADD COLUMN), never in Alembic's batch mode: on
SQLite that copies a table, and dropping the old deliberation_session with foreign keys on would
delete every row that cascades from it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _add_reference(table: str, column: str, target: str) -> None:
    """A nullable column referring to target.id, set to NULL when that row goes. SQLite can add such
    a column in place (Alembic only refuses to render the constraint there), so it is spelled out."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES {target} (id) ON DELETE SET NULL"
        )
        return
    op.add_column(table, sa.Column(column, sa.Integer(), sa.ForeignKey(f"{target}.id", ondelete="SET NULL")))


def upgrade():
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("level", sa.String(40), nullable=False, server_default=""),
        sa.Column("calendar_token", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_team_owner_id", "team", ["owner_id"])
    _add_reference("deliberation_session", "team_id", "team")
    op.add_column("deliberation_session", sa.Column("scheduled_for", sa.Date(), nullable=True))
    op.create_index("ix_deliberation_session_team_id", "deliberation_session", ["team_id"])
    op.add_column(
        "action_point", sa.Column("follow_up", sa.String(12), nullable=False, server_default="open")
    )
    op.add_column("action_point", sa.Column("follow_up_note", sa.Text(), nullable=False, server_default=""))
    op.add_column("action_point", sa.Column("done_on", sa.Date(), nullable=True))
    op.add_column("action_point", sa.Column("reviewed_at", sa.DateTime(), nullable=True))
    _add_reference("action_point", "carried_from_id", "action_point")
    op.create_index("ix_action_point_carried_from_id", "action_point", ["carried_from_id"])


def downgrade():
    op.drop_index("ix_action_point_carried_from_id", "action_point")
    for column in ("carried_from_id", "reviewed_at", "done_on", "follow_up_note", "follow_up"):
        op.drop_column("action_point", column)
    op.drop_index("ix_deliberation_session_team_id", "deliberation_session")
    op.drop_column("deliberation_session", "scheduled_for")
    op.drop_column("deliberation_session", "team_id")
    op.drop_index("ix_team_owner_id", "team")
    op.drop_table("team")
