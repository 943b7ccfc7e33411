"""The stored Intacct connection and account mapping a run works with, and a client for that connection.

The pipeline and the console's services both start here; saving the settings (with validation and an audit trail)
is `sync_engine.services.settings`.
"""
from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from storage.models import AccountMapping, IntacctConnection
from storage.secrets import SecretBox
from sync_engine.intacct.client import IntacctClient
from sync_engine.intacct.credentials import IntacctCredentials


class ConnectionNotConfigured(Exception):
    def __init__(self) -> None:
        super().__init__("No Intacct connection is set up yet: open Connection and enter the company's credentials.")


def get_connection(*, session: Session) -> IntacctConnection | None:
    """The console's Intacct connection (one per installation for now)."""
    return session.exec(select(IntacctConnection).order_by(IntacctConnection.id)).first()  # type: ignore[arg-type]


def get_mapping(*, session: Session, connection_id: int) -> AccountMapping | None:
    return session.exec(select(AccountMapping).where(AccountMapping.connection_id == connection_id)).first()


def credentials_for(connection: IntacctConnection, *, box: SecretBox | None = None) -> IntacctCredentials:
    """Decrypt the stored connection; raises SecretKeyMismatch when the key cannot open it."""
    box = box or SecretBox()
    return IntacctCredentials(
        endpoint_url=connection.endpoint_url, sender_id=connection.sender_id,
        sender_password=box.decrypt(connection.sender_password_enc), company_id=connection.company_id,
        user_id=connection.user_id, user_password=box.decrypt(connection.user_password_enc),
        entity_id=connection.entity_id or None,
    )


def client_for(connection: IntacctConnection, **kwargs: Any) -> IntacctClient:
    return IntacctClient(credentials_for(connection), **kwargs)
