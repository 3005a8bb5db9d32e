"""deliberation_session: archived_at, set when its owner (or an admin) takes it off the sessions list

Archiving only hides a session from the default list; it is not the retention purge (purged_at).

Both directions alter the table in place (ALTER TABLE ... ADD / DROP COLUMN; SQLite 3.35 or later),
not in Alembic's batch mode: on SQLite that copies the table for a dropped column, and with foreign
keys on, dropping the old deliberation_session would delete every row that cascades from it (steps,
polls, answers, participants ...).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("deliberation_session", sa.Column("archived_at", sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column("deliberation_session", "archived_at")
