"""Where each write lands: per-item account overrides for invoice lines and routing rules for payments.

An invoice line posts to its own account label if it names one, else to its item's override, else to the
mapping's item account label (`resolve_line_account`). A payment is deposited to the account of the first
routing rule matching its method and currency (a rule's empty method or currency matches any; a rule with
neither, allowed only last, is the default), else to the mapping's undeposited funds account
(`resolve_payment_deposit`). A rule's account is an undeposited funds G/L account (`undepfundsacct`) or a bank
account (Intacct's CHECKINGACCOUNT, `bankaccountid`). Both lists are saved whole, checked against the lists last
read from Intacct and audited like the mapping (entity `item_override` / `payment_routing`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, delete, select

from storage.models import AccountMapping, ItemAccountOverride, PaymentRoutingRule
from storage.types import utcnow
from sync_engine.sync import intacct_lists
from sync_engine.sync.audit import record_changes

# Intacct's fixed list of payment methods for create_arpayment (nothing to read from Intacct).
METHODS = ("Printed Check", "Cash", "EFT", "Credit Card", "Online Charge Card", "Online ACH Debit")
GL_ACCOUNT, BANK_ACCOUNT = "gl_account", "bank_account"
# deposit kind → the cached Intacct list its account is picked from, and what a person calls it
DEPOSIT_KINDS = {GL_ACCOUNT: ("gl_accounts", "Undeposited funds account"),
                 BANK_ACCOUNT: ("bank_accounts", "Bank account")}


class RulesError(ValueError):
    """Nothing was saved; the message lists each problem with its row."""


@dataclass(frozen=True)
class OverrideRow:
    item_code: str
    account_label: str


@dataclass(frozen=True)
class RoutingRow:
    method: str | None
    currency: str | None
    deposit_account: str
    deposit_kind: str = GL_ACCOUNT


@dataclass(frozen=True)
class Deposit:
    """Where a payment's money goes in Intacct: an undeposited funds G/L account or a bank account."""

    kind: str
    account: str

    @property
    def is_bank(self) -> bool:
        return self.kind == BANK_ACCOUNT


def item_overrides(*, session: Session, connection_id: int) -> dict[str, str]:
    """item code → account label."""
    rows = session.exec(select(ItemAccountOverride).where(ItemAccountOverride.connection_id == connection_id)
                        .order_by(ItemAccountOverride.item_code))
    return {r.item_code: r.account_label for r in rows}


def routing_rules(*, session: Session, connection_id: int) -> list[RoutingRow]:
    """The payment routing rules in the order they are tried."""
    rows = session.exec(select(PaymentRoutingRule).where(PaymentRoutingRule.connection_id == connection_id)
                        .order_by(col(PaymentRoutingRule.position)))
    return [RoutingRow(r.method, r.currency, r.deposit_account, r.deposit_kind) for r in rows]


def resolve_line_account(*, line_label: str | None, item_code: str | None, overrides: dict[str, str],
                         mapping: AccountMapping) -> str | None:
    """The account label an invoice line posts to: its own, its item's override, else the mapping's."""
    return line_label or (overrides.get(item_code) if item_code else None) or mapping.item_account_label


def resolve_payment_deposit(*, method: str, currency: str, rules: Sequence[RoutingRow],
                            mapping: AccountMapping) -> Deposit | None:
    """Where a payment is deposited: the first matching rule's account, else the mapping's undeposited funds."""
    for rule in rules:
        if (rule.method in (None, "", method)) and (rule.currency in (None, "", (currency or "").upper())):
            return Deposit(rule.deposit_kind or GL_ACCOUNT, rule.deposit_account)
    account = mapping.undeposited_funds_account
    return Deposit(GL_ACCOUNT, account) if account else None


def _clean(value: str | None) -> str:
    return (value or "").strip()


def save_item_overrides(*, session: Session, connection_id: int, rows: Sequence[OverrideRow], actor: str) -> int:
    """Replace the overrides with `rows` (blank rows ignored); returns how many are saved."""
    problems: list[str] = []
    wanted: dict[str, str] = {}
    for n, row in enumerate(rows, start=1):
        code, label = _clean(row.item_code), _clean(row.account_label)
        if not code and not label:
            continue
        if not code:
            problems.append(f"Row {n}: give the item code.")
        elif not label:
            problems.append(f"Row {n}: choose the account label for {code}.")
        elif code in wanted:
            problems.append(f"Row {n}: {code} is listed twice.")
        else:
            issue = intacct_lists.problem(session=session, connection_id=connection_id, list_name="account_labels",
                                          value=label)
            if issue:
                problems.append(f"Row {n}: {issue}")
            wanted[code] = label
    if problems:
        raise RulesError(" ".join(problems))
    old = item_overrides(session=session, connection_id=connection_id)
    session.exec(delete(ItemAccountOverride).where(
        col(ItemAccountOverride.connection_id) == connection_id))
    for code, label in wanted.items():
        session.add(ItemAccountOverride(connection_id=connection_id, item_code=code, account_label=label,
                                        updated_at=utcnow(), updated_by=actor))
    record_changes(session=session, actor=actor, entity="item_override", entity_id=connection_id,
                   old=old, new={**{code: None for code in old}, **wanted})
    session.commit()
    return len(wanted)


def _rule_text(rule: RoutingRow) -> str:
    where = f"{DEPOSIT_KINDS.get(rule.deposit_kind, DEPOSIT_KINDS[GL_ACCOUNT])[1].lower()} {rule.deposit_account}"
    return f"{rule.method or 'any method'}, {rule.currency or 'any currency'} → {where}"


def routing_problems(*, session: Session, connection_id: int, rows: Sequence[RoutingRow]) -> list[str]:
    """Each problem of the rules as a person wrote them, with its row (empty: they can be saved)."""
    return _check_routing(session=session, connection_id=connection_id, rows=rows)[0]


def _check_routing(*, session: Session, connection_id: int,
                   rows: Sequence[RoutingRow]) -> tuple[list[str], list[RoutingRow]]:
    problems: list[str] = []
    wanted: list[RoutingRow] = []
    numbered = [(n, row) for n, row in enumerate(rows, start=1)
                if _clean(row.method) or _clean(row.currency) or _clean(row.deposit_account)]
    for position, (n, row) in enumerate(numbered, start=1):
        method, currency, account = _clean(row.method), _clean(row.currency).upper(), _clean(row.deposit_account)
        kind = row.deposit_kind or GL_ACCOUNT
        if method and method not in METHODS:
            problems.append(f"Row {n}: '{method}' is not one of Intacct's payment methods.")
        if currency and (len(currency) != 3 or not currency.isalpha()):
            problems.append(f"Row {n}: the currency is a 3-letter code like USD.")
        if kind not in DEPOSIT_KINDS:
            problems.append(f"Row {n}: choose a bank account or an undeposited funds account.")
        elif not account:
            problems.append(f"Row {n}: choose the account payments are deposited to.")
        else:
            issue = intacct_lists.problem(session=session, connection_id=connection_id,
                                          list_name=DEPOSIT_KINDS[kind][0], value=account)
            if issue:
                problems.append(f"Row {n}: {issue}")
        if not (method or currency) and position != len(numbered):
            problems.append(f"Row {n}: a rule for any method and any currency catches every payment, so it must be "
                            "the last rule.")
        wanted.append(RoutingRow(method or None, currency or None, account, kind))
    return problems, wanted


def save_routing_rules(*, session: Session, connection_id: int, rows: Sequence[RoutingRow], actor: str) -> int:
    """Replace the routing rules with `rows`, in order (blank rows ignored); returns how many are saved."""
    problems, wanted = _check_routing(session=session, connection_id=connection_id, rows=rows)
    if problems:
        raise RulesError(" ".join(problems))
    old = routing_rules(session=session, connection_id=connection_id)
    session.exec(delete(PaymentRoutingRule).where(
        col(PaymentRoutingRule.connection_id) == connection_id))
    for position, rule in enumerate(wanted, start=1):
        session.add(PaymentRoutingRule(connection_id=connection_id, position=position, method=rule.method,
                                       currency=rule.currency, deposit_account=rule.deposit_account,
                                       deposit_kind=rule.deposit_kind,
                                       updated_at=utcnow(), updated_by=actor))
    size = max(len(old), len(wanted))
    record_changes(session=session, actor=actor, entity="payment_routing", entity_id=connection_id,
                   old={f"Rule {n + 1}": _rule_text(old[n]) if n < len(old) else None for n in range(size)},
                   new={f"Rule {n + 1}": _rule_text(wanted[n]) if n < len(wanted) else None for n in range(size)})
    session.commit()
    return len(wanted)
