"""Lost-response campaign: syncs against a gateway that loses answers (HTTP 524 after committing, dropped
connections) and refuses requests (429, 503), until everything is in Intacct; then compare.

    python -m campaigns.lost_response [--invoices 1000] [--payments 1000] [--p524 0.1] [--pdrop 0.1]
                                      [--pbusy 0.2] [--max-runs 10] [--backend sqlite|postgresql]

Prints how many runs it took, what the gateway injected and the comparison; exits 1 unless clean.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time

from campaigns.common import bench, compare, pending, run_here, seed_ledger
from storage.models import RunStatus


def campaign(*, invoices: int, payments: int, p524: float = 0.1, pdrop: float = 0.1, pbusy: float = 0.2,
             max_runs: int = 10, backend: str = "sqlite", out=print) -> bool:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    with bench(backend) as b:
        seed_ledger(b.engine, invoices=invoices, payments=payments)
        b.sandbox.set_faults({"faults": [
            {"kind": "http_524", "probability": p524}, {"kind": "drop_connection", "probability": pdrop},
            {"kind": "rate_limit", "probability": pbusy / 2}, {"kind": "http_503", "probability": pbusy / 2}]})
        statuses = []
        for _ in range(max_runs):
            run = run_here(b.engine, b.connection_id)
            statuses.append(f"{run.status} ({run.failed_count} failed)")
            if run.status == RunStatus.SUCCEEDED and not pending(b.engine):
                break
        injected = b.sandbox.stats().get("faults_injected", {})
        b.sandbox.clear_faults()
        result = compare(b.engine, b.sandbox)
        left = pending(b.engine)
    out(f"lost-response campaign: 524-after-commit {p524:.0%}, dropped connections {pdrop:.0%}, 429/503 {pbusy:.0%}; "
        f"{len(statuses)} run(s): {', '.join(statuses)}")
    out("  gateway injected: " + (", ".join(f"{kind} {count:,}" for kind, count in sorted(injected.items())) or "nothing"))
    for line in result.lines():
        out("  " + line)
    out(f"  {left} record(s) still waiting; {'CLEAN' if result.clean and not left else 'NOT CLEAN'} "
        f"in {time.monotonic() - started:.0f} s")
    return result.clean and not left


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m campaigns.lost_response", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--payments", type=int, default=1000)
    parser.add_argument("--p524", type=float, default=0.1)
    parser.add_argument("--pdrop", type=float, default=0.1)
    parser.add_argument("--pbusy", type=float, default=0.2)
    parser.add_argument("--max-runs", type=int, default=10)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the figures, not every retry
    ok = campaign(invoices=args.invoices, payments=args.payments, p524=args.p524, pdrop=args.pdrop, pbusy=args.pbusy,
                  max_runs=args.max_runs, backend=args.backend)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
