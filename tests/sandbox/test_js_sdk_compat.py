"""Compatibility: the unmodified official Sage Intacct SDK for JavaScript (``@intacct/intacct-sdk``) against the
sandbox.

The SDK only accepts ``*.intacct.com`` endpoints, so the sandbox serves HTTPS with a throw-away certificate for
``api.intacct.com`` and ``tests/compat/js-sdk/map-host.js`` (a ``--require`` preload) resolves that name to 127.0.0.1;
``NODE_EXTRA_CA_CERTS`` trusts the test CA. ``tests/compat/js-sdk/run.js`` drives the SDK's public API and prints a JSON
summary, which these tests read; the invoice's balances are then checked over raw XML, not through the SDK.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.fixtures.sandbox import REPO_ROOT, SandboxHandle, start_sandbox
from tests.sandbox.xmlhelp import ok, records, text

JS_DIR = REPO_ROOT / "tests" / "compat" / "js-sdk"
SDK_DIR = JS_DIR / "node_modules" / "@intacct" / "intacct-sdk"
NODE = shutil.which("node")
RUN_TAG = "PYTEST"


def _skip_reason() -> str | None:
    if NODE is None:
        return "node is not installed (the official JS SDK needs Node.js >= 18)"
    if not SDK_DIR.is_dir():
        return f"{SDK_DIR.relative_to(REPO_ROOT)} is missing: run `npm ci --prefix tests/compat/js-sdk` (.ci/run does)"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


@pytest.fixture(scope="module")
def tls_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    handle = start_sandbox(tmp_path_factory.mktemp("js_sdk"), seed="minimal", tls=True)
    try:
        yield handle
    finally:
        handle.stop()


def run_js_sdk(handle: SandboxHandle, script: str = "run.js", **overrides: str) -> tuple[int, dict, str]:
    """Run a ``tests/compat/js-sdk`` scenario against ``handle``; returns (exit code, JSON summary, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTACCT_")}
    env.update(
        NODE_EXTRA_CA_CERTS=str(handle.ca_file),
        INTACCT_SANDBOX_ENDPOINT_URL=f"https://api.intacct.com:{handle.port}/ia/xml/xmlgw.phtml",
        INTACCT_SANDBOX_SENDER_ID=handle.sender_id,
        INTACCT_SANDBOX_SENDER_PASSWORD=handle.sender_password,
        INTACCT_SANDBOX_COMPANY_ID=handle.company_id,
        INTACCT_SANDBOX_USER_ID=handle.user_id,
        INTACCT_SANDBOX_USER_PASSWORD=handle.user_password,
        INTACCT_SANDBOX_RUN_TAG=RUN_TAG,
    )
    env.update(overrides)
    proc = subprocess.run([NODE or "node", "--require", "./map-host.js", script], cwd=JS_DIR, env=env,
                          capture_output=True, text=True, timeout=240)
    try:
        summary = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"run.js printed no JSON (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.returncode, summary, proc.stderr


@pytest.fixture(scope="module")
def summary(tls_sandbox: SandboxHandle) -> dict:
    code, result, stderr = run_js_sdk(tls_sandbox)
    assert code == 0 and result["ok"], json.dumps(result.get("failed"), indent=2) + stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def ar_summary(tls_sandbox: SandboxHandle) -> dict:
    """``run-ar.js``: the second scenario (its own run tag, so it never meets run.js's records)."""
    code, result, stderr = run_js_sdk(tls_sandbox, "run-ar.js", INTACCT_SANDBOX_RUN_TAG="AR")
    assert code == 0 and result["ok"], json.dumps(result.get("failed"), indent=2) + stderr[-2000:]
    return result


def test_pinned_sdk_version(summary):
    pinned = json.loads((JS_DIR / "package.json").read_text())["dependencies"]["@intacct/intacct-sdk"]
    assert summary["sdk"] == {"name": "@intacct/intacct-sdk", "version": pinned}


def test_signs_in_and_follows_the_https_endpoint(summary, tls_sandbox):
    sign_in = summary["steps"]["sign_in"]
    assert sign_in["session_created"] and sign_in["function"] == "getAPISession"
    assert sign_in["endpoint"] == f"https://api.intacct.com:{tls_sandbox.port}/ia/xml/xmlgw.phtml"
    assert sign_in["control_status"] == "success"
    assert (sign_in["uniqueid_echo"], sign_in["dtdversion_echo"]) == ("false", "3.0")
    assert (sign_in["user_id"], sign_in["company_id"]) == (tls_sandbox.user_id, tls_sandbox.company_id)
    assert summary["steps"]["session_provider"]["endpoint"] == sign_in["endpoint"]


def test_reads_customers_and_pages_with_read_more_to_the_end(summary):
    read = summary["steps"]["read_customers"]
    assert read["list_type"] == "customer"
    assert read["records"] == read["total_count"] == read["unique_ids"] == 5
    assert read["read_more_calls"] == 2
    assert [p["numremaining"] for p in read["pages"]] == [3, 1, 0]
    assert read["first_record_keys"] == ["RECORDNO", "CUSTOMERID", "NAME", "STATUS", "WHENMODIFIED"]


def test_filters_with_both_query_builders(summary):
    legacy = summary["steps"]["read_by_query_filter"]
    assert legacy["query"] == ("(STATUS = 'T' AND WHENMODIFIED >= '01/01/2000 00:00:00' AND "
                               "CUSTOMERID NOT IN ('NO-SUCH-1','NO-SUCH-2'))")
    assert legacy["count"] == 5 and legacy["statuses"] == ["active"]
    query = summary["steps"]["query_filter_paged"]
    assert query["records"] == query["total_count"] == 5
    assert query["offsets"] == [0, 2, 4]
    assert query["customer_ids"] == sorted(query["customer_ids"], reverse=True)


def test_creates_customer_invoice_and_applied_payment(summary):
    steps = summary["steps"]
    assert steps["create_customer"]["customer_id"] == f"JS-{RUN_TAG}"
    assert steps["create_customer"]["list_type"] == "objects"
    assert steps["create_invoice"]["function"] == "create_invoice" and steps["create_invoice"]["key"].isdigit()
    payment = steps["create_payment"]
    assert payment["function"] == "create_arpayment" and payment["key"].isdigit()
    assert payment["applied_to"] == steps["create_invoice"]["key"]
    batch = steps["batch_read_back"]
    assert [r["function"] for r in batch["results"]] == ["read", "readByName", "readByQuery"]
    assert batch["invoice"]["TOTALPAID"] == "120" and batch["customer"]["TOTALDUE"] == "30"


def test_invoice_balances_moved_over_raw_xml(summary, tls_sandbox):
    key = summary["steps"]["create_invoice"]["key"]
    response = tls_sandbox.call(
        f'<function controlid="inv"><read><object>ARINVOICE</object><keys>{key}</keys>'
        f"<fields>RECORDID,CUSTOMERID,TOTALENTERED,TOTALPAID,TOTALDUE,STATE</fields></read></function>")
    [invoice] = records(ok(response))
    assert invoice == {"RECORDID": f"JS-INV-{RUN_TAG}", "CUSTOMERID": f"JS-{RUN_TAG}", "TOTALENTERED": "150",
                       "TOTALPAID": "120", "TOTALDUE": "30", "STATE": "Partially Paid"}
    lines = tls_sandbox.call(
        f'<function controlid="lines"><readByQuery><object>ARINVOICEITEM</object>'
        f"<fields>LINE_NO,ACCOUNTNO,ACCOUNTLABEL,AMOUNT,TOTALPAID</fields><query>RECORDKEY = {key}</query>"
        f"</readByQuery></function>")
    assert [(r["ACCOUNTNO"], r["ACCOUNTLABEL"], r["AMOUNT"], r["TOTALPAID"]) for r in records(ok(lines))] == [
        ("4000", "", "100.5", "100.5"), ("4000", "Services Revenue", "49.5", "19.5")]


def test_transaction_batch_rolls_back(summary, tls_sandbox):
    step = summary["steps"]["transaction_batch"]
    assert step["rolled_back"]
    assert step["raised"]["class"] == "ResultException"
    assert any(e.startswith("XL03000009 ") for e in step["raised"]["errors"])
    response = tls_sandbox.call('<function controlid="t"><readByName><object>CUSTOMER</object>'
                                f"<keys>{step['first_created_then_rolled_back']}</keys><fields>*</fields>"
                                "</readByName></function>")
    assert ok(response).find("data").get("count") == "0"


def test_result_error_raises_result_exception_with_sandbox_text(summary):
    error = summary["steps"]["result_error"]
    assert error["class"] == "ResultException" and error["isResponseException"]
    assert error["errors"][0] == ("BL01001973 Invalid Customer 'NO-SUCH-CUSTOMER' specified. "
                                  "Use the ID of an existing customer.")


def test_wrong_password_raises_the_sdks_response_exception(summary):
    error = summary["steps"]["wrong_password"]
    assert error["class"] == "ResponseException" and not error["isResultException"]
    assert error["message"].startswith("Response authentication status failure - XL03000006 "
                                       "Sign-in information is incorrect")
    assert error["errors"] == [
        "XL03000006 Sign-in information is incorrect Check the user ID, company ID and password."]


def test_script_exits_non_zero_on_failure(tls_sandbox):
    code, result, _ = run_js_sdk(tls_sandbox, INTACCT_SANDBOX_SENDER_PASSWORD="not-the-sender-password")
    assert code == 1 and result["ok"] is False
    assert result["failed"]["step"] == "sign_in"
    assert result["failed"]["class"] == "ResponseException"
    assert "Incorrect Intacct XML Partner ID or password." in result["failed"]["message"]


def test_tls_sandbox_reports_its_own_scheme(tls_sandbox):
    assert tls_sandbox.url.startswith("https://") and tls_sandbox.admin_url.startswith("https://")
    response = tls_sandbox.call('<function controlid="s"><getAPISession/></function>')
    assert text(ok(response), "data/api/endpoint") == f"https://127.0.0.1:{tls_sandbox.port}/ia/xml/xmlgw.phtml"


# --- run-ar.js: the A/R calls beyond the first scenario ---

def test_inspect_and_lookup_through_the_sdk(ar_summary):
    step = ar_summary["steps"]["inspect_and_lookup"]
    assert step["inspect_functions"] == ["inspect", "inspect"] and step["lookup_function"] == "lookup"
    assert step["object_count"] >= 10 and step["customer_type_count"] == step["lookup_count"] == 1


def test_customer_update_and_legacy_delete(ar_summary, tls_sandbox):
    life = ar_summary["steps"]["customer_lifecycle"]
    assert life == {"update_list_type": "objects", "name": "Lifecycle renamed AR", "email": "renamed@example.com",
                    "credit_limit": "5000"}
    delete = ar_summary["steps"]["customer_delete_refused_then_clean"]
    assert delete["refused"] == ["BL01001973 Cannot delete Customer 'JSAR-AR': transactions use it. "
                                 "Make it inactive instead."]
    assert (delete["deleted_function"], delete["deleted_status"]) == ("delete_customer", "success")
    gone = tls_sandbox.call('<function controlid="g"><readByName><object>CUSTOMER</object><keys>JSAR-AR-X</keys>'
                            "<fields>*</fields></readByName></function>")
    assert ok(gone).find("data").get("count") == "0"


def test_invoice_update_reverse_and_payment_apply_reverse(ar_summary, tls_sandbox):
    inv = ar_summary["steps"]["invoice_update_and_reverse"]
    assert (inv["update_function"], inv["reverse_function"], inv["second_state"]) == (
        "update_invoice", "reverse_invoice", "Reversed")
    assert inv["first"] == {"total": "300", "state": "Posted", "lines": 2}
    assert ar_summary["steps"]["advance_then_apply"]["apply_status"] == "success"
    assert ar_summary["steps"]["reverse_payment"]["function"] == "reverse_arpayment"
    payments = tls_sandbox.call('<function controlid="p"><readByQuery><object>ARPYMT</object>'
                                "<fields>RECORDTYPE,STATE,TOTALENTERED</fields>"
                                "<query>CUSTOMERID = 'JSAR-AR'</query></readByQuery></function>")
    assert sorted((r["RECORDTYPE"], r["STATE"]) for r in records(ok(payments))) == [("rp", "V"),
                                                                                     ("rr", "V")]


def test_credit_memo_lowers_the_customer_balance(ar_summary, tls_sandbox):
    memo = ar_summary["steps"]["credit_memo"]
    assert memo["function"] == "create_aradjustment" and memo["deleted"] == "success"
    row = tls_sandbox.call(f'<function controlid="a"><read><object>ARADJUSTMENT</object><keys>{memo["key"]}</keys>'
                           "<fields>RECORDID,TOTALENTERED,STATE</fields></read></function>")
    assert records(ok(row)) == [{"RECORDID": "CM-AR", "TOTALENTERED": "-40", "STATE": "Posted"}]
    balance = tls_sandbox.call('<function controlid="b"><readByName><object>CUSTOMER</object><keys>JSAR-AR</keys>'
                               "<fields>TOTALDUE</fields></readByName></function>")
    assert records(ok(balance)) == [{"TOTALDUE": "260"}]  # invoice 300 - credit memo 40; the advance was reversed


def test_master_data_and_unsupported_function(ar_summary):
    data = ar_summary["steps"]["master_data"]
    assert data["deleted"] == ["delete_location", "delete_department", "delete_glaccount"]
    unsupported = ar_summary["steps"]["unsupported_function_is_a_result_error"]
    assert unsupported["class"] == "ResultException"
    assert unsupported["errors"][0].startswith("XL03000003 Unknown or unsupported function 'get_list'")
