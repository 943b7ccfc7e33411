"""Time zones: a company on Pacific time, across both DST changes of 2024, through the client and the sandbox.

Intacct's record timestamps (WHENMODIFIED) carry no zone: they are the company's wall time. Session timestamps
carry the company's offset. The client reads and filters WHENMODIFIED in the connection's zone setting, and
Test connection can tell when that setting disagrees with the session's offset.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sync_engine.intacct import filters as f
from sync_engine.intacct import functions as fn
from sync_engine.intacct.values import format_timestamp, parse_timestamp
from sync_engine.intacct.zones import zone_mismatch
from tests.fixtures.sandbox import SandboxHandle, start_sandbox

from .conftest import client_for

PACIFIC = ZoneInfo("America/Los_Angeles")


@pytest.fixture(scope="module")
def pacific(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    handle = start_sandbox(tmp_path_factory.mktemp("pacific"), extra_args=["--timezone", "America/Los_Angeles"])
    try:
        yield handle
    finally:
        handle._admin("POST", "/clock", {"reset": True})
        handle.stop()


def _at(handle: SandboxHandle, moment: datetime) -> None:
    handle._admin("POST", "/clock", {"set": moment.isoformat()})


def _create(handle: SandboxHandle, customer_id: str, at: datetime) -> None:
    _at(handle, at)
    with client_for(handle) as c:
        c.call(fn.create("CUSTOMER", {"CUSTOMERID": customer_id, "NAME": customer_id}, controlid=f"z-{customer_id}"))


def _modified(handle: SandboxHandle, prefix: str, where: f.Filter | None = None) -> dict[str, str]:
    with client_for(handle) as c:
        rows = c.iter_records("CUSTOMER", ["CUSTOMERID", "WHENMODIFIED"],
                              filter=f.and_(f.like("CUSTOMERID", f"{prefix}%"), where))
        return {r["CUSTOMERID"]: r["WHENMODIFIED"] for r in rows}


@pytest.mark.parametrize("moment, offset", [
    (datetime(2024, 7, 1, 12, 0, tzinfo=UTC), timedelta(hours=-7)),
    (datetime(2024, 12, 1, 12, 0, tzinfo=UTC), timedelta(hours=-8)),
])
def test_session_timestamps_carry_the_company_offset(pacific, moment, offset):
    _at(pacific, moment)
    with client_for(pacific) as c:
        info = c.test_connection()
    assert info.utc_offset == offset
    assert zone_mismatch("America/Los_Angeles", info, moment) is None
    warning = zone_mismatch("UTC", info, moment)
    assert warning and f"UTC-{-int(offset.total_seconds()) // 3600:02d}:00" in warning


def test_whenmodified_is_company_wall_time_across_spring_forward(pacific):
    # 2024-03-10: 02:00 PST jumps to 03:00 PDT (10:00 UTC).
    before, after = datetime(2024, 3, 10, 9, 50, tzinfo=UTC), datetime(2024, 3, 10, 10, 10, tzinfo=UTC)
    _create(pacific, "ZS-BEFORE", before)
    _create(pacific, "ZS-AFTER", after)
    seen = _modified(pacific, "ZS-")
    assert seen == {"ZS-BEFORE": "03/10/2024 01:50:00", "ZS-AFTER": "03/10/2024 03:10:00"}
    assert parse_timestamp(seen["ZS-AFTER"], PACIFIC) == after
    assert parse_timestamp(seen["ZS-BEFORE"], PACIFIC) == before
    watermark = datetime(2024, 3, 10, 10, 0, tzinfo=UTC)  # the instant of the change
    newer = _modified(pacific, "ZS-", f.gt("WHENMODIFIED", format_timestamp(watermark, PACIFIC)))
    assert set(newer) == {"ZS-AFTER"}


def test_whenmodified_across_fall_back_is_caught_by_the_overlap(pacific):
    # 2024-11-03: 02:00 PDT falls back to 01:00 PST (09:00 UTC); 01:20 happens twice.
    first, second = datetime(2024, 11, 3, 8, 20, tzinfo=UTC), datetime(2024, 11, 3, 9, 20, tzinfo=UTC)
    _create(pacific, "ZF-FIRST", first)
    _create(pacific, "ZF-SECOND", second)
    seen = _modified(pacific, "ZF-")
    assert seen == {"ZF-FIRST": "11/03/2024 01:20:00", "ZF-SECOND": "11/03/2024 01:20:00"}  # no zone: ambiguous
    # A run that read up to 09:00 UTC and looks back one hour (the engine's overlap) sees both, so the second,
    # which a naive reading would place before the watermark, is not lost.
    window_start = datetime(2024, 11, 3, 9, 0, tzinfo=UTC) - timedelta(hours=1)
    again = _modified(pacific, "ZF-", f.ge("WHENMODIFIED", format_timestamp(window_start, PACIFIC)))
    assert set(again) == {"ZF-FIRST", "ZF-SECOND"}


@pytest.mark.parametrize("setting, warned", [("UTC", True), ("America/Los_Angeles", False)])
def test_test_connection_says_when_the_zone_setting_disagrees_with_intacct(pacific, sqlite_engine, setting, warned):
    from sqlmodel import Session

    from sync_engine import settings
    from sync_engine.connection import test_connection as check_connection

    _at(pacific, datetime(2024, 7, 1, 12, 0, tzinfo=UTC))
    with Session(sqlite_engine) as session:
        settings.save_connection(session=session, actor="tester", form=settings.ConnectionForm(
            endpoint_url=pacific.url, company_id=pacific.company_id, user_id=pacific.user_id,
            user_password=pacific.user_password, sender_id=pacific.sender_id,
            sender_password=pacific.sender_password, intacct_timezone=setting))
        check = check_connection(session=session)
    assert check.ok and check.message.startswith("Signed in to company DEMO-AR")
    if warned:
        assert "Intacct writes this company's times at UTC-07:00" in check.message
        assert "time zone (UTC) is at UTC+00:00" in check.message
    else:
        assert "time zone" not in check.message
