"use strict";
/**
 * Preload for `node --require ./map-host.js`: resolves Intacct host names to the local sandbox.
 *
 * The official SDK only accepts endpoints whose host ends in `.intacct.com`, so instead of changing the SDK
 * (or /etc/hosts) this process answers `dns.lookup` for those names with a local address. TLS still checks
 * the certificate against the *requested* name (`api.intacct.com`), so the sandbox's test certificate must
 * carry that name and its CA must be trusted through NODE_EXTRA_CA_CERTS.
 *
 * Environment:
 *   INTACCT_SANDBOX_MAP_TO     address to answer with (default 127.0.0.1)
 *   INTACCT_SANDBOX_MAP_HOSTS  comma-separated names; a leading "." means "this suffix" (default .intacct.com)
 */
const dns = require("dns");
const net = require("net");

const target = process.env.INTACCT_SANDBOX_MAP_TO || "127.0.0.1";
const family = net.isIP(target);
if (family === 0) {
  throw new Error(`INTACCT_SANDBOX_MAP_TO must be an IP address, got ${JSON.stringify(target)}`);
}
const patterns = (process.env.INTACCT_SANDBOX_MAP_HOSTS || ".intacct.com")
  .split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);

function isMapped(hostname) {
  const host = String(hostname || "").toLowerCase().replace(/\.$/, "");
  return patterns.some((p) => (p.startsWith(".") ? host.endsWith(p) || host === p.slice(1) : host === p));
}

const originalLookup = dns.lookup;

function lookup(hostname, options, callback) {
  if (typeof options === "function") {
    callback = options;
    options = {};
  } else if (typeof options === "number") {
    options = { family: options };
  }
  if (!isMapped(hostname)) {
    return originalLookup.call(dns, hostname, options, callback);
  }
  // Node's connect path asks for every address (`all: true`) when it races IPv4/IPv6; answer both shapes.
  if (options && options.all) {
    process.nextTick(callback, null, [{ address: target, family }]);
  } else {
    process.nextTick(callback, null, target, family);
  }
  return {};
}

dns.lookup = lookup;
