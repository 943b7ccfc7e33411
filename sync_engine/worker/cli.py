"""`python -m sync_engine.scheduler`: the scheduler process's command line (options, logging, signals, exit status).

Options default to the AR_SYNC_* settings (`storage.config`); `docs/scheduler.md` describes each.
"""
from __future__ import annotations

import argparse
import logging
from datetime import timedelta

from storage.config import settings
from storage.db import make_engine
from storage.migrate import upgrade_database
from sync_engine.services.heartbeat import HEARTBEAT_SECONDS
from sync_engine.sync.leases import LEASE_TTL
from sync_engine.worker.loop import (
    DEFAULT_EXECUTOR,
    DUE_CHECK_SECONDS,
    EXIT_CONFIG_ERROR,
    POLL_SECONDS,
    STOP_TIMEOUT_SECONDS,
    Scheduler,
    load_executor,
)
from sync_engine.worker.signals import StopSignals

log = logging.getLogger("sync_engine.scheduler")
DESCRIPTION = "The scheduler process: hourly auto-sync, running queued runs, heartbeat and clean shutdown."


def build_parser() -> argparse.ArgumentParser:
    config = settings()
    parser = argparse.ArgumentParser(prog="python -m sync_engine.scheduler", description=DESCRIPTION)
    parser.add_argument("--once", action="store_true", help="do one tick (and the run it claims), then exit")
    parser.add_argument("--poll-seconds", type=float, default=POLL_SECONDS, help="how often to look for queued runs")
    parser.add_argument("--heartbeat-seconds", type=float, default=HEARTBEAT_SECONDS,
                        help="how often to write the heartbeat and renew the lease")
    parser.add_argument("--due-check-seconds", type=float, default=DUE_CHECK_SECONDS,
                        help="how often to check whether the hourly auto-sync is due")
    parser.add_argument("--id", dest="scheduler_id", default=config.ar_sync_scheduler_id,
                        help="name shown in the console (default host:pid)")
    parser.add_argument("--lease-ttl", type=float,
                        default=config.ar_sync_lease_ttl_seconds or LEASE_TTL.total_seconds(),
                        help="seconds before a dead scheduler's run is taken as abandoned")
    parser.add_argument("--stop-timeout", type=float, default=STOP_TIMEOUT_SECONDS,
                        help="seconds to wait for the record in hand on SIGTERM")
    parser.add_argument("--executor", default=config.ar_sync_executor or DEFAULT_EXECUTOR,
                        help="the run executor, as package.module:function")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL or the SQLite file under data/")
    parser.add_argument("--log-level", default=config.ar_sync_log_level)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.heartbeat_seconds * 2 >= args.lease_ttl:
        log.warning("--lease-ttl %.1f s is short for --heartbeat-seconds %.1f s: a slow beat may lose the lease",
                    args.lease_ttl, args.heartbeat_seconds)
    try:
        executor = load_executor(args.executor)
    except (ImportError, AttributeError, ValueError) as exc:
        log.error("cannot load the run executor %r: %s", args.executor, exc)
        return EXIT_CONFIG_ERROR
    engine = make_engine(args.database_url)
    upgrade_database(engine)
    scheduler = Scheduler(
        engine, executor=executor, scheduler_id=args.scheduler_id, poll_seconds=args.poll_seconds,
        heartbeat_seconds=args.heartbeat_seconds, due_check_seconds=args.due_check_seconds,
        lease_ttl=timedelta(seconds=args.lease_ttl), stop_timeout=args.stop_timeout,
    )
    signals = StopSignals(scheduler.stop, scheduler.wake)
    signals.install()
    try:
        code = scheduler.run_once() if args.once else scheduler.run_forever()
    finally:
        signals.restore()
        engine.dispose()
    return code

