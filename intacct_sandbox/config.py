"""Runtime configuration of the sandbox and every "unverified" protocol choice, each kept as one constant."""

from __future__ import annotations

from dataclasses import dataclass, field

GATEWAY_PATH = "/ia/xml/xmlgw.phtml"
ADMIN_PREFIX = "/_sandbox"

# --- Best guesses about the real gateway (listed in README.md); change here only. ---
DEFAULT_SESSION_SECONDS = 2 * 3600
SESSION_PERSIST_EVERY_SECONDS = 60
RESULT_SET_TTL_SECONDS = 30 * 60
MAX_STORED_RESULT_SETS = 500
CONTROLID_TTL_SECONDS = 24 * 3600
INVALID_SESSION_TEXT = "Invalid session. The session ID is unknown or has expired; sign in again."
UNIQUEID_DEFAULT_WHEN_ABSENT = True
VALIDATE_REQUESTS = True  # requestrules.py: schema-level checks answered with control-level XL03000003
REJECT_UNKNOWN_CREATE_FIELDS = True
DUPLICATE_CONTROLID_ERRORNO = "BL01001973"  # no reference shows the real answer: the generic business-rule number
OFFLINE_ERRORNO = "SANDBOX-OFFLINE"
INVALID_RESULT_ID_ERRORNO = "BL01001973"
RATE_LIMIT_TEXT = "API rate limit exceeded"
GZIP_WHEN_ACCEPTED = True
TLS_HANDSHAKE_TIMEOUT_SECONDS = 10.0
READ_WITHOUT_KEYS_LIMIT = 100
MAX_REQUEST_BYTES = 32 * 2**20  # larger (or unsized) bodies: HTTP 413/400 with a GW-0011 body, nothing read

LIMIT_READBYQUERY_PAGESIZE = 1000
LIMIT_QUERY_PAGESIZE = 2000
LIMIT_IN_VALUES = 1000
LIMIT_READ_KEYS = 100
DEFAULT_PAGESIZE = 100


@dataclass
class Credentials:
    """The demo company's Web Services sender and user."""

    sender_id: str = "ar-console-sender"
    sender_password: str = "sandbox-sender-pw"
    company_id: str = "DEMO-AR"
    user_id: str = "ws_console"
    user_password: str = "sandbox-user-pw"
    multi_entity_company_id: str = "DEMO-ME"
    entities: tuple[str, ...] = ("US-EAST", "US-WEST")


@dataclass
class SandboxConfig:
    """Everything the server needs to know at start; faults are changed later through the admin endpoint."""

    db_path: str
    host: str = "127.0.0.1"
    port: int = 8765
    seed: str = "demo"
    reset: bool = False
    customers: int | None = None
    invoices: int | None = None
    credentials: Credentials = field(default_factory=Credentials)
    session_seconds: int = DEFAULT_SESSION_SECONDS
    result_set_ttl: int = RESULT_SET_TTL_SECONDS
    controlid_ttl: int = CONTROLID_TTL_SECONDS
    uniqueid_guard: bool = True
    reject_duplicate_invoice_numbers: bool = False
    fault_spec: dict | None = None
    fault_seed: int | None = None
    quiet: bool = False
    tls_cert: str | None = None
    tls_key: str | None = None
    timezone: str = "UTC"  # the companies' time zone (IANA name): record timestamps and session offsets
