"""The error catalogue: every way a record fails, named once, with a plain cause, the next step and the screen
that fixes it.

A failure is matched by Intacct's error number and description, or by the kind of check our own writes make
before sending (an inactive account label, a payment with no deposit account…). Failures are grouped by the
catalogue key, so seven invoices refused for one reason show as one group, whatever record numbers their
messages hold. The screen is a name (`record`, `mapping`, `connection`, `customers`), mapped to a page by the
console: this module knows nothing of Streamlit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    key: str
    title: str  # the plain cause a person reads
    next_step: str  # what to do about it
    screen: str  # where it is fixed: record | mapping | connection | customers | none
    fixed_on_record: bool = False  # the record page can edit what is wrong


CAUSES: dict[str, Cause] = {c.key: c for c in (
    Cause("label_unusable", "An account label is inactive or unknown in Intacct",
          "Open the record, choose an active account label for the line (or clear it to use the mapped one), then "
          "retry it. If the mapped label itself is the problem, change it in Account mapping.", "record", True),
    Cause("label_not_mapped", "No account label to post the invoice lines to",
          "Choose the item account label in Account mapping, or give each line its own.", "mapping"),
    Cause("dimension_unusable", "The mapped location or department is inactive or unknown in Intacct",
          "Choose an active location and department in Account mapping (or clear them).", "mapping"),
    Cause("no_lines", "The invoice has no lines", "Add at least one line to the invoice, then retry it.", "record",
          True),
    Cause("customer_not_in_intacct", "The invoice's customer could not be created in Intacct",
          "Open the customer to see why; or put the invoice on another customer and retry it.", "record", True),
    Cause("customer_unknown", "Intacct does not know the customer",
          "Choose a customer that exists in Intacct for this record, then retry it.", "record", True),
    Cause("invoice_unknown", "Intacct does not know an invoice the payment is applied to",
          "Apply the payment to an invoice that is in Intacct, then retry it.", "record", True),
    Cause("no_deposit_account", "No account to deposit the payment to",
          "Set the undeposited funds account (or a routing rule for this method and currency) in Account mapping.",
          "mapping"),
    Cause("payment_method", "Intacct does not accept this payment method",
          "Choose one of Intacct's payment methods on the payment, then retry it.", "record", True),
    Cause("over_applied", "The payment applies more than it is worth",
          "Lower the amounts applied to invoices (or raise the payment), then retry it.", "record", True),
    Cause("duplicate", "Intacct already has a record with this number",
          "Check Intacct: if it is the same record, mark this one Don't sync; otherwise renumber it.", "record"),
    Cause("bad_value", "Intacct refused a value's format (an email, a phone number, a date…)",
          "Correct the value on the record as Intacct's message says, then retry it.", "record"),
    Cause("gl_account_unusable", "A G/L account is inactive or unknown in Intacct",
          "Choose an active account in Account mapping (deposit accounts) or fix the account in Intacct.", "mapping"),
    Cause("bank_account_unusable", "The bank account payments are routed to is inactive or unknown in Intacct",
          "Choose an active bank account for the payment routing rule in Account mapping (or route the payments "
          "to an undeposited funds account), then retry the payment.", "mapping"),
    Cause("sign_in", "Intacct refused the sign-in", "Check the credentials in Connection, then test it.",
          "connection"),
    Cause("temporary", "Intacct was busy or unreachable", "Nothing to fix: the next sync retries it by itself.",
          "none"),
    Cause("uncertain", "The answer from Intacct was lost",
          "Nothing to fix: the next sync looks the record up in Intacct before sending it again.", "none"),
    Cause("other", "Intacct refused the record", "Read Intacct's message, correct the record, then retry it.",
          "record"),
)}

# (pattern on Intacct's description or our message, cause): first match wins. Case-insensitive.
_TEXT_RULES: tuple[tuple[str, str], ...] = (
    (r"account label .* (does not exist|is inactive)|invalid (ar )?account ?label", "label_unusable"),
    (r"no item account label is mapped", "label_not_mapped"),
    (r"(location|department) .* (does not exist|is inactive|is not valid)|invalid (location|department)",
     "dimension_unusable"),
    (r"has no lines", "no_lines"),
    (r"could not be created in intacct", "customer_not_in_intacct"),
    (r"invalid customer|customer .* (does not exist|not found)", "customer_unknown"),
    (r"invalid (ar)?invoice|invoice .* (does not exist|not found)|invoicekey", "invoice_unknown"),
    (r"no undeposited funds account|no deposit account", "no_deposit_account"),
    (r"invalid bank account|bank account .* (does not exist|is inactive)", "bank_account_unusable"),
    (r"payment method", "payment_method"),
    (r"exceed", "over_applied"),
    (r"already exists", "duplicate"),
    (r"illegal format|invalid date|not a valid (email|phone|date)", "bad_value"),
    (r"(gl |g/l |glaccount|account number).*(inactive|does not exist|invalid)|invalid (gl )?account",
     "gl_account_unusable"),
)
_ERRNO_RULES = {"BL34000061": "duplicate", "BL03000018": "bad_value"}
_CATEGORY_RULES = {"transient": "temporary", "ambiguous": "uncertain", "authentication": "sign_in"}


def classify(*, errorno: str | None, message: str | None, category: str | None) -> Cause:
    """The catalogue entry for one failure (never None: unknown failures are `other`)."""
    if category in _CATEGORY_RULES:
        return CAUSES[_CATEGORY_RULES[category]]
    text = message or ""
    for pattern, key in _TEXT_RULES:
        if re.search(pattern, text, flags=re.IGNORECASE):
            return CAUSES[key]
    if errorno and errorno.strip().upper() in _ERRNO_RULES:
        return CAUSES[_ERRNO_RULES[errorno.strip().upper()]]
    return CAUSES["other"]


def cause(key: str | None, *, errorno: str | None = None, message: str | None = None,
          category: str | None = None) -> Cause:
    """The stored cause of an item, or its classification when it was recorded before causes were stored."""
    if key and key in CAUSES:
        return CAUSES[key]
    return classify(errorno=errorno, message=message, category=category)
