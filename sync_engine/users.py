"""Console users: roles, password hashing (argon2id), sign-in with throttling, and user administration.

Passwords are never stored or logged in clear. New hashes are argon2id at argon2-cffi's default parameters
(RFC 9106's low-memory profile: 64 MiB, 3 passes, 4 lanes); hashes from before (`scrypt$n$r$p$salt$hash`)
still verify and are replaced by an argon2id hash at the user's next successful sign-in, as are argon2
hashes made with weaker parameters than today's. Every user change is recorded as an AuditEvent.

Sign-in throttling: after MAX_FAILURES failed sign-ins for one typed user name within FAILURE_WINDOW, that
name is refused for LOCKOUT (even with the right password). Failures are counted per name as typed, whether or
not such a user exists, so the throttle behaves identically for unknown names and never reveals which exist.
The count holds under parallel attempts: each attempt takes the name's SignInGuard row lock, counts, and
records itself as a failure *before* the password is checked (a success then clears the name's failures), so
at most MAX_FAILURES passwords are ever checked for a name in one window, however many arrive at once.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, delete, func, select

from storage.models import Role, SignInFailure, SignInGuard, User
from storage.types import utcnow
from sync_engine.audit import record_changes

MIN_PASSWORD_LENGTH = 8
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
ROLE_LABELS = {
    Role.ADMIN: "Administrator: everything, including connection, mapping, email and users",
    Role.ACCOUNTANT: "Accountant: runs syncs and imports, reads everything",
    Role.VIEWER: "Viewer: reads the ledger and the sync history",
}


MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
_KEY_LENGTH = 100
_HASHER = PasswordHasher()  # argon2id; its defaults follow the library's current recommendation


class UserError(ValueError):
    """A user change that cannot be made; the message says why."""


class SignInThrottled(UserError):
    """Too many failed sign-ins for this user name lately; `retry_at` says when it may try again."""

    def __init__(self, retry_at: datetime, now: datetime) -> None:
        minutes = max(1, -(-int((retry_at - now).total_seconds()) // 60))
        super().__init__(f"Too many failed sign-ins for this user name: try again in {minutes} minute"
                         f"{'' if minutes == 1 else 's'}, or ask an administrator to reset your password.")
        self.retry_at = retry_at


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (salted, self-describing), safe to store."""
    return _HASHER.hash(password)


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, hash_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(hash_b64)
        digest = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt_b64), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected), maxmem=256 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored hash: argon2id, or a scrypt hash from before."""
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when a stored hash is older or weaker than what hash_password makes today."""
    if stored.startswith("scrypt$"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


# Verified against when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def count_users(*, session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(User)).one())


def list_users(*, session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.username)).all())


def get_user(*, session: Session, username: str) -> User | None:
    return session.exec(select(User).where(func.lower(User.username) == username.strip().lower())).first()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")


def _check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise UserError(f"Unknown role {role!r}: choose admin, accountant or viewer.") from None


def create_user(
    *, session: Session, username: str, password: str, role: str, display_name: str = "", email: str = "",
    actor: str,
) -> User:
    """Add a user; raises UserError for a taken or malformed name, a short password or an unknown role."""
    username = username.strip()
    if not _USERNAME.match(username):
        raise UserError("User names are 2–64 letters, digits, dots, dashes, underscores or @, with no spaces.")
    if get_user(session=session, username=username) is not None:
        raise UserError(f"There is already a user called {username!r}.")
    _check_password(password)
    role = _check_role(role)
    email = email.strip()
    if email and "@" not in email:
        raise UserError(f"Not an email address: {email}")
    user = User(username=username, display_name=display_name.strip() or username, email=email or None,
                password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    record_changes(session=session, actor=actor, entity="user", entity_id=user.id, old={},
                   new={"username": username, "role": role.value}, note="user created")
    session.commit()
    session.refresh(user)
    return user


def _username_key(username: str) -> str:
    return username.strip().lower()[:_KEY_LENGTH]


def sign_in_locked_until(*, session: Session, username: str, now: datetime | None = None) -> datetime | None:
    """When this typed name may sign in again, or None when it is not throttled."""
    return _locked_until(session, _username_key(username), now or utcnow())


def _locked_until(session: Session, key: str, now: datetime) -> datetime | None:
    if not key:
        return None
    times = list(session.exec(select(SignInFailure.at).where(
        SignInFailure.username_key == key, SignInFailure.at > now - FAILURE_WINDOW - LOCKOUT)
        .order_by(SignInFailure.at)).all())
    # Locked for LOCKOUT after the failure that made MAX_FAILURES within one window; refused attempts are not
    # stored, so the lock neither grows while someone keeps trying nor ends early as old failures age out.
    until = None
    for i in range(MAX_FAILURES - 1, len(times)):
        if times[i] - times[i - MAX_FAILURES + 1] <= FAILURE_WINDOW:
            until = times[i] + LOCKOUT
    return until if until is not None and until > now else None


def _lock_name(session: Session, key: str, now: datetime) -> None:
    """Take this name's guard row lock until the transaction ends (created on first use)."""
    table = SignInGuard.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # An upsert that always updates locks the row on PostgreSQL even when it already existed; on SQLite the
    # transaction already holds the database's write lock (BEGIN IMMEDIATE).
    statement = insert(table).values(username_key=key, last_attempt_at=now)
    session.exec(statement.on_conflict_do_update(index_elements=[table.c.username_key],  # type: ignore[call-overload]
                                                 set_={"last_attempt_at": now}))


def _admit_attempt(session: Session, key: str, now: datetime) -> None:
    """Count this attempt as a failure before its password is checked, or raise SignInThrottled.

    Commits, so the lock is held only while counting, never while the (deliberately slow) hash runs.
    """
    try:
        _lock_name(session, key, now)
        locked_until = _locked_until(session, key, now)
        if locked_until is not None:
            raise SignInThrottled(locked_until, now)
        # Pruning here keeps the tables small even when someone types thousands of made-up names.
        horizon = now - FAILURE_WINDOW - LOCKOUT
        session.exec(delete(SignInFailure).where(SignInFailure.at <= horizon))
        session.exec(delete(SignInGuard).where(SignInGuard.last_attempt_at <= horizon))
        session.add(SignInFailure(username_key=key, at=now))
        session.commit()
    except BaseException:
        session.rollback()
        raise


def authenticate(*, session: Session, username: str, password: str, now: datetime | None = None) -> User | None:
    """The active user with this name and password, or None (same answer and timing for every failure).

    Raises SignInThrottled, without checking the password, while the name is locked out (known or not).
    A hash from an older scheme or weaker parameters is replaced on success.
    """
    now = now or utcnow()
    key = _username_key(username)
    if key:
        _admit_attempt(session, key, now)
    user = get_user(session=session, username=username) if key else None
    ok = verify_password(password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not ok or not user.active:
        session.rollback()
        return None  # the attempt was already counted as a failure
    session.exec(delete(SignInFailure).where(SignInFailure.username_key == key))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def ensure_first_admin(*, session: Session, username: str, password: str, display_name: str = "") -> User | None:
    """Create the first administrator when there are no users at all; otherwise do nothing and return None."""
    if count_users(session=session) > 0:
        return None
    return create_user(session=session, username=username, password=password, role=Role.ADMIN,
                       display_name=display_name or "Administrator", actor="setup")


def _active_admins(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(User).where(User.role == Role.ADMIN,
                                                                            User.active == True)).one())  # noqa: E712


def update_user(*, session: Session, username: str, actor: str, role: str | None = None,
                active: bool | None = None, password: str | None = None) -> User:
    """Change a user's role, active flag or password; the last active administrator cannot be removed."""
    user = get_user(session=session, username=username)
    if user is None:
        raise UserError(f"No user called {username!r}.")
    old = {"role": user.role, "active": user.active}
    new_role = _check_role(role) if role is not None else Role(user.role)
    new_active = user.active if active is None else active
    losing_admin = user.role == Role.ADMIN and user.active and (new_role != Role.ADMIN or not new_active)
    if losing_admin and _active_admins(session) <= 1:
        raise UserError("This is the last active administrator: make someone else an administrator first.")
    user.role, user.active = new_role, new_active
    changed: dict = {"role": new_role.value, "active": new_active}
    secret = frozenset()
    if password:
        _check_password(password)
        user.password_hash = hash_password(password)
        # A reset is how a locked-out person gets back in at once, so it lifts the sign-in throttle too.
        session.exec(delete(SignInFailure).where(SignInFailure.username_key == _username_key(user.username)))
        changed["password"] = True
        secret = frozenset({"password"})
    if not new_active or password:
        # Deactivation and a password reset end the user's open sessions everywhere, at once.
        from sync_engine.sessions import end_user_sessions

        end_user_sessions(session=session, user_id=user.id)  # type: ignore[arg-type]
    session.add(user)
    record_changes(session=session, actor=actor, entity="user", entity_id=user.id, old=old, new=changed,
                   secret_fields=secret)
    session.commit()
    session.refresh(user)
    return user
