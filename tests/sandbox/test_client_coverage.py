"""Raw-XML regressions for the functions added so third-party clients' ordinary A/R calls work: legacy customer
functions and legacy deletes, inspect, read/readByName as the official SDKs write them, AR adjustments (credit
memos), and the master-data fields the SDKs write. Request shapes are the ones the official JS SDK 2.2.1 writes.
"""

from __future__ import annotations

from datetime import date

from .artools import create_invoice, customer, failure, invoice, legacy_date
from .xmlhelp import errors, ok, records, text


def _fn(body: str, cid: str = "f") -> str:
    return f'<function controlid="{cid}">{body}</function>'


def _legacy_customer(customer_id: str, name: str, email: str = "ap@example.com") -> str:
    return _fn(f"<create_customer><customerid>{customer_id}</customerid><name>{name}</name>"
               f"<termname>Net 30</termname><comments>legacy</comments><status>active</status>"
               f"<contactinfo><contact><contactname>{name} (C{customer_id})</contactname><printas>{name} Ltd</printas>"
               f"<email1>{email}</email1><mailaddress><city>Springfield</city><country>United States</country>"
               f"</mailaddress></contact></contactinfo></create_customer>")


def _read_customer(sb, customer_id: str) -> dict:
    res = ok(sb.call(_fn(f"<readByName><object>CUSTOMER</object><keys>{customer_id}</keys><fields>CUSTOMERID,NAME,"
                         "STATUS,TERMNAME,COMMENTS,DISPLAYCONTACT.PRINTAS,DISPLAYCONTACT.EMAIL1,"
                         "DISPLAYCONTACT.MAILADDRESS.CITY</fields><returnFormat>xml</returnFormat></readByName>")))
    node = res.find("data/CUSTOMER")
    assert node is not None, "customer not found"
    return {"NAME": text(node, "NAME"), "STATUS": text(node, "STATUS"), "TERMNAME": text(node, "TERMNAME"),
            "COMMENTS": text(node, "COMMENTS"), "PRINTAS": text(node, "DISPLAYCONTACT/PRINTAS"),
            "EMAIL1": text(node, "DISPLAYCONTACT/EMAIL1"), "CITY": text(node, "DISPLAYCONTACT/MAILADDRESS/CITY")}


# --- legacy customer functions ---

def test_create_customer_legacy_returns_the_id_as_key_and_maps_the_contact(module_sandbox):
    res = ok(module_sandbox.call(_legacy_customer("LEG-1", "Legacy &amp; Co")))
    assert text(res, "key") == "LEG-1"
    assert _read_customer(module_sandbox, "LEG-1") == {
        "NAME": "Legacy & Co", "STATUS": "active", "TERMNAME": "Net 30", "COMMENTS": "legacy",
        "PRINTAS": "Legacy & Co Ltd", "EMAIL1": "ap@example.com", "CITY": "Springfield"}


def test_create_customer_legacy_shares_the_generic_validation(module_sandbox):
    dup = errors(module_sandbox.call(_legacy_customer("C-00001", "Duplicate")).find("operation/result"))
    assert dup[0]["errorno"] == "BL34000061" and "C-00001" in dup[0]["description2"]
    bad_mail = failure(module_sandbox.call(_legacy_customer("LEG-BAD", "Bad mail", email="not-an-email")))
    assert bad_mail[0]["errorno"] == "BL03000018"
    unknown = failure(module_sandbox.call(_fn("<create_customer><customerid>LEG-U</customerid><name>U</name>"
                                              "<nosuchthing>1</nosuchthing></create_customer>")))
    assert "nosuchthing" in unknown[0]["description2"]
    assert unknown[-1]["description2"] == "Could not create Customer record!"


def test_update_customer_legacy_changes_only_given_fields(module_sandbox):
    ok(module_sandbox.call(_legacy_customer("LEG-2", "Before")))
    res = ok(module_sandbox.call(_fn('<update_customer customerid="LEG-2"><name>After</name><onhold>false</onhold>'
                                     "<contactinfo><contact><email1>new@example.com</email1></contact></contactinfo>"
                                     "</update_customer>")))
    assert text(res, "key") == "LEG-2"
    row = _read_customer(module_sandbox, "LEG-2")
    assert (row["NAME"], row["EMAIL1"], row["PRINTAS"]) == ("After", "new@example.com", "Before Ltd")
    missing = failure(module_sandbox.call(_fn('<update_customer customerid="NO-SUCH"><name>x</name>'
                                              "</update_customer>")))
    assert missing[0]["description2"] == "Cannot find customer with key 'NO-SUCH' to update."


def test_delete_customer_as_the_js_sdk_writes_it(module_sandbox):
    ok(module_sandbox.call(_legacy_customer("LEG-DEL", "Delete me")))
    res = ok(module_sandbox.call(_fn('<delete_customer customerid="LEG-DEL"/>')))
    assert res.find("data") is None and res.find("key") is None
    gone = ok(module_sandbox.call(_fn("<readByName><object>CUSTOMER</object><keys>LEG-DEL</keys><fields>*</fields>"
                                      "</readByName>")))
    assert gone.find("data").get("count") == "0"
    again = failure(module_sandbox.call(_fn('<delete_customer customerid="LEG-DEL"/>')))
    assert again[0]["description2"] == "Cannot find customer with key 'LEG-DEL' to delete."
    used = failure(module_sandbox.call(_fn('<delete_customer customerid="C-00001"/>')))
    assert used[0]["description2"] == "Cannot delete Customer 'C-00001': transactions use it."


def test_legacy_deletes_of_location_department_account_and_label(module_sandbox):
    ok(module_sandbox.call(_fn("<create><LOCATION><LOCATIONID>DEL-L</LOCATIONID><NAME>L</NAME>"
                               "<CONTACTINFO><CONTACTNAME>Someone</CONTACTNAME></CONTACTINFO></LOCATION>"
                               "<DEPARTMENT><DEPARTMENTID>DEL-D</DEPARTMENTID><TITLE>D</TITLE>"
                               "<SUPERVISORID>E1</SUPERVISORID></DEPARTMENT>"
                               "<GLACCOUNT><ACCOUNTNO>4998</ACCOUNTNO><TITLE>T</TITLE>"
                               "<ACCOUNTTYPE>incomestatement</ACCOUNTTYPE><NORMALBALANCE>credit</NORMALBALANCE>"
                               "<CLOSINGTYPE>closing account</CLOSINGTYPE><TAXCODE>X</TAXCODE><MRCCODE>Y</MRCCODE>"
                               "<TAXABLE>false</TAXABLE><REQUIREPROJECT>false</REQUIREPROJECT>"
                               "<REQUIREWAREHOUSE>false</REQUIREWAREHOUSE></GLACCOUNT>"
                               "<ARACCOUNTLABEL><ACCOUNTLABEL>Del Label</ACCOUNTLABEL><DESCRIPTION>d</DESCRIPTION>"
                               "<GLACCOUNTNO>4998</GLACCOUNTNO></ARACCOUNTLABEL></create>")))
    blocked = failure(module_sandbox.call(_fn('<delete_glaccount glaccountno="4998"/>')))
    assert "account labels post to it" in blocked[0]["description2"]
    for body in ('<delete_araccountlabel accountlabel="Del Label"/>', '<delete_glaccount glaccountno="4998"/>',
                 '<delete_location locationid="DEL-L"/>', '<delete_department departmentid="DEL-D"/>'):
        ok(module_sandbox.call(_fn(body)))
    missing = failure(module_sandbox.call(_fn('<delete_location locationid="DEL-L"/>')))
    assert missing[0]["description2"] == "Cannot find location with key 'DEL-L' to delete."


def test_functions_outside_ar_stay_a_clean_result_failure(module_sandbox):
    res = module_sandbox.call(_fn("<create_bill><vendorid>V1</vendorid></create_bill>") +
                              _fn("<get_list object=\"customer\"/>", "g"))
    for index, name in enumerate(("create_bill", "get_list")):
        result = res.findall("operation/result")[index]
        assert text(result, "status") == "failure" and text(result, "function") == name
        assert errors(result)[0]["errorno"] == "XL03000003"


# --- inspect and the SDKs' read shapes ---

def test_inspect_lists_objects_and_fields(module_sandbox):
    listing = ok(module_sandbox.call(_fn("<inspect><object>*</object></inspect>")))
    types = {t.get("typename"): t.text for t in listing.findall("data/type")}
    assert types["CUSTOMER"] == "Customer" and "ARADJUSTMENT" in types and "ARINVOICE" in types
    plain = ok(module_sandbox.call(_fn('<inspect detail="0"><object>ARINVOICE</object></inspect>')))  # PHP SDK
    assert plain.find("data/Type").get("Name") == "ARINVOICE"
    assert [f.text for f in plain.findall("data/Type/Fields/Field")][:3] == ["RECORDNO", "RECORDID", "DOCNUMBER"]
    detail = ok(module_sandbox.call(_fn('<inspect detail="1"><object>customer</object></inspect>')))
    fields = {text(f, "Name"): f for f in detail.findall("data/Type/Fields/Field")}
    assert text(fields["CUSTOMERID"], "isRequired") == "true"
    assert text(fields["RECORDNO"], "isReadOnly") == "true"
    assert text(fields["DISPLAYCONTACT.EMAIL1"], "GroupName") == "Displaycontact"
    assert text(detail, "data/Type/Attributes/SingularName") == "Customer"
    unknown = failure(module_sandbox.call(_fn("<inspect><object>NOPE</object></inspect>")))
    assert unknown[0]["description2"] == "Object definition NOPE not found"


def test_read_and_read_by_name_as_the_sdks_write_them(module_sandbox):
    key = create_invoice(module_sandbox, "C-00002", [("glaccountno", "4000", "10")])
    res = ok(module_sandbox.call(_fn(f"<read><object>ARINVOICE</object><keys>{key}</keys><fields>*</fields>"
                                     "<returnFormat>xml</returnFormat><docparid></docparid></read>")))
    assert text(res, "data/ARINVOICE/RECORDNO") == key
    assert res.find("data/ARINVOICE/ARINVOICEITEMS/arinvoiceitem") is not None
    by_name = ok(module_sandbox.call(_fn("<readByName><object>GLACCOUNT</object><keys>4000,1200</keys>"
                                         "<fields>*</fields><returnFormat>xml</returnFormat></readByName>")))
    assert [text(r, "ACCOUNTNO") for r in by_name.findall("data/GLACCOUNT")] == ["4000", "1200"]
    json = failure(module_sandbox.call(_fn("<read><object>CUSTOMER</object><keys>1</keys><fields>*</fields>"
                                           "<returnFormat>json</returnFormat></read>")))
    assert "returnFormat 'json'" in json[0]["description2"]


# --- AR adjustments (credit memos) ---

def _adjustment(customer_id: str, amounts: list[str], *, number: str = "", order_error: bool = False) -> str:
    items = "".join(f"<lineitem><glaccountno>4000</glaccountno><amount>{a}</amount><memo>credit</memo></lineitem>"
                    for a in amounts)
    head = f"<adjustmentno>{number}</adjustmentno><action>Submit</action>" if number else ""
    if order_error:
        head = "<action>Submit</action><adjustmentno>X</adjustmentno>"
    return _fn(f"<create_aradjustment><customerid>{customer_id}</customerid>"
               f"{legacy_date('datecreated', date(2024, 5, 2))}{head}<description>Credit</description>"
               f"<aradjustmentitems>{items}</aradjustmentitems></create_aradjustment>")


def _adjustment_row(sb, key: str) -> dict:
    res = ok(sb.call(_fn(f"<readByQuery><object>ARADJUSTMENT</object><fields>RECORDID,CUSTOMERID,STATE,TOTALENTERED,"
                         f"TOTALPAID,TOTALDUE</fields><query>RECORDNO = {key}</query></readByQuery>")))
    return records(res)[0]


def test_credit_memo_lowers_the_customer_balance(module_sandbox):
    sb = module_sandbox
    ok(sb.call(_legacy_customer("ADJ-C", "Adjusted")))
    inv = create_invoice(sb, "ADJ-C", [("glaccountno", "4000", "100"), ("accountlabel", "Product Revenue", "50")])
    assert customer(sb, "ADJ-C")["TOTALDUE"] == "150"
    key = text(ok(sb.call(_adjustment("ADJ-C", ["-30", "-10"], number="CM-1"))), "key")
    assert _adjustment_row(sb, key) == {"RECORDID": "CM-1", "CUSTOMERID": "ADJ-C", "STATE": "Posted",
                                        "TOTALENTERED": "-40", "TOTALPAID": "0", "TOTALDUE": "-40"}
    assert customer(sb, "ADJ-C")["TOTALDUE"] == "110"
    # No schema, SDK or documentation has an apply_aradjustment: the gateway's schema refuses it as a whole.
    refused = sb.call(_fn(f"<apply_aradjustment><aradjustmentkey>{key}</aradjustmentkey><arpaymentitems>"
                          f"<arpaymentitem><invoicekey>{inv}</invoicekey><amount>25</amount></arpaymentitem>"
                          "</arpaymentitems></apply_aradjustment>"))
    assert text(refused, "control/status") == "failure"
    assert errors(refused)[0]["errorno"] == "XL03000003"
    assert invoice(sb, inv)["TOTALDUE"] == "150" and customer(sb, "ADJ-C")["TOTALDUE"] == "110"


def test_adjustment_delete_validation_and_order(module_sandbox):
    sb = module_sandbox
    key = text(ok(sb.call(_adjustment("C-00003", ["-5"]))), "key")
    assert _adjustment_row(sb, key)["RECORDID"].startswith("ADJ-S")
    ok(sb.call(_fn(f'<delete_aradjustment key="{key}"/>')))
    assert ok(sb.call(_fn(f"<read><object>ARADJUSTMENT</object><keys>{key}</keys><fields>*</fields></read>"))
              ).find("data").get("count") == "0"
    unknown = failure(sb.call(_adjustment("NO-SUCH", ["-5"])))
    assert unknown[0]["description2"] == "Invalid Customer 'NO-SUCH' specified."
    assert unknown[-1]["description2"] == "Could not create Adjustment record!"
    order = sb.call(_adjustment("C-00003", ["-5"], order_error=True))
    assert text(order, "control/status") == "failure"
    assert "Element 'adjustmentno': This element is not expected" in errors(order)[0]["description2"]
