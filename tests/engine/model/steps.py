"""The steps of the model, shared by the stateful test (hypothesis draws the arguments) and the soak
(a seeded random draws them): each operation with the arguments it takes, and a sync followed by its checks.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tests.engine.model.invariants import Violation, check_after_sync, ledger_consistent, quiet_sync
from tests.engine.model.world import DISTURBANCES, IMPORTS, IntacctRefused, LedgerRefused, World


def sync_and_check(world: World, disturbance: str = "none", stop_after: int = 3) -> list[Violation]:
    """A sync (maybe disturbed, then resumed by a clean one: Sync Now, or Retry when it did not succeed), its
    checks, and a quiet sync after it."""
    if disturbance in IMPORTS:
        imported = world.sync(kind=disturbance)
        violations = check_after_sync(world, imported)
        if imported.run.status != "succeeded":
            violations.append(Violation("clean_sync", f"the {disturbance} ended {imported.run.status}: "
                                                      f"{imported.run.error_message}", imported.number))
        disturbance = "none"
    else:
        violations = []
    outcome = world.sync(disturbance, stop_after)
    violations += check_after_sync(world, outcome)
    if disturbance != "none":
        retry = outcome.run.status != "succeeded" and stop_after % 2 == 0
        violations += check_after_sync(world, world.sync("none", retry_of=outcome.run.id if retry else None))
    world.sync_completed()
    violations += quiet_sync(world, world.sync("none"))
    return violations


def preview_and_check(world: World) -> list[Violation]:
    """Preview next sync: it may list what it would do, and must change nothing on either side."""
    ledger, intacct = world.ledger_state(), world.intacct_state()
    outcome = world.sync(preview=True)
    found = []
    if outcome.run.status != "succeeded":
        found.append(Violation("preview_writes_nothing", f"the preview ended {outcome.run.status}: "
                                                         f"{outcome.run.error_message}", outcome.number))
    for side, before, after in (("ledger", ledger, world.ledger_state()), ("Intacct", intacct, world.intacct_state())):
        for table in before:
            if before[table] != after[table]:
                changed = [row for row in after[table] if row not in before[table]][:2]
                found.append(Violation("preview_writes_nothing", f"the preview changed {side} {table}: {changed}",
                                       outcome.number))
    return found


def _cents(rng: random.Random) -> list[int]:
    return [rng.randint(1, 500_000) for _ in range(rng.randint(1, 3))]


# name -> (weight, how to call it with a random source); the soak's mix of operations.
OPERATIONS: dict[str, tuple[int, Callable[[World, random.Random], Any]]] = {
    "ledger_invoice": (6, lambda w, r: w.ledger_invoice(pick=r.randrange(1000), new_customer=r.random() < 0.4,
                                                         cents=_cents(r))),
    "ledger_payment": (5, lambda w, r: w.ledger_payment(pick=r.randrange(1000), share=r.choice([100, r.randint(1, 99)]),
                                                         two_invoices=r.random() < 0.3)),
    "ledger_void_invoice": (1, lambda w, r: w.ledger_void_invoice(pick=r.randrange(1000))),
    "ledger_void_payment": (1, lambda w, r: w.ledger_void_payment(pick=r.randrange(1000))),
    "intacct_customer": (2, lambda w, r: w.intacct_customer()),
    "intacct_invoice": (4, lambda w, r: w.intacct_invoice(pick=r.randrange(1000), cents=_cents(r))),
    "intacct_payment": (4, lambda w, r: w.intacct_payment(pick=r.randrange(1000), share=r.choice([100, r.randint(1, 99)]),
                                                           generic=r.random() < 0.5, two_invoices=r.random() < 0.3)),
    "intacct_delete_invoice": (1, lambda w, r: w.intacct_delete_invoice(pick=r.randrange(1000))),
    "intacct_reverse_invoice": (1, lambda w, r: w.intacct_reverse_invoice(pick=r.randrange(1000))),
    "intacct_reverse_payment": (1, lambda w, r: w.intacct_reverse_payment(pick=r.randrange(1000))),
    "intacct_rename_customer": (1, lambda w, r: w.intacct_rename_customer(pick=r.randrange(1000))),
}
SYNC_WEIGHT = 4


def random_step(world: World, rng: random.Random) -> tuple[str, list[Violation]]:
    """One step of the soak: an operation on either side (then the ledger check) or a sync and its checks."""
    names = [*OPERATIONS, "preview", "sync"]
    weights = [OPERATIONS[name][0] for name in names[:-2]] + [1, SYNC_WEIGHT]
    name = rng.choices(names, weights)[0]
    if name == "preview":
        return name, preview_and_check(world)
    if name == "sync":
        disturbance = "none" if rng.random() < 0.6 else rng.choice(DISTURBANCES[1:])
        return f"sync:{disturbance}", sync_and_check(world, disturbance, rng.randint(1, 8))
    try:
        done = OPERATIONS[name][1](world, rng)
    except (LedgerRefused, IntacctRefused) as refused:
        # The model only asks for what a person could do: a refusal is the model's or the ledger's fault.
        return name, [Violation("operation_refused", f"{name}: {refused}")]
    return (name if done is not None else f"({name}: nothing to do)"), ledger_consistent(world)
