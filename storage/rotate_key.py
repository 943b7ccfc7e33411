"""`python -m storage.rotate_key`: move every stored credential to a new encryption key.

With the key file (the default, `data/.secret_key` or `CONSOLE_SECRET_KEY_FILE`):
1. a new key is generated and written first in the key file, the old key kept after it, so every process
   (console, schedulers) decrypts with either key and encrypts with the new one from then on;
2. every encrypted column (`*_enc`: the Intacct user and sender passwords, the SMTP password) is re-encrypted
   under the new key in one transaction;
3. the old key is removed from the file (`--keep-old` leaves it there, e.g. for a backup of the database
   taken before the rotation).

With `CONSOLE_SECRET_KEY` set (the command cannot change your environment): put the new key first and the old
one after it, comma separated, in every process's environment (`--new-key` prints a fresh key), restart them,
run the command, then remove the old key from the variable.

A credential that none of the keys opens is left as it is and reported (re-enter it on Connection or Settings).
Prints what it did; never prints a key or a secret.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from cryptography.fernet import Fernet
from sqlalchemy import Text, select, update
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - every table, so every *_enc column is found
from storage.db import make_engine, write_session
from storage.migrate import upgrade_database
from storage.secrets import KEY_ENV, SecretBox, SecretKeyMismatch, default_key_file, load_keys, write_key_file


@dataclass
class RotationReport:
    reencrypted: int = 0
    unreadable: list[str] | None = None

    def __post_init__(self) -> None:
        self.unreadable = self.unreadable or []


def encrypted_columns() -> list[tuple[str, str]]:
    """(table, column) of every encrypted value in the schema: the columns named *_enc."""
    return sorted((table.name, column.name) for table in SQLModel.metadata.sorted_tables
                  for column in table.columns if column.name.endswith("_enc") and isinstance(column.type, Text))


def reencrypt_all(*, engine: Engine, box: SecretBox) -> RotationReport:
    """Re-encrypt every stored credential under `box`'s first key, in one transaction."""
    report = RotationReport()
    with write_session(engine) as session:
        for table_name, column_name in encrypted_columns():
            table = SQLModel.metadata.tables[table_name]
            column, key = table.c[column_name], list(table.primary_key.columns)[0]
            for row_id, token in session.execute(select(key, column).where(column.is_not(None), column != "")).all():
                try:
                    rotated = box.rotate(token)
                except SecretKeyMismatch:
                    assert report.unreadable is not None
                    report.unreadable.append(f"{table_name}.{column_name} (row {row_id})")
                    continue
                session.execute(update(table).where(key == row_id).values({column_name: rotated}))
                report.reencrypted += 1
    return report


def rotate_key_file(*, engine: Engine, keep_old: bool = False) -> RotationReport:
    """The key-file rotation described in the module docstring."""
    path = default_key_file()
    old = load_keys(path)
    new = Fernet.generate_key()
    write_key_file(path, [new, *old])  # from here on every process accepts both and encrypts with the new one
    report = reencrypt_all(engine=engine, box=SecretBox(keys=[new, *old]))
    if not keep_old and not report.unreadable:
        write_key_file(path, [new])
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m storage.rotate_key", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL or the SQLite file under data/")
    parser.add_argument("--keep-old", action="store_true", help="leave the old key in the key file after rotating")
    parser.add_argument("--new-key", action="store_true", help="print a fresh key (for CONSOLE_SECRET_KEY) and exit")
    args = parser.parse_args(argv)
    if args.new_key:
        print(Fernet.generate_key().decode())
        return 0
    engine = make_engine(args.database_url)
    upgrade_database(engine)
    if os.environ.get(KEY_ENV, "").strip():
        keys = load_keys()
        if len(keys) < 2:
            print(f"{KEY_ENV} holds one key. Put the new key first and the old one after it (NEW,OLD) in every "
                  "process's environment, restart them, then run this again.", file=sys.stderr)
            return 2
        report = reencrypt_all(engine=engine, box=SecretBox(keys=keys))
        tail = f"now remove the old key(s) from {KEY_ENV}, leaving only the first, and restart the processes."
    else:
        report = rotate_key_file(engine=engine, keep_old=args.keep_old)
        tail = (f"the key file {default_key_file()} holds only the new key." if not args.keep_old and not report.unreadable
                else f"the key file {default_key_file()} still holds the old key after the new one.")
    print(f"Re-encrypted {report.reencrypted} stored credential(s) under the new key; {tail}")
    if report.unreadable:
        print("Could not open (left as they are; re-enter them): " + ", ".join(report.unreadable), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
