"""a payment routing rule deposits to an undeposited funds G/L account or to a bank account

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 12:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payment_routing_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deposit_kind', sa.String(), nullable=False, server_default='gl_account'))


def downgrade() -> None:
    with op.batch_alter_table('payment_routing_rule', schema=None) as batch_op:
        batch_op.drop_column('deposit_kind')
