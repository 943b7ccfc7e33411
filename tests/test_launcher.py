"""`make run`'s launcher: the three processes come up, and one SIGTERM (or Ctrl-C) stops every one of them."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return bool(state) and not state.startswith("Z")


def test_launcher_starts_everything_and_sigterm_stops_everything(tmp_path: Path) -> None:
    console, sandbox = _free_port(), _free_port()
    env = {**os.environ, "CONSOLE_PORT": str(console), "SANDBOX_PORT": str(sandbox),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}", "SANDBOX_DB": str(tmp_path / "sandbox.db")}
    log = open(tmp_path / "launcher.log", "w")  # noqa: SIM115 (a child process writes it; closed when it stops)
    launcher = subprocess.Popen([sys.executable, "-m", "launcher"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    children: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if (requests.get(f"http://127.0.0.1:{console}/_stcore/health", timeout=1).ok
                        and requests.get(f"http://127.0.0.1:{sandbox}/_sandbox/health", timeout=1).ok):
                    break
            except requests.ConnectionError:
                pass
            assert launcher.poll() is None and time.monotonic() < deadline, (tmp_path / "launcher.log").read_text()
            time.sleep(0.3)
        children = _children(launcher.pid)
        assert len(children) == 3, (tmp_path / "launcher.log").read_text()  # sandbox, scheduler, console

        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=30) == 0
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in children if _alive(pid)], "a process outlived the launcher"
    finally:
        if launcher.poll() is None:
            launcher.kill()
        for pid in children:  # orphans of a failed run must not outlive the test
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        log.close()
