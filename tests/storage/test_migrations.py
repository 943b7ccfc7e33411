"""Migrations are the only way the schema changes, and they match the models exactly."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.migrate import upgrade_database


def test_autogenerate_finds_no_difference(engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_upgrade_is_idempotent_and_creates_every_table(engine) -> None:
    upgrade_database(engine)  # already at head: must be a no-op
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_upgrading_marks_runs_queued_as_previews_before_the_flag_existed(tmp_path) -> None:
    from alembic import command
    from sqlalchemy import text

    from storage.db import make_engine
    from storage.migrate import alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), "0002")
        conn.execute(text("INSERT INTO intacct_connection (endpoint_url, company_id, user_id, user_password_enc, "
                          "sender_id, sender_password_enc, name, intacct_timezone, status, created_at, updated_at) "
                          "VALUES ('u', 'c', 'u', 'x', 's', 'x', 'I', 'UTC', 'ok', '2026-01-01', '2026-01-01')"))
        for run_id, options in ((1, '{"preview": true}'), (2, '{}')):
            conn.execute(text("INSERT INTO sync_run (id, connection_id, kind, trigger, options, status, queued_at, "
                              "progress_done, created_count, updated_count, unchanged_count, skipped_count, "
                              "failed_count, api_requests, cancel_requested) VALUES (:id, 1, 'accounting_sync', "
                              "'manual', :options, 'succeeded', '2026-01-01', 0, 0, 0, 0, 0, 0, 0, 0)"),
                         {"id": run_id, "options": options})
        conn.commit()
    upgrade_database(engine)
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT id, preview FROM sync_run ORDER BY id")).all()) == {1: 1, 2: 0}
