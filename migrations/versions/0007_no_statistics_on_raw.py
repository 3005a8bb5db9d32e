"""PostgreSQL: never sample participants' texts, values and keys into pg_statistic

ANALYZE, and autovacuum's automatic ANALYZE, copy sample values of every column into pg_statistic
(most common values, histogram bounds). Those samples outlive the rows: deleting every row and
analysing again leaves them. With statistics target 0 a column is never sampled. Changing a
column to the type it already has drops its samples (without rewriting the table), and VACUUM FULL
pg_statistic rewrites the catalog's file, in which the dropped rows otherwise stay (allowed to the
database's owner or a superuser; PostgreSQL skips it with a warning for anyone else).
SQLite: nothing to do (beraad never runs ANALYZE there).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 16:00:00

"""
from alembic import op
from sqlalchemy import text

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The same list as beraad.summary.retention.UNSAMPLED_COLUMNS (which purge checks), kept here as
# it was at this revision.
COLUMNS = (
    ('answer', 'value'), ('answer', 'voter_key'), ('contribution', 'text'), ('contribution', 'text_hash'),
    ('evaluation_answer', 'value'), ('evaluation_answer', 'voter_key'), ('participant', 'participant_key'),
    ('deliberation_session', 'secret'),
)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    for table, column in COLUMNS:
        column_type = bind.scalar(
            text(
                'SELECT format_type(atttypid, atttypmod) FROM pg_attribute'
                ' WHERE attrelid = CAST(:table AS regclass) AND attname = :column'
            ),
            {'table': table, 'column': column},
        )
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS 0')
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE {column_type}')  # drops its samples
    with op.get_context().autocommit_block():  # VACUUM cannot run inside a transaction
        op.execute('VACUUM FULL pg_statistic')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, column in COLUMNS:
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS -1')
