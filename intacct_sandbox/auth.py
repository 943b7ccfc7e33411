"""Who may call: senders, companies, Web Services users, sender authorisation, and API sessions."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from .clock import Clock
from .config import SESSION_PERSIST_EVERY_SECONDS, Credentials
from .db import Store

# A valid sender that no company has authorised: lets clients see the "not authorized" failure.
UNAUTHORISED_SENDER = ("unlisted-sender", "unlisted-sender-pw")


@dataclass
class Company:
    company_id: str
    multi_entity: bool = False
    entities: tuple[str, ...] = ()
    users: dict[str, str] = field(default_factory=dict)
    authorised_senders: set[str] = field(default_factory=set)


@dataclass
class Registry:
    """Senders with their passwords and the companies they may reach."""

    senders: dict[str, str]
    companies: dict[str, Company]

    @classmethod
    def from_credentials(cls, creds: Credentials) -> Registry:
        users = {creds.user_id: creds.user_password}
        authorised = {creds.sender_id}
        companies = {
            creds.company_id: Company(creds.company_id, False, (), dict(users), set(authorised)),
            creds.multi_entity_company_id: Company(
                creds.multi_entity_company_id, True, tuple(creds.entities), dict(users), set(authorised)
            ),
        }
        senders = {creds.sender_id: creds.sender_password, UNAUTHORISED_SENDER[0]: UNAUTHORISED_SENDER[1]}
        return cls(senders, companies)

    def sender_ok(self, sender_id: str, password: str) -> bool:
        expected = self.senders.get(sender_id)
        return expected is not None and secrets.compare_digest(expected, password)

    def company(self, company_id: str) -> Company | None:
        return self.companies.get(company_id)

    def user_ok(self, company: Company, user_id: str, password: str) -> bool:
        expected = company.users.get(user_id)
        return expected is not None and secrets.compare_digest(expected, password)


@dataclass
class Session:
    session_id: str
    sender_id: str
    company_id: str
    user_id: str
    entity: str
    expires_at: float
    persisted_expiry: float = 0.0


class SessionStore:
    """API sessions with a sliding timeout; kept in memory and written to SQLite outside request transactions."""

    def __init__(self, store: Store, clock: Clock, duration_seconds: int) -> None:
        self.store = store
        self.clock = clock
        self.duration = duration_seconds
        self._sessions: dict[str, Session] = {}
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        rows = store.connection().execute(
            "SELECT session_id, sender_id, company_id, user_id, entity, expires_at FROM sessions"
        ).fetchall()
        for row in rows:
            self._sessions[row[0]] = Session(*row, persisted_expiry=row[5])

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def create(self, sender_id: str, company_id: str, user_id: str, entity: str) -> Session:
        session_id = secrets.token_urlsafe(24).replace("-", "x").replace("_", "y") + ".."
        session = Session(session_id, sender_id, company_id, user_id, entity, self._now() + self.duration)
        with self._lock:
            self._sessions[session_id] = session
            self._dirty.add(session_id)
        return session

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None or session.expires_at <= self._now():
            return None
        return session

    def touch(self, session: Session) -> float:
        """Slide the timeout forward; returns the new expiry (epoch seconds)."""
        expiry = self._now() + self.duration
        with self._lock:
            session.expires_at = expiry
            if expiry - session.persisted_expiry >= SESSION_PERSIST_EVERY_SECONDS:
                self._dirty.add(session.session_id)
        return expiry

    def flush(self) -> None:
        """Persist new sessions and moved expiries; called after a request's own transaction ended."""
        with self._lock:
            dirty = [self._sessions[s] for s in self._dirty if s in self._sessions]
            self._dirty.clear()
        if not dirty:
            return
        with self.store.writing() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(s.session_id, s.sender_id, s.company_id, s.user_id, s.entity, s.expires_at, self._now())
                 for s in dirty],
            )
        for session in dirty:
            session.persisted_expiry = session.expires_at

    def expire_all(self) -> int:
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            self._dirty.clear()
        with self.store.writing() as conn:
            conn.execute("DELETE FROM sessions")
        return count
