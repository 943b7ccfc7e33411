"""State survives a restart; seeding happens only for a new database; seeded data lies in the past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .xmlhelp import ok, records


def _count(sb, obj: str) -> int:
    res = ok(sb.call(f'<function controlid="c"><query><object>{obj}</object><select><field>RECORDNO</field>'
                     f'</select><pagesize>1</pagesize></query></function>'))
    return int(res.find("data").get("totalcount"))


def test_restart_keeps_data_and_does_not_reseed(sandbox):
    customers = _count(sandbox, "CUSTOMER")
    ok(sandbox.call('<function controlid="p"><create><CUSTOMER><CUSTOMERID>P-KEEP</CUSTOMERID><NAME>Kept</NAME>'
                    '</CUSTOMER></create></function>'))
    sandbox.restart()
    assert _count(sandbox, "CUSTOMER") == customers + 1
    res = ok(sandbox.call('<function controlid="r"><readByName><object>CUSTOMER</object><keys>P-KEEP</keys>'
                          '</readByName></function>'))
    assert res.find("data/CUSTOMER/NAME").text == "Kept"


def test_seed_is_in_the_past(sandbox):
    now = datetime.now(UTC)
    for obj in ("CUSTOMER", "ARINVOICE"):
        rows = records(ok(sandbox.call(f'<function controlid="q"><readByQuery><object>{obj}</object>'
                                       f'<fields>WHENMODIFIED</fields><query/><pagesize>1000</pagesize>'
                                       f'</readByQuery></function>')))
        assert rows
        for row in rows:
            stamp = datetime.strptime(row["WHENMODIFIED"], "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC)
            assert stamp <= now - timedelta(days=2)


def test_bank_accounts_of_an_older_sandbox_become_checking_accounts(sandbox):
    import sqlite3

    sandbox.stop()
    conn = sqlite3.connect(sandbox.db_path)
    conn.execute("DELETE FROM checkingaccount")
    conn.execute("CREATE TABLE bankaccount (company TEXT, BANKACCOUNTID TEXT, NAME TEXT, GLACCOUNTNO TEXT, "
                 "STATUS TEXT, PRIMARY KEY (company, BANKACCOUNTID))")
    conn.execute("INSERT INTO bankaccount VALUES (?, 'WF-CHK', 'Wells Fargo Checking', '1000', 'active')",
                 (sandbox.company_id,))
    conn.commit()
    conn.close()
    sandbox.restart()
    banks = records(ok(sandbox.call('<function controlid="q"><readByQuery><object>CHECKINGACCOUNT</object>'
                                    '<fields>BANKACCOUNTID,BANKNAME,STATUS</fields><query/><pagesize>10</pagesize>'
                                    '</readByQuery></function>')))
    assert banks == [{"BANKACCOUNTID": "WF-CHK", "BANKNAME": "Wells Fargo Checking", "STATUS": "active"}]
