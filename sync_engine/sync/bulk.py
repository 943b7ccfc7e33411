"""First versions of the records a run creates, written in bulk with the rows themselves (storage.bulk)."""
from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from storage.bulk import insert_rows
from storage.models import RecordVersion


def first_versions(session: Session, *, record_type: str, record_ids: Sequence[int], run_id: int | None,
                   source: str = "import") -> None:
    """Version 1 of records a run just created, summarised: the run and time are kept (every record's history
    still says which run created it), the snapshot is not copied, because at creation it is the record itself
    and every later version keeps the old value of each field it changes."""
    # changed_at (now), changes and snapshot ({}) are the model's defaults: the same for every row.
    insert_rows(session, RecordVersion, [
        {"record_type": record_type, "record_id": rid, "version": 1, "run_id": run_id, "source": source}
        for rid in record_ids])
