"""Console users: roles, password hashing (scrypt with a per-user salt), sign-in and user administration.

Passwords are never stored or logged in clear: `hash_password` gives a self-describing string
(`scrypt$n$r$p$salt$hash`, base64 parts) so the cost can be raised later without breaking old hashes.
Every user change is recorded as an AuditEvent, like the other settings.

Sign-in throttling: after MAX_FAILURES failed sign-ins for one typed user name within FAILURE_WINDOW, that
name is refused for LOCKOUT (even with the right password). Failures are counted per name as typed, whether or
not such a user exists, so the throttle behaves identically for unknown names and never reveals which exist.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, delete, func, select

from storage.models import Role, SignInFailure, User
from storage.types import utcnow
from sync_engine.audit import record_changes

SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_DKLEN = 2**14, 8, 1, 32
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


class UserError(ValueError):
    """A user change that cannot be made; the message says why."""


class SignInThrottled(UserError):
    """Too many failed sign-ins for this user name lately; `retry_at` says when it may try again."""

    def __init__(self, retry_at: datetime, now: datetime) -> None:
        minutes = max(1, -(-int((retry_at - now).total_seconds()) // 60))
        super().__init__(f"Too many failed sign-ins for this user name: try again in {minutes} minute"
                         f"{'' if minutes == 1 else 's'}, or ask an administrator to reset your password.")
        self.retry_at = retry_at


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A salted scrypt hash of `password`, as a string safe to store."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=SCRYPT_DKLEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt_b64, hash_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(hash_b64)
        digest = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt_b64), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


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
    now = now or utcnow()
    key = _username_key(username)
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


def _record_failure(session: Session, key: str, now: datetime) -> None:
    if not key:
        return
    # Pruning here keeps the table small even when someone types thousands of made-up names.
    session.exec(delete(SignInFailure).where(SignInFailure.at <= now - FAILURE_WINDOW - LOCKOUT))
    session.add(SignInFailure(username_key=key, at=now))
    session.commit()


def authenticate(*, session: Session, username: str, password: str, now: datetime | None = None) -> User | None:
    """The active user with this name and password, or None (same answer and timing for every failure).

    Raises SignInThrottled, without checking the password, while the name is locked out (known or not).
    """
    now = now or utcnow()
    locked_until = sign_in_locked_until(session=session, username=username, now=now)
    if locked_until is not None:
        raise SignInThrottled(locked_until, now)
    key = _username_key(username)
    user = get_user(session=session, username=username) if username.strip() else None
    ok = verify_password(password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not ok or not user.active:
        _record_failure(session, key, now)
        return None
    session.exec(delete(SignInFailure).where(SignInFailure.username_key == key))
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
    session.add(user)
    record_changes(session=session, actor=actor, entity="user", entity_id=user.id, old=old, new=changed,
                   secret_fields=secret)
    session.commit()
    session.refresh(user)
    return user
