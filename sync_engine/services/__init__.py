"""What the console calls: settings, the run queue, history and read models, users and sign-in sessions, record
actions, voids, ledger entry and CSV upload, the connection test, the scheduler's heartbeat and the emails.

Services use the pipeline (`sync_engine.sync`) and never start long work themselves: they enqueue it for the
scheduler process (`sync_engine.worker`).
"""
