"""A few customers and invoices looked up in Intacct by their numbers, for a check a person asked for (a CSV
upload's Check and Add): which of the numbers the ledger lacks does Intacct have, and what are they there.
`link_customers` adds customers found there to the ledger as Intacct's own (origin intacct, keys set), as the
customer import would, so a row naming one never creates a second customer of that number in Intacct.

A short call like Test connection: one `query` per 500 numbers, one attempt, short timeouts, so a person waits
seconds at most. `LookupUnavailable` says why Intacct could not be asked (no connection, refused sign-in,
unreachable); callers then check against the ledger only and say so.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session

from storage.models import Customer, Origin, SyncState
from storage.secrets import SecretKeyMismatch
from sync_engine.intacct import filters
from sync_engine.intacct.client import IntacctClient
from sync_engine.intacct.errors import IntacctError
from sync_engine.intacct.retry import NO_RETRY
from sync_engine.intacct.values import parse_decimal
from sync_engine.sync import objects
from sync_engine.sync.imports import UnreadableRecord, customer_values
from sync_engine.sync.ledger import record_version, snapshot
from sync_engine.sync.stored_connection import client_for, get_connection

CHUNK = 500  # numbers per query (Intacct takes up to 1,000 values in an `in` filter)


class LookupUnavailable(Exception):
    """Intacct could not be asked; the message says why, in plain words."""


@dataclass(frozen=True)
class IntacctCustomer:
    number: str  # CUSTOMERID
    name: str
    record: dict  # the CUSTOMER record with the fields the customer import reads


@dataclass(frozen=True)
class IntacctInvoice:
    number: str  # RECORDID
    customer_number: str
    state: str  # Posted, Partially Paid, Paid, Reversed, Draft…
    total_due: Decimal

    @property
    def open(self) -> bool:
        return self.state.lower() in ("posted", "partially paid") and self.total_due > 0


def _client(session: Session) -> IntacctClient:
    connection = get_connection(session=session)
    if connection is None:
        raise LookupUnavailable("no Intacct connection is set up")
    try:
        return client_for(connection, retry=NO_RETRY, timeout=(3, 20))
    except SecretKeyMismatch as exc:
        raise LookupUnavailable(str(exc)) from exc


def _records(session: Session, object_name: str, key: str, fields: list[str],
             numbers: Iterable[str]) -> list[dict]:
    wanted = sorted({n for n in numbers if n})
    if not wanted:
        return []
    client = _client(session)
    found: list[dict] = []
    try:
        for start in range(0, len(wanted), CHUNK):
            found += list(client.iter_records(object_name, fields,
                                              filter=filters.in_(key, wanted[start:start + CHUNK])))
    except IntacctError as exc:
        raise LookupUnavailable(exc.user_message) from exc
    finally:
        client.close()
    return found


def customers_in_intacct(*, session: Session, numbers: Iterable[str]) -> dict[str, IntacctCustomer]:
    """The customers among `numbers` (CUSTOMERIDs) that Intacct has, by number."""
    records = _records(session, objects.CUSTOMER.name, "CUSTOMERID", list(objects.CUSTOMER.fields), numbers)
    return {str(r["CUSTOMERID"]): IntacctCustomer(str(r["CUSTOMERID"]), str(r.get("NAME") or r["CUSTOMERID"]), r)
            for r in records}


def link_customers(*, session: Session, customers: Iterable[IntacctCustomer], actor: str) -> dict[str, int]:
    """Add Intacct's customers to the ledger as they are there (not committed); returns number → ledger id.

    Their first version says who brought them in; the next customer import refreshes them like any other."""
    customers = list(customers)
    if not customers:
        return {}
    connection = get_connection(session=session)
    assert connection is not None, "customers were found in Intacct through the stored connection"
    linked: dict[str, int] = {}
    for found in customers:
        try:
            values = customer_values(found.record)
        except UnreadableRecord:
            continue  # the row then reads as a customer the ledger lacks; the import reports the record
        customer = Customer(**values, connection_id=connection.id, origin=Origin.INTACCT,
                            sync_state=SyncState.SYNCED)
        session.add(customer)
        session.flush()
        record_version(session=session, record_type="customer", record_id=customer.id,  # type: ignore[arg-type]
                       changes={}, snapshot_values=snapshot("customer", values), run_id=None, source="import",
                       changed_by=actor, new_record=True)
        linked[found.number] = customer.id  # type: ignore[assignment]
    return linked


def invoices_in_intacct(*, session: Session, numbers: Iterable[str]) -> dict[str, IntacctInvoice]:
    """The invoices among `numbers` (invoice numbers, Intacct's RECORDID) that Intacct has, by number."""
    records = _records(session, "ARINVOICE", "RECORDID", ["RECORDNO", "RECORDID", "CUSTOMERID", "STATE", "TOTALDUE"],
                       numbers)
    return {str(r["RECORDID"]): IntacctInvoice(
        str(r["RECORDID"]), str(r.get("CUSTOMERID") or ""), str(r.get("STATE") or ""),
        parse_decimal(r.get("TOTALDUE")) or Decimal(0)) for r in records}
