"""Record conversion: case-insensitive names, one vs many, nulls, nested blocks and line lists."""

from lxml import etree

from sync_engine.intacct.records import flat_record, nested_record, record_elements


def test_flat_record_exact_requested_names():
    rec = etree.fromstring(
        "<customer><recordno>12</recordno><CUSTOMERID>C-1</CUSTOMERID><PARENTID/>"
        "<DISPLAYCONTACT.EMAIL1>a@b.test</DISPLAYCONTACT.EMAIL1><NAME>  </NAME></customer>"
    )
    out = flat_record(rec, ["RECORDNO", "customerid", "PARENTID", "DISPLAYCONTACT.EMAIL1", "NAME", "MISSING"])
    assert out == {"RECORDNO": "12", "customerid": "C-1", "PARENTID": None,
                   "DISPLAYCONTACT.EMAIL1": "a@b.test", "NAME": None, "MISSING": None}


def test_flat_record_nested_dotted_fallback():
    rec = etree.fromstring("<CUSTOMER><DISPLAYCONTACT><EMAIL1>x@y.test</EMAIL1></DISPLAYCONTACT></CUSTOMER>")
    assert flat_record(rec, ["DISPLAYCONTACT.EMAIL1"]) == {"DISPLAYCONTACT.EMAIL1": "x@y.test"}


def test_nested_record_with_lines_and_contacts():
    rec = etree.fromstring(
        "<ARINVOICE><RECORDNO>4211</RECORDNO><WHENPAID/>"
        "<BILLTO><CONTACTNAME>Acme</CONTACTNAME><MAILADDRESS><CITY>Köln</CITY></MAILADDRESS></BILLTO>"
        "<ARINVOICEITEMS><arinvoiceitem><RECORDNO>1</RECORDNO><AMOUNT>10</AMOUNT></arinvoiceitem></ARINVOICEITEMS>"
        "</ARINVOICE>"
    )
    out = nested_record(rec)
    assert out["RECORDNO"] == "4211" and out["WHENPAID"] is None
    assert out["BILLTO"] == {"CONTACTNAME": "Acme", "MAILADDRESS": {"CITY": "Köln"}}
    assert out["ARINVOICEITEMS"] == [{"RECORDNO": "1", "AMOUNT": "10"}]
    two = etree.fromstring(
        "<ARPYMT><ARPYMTDETAILS><arpymtdetail><RECORDKEY>1</RECORDKEY></arpymtdetail>"
        "<arpymtdetail><RECORDKEY>2</RECORDKEY></arpymtdetail></ARPYMTDETAILS></ARPYMT>"
    )
    assert nested_record(two)["ARPYMTDETAILS"] == [{"RECORDKEY": "1"}, {"RECORDKEY": "2"}]


def test_repeated_children_become_list():
    rec = etree.fromstring("<X><A>1</A><B>x</B><B>y</B><B>z</B></X>")
    assert nested_record(rec) == {"A": "1", "B": ["x", "y", "z"]}


def test_record_elements_one_or_many():
    one = etree.fromstring('<data count="1"><CUSTOMER><A>1</A></CUSTOMER></data>')
    many = etree.fromstring('<data count="2"><CUSTOMER><A>1</A></CUSTOMER><CUSTOMER><A>2</A></CUSTOMER></data>')
    assert len(record_elements(one)) == 1 and len(record_elements(many)) == 2
    assert record_elements(None) == []
