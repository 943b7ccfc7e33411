"use strict";
/**
 * Second compatibility scenario: the A/R and master-data calls beyond run.js, each through the unmodified official
 * SDK's own function class — CustomerUpdate/CustomerDelete (legacy delete_customer), Inspect, Lookup, Read with
 * `*`, InvoiceUpdate/InvoiceReverse, ArPaymentCreate without items + ArPaymentApply, ArPaymentReverse,
 * ArAdjustmentCreate/ArAdjustmentDelete, Location/Department/Account create-update-delete. Same environment and
 * output as run.js (see there); run with `node --require ./map-host.js run-ar.js`.
 */
const { IA, settings, summary, StepFailure, check, step, loginConfig, sessionConfig, daysFromNow, run } =
  require("./lib");

const AR = IA.Functions.AccountsReceivable;
const Common = IA.Functions.Common;
const Company = IA.Functions.Company;
const GL = IA.Functions.GeneralLedger;

async function main() {
  check(settings.endpointUrl, "INTACCT_SANDBOX_ENDPOINT_URL is required");
  const tag = settings.tag;
  let client;
  const one = async (fn) => (await client.execute(fn)).getResult();

  await step("sign_in", async () => {
    const api = (await new IA.OnlineClient(loginConfig(settings.userPassword))
      .execute(new IA.Functions.ApiSessionCreate())).getResult().data[0];
    client = new IA.OnlineClient(sessionConfig(String(api.sessionid), String(api.endpoint)));
    return { endpoint: String(api.endpoint) };
  });

  await step("inspect_and_lookup", async () => {
    const all = new Common.Inspect();
    const listed = await one(all);
    const customer = new Common.Inspect();
    customer.objectName = "CUSTOMER";
    const fields = await one(customer);
    const lookup = new Common.Lookup();
    lookup.objectName = "ARINVOICE";
    const definition = await one(lookup);
    return { inspect_functions: [listed.functionName, fields.functionName], lookup_function: definition.functionName,
      object_count: listed.count, customer_type_count: fields.count, lookup_count: definition.count };
  });

  const customerId = `JSAR-${tag}`;
  await step("customer_lifecycle", async () => {
    const create = new AR.CustomerCreate();
    create.customerId = customerId;
    create.customerName = `Lifecycle ${tag}`;
    create.printAs = create.customerName;
    await one(create);
    const update = new AR.CustomerUpdate();
    update.customerId = customerId;
    update.customerName = `Lifecycle renamed ${tag}`;
    update.primaryEmailAddress = "renamed@example.com";
    update.creditLimit = 5000;
    const updated = await one(update);
    const read = new Common.ReadByName();
    read.objectName = "CUSTOMER";
    read.names = [customerId];
    const back = (await one(read)).data[0];
    return { update_list_type: updated.listType, name: back.NAME, email: back.DISPLAYCONTACT.EMAIL1,
      credit_limit: back.CREDITLIMIT };
  });

  let invoiceKey;
  let secondKey;
  await step("invoice_update_and_reverse", async () => {
    const line = new AR.InvoiceLineCreate();
    line.glAccountNumber = "4000";
    line.transactionAmount = 200;
    const create = new AR.InvoiceCreate();
    create.customerId = customerId;
    create.transactionDate = new Date();
    create.dueDate = daysFromNow(30);
    create.lines = [line];
    invoiceKey = (await one(create)).key;
    create.invoiceNumber = `JSAR-REV-${tag}`;
    secondKey = (await one(create)).key;
    const change = new AR.InvoiceLineUpdate();
    change.lineNo = 1;
    change.glAccountNumber = "4010";
    change.transactionAmount = 250;
    change.memo = "changed by InvoiceUpdate";
    const added = new AR.InvoiceLineCreate();
    added.accountLabel = "Services Revenue";
    added.transactionAmount = 50;
    const update = new AR.InvoiceUpdate();
    update.recordNo = parseInt(invoiceKey, 10);
    update.description = "Updated by the JS SDK";
    update.paymentTerm = "Net 30";
    update.dueDate = daysFromNow(45);
    update.referenceNumber = `PO-UPD-${tag}`;
    update.lines = [change, added];
    const updated = await one(update);
    const reverse = new AR.InvoiceReverse();
    reverse.recordNo = parseInt(secondKey, 10);
    reverse.reverseDate = new Date();
    reverse.memo = "Reversed by the JS SDK";
    const reversed = await one(reverse);
    const read = new Common.Read();
    read.objectName = "ARINVOICE";
    read.keys = [parseInt(invoiceKey, 10), parseInt(secondKey, 10)];
    const [first, second] = (await one(read)).data;
    return { update_function: updated.functionName, reverse_function: reversed.functionName,
      reverse_key: reversed.key, first: { total: first.TOTALENTERED, state: first.STATE,
        lines: first.ARINVOICEITEMS.arinvoiceitem.length }, second_state: second.STATE };
  });

  let paymentKey;
  await step("advance_then_apply", async () => {
    const advance = new AR.ArPaymentCreate();
    advance.customerId = customerId;
    advance.transactionPaymentAmount = 100;
    advance.bankAccountId = "BOA-CHK";
    advance.receivedDate = new Date();
    advance.paymentMethod = "EFT";
    advance.referenceNumber = `ADV-${tag}`;
    paymentKey = (await one(advance)).key;
    const item = new AR.ArPaymentItem();
    item.applyToRecordId = parseInt(invoiceKey, 10);
    item.amountToApply = 60;
    const apply = new AR.ArPaymentApply();
    apply.recordNo = parseInt(paymentKey, 10);
    apply.receivedDate = new Date();
    apply.memo = "apply the advance";
    apply.applyToTransactions = [item];
    const applied = await one(apply);
    return { payment_key: paymentKey, apply_function: applied.functionName, apply_status: applied.status };
  });

  await step("reverse_payment", async () => {
    const reverse = new AR.ArPaymentReverse();
    reverse.recordNo = parseInt(paymentKey, 10);
    reverse.reverseDate = new Date();
    reverse.memo = "NSF";
    const result = await one(reverse);
    return { function: result.functionName, key: result.key };
  });

  await step("credit_memo", async () => {
    const line = new AR.ArAdjustmentLineCreate();
    line.glAccountNumber = "4000";
    line.transactionAmount = -40;
    line.memo = "goodwill credit";
    const create = new AR.ArAdjustmentCreate();
    create.customerId = customerId;
    create.transactionDate = new Date();
    create.adjustmentNumber = `CM-${tag}`;
    create.action = "Submit";
    create.description = "Credit memo from the JS SDK";
    create.lines = [line];
    const created = await one(create);
    const temporary = new AR.ArAdjustmentCreate();
    temporary.customerId = customerId;
    temporary.transactionDate = new Date();
    temporary.lines = [line];
    const doomed = await one(temporary);
    const remove = new AR.ArAdjustmentDelete();
    remove.recordNo = parseInt(doomed.key, 10);
    const removed = await one(remove);
    return { function: created.functionName, key: created.key, deleted: removed.status };
  });

  await step("customer_delete_refused_then_clean", async () => {
    const del = new AR.CustomerDelete();
    del.customerId = customerId;
    let refused;
    try {
      await one(del);
    } catch (err) {
      refused = err.errors;
    }
    check(refused, "deleting a customer with transactions did not raise");
    const spare = new AR.CustomerCreate();
    spare.customerId = `${customerId}-X`;
    spare.customerName = "Spare";
    spare.printAs = "Spare";
    await one(spare);
    const delSpare = new AR.CustomerDelete();
    delSpare.customerId = spare.customerId;
    const deleted = await one(delSpare);
    return { refused, deleted_function: deleted.functionName, deleted_status: deleted.status };
  });

  await step("master_data", async () => {
    const location = new Company.LocationCreate();
    location.locationId = `L-${tag}`;
    location.locationName = "JS location";
    location.locationContactName = "Someone";
    location.active = true;
    const department = new Company.DepartmentCreate();
    department.departmentId = `D-${tag}`;
    department.departmentName = "JS department";
    department.managerEmployeeId = "E-1";
    const account = new GL.AccountCreate();
    account.accountNo = "4977";
    account.title = "JS revenue";
    account.accountType = "incomestatement";
    account.normalBalance = "credit";
    account.closingType = "closing account";
    account.taxable = false;
    account.requireProject = false;
    const created = (await client.executeBatch([location, department, account])).results;
    const accountUpdate = new GL.AccountUpdate();
    accountUpdate.accountNo = "4977";
    accountUpdate.title = "JS revenue (renamed)";
    const locationUpdate = new Company.LocationUpdate();
    locationUpdate.locationId = location.locationId;
    locationUpdate.locationName = "JS location (renamed)";
    const updated = (await client.executeBatch([accountUpdate, locationUpdate])).results;
    const deletes = [new Company.LocationDelete(), new Company.DepartmentDelete(), new GL.AccountDelete()];
    deletes[0].locationId = location.locationId;
    deletes[1].departmentId = department.departmentId;
    deletes[2].accountNo = "4977";
    const deleted = (await client.executeBatch(deletes)).results;
    for (const result of [...created, ...updated, ...deleted]) {
      result.ensureStatusSuccess();
    }
    return {
      created: created.map((r) => r.functionName), updated: updated.map((r) => r.functionName),
      deleted: deleted.map((r) => r.functionName),
    };
  });

  await step("unsupported_function_is_a_result_error", async () => {
    const list = new Common.GetList.GetList();
    list.object = "customer";
    try {
      await one(list);
    } catch (err) {
      return { class: err.constructor.name, errors: err.errors };
    }
    throw new StepFailure("get_list did not raise");
  });
}

run(main);
void summary;
