"""The sync pipeline: one run from claim to final status, reading Intacct into the ledger and writing the ledger to
Intacct exactly once (the write journal), with the objects, windows and amounts it is built on.

It imports only `sync_engine.intacct` and `storage`; the console reaches it through `sync_engine.services`.
"""
