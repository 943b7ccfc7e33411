"""Run as a subprocess: read one huge page through the real client and print the process's peak RSS.

``python -m tests.intacct.rss_probe RECORDS`` serves, from a thread of this same process, a sign-in and then a
single ``query`` page of RECORDS customers (~265 bytes each) streamed as it is generated, so the server never
holds the page; the client reads it with ``iter_records``. Prints JSON: records read, body bytes, peak RSS (MiB).
"""

from __future__ import annotations

import json
import resource
import socket
import sys
import threading
from collections.abc import Iterator

from sync_engine.intacct import IntacctClient, IntacctCredentials, RetryPolicy
from tests.intacct import samples as s

FIELDS = ["RECORDNO", "CUSTOMERID", "NAME", "STATUS", "WHENMODIFIED", "TOTALDUE", "CURRENCY"]


def _page(records: int, controlid: str) -> Iterator[bytes]:
    yield (b'<?xml version="1.0" encoding="UTF-8"?><response><control><status>success</status></control>'
           b"<operation>" + s.auth_ok().encode() + b"<result><status>success</status><function>query</function>"
           + f"<controlid>{controlid}</controlid>".encode()
           + f'<data listtype="CUSTOMER" totalcount="{records}" offset="0" count="{records}" numremaining="0">'.encode())
    batch: list[bytes] = []
    for n in range(1, records + 1):
        batch.append(f"<CUSTOMER><RECORDNO>{n}</RECORDNO><CUSTOMERID>C-{n:07d}</CUSTOMERID>"
                     f"<NAME>Customer number {n} of the big page &amp; Co</NAME><STATUS>active</STATUS>"
                     f"<WHENMODIFIED>03/01/2024 10:{n % 60:02d}:00</WHENMODIFIED><TOTALDUE>{n % 9999}.25</TOTALDUE>"
                     f"<CURRENCY>USD</CURRENCY></CUSTOMER>".encode())
        if len(batch) == 500:
            yield b"".join(batch)
            batch = []
    yield b"".join(batch) + b"</data></result></operation></response>"


def _serve(listener: socket.socket, records: int, sent: list[int]) -> None:
    while True:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            while len(rest) < length:
                rest += conn.recv(65536)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n")
            controlid = rest.split(b'<function controlid="', 1)[1].split(b'"', 1)[0].decode()
            if b"getAPISession" in rest:
                endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}/ia/xml/xmlgw.phtml"
                conn.sendall(s.session_response(endpoint, controlid=controlid))
            else:
                for chunk in _page(records, controlid):
                    sent[0] += len(chunk)
                    conn.sendall(chunk)


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 190_000
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    sent = [0]
    threading.Thread(target=_serve, args=(listener, records, sent), daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/ia/xml/xmlgw.phtml"
    creds = IntacctCredentials(endpoint_url=url, sender_id="s", sender_password="sp", company_id="C",
                               user_id="u", user_password="up")
    seen = 0
    with IntacctClient(creds, retry=RetryPolicy(max_attempts=1), timeout=(5, 120)) as client:
        for record in client.iter_records("CUSTOMER", FIELDS):
            seen += 1
            assert record["CUSTOMERID"]
    print(json.dumps({"records": seen, "bytes": sent[0], "peak_rss_mib": round(_peak_rss_mib(), 1)}))


def _peak_rss_mib() -> float:
    """This process's peak RSS. VmHWM where Linux has it: ru_maxrss also counts the parent's memory when the
    process was started by vfork (as subprocess does) from a large parent such as a long pytest run."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
