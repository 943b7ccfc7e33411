"""Encryption at rest for credentials (Fernet).

The key comes from `CONSOLE_SECRET_KEY`, else from a key file created with mode 0600 beside the
database (or under data/) on first use. A token that the current key cannot open raises
`SecretKeyMismatch` with a message a person can act on; nothing is wiped.
"""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from storage.config import settings
from storage.db import DEFAULT_DATA_DIR

KEY_ENV = "CONSOLE_SECRET_KEY"
KEY_FILE_ENV = "CONSOLE_SECRET_KEY_FILE"
MISMATCH_MESSAGE = "stored credentials were encrypted with another key: reconnect or restore the key"


class SecretKeyMismatch(Exception):
    """Stored credentials cannot be decrypted with the key in use."""

    def __init__(self) -> None:
        super().__init__(MISMATCH_MESSAGE)


class SecretKeyInvalid(Exception):
    """CONSOLE_SECRET_KEY is set but is not a Fernet key."""


def default_key_file() -> Path:
    configured = settings().console_secret_key_file
    return configured if configured else DEFAULT_DATA_DIR / ".secret_key"


def load_or_create_key(key_file: Path | None = None) -> bytes:
    """The Fernet key: from the environment, or the key file (created 0600 when missing)."""
    from_env = settings().console_secret_key
    if from_env:
        try:
            Fernet(from_env.encode())
        except (ValueError, TypeError) as exc:
            raise SecretKeyInvalid(f"{KEY_ENV} is not a valid Fernet key (44 url-safe base64 characters)") from exc
        return from_env.encode()
    path = key_file or default_key_file()
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    # O_EXCL: two processes starting together must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


class SecretBox:
    """Encrypts and decrypts short secrets with one Fernet key."""

    def __init__(self, key: bytes | None = None) -> None:
        self._fernet = Fernet(key or load_or_create_key())

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as exc:
            raise SecretKeyMismatch() from exc

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"
