"""readByQuery / readMore / query / read / readByName / lookup against the demo company."""

from __future__ import annotations

import pytest

from .xmlhelp import errors, ok, records, result, text


def rbq(sb, obj: str, fields: str, query: str = "", pagesize: int = 100, **kw):
    from xml.sax.saxutils import escape

    return sb.call(f'<function controlid="q"><readByQuery><object>{obj}</object><fields>{fields}</fields>'
                   f'<query>{escape(query)}</query><pagesize>{pagesize}</pagesize></readByQuery></function>', **kw)


def query_xml(obj: str, fields: list[str], filt: str = "", extra: str = "") -> str:
    select = "".join(f"<field>{f}</field>" for f in fields)
    filt = f"<filter>{filt}</filter>" if filt else ""
    return (f'<function controlid="qq"><query><object>{obj}</object><select>{select}</select>{filt}{extra}'
            f'</query></function>')


def test_readbyquery_pages_to_the_end_without_gap_or_repeat(demo_sandbox):
    first = ok(rbq(demo_sandbox, "ARINVOICE", "RECORDNO,RECORDID,TOTALDUE", pagesize=37))
    data = first.find("data")
    assert list(data.attrib) == ["listtype", "count", "totalcount", "numremaining", "resultId"]
    assert data.get("listtype") == "arinvoice"
    total = int(data.get("totalcount"))
    assert total == 200
    seen = [int(r["RECORDNO"]) for r in records(first)]
    remaining = int(data.get("numremaining"))
    result_id = data.get("resultId")
    assert remaining == total - 37 and result_id
    while remaining:
        page = ok(demo_sandbox.call(f'<function controlid="m"><readMore><resultId>{result_id}</resultId>'
                                    f'</readMore></function>'))
        assert text(page, "function") == "readMore"
        pdata = page.find("data")
        assert pdata.get("listtype") == "arinvoice"
        assert all(rec.tag == "arinvoice" for rec in pdata)
        seen += [int(r["RECORDNO"]) for r in records(page)]
        assert int(pdata.get("numremaining")) == remaining - int(pdata.get("count"))
        remaining = int(pdata.get("numremaining"))
    assert len(seen) == total == len(set(seen))
    assert seen == sorted(seen)
    again = result(demo_sandbox.call(f'<function controlid="m"><readMore><resultId>{result_id}</resultId>'
                                     f'</readMore></function>'))
    assert text(again, "status") == "failure" and errors(again)[0]["description2"]


def test_readmore_legacy_object_form(demo_sandbox):
    ok(rbq(demo_sandbox, "CUSTOMER", "CUSTOMERID", pagesize=10))
    page = ok(demo_sandbox.call('<function controlid="m"><readMore><object>CUSTOMER</object></readMore></function>'))
    assert page.find("data").get("count") == "10"


def test_query_language(demo_sandbox):
    all_rows = records(ok(rbq(demo_sandbox, "CUSTOMER", "CUSTOMERID,NAME,STATUS", pagesize=1000)))
    by_name = {r["NAME"]: r for r in all_rows}
    obrien = next(n for n in by_name if n.startswith("O'Brien"))
    found = records(ok(rbq(demo_sandbox, "CUSTOMER", "NAME", "NAME = '" + obrien.replace("'", "\\'") + "'")))
    assert [r["NAME"] for r in found] == [obrien]
    active_code = records(ok(rbq(demo_sandbox, "CUSTOMER", "CUSTOMERID", "STATUS = 'T'", 1000)))
    active_display = records(ok(rbq(demo_sandbox, "CUSTOMER", "CUSTOMERID", "STATUS = 'active'", 1000)))
    inactive = records(ok(rbq(demo_sandbox, "CUSTOMER", "CUSTOMERID", "STATUS = 'F'", 1000)))
    assert active_code == active_display
    assert len(active_code) + len(inactive) == len(all_rows) and inactive
    smith = records(ok(rbq(demo_sandbox, "CUSTOMER", "NAME", "NAME like 'Smith & Sons%'", 1000)))
    assert smith and all(r["NAME"].startswith("Smith & Sons") for r in smith)
    assert not records(ok(rbq(demo_sandbox, "CUSTOMER", "NAME", "NAME like 'smith%'", 1000)))
    cafe = records(ok(rbq(demo_sandbox, "CUSTOMER", "NAME", "NAME like 'Café Müller%'", 1000)))
    assert cafe and all("Café Müller" in r["NAME"] for r in cafe)
    ids = ["C-00001", "C-00002", "C-00003"]
    listed = records(ok(rbq(demo_sandbox, "CUSTOMER", "CUSTOMERID",
                            f"CUSTOMERID in ('{ids[0]}','{ids[1]}','{ids[2]}')")))
    assert [r["CUSTOMERID"] for r in listed] == ids
    not_listed = records(ok(rbq(demo_sandbox, "CUSTOMER", "CUSTOMERID", "CUSTOMERID not in ('C-00001') AND "
                                "NOT (STATUS = 'F' OR STATUS = 'T')", 1000)))
    assert not_listed == []
    assert len(records(ok(rbq(demo_sandbox, "CUSTOMER", "CUSTOMERID", "rownum < 4", 1000)))) == 3
    nulls = records(ok(rbq(demo_sandbox, "ARINVOICE", "RECORDNO,WHENPAID,STATE", "WHENPAID IS NULL", 1000)))
    assert nulls and all(r["WHENPAID"] == "" and r["STATE"] != "Paid" for r in nulls)
    big = records(ok(rbq(demo_sandbox, "ARINVOICE", "TOTALDUE", "TOTALDUE > 3000.5 AND STATE = 'Posted'", 1000)))
    assert big and all(float(r["TOTALDUE"]) > 3000.5 for r in big)


def test_dates_timestamps_and_watermarks(demo_sandbox):
    rows = records(ok(rbq(demo_sandbox, "ARINVOICE", "RECORDNO,WHENMODIFIED,WHENCREATED", "", 1000)))
    stamps = sorted(r["WHENMODIFIED"] for r in rows)
    assert all(len(s) == 19 and s[2] == "/" and s[10] == " " for s in stamps)
    assert all(len(r["WHENCREATED"]) == 10 for r in rows)
    mid = sorted(rows, key=lambda r: (r["WHENMODIFIED"][6:10], r["WHENMODIFIED"]))[100]["WHENMODIFIED"]
    later = records(ok(rbq(demo_sandbox, "ARINVOICE", "WHENMODIFIED", f"WHENMODIFIED >= '{mid}'", 1000)))
    key = lambda s: (s[6:10], s[0:2], s[3:5], s[11:])  # noqa: E731
    assert later and all(key(r["WHENMODIFIED"]) >= key(mid) for r in later)
    assert len(later) < len(rows)


def test_readbyquery_failures_and_limits(demo_sandbox):
    res = result(rbq(demo_sandbox, "CUSTOMER", "CUSTOMERID", pagesize=1001))
    assert text(res, "status") == "failure"
    res = result(rbq(demo_sandbox, "NOPE", "*"))
    assert text(res, "status") == "failure" and errors(res)[0]["errorno"] == "Query Failed"
    assert errors(res)[0]["description2"] == "Object definition NOPE not found"
    res = result(rbq(demo_sandbox, "CUSTOMER", "CUSTOMERID", "NAME = 'unterminated"))
    assert text(res, "status") == "failure"
    res = result(rbq(demo_sandbox, "CUSTOMER", "CUSTOMERID,BOGUS"))
    assert text(res, "status") == "failure" and "BOGUS" in errors(res)[0]["description2"]
    values = ",".join(f"'C{i}'" for i in range(1001))
    res = result(rbq(demo_sandbox, "CUSTOMER", "CUSTOMERID", f"CUSTOMERID in ({values})"))
    assert text(res, "status") == "failure"


def test_readbyquery_star_returns_every_catalogue_field(demo_sandbox):
    rows = records(ok(rbq(demo_sandbox, "ARINVOICE", "*", "", 2)))
    for field in ("RECORDNO", "RECORDID", "TOTALDUE", "TRX_TOTALDUE", "CUSTMESSAGE.MESSAGE", "BILLTO.EMAIL1",
                  "MEGAENTITYID", "WHENMODIFIED"):
        assert field in rows[0]
    assert rows[0]["TRX_TOTALDUE"] == rows[0]["TOTALDUE"]
    assert rows[0]["CUSTMESSAGE.MESSAGE"] == ""


def test_query_paging_with_offset_and_attributes(demo_sandbox):
    seen: list[int] = []
    offset = 0
    while True:
        res = ok(demo_sandbox.call(query_xml("ARINVOICE", ["RECORDNO", "RECORDID"],
                                             extra=f"<pagesize>64</pagesize><offset>{offset}</offset>"
                                                   "<orderby><order><field>RECORDNO</field><ascending/></order>"
                                                   "</orderby>")))
        data = res.find("data")
        assert list(data.attrib) == ["listtype", "totalcount", "offset", "count", "numremaining"]
        assert data.get("listtype") == "ARINVOICE" and data.get("offset") == str(offset)
        assert all(rec.tag == "ARINVOICE" for rec in data)
        seen += [int(r["RECORDNO"]) for r in records(res)]
        if data.get("numremaining") == "0":
            break
        offset += int(data.get("count"))
    assert len(seen) == 200 == len(set(seen))


def test_query_filters_orderby_dotted_fields_and_count(demo_sandbox):
    filt = ("<and><equalto><field>STATUS</field><value>active</value></equalto>"
            "<like><field>DISPLAYCONTACT.EMAIL1</field><value>ap+c0000%</value></like></and>")
    res = ok(demo_sandbox.call(query_xml("CUSTOMER", ["CUSTOMERID", "DISPLAYCONTACT.EMAIL1", "NAME"], filt,
                                         "<orderby><order><field>CUSTOMERID</field><descending/></order></orderby>")))
    rows = records(res)
    assert rows and [list(r) for r in rows][0] == ["CUSTOMERID", "DISPLAYCONTACT.EMAIL1", "NAME"]
    assert [r["CUSTOMERID"] for r in rows] == sorted((r["CUSTOMERID"] for r in rows), reverse=True)
    between = ("<between><field>TOTALDUE</field><value>100</value><value>2000</value></between>")
    for r in records(ok(demo_sandbox.call(query_xml("ARINVOICE", ["TOTALDUE"], between, "<pagesize>2000</pagesize>")))):
        assert 100 <= float(r["TOTALDUE"]) <= 2000
    in_filter = "<in><field>STATE</field><value>Paid</value><value>Partially Paid</value></in>"
    states = {r["STATE"] for r in records(ok(demo_sandbox.call(
        query_xml("ARINVOICE", ["STATE"], in_filter, "<pagesize>2000</pagesize>"))))}
    assert states == {"Paid", "Partially Paid"}
    count = ok(demo_sandbox.call(
        '<function controlid="c"><query><object>CUSTOMER</object><select><field>RECORDNO</field></select>'
        '<filter><equalto><field>STATUS</field><value>active</value></equalto></filter><pagesize>1</pagesize>'
        '</query></function>'))
    active = records(ok(rbq(demo_sandbox, "CUSTOMER", "CUSTOMERID", "STATUS = 'T'", 1000)))
    assert int(count.find("data").get("totalcount")) == len(active)
    agg = ok(demo_sandbox.call(
        '<function controlid="a"><query><object>ARINVOICE</object><select><field>STATE</field>'
        '<count>RECORDNO</count><sum>TOTALDUE</sum></select><pagesize>100</pagesize></query></function>'))
    grouped = records(agg)
    assert sum(int(r["COUNT.RECORDNO"]) for r in grouped) == 200
    assert all("SUM.TOTALDUE" in r for r in grouped)


def test_query_rejects_unknown_fields_with_bracket_list(demo_sandbox):
    res = result(demo_sandbox.call(query_xml("ARINVOICE", ["RECORDNO", "INVOICENO", "DATEDUE"])))
    assert text(res, "status") == "failure"
    err = errors(res)[0]
    assert err["errorno"] == "XL03000006"
    assert err["description2"].endswith("[\n\tarinvoice: [INVOICENO, DATEDUE]\n ]")
    res = result(demo_sandbox.call(query_xml("CUSTOMER", ["CUSTOMERID"], extra="<pagesize>2001</pagesize>")))
    assert text(res, "status") == "failure"


def test_query_no_match_has_attributes(demo_sandbox):
    res = ok(demo_sandbox.call(query_xml("CUSTOMER", ["CUSTOMERID"],
                                         "<equalto><field>CUSTOMERID</field><value>none</value></equalto>")))
    data = res.find("data")
    assert dict(data.attrib) == {"listtype": "CUSTOMER", "totalcount": "0", "offset": "0", "count": "0",
                                 "numremaining": "0"}
    res = ok(rbq(demo_sandbox, "CUSTOMER", "CUSTOMERID", "CUSTOMERID = 'none'"))
    assert dict(res.find("data").attrib) == {"listtype": "customer", "count": "0", "totalcount": "0",
                                             "numremaining": "0", "resultId": ""}


def test_read_with_star_includes_lines_and_nested_contacts(demo_sandbox):
    keys = [r["RECORDNO"] for r in records(ok(rbq(demo_sandbox, "ARINVOICE", "RECORDNO", "", 3)))]
    res = ok(demo_sandbox.call(f'<function controlid="r"><read><object>ARINVOICE</object><keys>{",".join(keys)}'
                               f'</keys><fields>*</fields></read></function>'))
    data = res.find("data")
    assert dict(data.attrib) == {"listtype": "ARINVOICE", "count": "3"}
    invoice = data[0]
    assert invoice.tag == "ARINVOICE"
    lines = invoice.findall("ARINVOICEITEMS/arinvoiceitem")
    assert lines and all(line.findtext("RECORDKEY") == invoice.findtext("RECORDNO") for line in lines)
    total = sum(float(line.findtext("AMOUNT")) for line in lines)
    assert abs(total - float(invoice.findtext("TOTALENTERED"))) < 0.001
    cust = ok(demo_sandbox.call('<function controlid="r"><readByName><object>CUSTOMER</object>'
                                '<keys>C-00002,C-00001,NOPE</keys><fields>*</fields></readByName></function>'))
    rows = cust.find("data")
    assert rows.get("count") == "2"
    assert [c.findtext("CUSTOMERID") for c in rows] == ["C-00002", "C-00001"]
    assert rows[0].findtext("DISPLAYCONTACT/EMAIL1") == "ap+c00002@example.com"
    assert rows[0].findtext("DISPLAYCONTACT/MAILADDRESS/CITY")
    few = ok(demo_sandbox.call('<function controlid="r"><read><object>CUSTOMER</object><keys>1</keys>'
                               '<fields>CUSTOMERID,NAME</fields></read></function>'))
    assert [c.tag for c in few.find("data")[0]] == ["CUSTOMERID", "NAME"]
    too_many = ",".join(str(i) for i in range(1, 102))
    res = result(demo_sandbox.call(f'<function controlid="r"><read><object>CUSTOMER</object><keys>{too_many}'
                                   f'</keys></read></function>'))
    assert text(res, "status") == "failure"


def test_lookup_lists_fields(demo_sandbox):
    res = ok(demo_sandbox.call('<function controlid="l"><lookup><object>ARINVOICE</object></lookup></function>'))
    ids = [f.findtext("ID") for f in res.findall("data/Type/Fields/Field")]
    assert "RECORDID" in ids and "WHENMODIFIED" in ids


@pytest.mark.parametrize("obj,idfield", [("GLACCOUNT", "ACCOUNTNO"), ("ARACCOUNTLABEL", "ACCOUNTLABEL"),
                                         ("LOCATION", "LOCATIONID"), ("DEPARTMENT", "DEPARTMENTID"),
                                         ("ARPYMT", "RECORDNO"), ("ARINVOICEITEM", "RECORDKEY")])
def test_master_data_objects_are_readable(demo_sandbox, obj, idfield):
    rows = records(ok(rbq(demo_sandbox, obj, f"RECORDNO,{idfield}", "", 1000)))
    assert rows and all(r[idfield] for r in rows)


def test_account_labels_point_at_gl_accounts(demo_sandbox):
    labels = {r["ACCOUNTLABEL"]: r["GLACCOUNTNO"] for r in
              records(ok(rbq(demo_sandbox, "ARACCOUNTLABEL", "ACCOUNTLABEL,GLACCOUNTNO")))}
    assert labels["Services Revenue"] == "4000" and labels["Product Revenue"] == "4010"
    types = {r["ACCOUNTNO"]: r["ACCOUNTTYPE"] for r in
             records(ok(rbq(demo_sandbox, "GLACCOUNT", "ACCOUNTNO,ACCOUNTTYPE", "ACCOUNTTYPE = 'I'")))}
    assert types and set(types.values()) == {"incomestatement"} and "1210" not in types


def test_query_case_insensitive_option_and_isnull(demo_sandbox):
    def names(extra: str, filt: str) -> list[str]:
        return [r["NAME"] for r in records(ok(demo_sandbox.call(
            query_xml("CUSTOMER", ["NAME"], filt, extra + "<pagesize>1000</pagesize>"))))]

    like = "<like><field>NAME</field><value>acme%</value></like>"
    assert names("", like) == []
    found = names("<options><caseinsensitive>true</caseinsensitive></options>", like)
    assert found and all(n.startswith("Acme") for n in found)
    assert names("", "<isnull><field>PARENTID</field></isnull>")
    assert names("", "<isnotnull><field>PARENTID</field></isnotnull>") == []
    values = "".join(f"<value>C{i}</value>" for i in range(1001))
    res = result(demo_sandbox.call(query_xml("CUSTOMER", ["NAME"], f"<in><field>CUSTOMERID</field>{values}</in>")))
    assert text(res, "status") == "failure"


def test_checking_accounts_are_readable_by_query_with_their_status(demo_sandbox):
    banks = records(ok(rbq(demo_sandbox, "CHECKINGACCOUNT", "BANKACCOUNTID,BANKNAME,GLACCOUNTNO,STATUS")))
    assert {(b["BANKACCOUNTID"], b["STATUS"]) for b in banks} == {("BOA-CHK", "active"), ("OLD-CHK", "inactive")}
    picked = records(ok(demo_sandbox.call(query_xml("CHECKINGACCOUNT", ["BANKACCOUNTID", "BANKNAME"],
                                                    "<equalto><field>STATUS</field><value>active</value></equalto>"))))
    assert picked == [{"BANKACCOUNTID": "BOA-CHK", "BANKNAME": "Bank of America Checking"}]
