"""Every environment variable the product, the scheduler, the console and the launcher read, in one place.

Each field is the variable of the same name in upper case (`database_url` is `DATABASE_URL`); README.md's
Configuration table lists them. Call `settings()` where a value is needed: it reads the environment on every call
(cheap), so a process or a test that changes a variable is seen at once and nothing is frozen at import. It lives
in `storage/` because that is the lowest layer: everything that needs a setting imports it downward.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that are stripped of surrounding blanks; passwords are taken exactly as given.
_STRIPPED = ("database_url", "console_secret_key", "console_secret_key_file", "console_admin_user",
             "ar_sync_scheduler_id", "ar_sync_executor", "ar_sync_log_level")


class Settings(BaseSettings):
    """The environment as the product reads it; empty values count as unset."""

    model_config = SettingsConfigDict(case_sensitive=False, env_ignore_empty=True, extra="ignore")

    # storage
    database_url: str = ""
    database_idle_in_transaction_seconds: float | None = None
    console_secret_key: str = ""
    console_secret_key_file: Path | None = None
    # console
    console_admin_user: str = ""
    console_admin_password: str = ""
    console_session_idle_minutes: float | None = None
    console_session_max_hours: float | None = None
    console_upload_max_mb: float | None = None
    intacct_demo_url: str = ""
    intacct_demo_sender_id: str = ""
    intacct_demo_sender_password: str = ""
    intacct_demo_company_id: str = ""
    intacct_demo_user_id: str = ""
    intacct_demo_user_password: str = ""
    # scheduler
    ar_sync_scheduler_id: str | None = None
    ar_sync_executor: str | None = None
    ar_sync_log_level: str = "INFO"
    ar_sync_lease_ttl_seconds: float | None = None
    # launcher (`make run`)
    console_port: int = 8501
    sandbox_port: int = 8765
    sandbox_db: Path | None = None
    run_sandbox: str = "1"
    intacct_sandbox_sender_id: str = "ar-console-sender"
    intacct_sandbox_sender_password: str = "sandbox-sender-pw"
    intacct_sandbox_company_id: str = "DEMO-AR"
    intacct_sandbox_user_id: str = "ws_console"
    intacct_sandbox_user_password: str = "sandbox-user-pw"

    @field_validator(*_STRIPPED, mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("console_session_idle_minutes", "console_session_max_hours", "console_upload_max_mb",
                     mode="before")
    @classmethod
    def _positive_or_default(cls, value: Any) -> float | None:
        # A length or limit that is not a positive number falls back to the default rather than stopping the console.
        try:
            number = float(value) if value is not None and str(value).strip() else 0.0
        except ValueError:
            return None
        return number if number > 0 else None

    @field_validator("database_idle_in_transaction_seconds", mode="before")
    @classmethod
    def _zero_or_more_or_default(cls, value: Any) -> float | None:
        # 0 turns the limit off (as in PostgreSQL); a value that is no number, or negative, means the default.
        try:
            number = float(value) if value is not None and str(value).strip() else -1.0
        except ValueError:
            return None
        return number if number >= 0 else None

    @property
    def demo_company(self) -> dict[str, str]:
        """What "Use the local demo company" fills in (empty values when `make run` set none)."""
        return {"endpoint_url": self.intacct_demo_url, "sender_id": self.intacct_demo_sender_id,
                "company_id": self.intacct_demo_company_id, "user_id": self.intacct_demo_user_id,
                "sender_password": self.intacct_demo_sender_password,
                "user_password": self.intacct_demo_user_password}


def settings() -> Settings:
    """The environment as it is now."""
    return Settings()
