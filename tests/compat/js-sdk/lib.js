"use strict";
/**
 * Shared by the compatibility scenarios (run.js, run-ar.js): sandbox settings from the environment, step bookkeeping
 * and the JSON summary each scenario prints on stdout (exit code 0 = every step behaved, 1 = a step failed).
 */
const IA = require("@intacct/intacct-sdk");
const sdkPackage = require("@intacct/intacct-sdk/package.json");

const env = (name, fallback) => {
  const value = process.env[`INTACCT_SANDBOX_${name}`];
  return value == null || value === "" ? fallback : value;
};

const settings = {
  endpointUrl: env("ENDPOINT_URL", ""),
  senderId: env("SENDER_ID", "ar-console-sender"),
  senderPassword: env("SENDER_PASSWORD", "sandbox-sender-pw"),
  companyId: env("COMPANY_ID", "DEMO-AR"),
  userId: env("USER_ID", "ws_console"),
  userPassword: env("USER_PASSWORD", "sandbox-user-pw"),
  tag: env("RUN_TAG", Date.now().toString(36).toUpperCase()),
};

const summary = { sdk: { name: sdkPackage.name, version: sdkPackage.version }, node: process.version, steps: {} };

class StepFailure extends Error {}

function check(condition, message) {
  if (!condition) {
    throw new StepFailure(message);
  }
}

function describeError(err) {
  return {
    class: err && err.constructor ? err.constructor.name : typeof err,
    message: err && err.message !== undefined ? err.message : String(err),
    errors: err && Array.isArray(err.errors) ? err.errors : [],
    isResponseException: err instanceof IA.Exceptions.ResponseException,
    isResultException: err instanceof IA.Exceptions.ResultException,
    isIntacctException: err instanceof IA.Exceptions.IntacctException,
  };
}

async function step(name, body) {
  try {
    summary.steps[name] = await body();
  } catch (err) {
    summary.failed = { step: name, ...describeError(err) };
    throw err;
  }
}

function loginConfig(userPassword) {
  const config = new IA.ClientConfig();
  config.endpointUrl = settings.endpointUrl;
  config.senderId = settings.senderId;
  config.senderPassword = settings.senderPassword;
  config.companyId = settings.companyId;
  config.userId = settings.userId;
  config.userPassword = userPassword;
  return config;
}

function sessionConfig(sessionId, endpointUrl) {
  const config = new IA.ClientConfig();
  config.endpointUrl = endpointUrl;
  config.senderId = settings.senderId;
  config.senderPassword = settings.senderPassword;
  config.sessionId = sessionId;
  return config;
}

const ids = (records, field) => records.map((r) => r[field]);

function daysFromNow(days) {
  const date = new Date();
  date.setDate(date.getDate() + days);
  return date;
}


/** Run `main` and print the summary; the exit code says whether every step passed. */
function run(main) {
  main().then(
    () => {
      summary.ok = true;
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    },
    (err) => {
      summary.ok = false;
      if (!summary.failed) {
        summary.failed = { step: null, ...describeError(err) };
      }
      summary.failed.stack = err && err.stack ? String(err.stack).split("\n").slice(0, 8) : [];
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      process.exitCode = 1;
    },
  );
}

module.exports = { IA, settings, summary, StepFailure, check, describeError, step, loginConfig, sessionConfig, ids,
  daysFromNow, run };
