"""Encryption at rest for credentials (Fernet), with key rotation.

The key comes from `CONSOLE_SECRET_KEY`, else from a key file created with mode 0600 beside the
database (or under data/) on first use. Either may hold several keys (comma or newline separated): the
first encrypts, every one of them decrypts, which is what lets `python -m storage.rotate_key` move the
stored credentials to a new key while processes that still hold the old one keep working. A token that
none of the keys can open raises `SecretKeyMismatch` with a message a person can act on; nothing is wiped.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from storage.db import DEFAULT_DATA_DIR

KEY_ENV = "CONSOLE_SECRET_KEY"
KEY_FILE_ENV = "CONSOLE_SECRET_KEY_FILE"
MISMATCH_MESSAGE = "stored credentials were encrypted with another key: reconnect or restore the key"


class SecretKeyMismatch(Exception):
    """Stored credentials cannot be decrypted with the key in use."""

    def __init__(self) -> None:
        super().__init__(MISMATCH_MESSAGE)


class SecretKeyInvalid(Exception):
    """CONSOLE_SECRET_KEY (or the key file) holds something that is not a Fernet key."""


def default_key_file() -> Path:
    configured = os.environ.get(KEY_FILE_ENV)
    return Path(configured) if configured else DEFAULT_DATA_DIR / ".secret_key"


def parse_keys(text: str, *, source: str) -> list[bytes]:
    """The Fernet keys in `text` (comma or newline separated), the encrypting one first."""
    keys = [part.strip().encode() for part in re.split(r"[,\s]+", text) if part.strip()]
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise SecretKeyInvalid(f"{source} is not a valid Fernet key (44 url-safe base64 characters)") from exc
    if not keys:
        raise SecretKeyInvalid(f"{source} holds no key")
    return keys


def load_keys(key_file: Path | None = None) -> list[bytes]:
    """Every accepted key, the one that encrypts first: from the environment, or the key file (created when missing)."""
    from_env = os.environ.get(KEY_ENV, "").strip()
    if from_env:
        return parse_keys(from_env, source=KEY_ENV)
    path = key_file or default_key_file()
    if path.exists():
        return parse_keys(path.read_text(), source=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    # O_EXCL: two processes starting together must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return parse_keys(path.read_text(), source=str(path))
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return [key]


def load_or_create_key(key_file: Path | None = None) -> bytes:
    """The key that encrypts (the first one)."""
    return load_keys(key_file)[0]


def write_key_file(path: Path, keys: list[bytes]) -> None:
    """Replace the key file atomically (0600), the encrypting key first."""
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(b"\n".join(keys) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class SecretBox:
    """Encrypts short secrets with the first key and decrypts with any of the keys."""

    def __init__(self, key: bytes | None = None, *, keys: list[bytes] | None = None) -> None:
        ring = keys or ([key] if key else load_keys())
        self._fernet = MultiFernet([Fernet(k) for k in ring])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as exc:
            raise SecretKeyMismatch() from exc

    def rotate(self, token: str) -> str:
        """The same secret encrypted under the first key (raises SecretKeyMismatch when no key opens it)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError) as exc:
            raise SecretKeyMismatch() from exc

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"
