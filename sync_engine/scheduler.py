"""`python -m sync_engine.scheduler`: starts the scheduler process (`sync_engine.worker`).

The command stays here because the launcher, the systemd unit, the docs and operators' habits name it.
"""
from __future__ import annotations

import sys

from sync_engine.worker.cli import main

if __name__ == "__main__":
    sys.exit(main())
