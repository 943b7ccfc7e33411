"""Seeding finished runs and SMTP settings for the notification tests."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import write_session
from storage.models import ItemAction, RunKind, RunStatus, RunTrigger, SyncRun, SyncRunItem
from storage.types import utcnow
from sync_engine.services.settings import save_notification_settings

RECIPIENTS = "ar-team@example.test, controller@example.test"
BASE_URL = "http://console.example.test:8501"


def configure_email(engine: Engine, port: int, *, enabled: bool = True, user: str = "", password: str = "",
                    security: str = "none", recipients: str = RECIPIENTS) -> None:
    with Session(engine) as session:
        save_notification_settings(
            session=session, actor="admin", enabled=enabled, smtp_host="127.0.0.1", smtp_port=port, security=security,
            smtp_user=user, smtp_password=password, sender="ar-sync@example.test", recipients=recipients,
            console_base_url=BASE_URL + "/")


def failure(label: str, message: str, errorno: str | None = "BL03000018") -> dict:
    return {"label": label, "message": message, "errorno": errorno, "action": ItemAction.FAILED,
            "error_category": "record"}


def finished_run(engine: Engine, connection_id: int, *, kind: str = RunKind.ACCOUNTING_SYNC,
                 trigger: str = RunTrigger.AUTO, status: str = RunStatus.PARTLY_FAILED,
                 items: list[dict] | None = None, duration: timedelta = timedelta(minutes=2, seconds=5),
                 **fields: object) -> int:
    """A run as the executor leaves it: finished, with counts and per-record items."""
    finished = utcnow()
    with write_session(engine) as session:
        run = SyncRun(connection_id=connection_id, kind=kind, trigger=trigger, status=status,
                      requested_by="ana" if trigger != RunTrigger.AUTO else "auto-sync",
                      started_at=finished - duration, finished_at=finished, **fields)
        session.add(run)
        session.flush()
        for item in items or []:
            session.add(SyncRunItem(run_id=run.id, step="test", record_type="invoice", **item))
        return run.id  # type: ignore[return-value]


def notification_status(engine: Engine, run_id: int) -> str | None:
    with Session(engine) as session:
        return session.get(SyncRun, run_id).notification_status  # type: ignore[union-attr]
