"""dilemma: the protagonist's name and a short version (game cards, projector)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 18:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dilemma') as batch:
        batch.add_column(sa.Column('protagonist', sa.String(length=60), nullable=False, server_default=''))
        batch.add_column(sa.Column('short', sa.Text(), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('dilemma') as batch:
        batch.drop_column('short')
        batch.drop_column('protagonist')
