"""The scheduler process (`python -m sync_engine.scheduler`): the loop that claims queued runs and executes them,
queues the hourly auto-sync, writes the heartbeat, and stops cleanly on SIGTERM/SIGINT.

It sits on top, beside the console: it uses the pipeline (`sync_engine.sync`), the schedule (`sync_engine.schedule`)
and the services' heartbeat and run emails; nothing imports it.
"""
