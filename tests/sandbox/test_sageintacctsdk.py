"""Compatibility: the unmodified PyPI client ``sageintacctsdk`` against the sandbox.

Only its hard-coded initial gateway URL is patched (section 13 of the protocol reference); everything after
sign-in follows the ``<endpoint>`` the sandbox returns.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

sdk = pytest.importorskip("sageintacctsdk")
from sageintacctsdk.apis.api_base import ApiBase  # noqa: E402

from tests.fixtures.sandbox import SandboxHandle, start_sandbox  # noqa: E402


@pytest.fixture(scope="module")
def sdk_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    handle = start_sandbox(tmp_path_factory.mktemp("sdk"), seed="demo")
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def connection(sdk_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch):
    original = ApiBase.__init__

    def patched(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self._ApiBase__api_url = sdk_sandbox.url

    monkeypatch.setattr(ApiBase, "__init__", patched)
    return sdk.SageIntacctSDK(sender_id=sdk_sandbox.sender_id, sender_password=sdk_sandbox.sender_password,
                              user_id=sdk_sandbox.user_id, company_id=sdk_sandbox.company_id,
                              user_password=sdk_sandbox.user_password)


def test_sign_in_follows_endpoint(connection, sdk_sandbox):
    assert connection.api_base._ApiBase__session_id.endswith("..")
    assert connection.api_base._ApiBase__api_url == sdk_sandbox.url


def test_read_by_query_get_and_count(connection, sdk_sandbox):
    page = connection.customers.read_by_query(fields=["CUSTOMERID", "NAME", "STATUS"])
    assert page["status"] == "success"
    rows = page["data"]["customer"]
    assert len(rows) == 50
    found = connection.customers.get(field="CUSTOMERID", value="C-00007")
    assert found["customer"]["CUSTOMERID"] == "C-00007"
    active = connection.customers.count()
    total = connection.customers.count(None)
    assert 0 < active < total == 50


def test_query_paging_returns_everything(connection):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        invoices = connection.ar_invoices.get_all()
    assert len(invoices) == 200 and len({i["RECORDNO"] for i in invoices}) == 200
    assert all("TOTALDUE" in i and "BILLTO.EMAIL1" in i for i in invoices)
    customers = connection.customers.get_by_query(and_filter=[("equalto", "STATUS", "active")])
    assert customers and all(c["STATUS"] == "active" for c in customers)
    pages = list(connection.customers.get_all_generator(updated_at="01/01/2000 00:00:00"))
    assert sum(len(p) for p in pages) == 50


def test_create_customer_invoice_and_payment(connection):
    created = connection.customers.post({"CUSTOMERID": "SDK-1", "NAME": "SDK Customer & Co"})
    assert created["status"] == "success"
    assert created["data"]["customer"]["CUSTOMERID"] == "SDK-1"
    invoice = connection.ar_invoices.post({
        "customerid": "SDK-1",
        "datecreated": {"year": 2024, "month": 5, "day": 1},
        "termname": "Net 30",
        "invoiceno": "SDK-INV-1",
        "invoiceitems": {"lineitem": [{"accountlabel": "Services Revenue", "amount": "100.50"},
                                      {"glaccountno": "4010", "amount": "20"}]},
    })
    key = invoice["key"]
    payment = connection.ar_payments.post({
        "PAYMENTMETHOD": "EFT", "CUSTOMERID": "SDK-1", "UNDEPOSITEDACCOUNTNO": "1210", "RECEIPTDATE": "05/15/2024",
        "ARPYMTDETAILS": {"ARPYMTDETAIL": {"RECORDKEY": key, "TRX_PAYMENTAMOUNT": "120.50"}},
    })
    assert payment["status"] == "success"
    read = connection.ar_invoices.get(field="RECORDNO", value=key, fields=["STATE", "TOTALDUE"])
    assert read["arinvoice"] == {"STATE": "Paid", "TOTALDUE": "0"}


def test_errors_are_typed(connection):
    from sageintacctsdk.exceptions import WrongParamsError

    with pytest.raises(WrongParamsError) as info:
        connection.customers.post({"CUSTOMERID": "C-00001", "NAME": "duplicate"})
    assert "already exists" in str(info.value.response)


def test_master_data_methods_round_trip(connection):
    """get / get_all / get_by_query / count / post / update / delete / get_lookup for locations, departments and
    GL accounts, as the SDK writes them (count() filters STATUS = active by default)."""
    cases = [
        (connection.locations, "LOCATIONID", {"LOCATIONID": "SDK-L", "NAME": "SDK location"}, {"NAME": "renamed"}),
        (connection.departments, "DEPARTMENTID", {"DEPARTMENTID": "SDK-D", "TITLE": "SDK dept"}, {"TITLE": "renamed"}),
        (connection.accounts, "ACCOUNTNO", {"ACCOUNTNO": "4996", "TITLE": "SDK revenue",
                                            "ACCOUNTTYPE": "incomestatement", "NORMALBALANCE": "credit",
                                            "CLOSINGTYPE": "closing account"}, {"TITLE": "renamed"}),
    ]
    for api, id_field, record, change in cases:
        before = api.count()
        assert api.post(record)["status"] == "success"
        assert api.count() == before + 1 == len(api.get_all(field="STATUS", value="active"))
        assert api.update({id_field: record[id_field], **change})["status"] == "success"
        [found] = api.get_by_query(and_filter=[("equalto", id_field, record[id_field])])
        assert all(found[k] == v for k, v in change.items())
        name = api._ApiBase__dimension.lower()
        key = api.get(field=id_field, value=record[id_field])[name]["RECORDNO"]
        assert api.delete(key)["status"] == "success"
        assert api.count() == before
        assert api.get_lookup()["Type"]["@Name"] == api._ApiBase__dimension


def test_transaction_objects_count_without_status_filter(connection):
    """ARINVOICE / ARPYMT have no STATUS field (the SDK's own field catalogue lists none), so the default
    ``count()`` fails as a query on an unknown field; ``count(None)`` is what ``get_all`` uses."""
    from sageintacctsdk.exceptions import WrongParamsError

    assert connection.ar_invoices.count(None) == len(connection.ar_invoices.get_all()) >= 200
    assert connection.ar_payments.count(None) == len(connection.ar_payments.get_all())
    with pytest.raises(WrongParamsError) as info:
        connection.ar_payments.count()
    assert "arpymt: [STATUS]" in str(info.value.response)
    [payment] = connection.ar_payments.get_by_query(and_filter=[("equalto", "RECORDNO", "1")])
    assert payment["RECORDNO"] == "1"
