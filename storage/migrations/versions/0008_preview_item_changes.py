"""a preview's field diffs on its run items (old -> new per field of what an import would update)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 11:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sync_run_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changes', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_run_item', schema=None) as batch_op:
        batch_op.drop_column('changes')
