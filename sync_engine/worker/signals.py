"""SIGTERM/SIGINT handled once for the scheduler process: the first asks for a clean stop, the second escalates.

The handler only sets events; the main loop sleeps with `Event.wait()` so it wakes at once, and the run
in progress checks its stop event between records. A second signal means the operator will not wait:
the process exits immediately with a non-zero status, leaving the lease to expire and the run to be
recovered as abandoned by the next scheduler.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """Installs handlers that set `stop` (and `wake`) on the first signal and exit hard on the second."""

    def __init__(self, stop: threading.Event, wake: threading.Event | None = None,
                 hard_exit: Callable[[int], None] = os._exit) -> None:
        self.stop = stop
        self.wake = wake
        self.received: list[int] = []
        self._hard_exit = hard_exit
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        """Take over SIGTERM and SIGINT (main thread only, as Python requires)."""
        for signum in HANDLED_SIGNALS:
            self._previous[signum] = signal.signal(signum, self.handle)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def handle(self, signum: int, frame: FrameType | None = None) -> None:
        self.received.append(signum)
        name = signal.Signals(signum).name
        if self.stop.is_set():
            # Not through logging: its handler lock may be held by the code this signal interrupted.
            os.write(sys.stderr.fileno(), f"second {name}: exiting at once\n".encode())
            self._hard_exit(128 + signum)
            return
        os.write(sys.stderr.fileno(), f"{name} received: finishing the record in hand, then stopping "
                                      f"(send it again to exit at once)\n".encode())
        self.stop.set()
        if self.wake is not None:
            self.wake.set()
