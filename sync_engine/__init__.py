"""The sync engine: Intacct client, imports, exports, payment reconciliation, runs and the scheduler."""
