"""The one configuration module: read at call time, documented in the README, the only reader of the environment."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from storage.config import Settings, settings

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ["storage", "sync_engine", "console", "screens", "app.py", "console_server.py", "launcher.py"]


def _product_files() -> list[Path]:
    files: list[Path] = []
    for name in PRODUCT:
        path = ROOT / name
        files += [path] if path.is_file() else [p for p in path.rglob("*.py") if "migrations" not in p.parts]
    return files


def test_a_changed_variable_is_seen_on_the_next_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "  sqlite:///elsewhere.db ")
    assert settings().database_url == "sqlite:///elsewhere.db"
    monkeypatch.setenv("DATABASE_URL", "")
    assert settings().database_url == ""  # empty counts as unset: storage.db falls back to the SQLite file


def test_a_session_length_that_is_no_positive_number_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_SESSION_IDLE_MINUTES", "-3")
    monkeypatch.setenv("CONSOLE_SESSION_MAX_HOURS", "soon")
    config = settings()
    assert config.console_session_idle_minutes is None and config.console_session_max_hours is None


def test_the_idle_transaction_limit_takes_zero_for_off_and_falls_back_on_nonsense(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from storage.db import IDLE_IN_TRANSACTION_SECONDS, idle_in_transaction_timeout_ms

    assert idle_in_transaction_timeout_ms() == IDLE_IN_TRANSACTION_SECONDS * 1000
    for given, expected in (("0", 0), ("2.5", 2500), ("-1", IDLE_IN_TRANSACTION_SECONDS * 1000),
                            ("a while", IDLE_IN_TRANSACTION_SECONDS * 1000)):
        monkeypatch.setenv("DATABASE_IDLE_IN_TRANSACTION_SECONDS", given)
        assert idle_in_transaction_timeout_ms() == expected, given


def test_a_malformed_port_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_PORT", "eighty")
    with pytest.raises(ValueError, match="sandbox_port"):
        settings()


def test_the_readme_lists_every_variable() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration"):readme.index("## Processes")]
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in table]
    assert missing == []


def test_nothing_else_in_the_product_reads_the_environment() -> None:
    readers = []
    for path in _product_files():
        if path == ROOT / "storage" / "config.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}
                    and not _passes_environment_on(node, path)):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert readers == []


def _passes_environment_on(node: ast.Attribute, path: Path) -> bool:
    # The launcher hands its whole environment to the processes it starts; that is not a read of a variable.
    return path.name == "launcher.py" and node.attr == "environ"
