"""Benchmark: a 50,000-row invoice CSV into a fresh ledger (SQLite file, and PostgreSQL when reachable), and the
refusal of a 100 MB file; prints seconds and peak memory, never asserts them.

Run with `python -m bench.bench_uploads [--rows N]`.
"""
from __future__ import annotations

import argparse
import io
import os
import resource
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlmodel import Session

from storage.db import make_engine
from storage.migrate import upgrade_database
from sync_engine.ledger_csv import CsvFormatError, import_invoices_csv

HEADER = ("invoice_number,customer_number,customer_name,customer_email,invoice_date,due_date,currency,description,"
          "line_description,quantity,amount,account_label\n")


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _csv(rows: int) -> bytes:
    lines = [HEADER] + [f"B-{i:06},C-{i % 500:05},Customer {i % 500},,2026-11-02,2026-12-02,USD,Bench,Line,1,"
                        f"\"{(i % 900) + 1:,}.25\",\n" for i in range(rows)]
    return "".join(lines).encode()


def _import(url: str, data: bytes) -> tuple[int, float]:
    engine = make_engine(url)
    upgrade_database(engine)
    started = time.perf_counter()
    with Session(engine) as session:
        result = import_invoices_csv(session=session, data=io.BytesIO(data), actor="bench")
    elapsed = time.perf_counter() - started
    engine.dispose()
    return len(result.created), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    data = _csv(args.rows)
    print(f"upload of {args.rows:,} invoice rows ({len(data) / 1048576:.1f} MB)")
    with tempfile.TemporaryDirectory() as tmp:
        created, seconds = _import(f"sqlite:///{Path(tmp) / 'bench.db'}", data)
        print(f"  SQLite file: {created:,} invoices in {seconds:.1f} s ({created / seconds:,.0f}/s), "
              f"peak RSS {_rss_mib():.0f} MiB")
    admin_url = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    name = f"bench_upload_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - PostgreSQL is optional for a benchmark
        print(f"  PostgreSQL: skipped ({exc.__class__.__name__})")
    else:
        try:
            created, seconds = _import(admin_url.rsplit("/", 1)[0] + "/" + name, data)
            print(f"  PostgreSQL: {created:,} invoices in {seconds:.1f} s ({created / seconds:,.0f}/s), "
                  f"peak RSS {_rss_mib():.0f} MiB")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    before = _rss_mib()
    huge = io.BytesIO(b"x" * (100 * 1048576))
    started = time.perf_counter()
    try:
        import_invoices_csv(session=None, data=huge, actor="bench")  # type: ignore[arg-type]
    except CsvFormatError as exc:
        print(f"  100 MB file refused in {(time.perf_counter() - started) * 1000:.1f} ms without parsing "
              f"(peak RSS {before:.0f} -> {_rss_mib():.0f} MiB, the file itself included): {exc}")


if __name__ == "__main__":
    main()
