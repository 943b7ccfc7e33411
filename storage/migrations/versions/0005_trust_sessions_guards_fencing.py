"""trust: sign-in guard rows, server-side console sessions, one active run per kind, lease fencing tokens

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_ACTIVE = "status IN ('queued', 'running')"


def upgrade() -> None:
    op.create_table('sign_in_guard',
    sa.Column('username_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('last_attempt_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('username_key')
    )
    with op.batch_alter_table('sign_in_guard', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_guard_last_attempt_at'), ['last_attempt_at'], unique=False)

    op.create_table('console_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('console_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_session_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('sync_lease', schema=None) as batch_op:
        batch_op.add_column(sa.Column('generation', sa.Integer(), server_default='0', nullable=False))

    # Databases from before the unique index may hold several active runs of one kind (simultaneous clicks):
    # keep the oldest of each and cancel the others, saying why, so the index can be built.
    runs = sa.table("sync_run", sa.column("id", sa.Integer), sa.column("connection_id", sa.Integer),
                    sa.column("kind", sa.String), sa.column("status", sa.String),
                    sa.column("error_message", sa.Text))
    connection = op.get_bind()
    kept: set[tuple[int, str]] = set()
    duplicates = []
    for row in connection.execute(sa.select(runs.c.id, runs.c.connection_id, runs.c.kind)
                                  .where(runs.c.status.in_(["queued", "running"])).order_by(runs.c.id)):
        if (row.connection_id, row.kind) in kept:
            duplicates.append(row.id)
        kept.add((row.connection_id, row.kind))
    for status, verdict in (("queued", "cancelled"), ("running", "abandoned")):
        if duplicates:
            connection.execute(runs.update().where(runs.c.id.in_(duplicates), runs.c.status == status).values(
                status=verdict, error_message="A duplicate of a run queued at the same time: not run."))

    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_generation', sa.Integer(), nullable=True))
        batch_op.create_index('uq_sync_run_one_active', ['connection_id', 'kind'], unique=True,
                              sqlite_where=sa.text(_ACTIVE), postgresql_where=sa.text(_ACTIVE))


def downgrade() -> None:
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_index('uq_sync_run_one_active', sqlite_where=sa.text(_ACTIVE),
                            postgresql_where=sa.text(_ACTIVE))
        batch_op.drop_column('lease_generation')

    with op.batch_alter_table('sync_lease', schema=None) as batch_op:
        batch_op.drop_column('generation')

    with op.batch_alter_table('console_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_session_user_id'))

    op.drop_table('console_session')
    with op.batch_alter_table('sign_in_guard', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_guard_last_attempt_at'))

    op.drop_table('sign_in_guard')
