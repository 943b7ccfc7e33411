"""Intacct XML gateway protocol client: typed errors, builders, sessions, paging, batched writes.

Import from the submodules or from here; ``IntacctClient`` is the entry point.
"""

from .client import FunctionResult, IntacctClient
from .credentials import IntacctCredentials
from .errors import (
    AmbiguousWriteError,
    AuthenticationError,
    DuplicateControlIdError,
    ErrorDetail,
    IntacctError,
    RecordError,
    RequestError,
    ResponseFormatError,
    SessionExpiredError,
    TransientError,
    TransientRecordError,
    classify,
)
from .functions import Function, InvoiceLine, PaymentApplication
from .paging import KeysetQueryPager, OffsetQueryPager, ReadByQueryPager
from .retry import RetryPolicy
from .session import SessionInfo

__all__ = [
    "AmbiguousWriteError",
    "AuthenticationError",
    "DuplicateControlIdError",
    "ErrorDetail",
    "Function",
    "FunctionResult",
    "IntacctClient",
    "IntacctCredentials",
    "IntacctError",
    "InvoiceLine",
    "KeysetQueryPager",
    "OffsetQueryPager",
    "PaymentApplication",
    "ReadByQueryPager",
    "RecordError",
    "RequestError",
    "ResponseFormatError",
    "RetryPolicy",
    "SessionExpiredError",
    "SessionInfo",
    "TransientError",
    "TransientRecordError",
    "classify",
]
