"""deliberation_session: dilemma_slugs, the slugs of its dilemmas, for the insights' theme counts

Counting themes read every session's whole dilemma snapshot (cases included) and took most of the
insights' time on PostgreSQL. The slugs are copied from the snapshots of the sessions made before
this revision. The column is added in place (never Alembic's batch mode on this table: on SQLite
that copies it, and dropping the old one with foreign keys on would delete what cascades from it).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "deliberation_session", sa.Column("dilemma_slugs", sa.JSON(), nullable=False, server_default="[]")
    )
    session = sa.table(
        "deliberation_session", sa.column("id", sa.Integer()), sa.column("dilemmas_snapshot", sa.JSON()),
        sa.column("dilemma_slugs", sa.JSON()),
    )  # fmt: skip
    connection = op.get_bind()
    rows = connection.execute(sa.select(session.c.id, session.c.dilemmas_snapshot)).all()
    for session_id, snapshot in rows:
        slugs = [d.get("slug") for d in snapshot or [] if isinstance(d, dict) and d.get("slug")]
        if slugs:
            connection.execute(
                sa.update(session).where(session.c.id == session_id).values(dilemma_slugs=slugs)
            )


def downgrade():
    op.drop_column("deliberation_session", "dilemma_slugs")
