"""Connection credentials for the Intacct XML gateway (secrets never appear in repr/str)."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_ENDPOINT_URL = "https://api.intacct.com/ia/xml/xmlgw.phtml"


@dataclass(frozen=True)
class IntacctCredentials:
    """Everything needed to sign in: Web Services sender, company user and optional entity.

    ``entity_id`` becomes the login ``<locationid>``; ``None`` or ``""`` means top level.
    """

    endpoint_url: str
    sender_id: str
    sender_password: str = field(repr=False)
    company_id: str
    user_id: str
    user_password: str = field(repr=False)
    entity_id: str | None = None

    def secrets(self) -> tuple[str, ...]:
        """The secret values, so log redaction can scrub them wherever they appear."""
        return tuple(s for s in (self.sender_password, self.user_password) if s)

    @property
    def connection_key(self) -> tuple[str, str, str]:
        """Identity of the Intacct connection: endpoint, company and user (no secrets)."""
        return (self.endpoint_url.strip().lower(), self.company_id.strip().lower(), self.user_id.strip().lower())
