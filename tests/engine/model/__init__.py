"""A model of the two-sided sync for the stateful test and the soak: Intacct-side operations as plain XML,
ledger-side operations through the ledger's public functions, one world tying them to syncs, and the
invariants that must hold after every sync (tests/engine/test_sync_model.py, tests/engine/soak.py)."""
