"""SQLite: answers, evaluation answers and contributions stored by their random id (WITHOUT ROWID)

A rowid table keeps a hidden counter in arrival order; a dump or a raw read of the file follows it.
PostgreSQL has no such option: its rows are rewritten in random order when a vote closes instead
(beraad/vote/scatter.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 14:00:00

"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = ('answer', 'evaluation_answer', 'contribution')


def _recreate(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        # The copy goes in primary-key order: the random ids, not the arrival order.
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_with_rowid': with_rowid}):
            pass


def upgrade():
    _recreate(with_rowid=False)


def downgrade():
    _recreate(with_rowid=True)
