"use strict";
/**
 * Drives the unmodified official Sage Intacct SDK for JavaScript (@intacct/intacct-sdk) against intacct_sandbox
 * through its public API only, and prints one JSON summary on stdout. Exit code 0 = every step behaved as the
 * SDK's documentation says it should; 1 = a step failed (the summary names it and the error).
 *
 * Run (the SDK only accepts *.intacct.com endpoints, hence the host mapping and the test CA):
 *   INTACCT_SANDBOX_ENDPOINT_URL=https://api.intacct.com:8443/ia/xml/xmlgw.phtml \
 *   NODE_EXTRA_CA_CERTS=/path/to/ca.pem node --require ./map-host.js run.js
 *
 * Environment: INTACCT_SANDBOX_ENDPOINT_URL (required), INTACCT_SANDBOX_SENDER_ID, INTACCT_SANDBOX_SENDER_PASSWORD,
 * INTACCT_SANDBOX_COMPANY_ID, INTACCT_SANDBOX_USER_ID, INTACCT_SANDBOX_USER_PASSWORD (defaults: the sandbox's
 * demo credentials), INTACCT_SANDBOX_RUN_TAG (suffix for the ids this run creates; default: time based).
 */
const { IA, settings, summary, StepFailure, check, describeError, step, loginConfig, sessionConfig, ids,
  daysFromNow, run } = require("./lib");

const AR = IA.Functions.AccountsReceivable;
const Common = IA.Functions.Common;
const Comparison = Common.Query.Comparison;
const NewQuery = Common.NewQuery;

async function main() {
  check(settings.endpointUrl, "INTACCT_SANDBOX_ENDPOINT_URL is required");
  let client;

  await step("sign_in", async () => {
    const response = await new IA.OnlineClient(loginConfig(settings.userPassword))
      .execute(new IA.Functions.ApiSessionCreate());
    const result = response.getResult();
    const api = result.data[0];
    check(String(api.sessionid).endsWith(".."), `unexpected session id ${api.sessionid}`);
    client = new IA.OnlineClient(sessionConfig(String(api.sessionid), String(api.endpoint)));
    return {
      function: result.functionName,
      session_created: true,
      endpoint: String(api.endpoint),
      control_status: response.control.status,
      uniqueid_echo: response.control.uniqueId,
      dtdversion_echo: response.control.dtdVersion,
      user_id: response.authentication.userId,
      company_id: response.authentication.companyId,
      session_timeout: response.authentication.sessionTimeout,
    };
  });

  await step("session_provider", async () => {
    const config = await IA.SessionProvider.factory(loginConfig(settings.userPassword));
    check(config.sessionId.endsWith(".."), `unexpected session id ${config.sessionId}`);
    return { session_created: true, endpoint: config.endpointUrl, company_id: config.companyId };
  });

  await step("read_customers", async () => {
    const read = new Common.ReadByQuery();
    read.objectName = "CUSTOMER";
    read.fields = ["RECORDNO", "CUSTOMERID", "NAME", "STATUS", "WHENMODIFIED"];
    read.pageSize = 2;
    const first = (await client.execute(read)).getResult();
    const pages = [{ count: first.count, numremaining: first.numRemaining }];
    const records = [...first.data];
    let resultId = first.resultId;
    let remaining = first.numRemaining;
    while (remaining > 0) {
      check(pages.length < 100, "readMore never reached numremaining 0");
      const more = new Common.ReadMore();
      more.resultId = resultId;
      const page = (await client.execute(more)).getResult();
      check(page.functionName === "readMore", `result function ${page.functionName}`);
      pages.push({ count: page.count, numremaining: page.numRemaining });
      records.push(...page.data);
      resultId = page.resultId;
      remaining = page.numRemaining;
    }
    check(records.length === first.totalCount, `read ${records.length} of ${first.totalCount}`);
    return {
      list_type: first.listType,
      total_count: first.totalCount,
      records: records.length,
      unique_ids: new Set(ids(records, "CUSTOMERID")).size,
      read_more_calls: pages.length - 1,
      pages,
      first_record_keys: Object.keys(records[0] || {}),
    };
  });

  await step("read_by_query_filter", async () => {
    const status = new Comparison.EqualTo.EqualToString();
    status.field = "STATUS";
    status.value = "T";
    const since = new Comparison.GreaterThanOrEqualTo.GreaterThanOrEqualToDateTime();
    since.field = "WHENMODIFIED";
    since.value = new Date(2000, 0, 1, 0, 0, 0);
    const notThese = new Comparison.InArray.InArrayString();
    notThese.field = "CUSTOMERID";
    notThese.valuesList = ["NO-SUCH-1", "NO-SUCH-2"];
    notThese.negate = true;
    const filter = new Common.Query.Logical.AndCondition();
    filter.conditions = [status, since, notThese];
    const read = new Common.ReadByQuery();
    read.objectName = "CUSTOMER";
    read.fields = ["CUSTOMERID", "STATUS"];
    read.query = filter;
    const result = (await client.execute(read)).getResult();
    check(result.data.every((r) => r.STATUS === "active"), "filter returned inactive customers");
    return { query: filter.toString(), count: result.count, statuses: [...new Set(ids(result.data, "STATUS"))] };
  });

  await step("query_filter_paged", async () => {
    const records = [];
    const offsets = [];
    let offset = 0;
    let remaining = 1;
    let total = 0;
    while (remaining > 0) {
      check(offsets.length < 100, "query paging never reached numremaining 0");
      const query = new NewQuery.Query()
        .assignFromObject("CUSTOMER")
        .assignSelectFields(new NewQuery.QuerySelect.SelectBuilder()
          .addFields(["RECORDNO", "CUSTOMERID", "NAME", "STATUS", "WHENMODIFIED"]).selects)
        .assignFilter(new NewQuery.QueryFilter.AndOperator([
          new NewQuery.QueryFilter.Filter("STATUS").equalTo("active"),
          new NewQuery.QueryFilter.Filter("WHENMODIFIED").greaterThanOrEqualTo("01/01/2000 00:00:00"),
        ]))
        .assignOrderBy(new NewQuery.QueryOrderBy.OrderBuilder().addDescending("CUSTOMERID").orders)
        .assignCaseInsensitive(false)
        .assignPageSize(2)
        .assignOffset(offset);
      const result = (await client.execute(query)).getResult();
      offsets.push(offset);
      records.push(...result.data);
      remaining = result.numRemaining;
      total = result.totalCount;
      offset += result.count;
    }
    const customerIds = ids(records, "CUSTOMERID");
    const sorted = [...customerIds].sort().reverse();
    check(JSON.stringify(customerIds) === JSON.stringify(sorted), "orderby descending not honoured");
    check(records.every((r) => r.STATUS === "active"), "filter returned inactive customers");
    check(records.length === total, `query returned ${records.length} of ${total}`);
    return { total_count: total, records: records.length, offsets, customer_ids: customerIds };
  });

  const customerId = `JS-${settings.tag}`;
  await step("create_customer", async () => {
    const create = new AR.CustomerCreate();
    create.customerId = customerId;
    create.customerName = `JS SDK Kunde & Söhne ${settings.tag}`;
    // Left unset, the SDK still writes an empty <PRINTAS/>, which the protocol treats as missing (required).
    create.printAs = create.customerName;
    create.primaryEmailAddress = `ar+${settings.tag.toLowerCase()}@example.com`;
    create.paymentTerm = "Net 30";
    create.active = true;
    const result = (await client.execute(create)).getResult();
    const record = result.data[0];
    check(record.CUSTOMERID === customerId, `created ${JSON.stringify(record)}`);
    return { list_type: result.listType, customer_id: record.CUSTOMERID, record_no: record.RECORDNO };
  });

  let invoiceKey;
  const invoiceNumber = `JS-INV-${settings.tag}`;
  await step("create_invoice", async () => {
    const byAccount = new AR.InvoiceLineCreate();
    byAccount.glAccountNumber = "4000";
    byAccount.transactionAmount = 100.5;
    byAccount.memo = "Consulting (GL account)";
    const byLabel = new AR.InvoiceLineCreate();
    byLabel.accountLabel = "Services Revenue";
    byLabel.transactionAmount = 49.5;
    byLabel.memo = "Support (account label)";
    const create = new AR.InvoiceCreate();
    create.customerId = customerId;
    create.transactionDate = new Date();
    create.dueDate = daysFromNow(30);
    create.action = "Submit";
    create.invoiceNumber = invoiceNumber;
    create.referenceNumber = `PO-${settings.tag}`;
    create.description = "Created by the official JS SDK";
    create.lines = [byAccount, byLabel];
    const result = (await client.execute(create)).getResult();
    check(/^\d+$/.test(result.key || ""), `invoice key ${result.key}`);
    invoiceKey = result.key;
    return { function: result.functionName, key: result.key, invoice_number: invoiceNumber, total: 150 };
  });

  let paymentKey;
  await step("create_payment", async () => {
    const apply = new AR.ArPaymentItem();
    apply.applyToRecordId = parseInt(invoiceKey, 10);
    apply.amountToApply = 120;
    const create = new AR.ArPaymentCreate();
    create.customerId = customerId;
    create.transactionPaymentAmount = 120;
    create.undepositedFundsGlAccountNo = "1210";
    create.receivedDate = new Date();
    create.paymentMethod = "Printed Check";
    create.referenceNumber = `CHK-${settings.tag}`;
    create.applyToTransactions = [apply];
    const result = (await client.execute(create)).getResult();
    check(/^\d+$/.test(result.key || ""), `payment key ${result.key}`);
    paymentKey = result.key;
    return { function: result.functionName, key: result.key, applied_to: invoiceKey, amount: 120 };
  });

  await step("batch_read_back", async () => {
    const invoice = new Common.Read();
    invoice.objectName = "ARINVOICE";
    invoice.keys = [parseInt(invoiceKey, 10)];
    invoice.fields = ["RECORDNO", "RECORDID", "CUSTOMERID", "TOTALENTERED", "TOTALPAID", "TOTALDUE", "STATE"];
    const customer = new Common.ReadByName();
    customer.objectName = "CUSTOMER";
    customer.names = [customerId];
    customer.fields = ["CUSTOMERID", "NAME", "TOTALDUE"];
    const payments = new Common.ReadByQuery();
    payments.objectName = "ARPYMT";
    payments.fields = ["RECORDNO", "CUSTOMERID", "TOTALENTERED", "STATE"];
    const key = new Comparison.EqualTo.EqualToString();
    key.field = "RECORDNO";
    key.value = paymentKey;
    payments.query = key;
    const response = await client.executeBatch([invoice, customer, payments]);
    const [inv, cust, pay] = response.results;
    for (const result of response.results) {
      result.ensureStatusSuccess();
    }
    return {
      results: response.results.map((r) => ({ function: r.functionName, status: r.status, count: r.count })),
      invoice: inv.data[0],
      customer: cust.data[0],
      payment: pay.data[0],
    };
  });

  await step("transaction_batch", async () => {
    const config = new IA.RequestConfig();
    config.transaction = true;
    const first = new AR.CustomerCreate();
    first.customerId = `JS-T1-${settings.tag}`;
    first.customerName = "Rolled back with its batch";
    first.printAs = first.customerName;
    const duplicate = new AR.CustomerCreate();
    duplicate.customerId = customerId;
    duplicate.customerName = "Duplicate of an existing customer";
    duplicate.printAs = duplicate.customerName;
    try {
      await client.executeBatch([first, duplicate], config);
    } catch (err) {
      const probe = new Common.ReadByName();
      probe.objectName = "CUSTOMER";
      probe.names = [first.customerId];
      const after = (await client.execute(probe)).getResult();
      check(after.count === 0, "a rolled-back customer exists");
      return { raised: describeError(err), rolled_back: true, first_created_then_rolled_back: first.customerId };
    }
    throw new StepFailure("a transaction with a duplicate customer did not raise");
  });

  await step("result_error", async () => {
    const line = new AR.InvoiceLineCreate();
    line.glAccountNumber = "4000";
    line.transactionAmount = 10;
    const create = new AR.InvoiceCreate();
    create.customerId = "NO-SUCH-CUSTOMER";
    create.transactionDate = new Date();
    create.dueDate = daysFromNow(30);
    create.lines = [line];
    try {
      await client.execute(create);
    } catch (err) {
      return describeError(err);
    }
    throw new StepFailure("an invoice for an unknown customer did not raise");
  });

  await step("wrong_password", async () => {
    try {
      await new IA.OnlineClient(loginConfig(`${settings.userPassword}-wrong`))
        .execute(new IA.Functions.ApiSessionCreate());
    } catch (err) {
      return describeError(err);
    }
    throw new StepFailure("sign-in with a wrong password did not raise");
  });
}


run(main);
