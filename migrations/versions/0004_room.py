"""the room: text on screen per step, contributions per step, join code size on the projector

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 12:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deliberation_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pin_contributions', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('show_join', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('session_step', schema=None) as batch_op:
        batch_op.add_column(sa.Column('screen_text', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('screen_shown', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('contribution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_position', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('contribution', schema=None) as batch_op:
        batch_op.drop_column('released_position')
    with op.batch_alter_table('session_step', schema=None) as batch_op:
        batch_op.drop_column('screen_shown')
        batch_op.drop_column('screen_text')
    with op.batch_alter_table('deliberation_session', schema=None) as batch_op:
        batch_op.drop_column('show_join')
        batch_op.drop_column('pin_contributions')
