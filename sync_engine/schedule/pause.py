"""The authentication circuit breaker: auto-sync pauses when Intacct refuses the sign-in, and resumes when the
connection is saved or tested successfully.

Hourly retries with a bad password would lock the Intacct user out. The scheduler process trips the breaker after a
run (`apply_auth_circuit_breaker`); the console's settings and connection test lift it (`clear_pause`).
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from storage.models import RunStatus, SyncRun, SyncSchedule
from storage.types import utcnow
from sync_engine.sync.audit import record_changes

AUTH_ERROR_CATEGORY = "authentication"


def apply_auth_circuit_breaker(*, session: Session, run: SyncRun, now: datetime | None = None) -> bool:
    """Pause auto-sync when `run` failed on Intacct authentication; True if it paused. The caller commits.

    Hourly retries with a bad password would lock the Intacct user out; the pause stays until someone
    saves or successfully tests the connection (`clear_pause`) or turns auto-sync on again.
    """
    if run.status != RunStatus.FAILED or run.error_category != AUTH_ERROR_CATEGORY:
        return False
    plan = session.exec(select(SyncSchedule).where(SyncSchedule.connection_id == run.connection_id)).first()
    if plan is None:
        plan = SyncSchedule(connection_id=run.connection_id)
    elif plan.paused_reason:
        return False  # already paused: keep the first reason and its time
    now = now or utcnow()
    detail = (run.error_message or "sign-in refused").strip()
    plan.paused_reason = (
        f"Auto-sync paused: Intacct refused the sign-in during run #{run.id} "
        f"({now:%Y-%m-%d %H:%M} UTC): {detail}. Fix the credentials on the Connection page and save or test "
        "the connection to resume."
    )
    plan.updated_at = now
    session.add(plan)
    record_changes(session=session, actor="scheduler", entity="sync_schedule", entity_id=run.connection_id,
                   old={"paused_reason": None}, new={"paused_reason": plan.paused_reason},
                   note="authentication circuit breaker")
    return True


def clear_pause(*, session: Session, connection_id: int, actor: str = "system") -> bool:
    """Resume auto-sync after the connection was saved or tested successfully; True if it was paused.

    The due time is left as it was, so a sync that fell due during the pause runs once, soon.
    """
    plan = session.exec(select(SyncSchedule).where(SyncSchedule.connection_id == connection_id)).first()
    if plan is None or plan.paused_reason is None:
        return False
    record_changes(session=session, actor=actor, entity="sync_schedule", entity_id=connection_id,
                   old={"paused_reason": plan.paused_reason}, new={"paused_reason": None},
                   note="connection saved or tested successfully")
    plan.paused_reason = None
    plan.updated_at = utcnow()
    session.add(plan)
    session.commit()
    return True
