"""Our A/R ledger storage: SQLModel tables, engine and sessions, migrations, encrypted secrets."""
