"""SQLite: participants stored by their key (WITHOUT ROWID), so the file keeps no join order

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 15:40:00

"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _recreate(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    # The copy goes in primary-key order (session, keyed hash), not in the order people joined.
    with op.batch_alter_table('participant', recreate='always', table_kwargs={'sqlite_with_rowid': with_rowid}):
        pass


def upgrade():
    _recreate(with_rowid=False)


def downgrade():
    _recreate(with_rowid=True)
