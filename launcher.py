"""`make run`: start the local Intacct sandbox, the scheduler and the console together; Ctrl-C stops them all.

The sandbox is the embedded default: its demo company's credentials are handed to the console through
INTACCT_DEMO_* variables so "Use the local demo company" on the Connection page fills them in. Set
RUN_SANDBOX=0 to connect to a real Intacct company instead.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8765"))
CONSOLE_PORT = int(os.environ.get("CONSOLE_PORT", "8501"))
SANDBOX_DB = Path(os.environ.get("SANDBOX_DB", str(DATA / "sandbox.db")))
DEMO = {
    "INTACCT_DEMO_URL": f"http://127.0.0.1:{SANDBOX_PORT}/ia/xml/xmlgw.phtml",
    "INTACCT_DEMO_SENDER_ID": os.environ.get("INTACCT_SANDBOX_SENDER_ID", "ar-console-sender"),
    "INTACCT_DEMO_SENDER_PASSWORD": os.environ.get("INTACCT_SANDBOX_SENDER_PASSWORD", "sandbox-sender-pw"),
    "INTACCT_DEMO_COMPANY_ID": os.environ.get("INTACCT_SANDBOX_COMPANY_ID", "DEMO-AR"),
    "INTACCT_DEMO_USER_ID": os.environ.get("INTACCT_SANDBOX_USER_ID", "ws_console"),
    "INTACCT_DEMO_USER_PASSWORD": os.environ.get("INTACCT_SANDBOX_USER_PASSWORD", "sandbox-user-pw"),
}


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.2)
    return False


def _stop_on_sigterm(_signum, _frame) -> None:  # type: ignore[no-untyped-def]
    # Python ends on SIGTERM without running `finally`; turn it into the same clean stop as Ctrl-C.
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    DATA.mkdir(exist_ok=True)
    run_sandbox = os.environ.get("RUN_SANDBOX", "1") != "0"
    # Without the sandbox there is no demo company: the console then offers no "Use the local demo company".
    env = {**os.environ, **(DEMO if run_sandbox else {}), "PYTHONUNBUFFERED": "1"}
    env.setdefault("CONSOLE_ADMIN_USER", "admin")
    env.setdefault("CONSOLE_ADMIN_PASSWORD", "admin-demo")
    processes: list[tuple[str, subprocess.Popen]] = []

    def start(name: str, args: list[str]) -> subprocess.Popen:
        print(f"[launcher] starting {name}: {' '.join(args)}", flush=True)
        process = subprocess.Popen(args, cwd=ROOT, env=env)
        processes.append((name, process))
        return process

    try:
        if run_sandbox:
            sandbox = start("sandbox", [sys.executable, "-m", "intacct_sandbox", "--host", "127.0.0.1",
                                        "--port", str(SANDBOX_PORT), "--db", str(SANDBOX_DB), "--seed", "demo"])
            if not _wait_for_port(SANDBOX_PORT, sandbox):
                print(f"[launcher] the sandbox did not start; see its output above (is port {SANDBOX_PORT} taken? "
                      "set SANDBOX_PORT to another port)", flush=True)
                return 1
        start("scheduler", [sys.executable, "-m", "sync_engine.scheduler"])
        start("console", [sys.executable, "-m", "streamlit", "run", "console_server.py",
                          "--server.port", str(CONSOLE_PORT),
                          "--server.headless", "true"])
        print(f"[launcher] console: http://localhost:{CONSOLE_PORT}  (first sign-in: "
              f"{env['CONSOLE_ADMIN_USER']} / the CONSOLE_ADMIN_PASSWORD you set, default 'admin-demo')", flush=True)
        while True:
            for name, process in processes:
                if process.poll() is not None:
                    print(f"[launcher] {name} exited with code {process.returncode}; stopping the others", flush=True)
                    return process.returncode or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\n[launcher] stopping…", flush=True)
        return 0
    finally:
        for _, process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
