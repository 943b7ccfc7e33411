"""indexes for large ledgers: pages read one page of rows at a time and aggregate in SQL (issue 10)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:40:00
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_customer_intacct_customer_id", "customer", ["intacct_customer_id"]),
    ("ix_invoice_date_id", "invoice", ["invoice_date", "id"]),
    ("ix_record_version_run_version", "record_version", ["run_id", "version"]),
    ("ix_sync_run_item_run_record", "sync_run_item", ["run_id", "record_type", "record_id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
