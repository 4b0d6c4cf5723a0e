// Runs graphql-http's server audits (GraphQL over HTTP spec conformance) against a
// served gateway: `node audit.mjs URL` with the bearer token in PAYGRAPH_AUDIT_TOKEN.
// Prints one line per audit and, last, the counts as JSON; exits 1 on any error or
// warning (a MUST or SHOULD the gateway fails).
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const token = process.env.PAYGRAPH_AUDIT_TOKEN;
if (!url || !token) {
  console.error('usage: PAYGRAPH_AUDIT_TOKEN=JWT node audit.mjs URL');
  process.exit(2);
}

// Every request of the audit carries the credential: /graphql answers 401 without one.
function authorized(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn: authorized });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  let line = `${result.status.padEnd(6)} ${result.id} ${result.name}`;
  if (result.status !== 'ok') {
    const body = await result.response.text();
    line += `\n       ${result.reason}: ${result.response.status} ${body.slice(0, 300)}`;
  }
  console.log(line);
}
console.log(JSON.stringify(counts));
process.exit(counts.error + counts.warn > 0 ? 1 : 0);
