"""The benchmark's Intacct company: a sandbox seeded once per (customers, invoices, seed code) and cached.

Seeding 20,000 customers and 100,000 invoices takes a while, so the seeded sandbox database is kept under
`data/bench/` keyed by the seed parameters and a hash of the sandbox's seeding code; every benchmark gets
its own copy, so writes and changes made by one benchmark never leak into the next (or the next `make bench`).
"""
from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

from storage.db import DEFAULT_DATA_DIR
from tests.fixtures import sandbox as sandbox_fixture
from tests.fixtures.sandbox import SandboxHandle, start_sandbox

ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = DEFAULT_DATA_DIR / "bench"
DB_NAME = "intacct_sandbox.db"


def _seed_code_hash() -> str:
    digest = hashlib.sha256()
    for name in ("seed.py", "db.py", "schema.py"):
        path = ROOT / "intacct_sandbox" / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def cached_company(customers: int, invoices: int) -> tuple[Path, bool]:
    """The cached seeded sandbox database (seeded now when missing) and whether it was seeded by this call."""
    folder = CACHE_DIR / f"sandbox-c{customers}-i{invoices}-{_seed_code_hash()}"
    db = folder / DB_NAME
    if db.exists():
        return db, False
    building = folder.with_name(folder.name + ".building")
    sandbox_fixture.START_TIMEOUT_SECONDS = 900  # seeding 100,000 invoices on a busy machine takes minutes
    shutil.rmtree(building, ignore_errors=True)
    handle = start_sandbox(building, seed="none", extra_args=["--customers", str(customers),
                                                              "--invoices", str(invoices), "--quiet"])
    handle.stop()
    with sqlite3.connect(building / DB_NAME) as conn:  # fold the WAL in, so one file is the whole company
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for extra in ("-wal", "-shm"):
        (building / (DB_NAME + extra)).unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    building.rename(folder)
    return db, True


def start_copy(cached: Path, workdir: Path) -> SandboxHandle:
    """A sandbox serving a private copy of the cached company."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, workdir / DB_NAME)
    return start_sandbox(workdir, seed="none", extra_args=["--quiet"])
