"""poll: at most one open vote per session, enforced by the database (a partial unique index)

Two facilitator clicks reaching two app servers at the same moment each closed the open votes they
saw and opened their own; both stayed open. The index makes the second one fail, and the app says
so. Should a database already hold two open votes of one session, the upgrade closes all but the
one furthest along in the session, wiping their voter keys as closing a vote does, before it
makes the index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 19:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    superseded = (
        "SELECT earlier.id FROM poll AS earlier WHERE earlier.status = 'open' AND EXISTS ("
        " SELECT 1 FROM poll AS later WHERE later.session_id = earlier.session_id"
        " AND later.status = 'open' AND later.position > earlier.position)"
    )
    op.execute(f"UPDATE answer SET voter_key = NULL WHERE poll_id IN ({superseded})")
    op.execute(f"UPDATE poll SET status = 'closed' WHERE id IN ({superseded})")
    op.create_index(
        'uq_poll_one_open_per_session', 'poll', ['session_id'], unique=True,
        sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"),
    )


def downgrade():
    op.drop_index('uq_poll_one_open_per_session', table_name='poll')
