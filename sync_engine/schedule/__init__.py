"""When runs happen: the run queue (what the console and the hourly schedule enqueue, cancel and retry), the hourly
due times, and the pause of auto-sync after Intacct refused the sign-in (the circuit breaker).

The console (through `sync_engine.services` and directly) and the scheduler process (`sync_engine.worker`) both use
it; it builds only on the pipeline's audit trail (`sync_engine.sync`) and storage.
"""
