"""Console sign-in sessions kept on the server: start, resume (with idle and absolute expiry), end.

A session is a random token (256 bits) that lives only in the browser's HttpOnly cookie; the database keeps
its SHA-256, so a copy of the database cannot be replayed as a sign-in. Every resume re-reads the user, so a
deactivated user is out at once and a demotion takes effect on the next rerun. Sessions end after
`CONSOLE_SESSION_IDLE_MINUTES` without use (default 30) or `CONSOLE_SESSION_MAX_HOURS` after sign-in
(default 12), whichever comes first, and at sign-out, deactivation or a password reset.
"""
from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, delete, select, update

from storage.models import ConsoleSession, User
from storage.types import utcnow

IDLE_ENV, MAX_ENV = "CONSOLE_SESSION_IDLE_MINUTES", "CONSOLE_SESSION_MAX_HOURS"
DEFAULT_IDLE, DEFAULT_MAX = timedelta(minutes=30), timedelta(hours=12)
# last_seen_at is written at most this often, so reruns (every click) do not each cost a write.
TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class SessionRules:
    idle: timedelta = DEFAULT_IDLE
    lifetime: timedelta = DEFAULT_MAX

    @classmethod
    def from_environment(cls) -> SessionRules:
        def read(name: str, unit: str, default: timedelta) -> timedelta:
            raw = os.environ.get(name, "").strip()
            try:
                value = float(raw) if raw else 0.0
            except ValueError:
                value = 0.0
            return timedelta(**{unit: value}) if value > 0 else default

        return cls(idle=read(IDLE_ENV, "minutes", DEFAULT_IDLE), lifetime=read(MAX_ENV, "hours", DEFAULT_MAX))


@dataclass(frozen=True)
class Resumed:
    """A live session and its user as they are now in the database."""

    session_id: int
    token_hash: str
    username: str
    display_name: str
    role: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(*, session: Session, user_id: int, rules: SessionRules | None = None,
                  now: datetime | None = None) -> tuple[str, ConsoleSession]:
    """A new session for this user: (the token for the cookie, the stored row). Commits."""
    rules = rules or SessionRules.from_environment()
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    # Sessions past their lifetime can never come back: pruning them keeps the table small.
    session.exec(delete(ConsoleSession).where(ConsoleSession.expires_at < now - timedelta(days=1)))  # type: ignore[call-overload]
    row = ConsoleSession(token_hash=token_hash(token), user_id=user_id, created_at=now, last_seen_at=now,
                         expires_at=now + rules.lifetime)
    session.add(row)
    session.commit()
    session.refresh(row)
    return token, row


def resume(*, session: Session, hashed: str, rules: SessionRules | None = None,
           now: datetime | None = None) -> Resumed | None:
    """The session with this token hash and its user, or None when it ended, expired or its user is inactive.

    An expired session is ended on the way (so it cannot come back if the rules are relaxed later).
    """
    rules = rules or SessionRules.from_environment()
    now = now or utcnow()
    found = session.exec(select(ConsoleSession, User).join(User, User.id == ConsoleSession.user_id)
                         .where(ConsoleSession.token_hash == hashed)).first()
    if found is None:
        return None
    row, user = found
    if row.ended_at is not None:
        return None
    if not user.active or now >= row.expires_at or now - row.last_seen_at >= rules.idle:
        row.ended_at = now
        session.add(row)
        session.commit()
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
        session.commit()
    return Resumed(session_id=row.id, token_hash=hashed, username=user.username,  # type: ignore[arg-type]
                   display_name=user.display_name, role=str(user.role))


def end_session(*, session: Session, hashed: str, now: datetime | None = None) -> None:
    """Sign-out: the token stops working at once, wherever it is kept."""
    session.exec(update(ConsoleSession).where(ConsoleSession.token_hash == hashed,  # type: ignore[call-overload]
                                              ConsoleSession.ended_at.is_(None)).values(ended_at=now or utcnow()))
    session.commit()


def end_user_sessions(*, session: Session, user_id: int, now: datetime | None = None) -> None:
    """End every open session of a user (deactivated, or their password was reset). Does not commit."""
    session.exec(update(ConsoleSession).where(ConsoleSession.user_id == user_id,  # type: ignore[call-overload]
                                              ConsoleSession.ended_at.is_(None)).values(ended_at=now or utcnow()))
