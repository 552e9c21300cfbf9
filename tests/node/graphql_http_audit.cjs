// graphql-http's server audit (GraphQL over HTTP conformance) against a running hub.
// Usage: node graphql_http_audit.cjs <url> [bearer token]; prints one JSON array of results.
// graphql-http is resolved through NODE_PATH (the test installs it under .hub/node/).
const { auditServer } = require("graphql-http");

async function main() {
  const [url, token] = process.argv.slice(2);
  const fetchFn = (input, init = {}) => {
    const headers = new Headers(init.headers || {});
    if (token) headers.set("authorization", `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
  const results = await auditServer({ url, fetchFn });
  const out = [];
  for (const r of results) {
    out.push({
      id: r.id,
      name: r.name,
      status: r.status,
      reason: r.status === "ok" ? null : r.reason,
      body: r.status === "ok" ? null : await r.response.text().catch(() => null),
    });
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
