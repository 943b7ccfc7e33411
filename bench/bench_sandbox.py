"""Benchmark of intacct_sandbox: starts a sandbox with a large data set and prints how fast it serves.

Run with ``python -m bench.bench_sandbox [--customers N] [--invoices N]``. Prints the median time to serve a
1000-record readByQuery page of ARINVOICE and requests per second for small reads. Loopback only, bounded loops.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.sandbox import SandboxHandle, start_sandbox  # noqa: E402

PAGE = ('<function controlid="b"><readByQuery><object>ARINVOICE</object>'
        '<fields>{fields}</fields><query></query><pagesize>1000</pagesize></readByQuery></function>')
SMALL = ('<function controlid="s"><readByName><object>CUSTOMER</object><keys>C-00042</keys>'
         '<fields>CUSTOMERID,NAME,TOTALDUE</fields></readByName></function>')


def _timed(session: requests.Session, sb: SandboxHandle, body: bytes, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        resp = session.post(sb.url, data=body, headers={"Content-Type": "application/xml"}, timeout=60)
        samples.append(time.perf_counter() - started)
        assert resp.status_code == 200 and b"<status>success</status>" in resp.content
    return statistics.median(samples) * 1000


def _throughput(sb: SandboxHandle, body: bytes, threads: int, seconds: float, max_requests: int) -> float:
    done = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        nonlocal done
        session = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                if done >= max_requests:
                    return
            session.post(sb.url, data=body, headers={"Content-Type": "application/xml"}, timeout=30)
            with lock:
                done += 1

    started = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return done / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--invoices", type=int, default=100000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        sb = start_sandbox(Path(tmp), seed="demo",
                           extra_args=["--customers", str(args.customers), "--invoices", str(args.invoices)])
        print(f"sandbox with {args.customers} customers / {args.invoices} invoices ready in "
              f"{time.monotonic() - started:.1f}s")
        try:
            session = requests.Session()
            fields = "RECORDNO,RECORDID,CUSTOMERID,TOTALENTERED,TOTALPAID,TOTALDUE,STATE,WHENDUE,WHENMODIFIED"
            for label, chosen in (("listed fields", fields), ("all fields (*)", "*")):
                body = sb.envelope(PAGE.format(fields=chosen))
                _timed(session, sb, body, 2)
                print(f"readByQuery ARINVOICE 1000-record page, {label}: median "
                      f"{_timed(session, sb, body, args.runs):.1f} ms")
            small = sb.envelope(SMALL)
            for threads in (1, 4):
                rps = _throughput(sb, small, threads, seconds=3.0, max_requests=20000)
                print(f"small reads (readByName), {threads} client thread(s): {rps:.0f} requests/s")
        finally:
            sb.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
