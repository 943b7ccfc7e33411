"""Command line: ``python -m intacct_sandbox --host 127.0.0.1 --port 8765 --db PATH --seed demo``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from .config import GATEWAY_PATH, Credentials, SandboxConfig
from .db import Store
from .gateway import build_services
from .seed import seed
from .server import SandboxHTTPServer, tls_context

ENV = "INTACCT_SANDBOX_"


def _env(name: str, default: str) -> str:
    return os.environ.get(ENV + name, default)


def parse_args(argv: list[str] | None = None) -> SandboxConfig:
    defaults = Credentials()
    p = argparse.ArgumentParser(prog="python -m intacct_sandbox", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port (printed at start)")
    p.add_argument("--db", default="data/intacct_sandbox.db", help="SQLite file holding the sandbox state")
    p.add_argument("--seed", choices=["demo", "minimal", "none"], default="demo",
                   help="data for a new/empty database")
    p.add_argument("--reset", action="store_true", help="delete the database first and seed again")
    p.add_argument("--customers", type=int, help="number of customers to seed in DEMO-AR (large data sets)")
    p.add_argument("--invoices", type=int, help="number of invoices to seed in DEMO-AR (1-3 lines each)")
    p.add_argument("--sender-id", default=_env("SENDER_ID", defaults.sender_id))
    p.add_argument("--sender-password", default=_env("SENDER_PASSWORD", defaults.sender_password))
    p.add_argument("--company-id", default=_env("COMPANY_ID", defaults.company_id))
    p.add_argument("--user-id", default=_env("USER_ID", defaults.user_id))
    p.add_argument("--user-password", default=_env("USER_PASSWORD", defaults.user_password))
    p.add_argument("--session-timeout", type=int, default=2 * 3600, help="sliding session duration, seconds")
    p.add_argument("--resultid-ttl", type=int, default=30 * 60, help="readMore resultId lifetime, seconds")
    p.add_argument("--controlid-ttl", type=int, default=24 * 3600,
                   help="how long completed function controlids are remembered (uniqueid guard), seconds")
    p.add_argument("--no-uniqueid-guard", action="store_true", help="never refuse repeated function controlids")
    p.add_argument("--reject-duplicate-invoice-numbers", action="store_true")
    p.add_argument("--faults", help="fault spec as JSON text or @path/to/file.json (see README)")
    p.add_argument("--fault-seed", type=int, help="seed for probabilistic faults and jitter")
    p.add_argument("--latency-ms", type=float, help="shortcut: add a latency fault of this many ms")
    p.add_argument("--latency-jitter-ms", type=float, default=0.0)
    p.add_argument("--concurrency-limit", type=int, help="per-company requests in flight before 429 GW-0010")
    p.add_argument("--quiet", action="store_true", help="do not print the credentials banner")
    p.add_argument("--timezone", default=_env("TIMEZONE", "UTC"),
                   help="the companies' time zone (IANA name, e.g. America/Los_Angeles); default UTC")
    p.add_argument("--tls-cert", metavar="PATH", help="PEM certificate (chain): serve HTTPS; needs --tls-key")
    p.add_argument("--tls-key", metavar="PATH", help="PEM private key of --tls-cert")
    args = p.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together (both or neither)")

    spec: dict = {"faults": []}
    if args.faults:
        text = Path(args.faults[1:]).read_text() if args.faults.startswith("@") else args.faults
        loaded = json.loads(text)
        spec = loaded if isinstance(loaded, dict) else {"faults": loaded}
        spec.setdefault("faults", [])
    if args.latency_ms:
        spec["faults"].append({"kind": "latency", "ms": args.latency_ms, "jitter_ms": args.latency_jitter_ms})
    if args.concurrency_limit is not None:
        spec["concurrency_limit"] = args.concurrency_limit
    creds = Credentials(args.sender_id, args.sender_password, args.company_id, args.user_id, args.user_password)
    return SandboxConfig(
        db_path=args.db, host=args.host, port=args.port, seed=args.seed, reset=args.reset,
        customers=args.customers, invoices=args.invoices, credentials=creds, session_seconds=args.session_timeout,
        result_set_ttl=args.resultid_ttl, controlid_ttl=args.controlid_ttl, uniqueid_guard=not args.no_uniqueid_guard,
        reject_duplicate_invoice_numbers=args.reject_duplicate_invoice_numbers,
        fault_spec=spec if (spec["faults"] or "concurrency_limit" in spec) else None,
        fault_seed=args.fault_seed, quiet=args.quiet, tls_cert=args.tls_cert, tls_key=args.tls_key,
        timezone=args.timezone,
    )


def open_store(config: SandboxConfig) -> Store:
    path = Path(config.db_path)
    if config.reset:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    store = Store(str(path))
    if store.get_meta("seeded") is None and store.is_empty():
        started = time.monotonic()
        counts = seed(store, config.seed, config.credentials, config.customers, config.invoices)
        store.set_meta("seeded", config.seed)
        store.optimize()
        if counts:
            print(f"Seeded '{config.seed}' data {counts} in {time.monotonic() - started:.1f}s", flush=True)
    return store


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = parse_args(argv)
    store = open_store(config)
    services = build_services(config, store)
    tls = tls_context(config.tls_cert, config.tls_key) if config.tls_cert and config.tls_key else None
    server = SandboxHTTPServer((config.host, config.port), services, tls)
    host, port = server.server_address[:2]
    scheme = "https" if tls else "http"
    c = config.credentials
    if not config.quiet:
        print(f"Sender ID: {c.sender_id}  Sender password: {c.sender_password}", flush=True)
        print(f"Company ID: {c.company_id} (standalone) and {c.multi_entity_company_id} (multi-entity: "
              f"{', '.join(c.entities)})", flush=True)
        print(f"User ID: {c.user_id}  User password: {c.user_password}", flush=True)
        print(f"Admin: {scheme}://{host}:{port}/_sandbox/health", flush=True)

    def _stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"Intacct sandbox listening on {scheme}://{host}:{port}{GATEWAY_PATH}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
