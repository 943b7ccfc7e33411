"""Deterministic company data: ``none``, ``minimal``, ``demo`` and large sets (``--customers/--invoices``).

Everything seeded is dated in the past (at least two days before seeding) so incremental syncs can tell
new changes from seed data. Rows are written with ``executemany`` so 100k invoices take seconds.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .config import Credentials
from .db import Store, q

TERMS = {"Due on Receipt": 0, "Net 10": 10, "Net 15": 15, "Net 30": 30, "Net 45": 45, "Net 60": 60}

GL_ACCOUNTS = [
    ("1000", "Cash - Operating Checking", "balancesheet", "debit", "Cash and Cash Equivalents", "active"),
    ("1200", "Accounts Receivable", "balancesheet", "debit", "Accounts Receivable", "active"),
    ("1210", "Undeposited Funds", "balancesheet", "debit", "Cash and Cash Equivalents", "active"),
    ("2000", "Accounts Payable", "balancesheet", "credit", "Accounts Payable", "active"),
    ("2400", "Deferred Revenue", "balancesheet", "credit", "Deferred Revenue", "active"),
    ("4000", "Services Revenue", "incomestatement", "credit", "Revenue", "active"),
    ("4010", "Product Revenue", "incomestatement", "credit", "Revenue", "active"),
    ("4020", "Subscription Revenue", "incomestatement", "credit", "Revenue", "active"),
    ("4900", "Legacy Revenue (closed)", "incomestatement", "credit", "Revenue", "inactive"),
    ("5000", "Cost of Goods Sold", "incomestatement", "debit", "Cost of Sales", "active"),
]
LABELS = [
    ("Services Revenue", "Professional services", "4000", "active"),
    ("Product Revenue", "Hardware and licences", "4010", "active"),
    ("Subscription Revenue", "Recurring subscriptions", "4020", "active"),
    ("Legacy Revenue", "Retired label", "4900", "inactive"),
]
# (BANKACCOUNTID, BANKACCOUNTNO, GL account, BANKNAME, STATUS): CHECKINGACCOUNT, a payment's `bankaccountid`.
BANK_ACCOUNTS = [("BOA-CHK", "000123456789", "1000", "Bank of America Checking", "active"),
                 ("OLD-CHK", "000987654321", "1000", "First Savings (closed)", "inactive")]
DEPARTMENTS = [("SALES", "Sales"), ("SERVICES", "Professional Services"), ("SUPPORT", "Customer Support"),
               ("ADMIN", "Administration")]
_FIRST = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Hooli", "Vandelay", "Soylent",
          "Tyrell", "Cyberdyne", "Gringotts", "Oscorp", "Nakatomi", "Pied Piper", "Monarch", "Dunder", "Bluth",
          "Sterling", "Café Müller", "Škoda Partners", "Smith & Sons", "O'Brien", "Nordvik", "Zürich Labs"]
_SECOND = ["Tools", "Logistics", "Holdings", "Foods", "Analytics", "Systems", "Design", "Retail", "Media",
           "Energy", "Health", "Studios", "Robotics", "Consulting", "Supply", "Ventures"]
_SUFFIX = ["Inc.", "LLC", "Ltd", "GmbH", "Corp.", "Co.", "SA", "BV"]
_CITIES = [("Springfield", "IL", "62701"), ("Austin", "TX", "73301"), ("Boston", "MA", "02108"),
           ("Denver", "CO", "80202"), ("Seattle", "WA", "98101"), ("Miami", "FL", "33101")]
_METHODS = ["Printed Check", "EFT", "Credit Card", "Cash"]


@dataclass
class SeedPlan:
    customers: int
    invoices: int
    payments: bool


PLANS = {"minimal": SeedPlan(5, 4, False), "demo": SeedPlan(50, 200, True)}


def _insert_many(conn: sqlite3.Connection, table: str, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    cols = ", ".join("company" if c == "company" else ("is_entity" if c == "is_entity" else q(c)) for c in columns)
    marks = ", ".join("?" for _ in columns)
    conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)


def _next_key(conn: sqlite3.Connection, table: str) -> int:
    return (conn.execute(f'SELECT COALESCE(MAX("RECORDNO"), 0) FROM {table}').fetchone()[0] or 0) + 1


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class CompanySeeder:
    """Writes one company's master data and transactions."""

    def __init__(self, conn: sqlite3.Connection, company: str, now: datetime, rng: random.Random,
                 entities: tuple[str, ...] = ()) -> None:
        self.conn = conn
        self.company = company
        self.now = now
        self.rng = rng
        self.entities = entities
        self.latest = now - timedelta(days=2, hours=1)
        self.earliest = now - timedelta(days=200)
        self.user = "ws_console"

    def _past(self, after: datetime | None = None) -> datetime:
        start = after or self.earliest
        span = max(60, int((self.latest - start).total_seconds()))
        return start + timedelta(seconds=self.rng.randrange(span))

    def _audit(self, moment: datetime, entity: str = "") -> list:
        key, name = (self.entity_keys.get(entity), entity) if entity else (None, None)
        return [_ts(moment), _ts(moment), self.user, self.user, key, entity or None, name]

    AUDIT_COLS = ["WHENCREATED", "WHENMODIFIED", "CREATEDBY", "MODIFIEDBY", "MEGAENTITYKEY", "MEGAENTITYID",
                  "MEGAENTITYNAME"]

    def master_data(self) -> None:
        conn, company = self.conn, self.company
        self.entity_keys: dict[str, int] = {}
        base = self._past()
        _insert_many(conn, "glaccount",
                     ["company", "ACCOUNTNO", "TITLE", "ACCOUNTTYPE", "NORMALBALANCE", "CLOSINGTYPE", "CATEGORY",
                      "ALTERNATIVEACCOUNT", "STATUS", "REQUIREDEPT", "REQUIRELOC", *self.AUDIT_COLS],
                     [(company, no, title, typ, bal,
                       "closing account" if typ == "incomestatement" else "non-closing account", cat,
                       "Receivables account" if no == "1200" else "None", status, 0, 0, *self._audit(base))
                      for no, title, typ, bal, cat, status in GL_ACCOUNTS])
        _insert_many(conn, "araccountlabel",
                     ["company", "ACCOUNTLABEL", "DESCRIPTION", "GLACCOUNTNO", "OFFSETGLACCOUNTNO", "STATUS",
                      *self.AUDIT_COLS],
                     [(company, label, desc, gl, "1200", status, *self._audit(base))
                      for label, desc, gl, status in LABELS])
        if self.entities:
            key = _next_key(conn, "location")
            rows = []
            for i, entity in enumerate(self.entities):
                self.entity_keys[entity] = key + i
                rows.append((company, key + i, entity, f"{entity.replace('-', ' ').title()} Entity", None, "active",
                             "USD", 1, "2020-01-01", *self._audit(base)))
            _insert_many(conn, "location", ["company", "RECORDNO", "LOCATIONID", "NAME", "PARENTID", "STATUS",
                                            "CURRENCY", "is_entity", "STARTDATE", *self.AUDIT_COLS], rows)
            children = [(company, f"{e}-OPS", f"{e.title()} Operations", e, "active", "USD", 0, "2020-01-01",
                         *self._audit(base)) for e in self.entities]
            _insert_many(conn, "location", ["company", "LOCATIONID", "NAME", "PARENTID", "STATUS", "CURRENCY",
                                            "is_entity", "STARTDATE", *self.AUDIT_COLS], children)
            self.locations = [f"{e}-OPS" for e in self.entities] + list(self.entities)
        else:
            _insert_many(conn, "location", ["company", "LOCATIONID", "NAME", "PARENTID", "STATUS", "CURRENCY",
                                            "is_entity", "STARTDATE", *self.AUDIT_COLS],
                         [(company, "HQ", "Headquarters", None, "active", "USD", 0, "2020-01-01", *self._audit(base)),
                          (company, "REMOTE", "Remote Office", None, "active", "USD", 0, "2021-06-01",
                           *self._audit(base))])
            self.locations = ["HQ", "REMOTE"]
        _insert_many(conn, "department", ["company", "DEPARTMENTID", "TITLE", "STATUS", *self.AUDIT_COLS],
                     [(company, dep, title, "active", *self._audit(base)) for dep, title in DEPARTMENTS])
        _insert_many(conn, "checkingaccount", ["company", "BANKACCOUNTID", "BANKACCOUNTNO", "GLACCOUNTNO",
                                               "BANKNAME", "CURRENCY", "STATUS", *self.AUDIT_COLS],
                     [(company, bank_id, number, gl, name, "USD", status, *self._audit(base))
                      for bank_id, number, gl, name, status in BANK_ACCOUNTS])

    def customers(self, count: int) -> list[tuple[int, str, str]]:
        """Returns (RECORDNO, CUSTOMERID, NAME) of the new customers."""
        key = _next_key(self.conn, "customer")
        rows = []
        made = []
        for i in range(count):
            name = f"{_FIRST[i % len(_FIRST)]} {_SECOND[(i // len(_FIRST)) % len(_SECOND)]} " \
                   f"{_SUFFIX[(i // 7) % len(_SUFFIX)]}"
            if i >= len(_FIRST) * len(_SECOND):
                name = f"{name} #{i}"
            cust_id = f"C-{i + 1:05d}"
            city, state, zipcode = _CITIES[i % len(_CITIES)]
            moment = self._past()
            status = "inactive" if i % 23 == 22 else "active"
            entity = self.entities[1] if self.entities and i == count - 1 else ""
            email = "ap+" + "".join(ch for ch in cust_id.lower() if ch.isalnum()) + "@example.com"
            rows.append((self.company, key + i, cust_id, name, status, 0, 0, "Net 30", "USD", 0, 500000,
                         "Unrestricted", name, name, name, email, "+1 555 01" + f"{i % 100:02d}",
                         f"{100 + i} Main St", city, state, zipcode, "United States", "US",
                         *self._audit(moment, entity)))
            made.append((key + i, cust_id, name, status, entity))
        _insert_many(self.conn, "customer",
                     ["company", "RECORDNO", "CUSTOMERID", "NAME", "STATUS", "ONETIME", "ONHOLD", "TERMNAME",
                      "CURRENCY", "TOTALDUE", "CREDITLIMIT", "OBJECTRESTRICTION", "DISPLAYCONTACT.CONTACTNAME",
                      "DISPLAYCONTACT.PRINTAS", "DISPLAYCONTACT.COMPANYNAME", "DISPLAYCONTACT.EMAIL1",
                      "DISPLAYCONTACT.PHONE1", "DISPLAYCONTACT.MAILADDRESS.ADDRESS1", "DISPLAYCONTACT.MAILADDRESS.CITY",
                      "DISPLAYCONTACT.MAILADDRESS.STATE", "DISPLAYCONTACT.MAILADDRESS.ZIP",
                      "DISPLAYCONTACT.MAILADDRESS.COUNTRY", "DISPLAYCONTACT.MAILADDRESS.COUNTRYCODE",
                      *self.AUDIT_COLS], rows)
        self.customer_rows = made
        return made

    def invoices(self, count: int, with_payments: bool, open_only: bool = False) -> None:
        conn, rng = self.conn, self.rng
        active = [c for c in self.customer_rows if c[3] == "active"]
        inv_key = _next_key(conn, "arinvoice")
        line_key = _next_key(conn, "arinvoiceitem")
        pay_key = _next_key(conn, "arpymt")
        det_key = _next_key(conn, "arpymtdetail")
        labels = [("Services Revenue", "4000", "Services Revenue"), ("Product Revenue", "4010", "Product Revenue"),
                  ("Subscription Revenue", "4020", "Subscription Revenue")]
        inv_rows, line_rows, pay_rows, det_rows = [], [], [], []
        balances: dict[str, int] = {}
        start_no = conn.execute("SELECT COUNT(*) FROM arinvoice WHERE company = ?", (self.company,)).fetchone()[0]
        for n in range(count):
            cust = active[n % len(active)] if n < len(active) else active[rng.randrange(len(active))]
            cust_key, cust_id, cust_name, _, cust_entity = cust
            entity = cust_entity or (self.entities[n % len(self.entities)] if self.entities else "")
            created = self._past()
            inv_date = created.date()
            term = rng.choice(["Net 15", "Net 30", "Net 30", "Net 45"])
            due = inv_date + timedelta(days=TERMS[term])
            nlines = 1 + (n % 3)
            amounts = [rng.randrange(5000, 500000) for _ in range(nlines)]
            total = sum(amounts)
            roll = rng.random()
            if open_only:
                state = "Posted"
            elif roll < 0.08:
                state = "Draft"
            elif roll < 0.5:
                state = "Posted"
            elif roll < 0.65 and with_payments:
                state = "Partially Paid"
            elif roll < 0.97 and with_payments:
                state = "Paid"
            elif roll < 0.99:
                state = "Posted"
            else:
                state = "Reversed"
            paid = 0
            if state == "Paid":
                paid = total
            elif state == "Partially Paid":
                paid = rng.randrange(100, total - 100) if total > 200 else total // 2
            modified = created
            when_paid = None
            line_paid = []
            remaining = paid
            for amount in amounts:
                part = min(amount, remaining)
                line_paid.append(part)
                remaining -= part
            if paid:
                pay_moment = self._past(created + timedelta(hours=1)) if created < self.latest else created
                modified = pay_moment
                if state == "Paid":
                    when_paid = pay_moment.date().isoformat()
                pay_rows.append((self.company, pay_key, "rp", "C", "Complete", rng.choice(_METHODS), cust_id,
                                 cust_name, f"CHK-{10000 + len(pay_rows)}", f"Payment for INV-{start_no + n + 1:06d}",
                                 "1210", pay_moment.date().isoformat(), pay_moment.date().isoformat(),
                                 pay_moment.date().isoformat(), _ts(pay_moment), "USD", "USD", paid, paid, 0,
                                 self.user, self.user, self.entity_keys.get(entity) if entity else None,
                                 entity or None, entity or None))
                for i, part in enumerate(line_paid):
                    if part:
                        det_rows.append((self.company, det_key, pay_key, inv_key + 0, line_key + i, part,
                                         pay_moment.date().isoformat(), "USD", "C", _ts(pay_moment),
                                         _ts(pay_moment), self.user, self.user))
                        det_key += 1
                pay_key += 1
            due_amount = 0 if state in ("Reversed",) else total - paid
            if state in ("Posted", "Partially Paid"):
                balances[cust_id] = balances.get(cust_id, 0) + due_amount
            ent_key = self.entity_keys.get(entity) if entity else None
            inv_rows.append((self.company, inv_key, f"INV-{start_no + n + 1:06d}", f"PO-{rng.randrange(1000, 9999)}",
                             cust_id, cust_name, state, inv_date.isoformat(), inv_date.isoformat(), due.isoformat(),
                             when_paid, _ts(modified), _ts(created), total, paid, due_amount, 0, "USD", "USD",
                             f"{term} invoice for {cust_name}", term, TERMS[term], "4.AR", "ri", self.user, self.user,
                             ent_key, entity or None, entity or None))
            for i, amount in enumerate(amounts):
                label, gl, title = labels[(n + i) % len(labels)]
                loc = self.locations[(n + i) % len(self.locations)] if not self.entities else \
                    (f"{entity}-OPS" if entity else self.locations[0])
                dep_id, dep_name = DEPARTMENTS[(n + i) % len(DEPARTMENTS)]
                line_rows.append((self.company, line_key, inv_key, i + 1, gl, title, label, "1200",
                                  "Accounts Receivable", amount, f"{title} line {i + 1}", loc, loc, dep_id, dep_name,
                                  line_paid[i], 0, "USD", "USD", inv_date.isoformat(), state, "ri", cust_id,
                                  cust_name, _ts(created), _ts(modified), self.user, self.user, ent_key,
                                  entity or None, entity or None))
                line_key += 1
            inv_key += 1
        _insert_many(conn, "arinvoice",
                     ["company", "RECORDNO", "RECORDID", "DOCNUMBER", "CUSTOMERID", "CUSTOMERNAME", "STATE",
                      "WHENCREATED", "WHENPOSTED", "WHENDUE", "WHENPAID", "WHENMODIFIED", "AUWHENCREATED",
                      "TOTALENTERED", "TOTALPAID", "TOTALDUE", "TOTALSELECTED", "CURRENCY", "BASECURR", "DESCRIPTION",
                      "TERMNAME", "DUE_IN_DAYS", "MODULEKEY", "RECORDTYPE", "CREATEDBY", "MODIFIEDBY",
                      "MEGAENTITYKEY", "MEGAENTITYID", "MEGAENTITYNAME"], inv_rows)
        _insert_many(conn, "arinvoiceitem",
                     ["company", "RECORDNO", "RECORDKEY", "LINE_NO", "ACCOUNTNO", "ACCOUNTTITLE", "ACCOUNTLABEL",
                      "OFFSETGLACCOUNTNO", "OFFSETGLACCOUNTTITLE", "AMOUNT", "ENTRYDESCRIPTION", "LOCATIONID",
                      "LOCATIONNAME", "DEPARTMENTID", "DEPARTMENTNAME", "TOTALPAID", "TOTALSELECTED", "CURRENCY",
                      "BASECURR", "ENTRY_DATE", "STATE", "RECORDTYPE", "CUSTOMERID", "CUSTOMERNAME", "WHENCREATED",
                      "WHENMODIFIED", "CREATEDBY", "MODIFIEDBY", "MEGAENTITYKEY", "MEGAENTITYID", "MEGAENTITYNAME"],
                     line_rows)
        _insert_many(conn, "arpymt",
                     ["company", "RECORDNO", "RECORDTYPE", "STATE", "DISPLAYSTATE", "PAYMENTMETHOD", "CUSTOMERID",
                      "CUSTOMERNAME", "DOCNUMBER", "DESCRIPTION", "UNDEPOSITEDACCOUNTNO", "RECEIPTDATE", "WHENPAID",
                      "WHENCREATED", "WHENMODIFIED", "CURRENCY", "BASECURR", "TOTALENTERED", "TOTALPAID", "TOTALDUE",
                      "CREATEDBY", "MODIFIEDBY", "MEGAENTITYKEY", "MEGAENTITYID", "MEGAENTITYNAME"], pay_rows)
        _insert_many(conn, "arpymtdetail",
                     ["company", "RECORDNO", "PAYMENTKEY", "RECORDKEY", "ENTRYKEY", "PAYMENTAMOUNT", "PAYMENTDATE",
                      "CURRENCY", "STATE", "WHENCREATED", "WHENMODIFIED", "CREATEDBY", "MODIFIEDBY"], det_rows)
        conn.executemany('UPDATE customer SET "TOTALDUE" = ? WHERE company = ? AND "CUSTOMERID" = ?',
                         [(cents, self.company, cid) for cid, cents in balances.items()])


def seed(store: Store, kind: str, creds: Credentials, customers: int | None = None,
         invoices: int | None = None, now: datetime | None = None) -> dict[str, int]:
    """Seed both companies; returns row counts of the main company."""
    if kind == "none" and not customers and not invoices:
        return {}
    now = now or datetime.now(UTC)
    plan = PLANS.get(kind, PLANS["minimal"])
    n_customers = customers if customers is not None else plan.customers
    n_invoices = invoices if invoices is not None else plan.invoices
    with store.writing() as conn:
        main = CompanySeeder(conn, creds.company_id, now, random.Random(20240501))
        main.master_data()
        main.customers(max(1, n_customers))
        main.invoices(n_invoices, plan.payments, open_only=not plan.payments)
        multi = CompanySeeder(conn, creds.multi_entity_company_id, now, random.Random(7), tuple(creds.entities))
        multi.master_data()
        multi.customers(8)
        multi.invoices(12, plan.payments, open_only=not plan.payments)
    return {"customers": n_customers, "invoices": n_invoices}
