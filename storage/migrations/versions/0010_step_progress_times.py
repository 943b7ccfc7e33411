"""when a run's current step began and when its first records were done, so the time left follows the step's pace

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 13:35:00
"""
from alembic import op
import sqlalchemy as sa

import storage.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('step_started_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('step_first_done_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('step_first_done', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_column('step_first_done')
        batch_op.drop_column('step_first_done_at')
        batch_op.drop_column('step_started_at')
