"""Credentials are encrypted at rest with a key kept out of the database."""
from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet

from storage.secrets import MISMATCH_MESSAGE, SecretBox, SecretKeyInvalid, SecretKeyMismatch, load_or_create_key


def test_round_trip_and_ciphertext_hides_plaintext() -> None:
    box = SecretBox()
    token = box.encrypt("s3cr3t-pässword")
    assert "s3cr3t" not in token
    assert box.decrypt(token) == "s3cr3t-pässword"
    assert "key" in repr(box) and Fernet.generate_key().decode() not in repr(box)


def test_key_file_is_created_private_and_reused(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("CONSOLE_SECRET_KEY")
    key_file = tmp_path / "data" / ".secret_key"
    first = load_or_create_key(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_or_create_key(key_file) == first


def test_wrong_key_says_so_plainly() -> None:
    token = SecretBox(Fernet.generate_key()).encrypt("pw")
    with pytest.raises(SecretKeyMismatch) as info:
        SecretBox(Fernet.generate_key()).decrypt(token)
    assert str(info.value) == MISMATCH_MESSAGE


def test_malformed_env_key_is_reported(monkeypatch) -> None:
    monkeypatch.setenv("CONSOLE_SECRET_KEY", "not-a-key")
    with pytest.raises(SecretKeyInvalid, match="CONSOLE_SECRET_KEY"):
        load_or_create_key()
