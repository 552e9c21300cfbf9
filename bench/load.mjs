// Drive one GraphQL server with autocannon, cycling through pre-built request bodies so that
// every request in flight carries different variables (no layer can merge identical requests).
//
//   node bench/load.mjs CONFIG.json
//
// CONFIG: {url, bodiesFile, headers, connections, duration or amount, timeout}; bodiesFile a JSON
// array of request bodies (strings). Prints one JSON line: requests, seconds, reqPerSec,
// latency percentiles (ms), non2xx, errors, timeouts, graphqlErrors (answers with "errors") by
// first error code, distinct bodies sent, whether the list wrapped, this process's CPU seconds.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '.node', 'package.json'));
const autocannon = require('autocannon');

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const bodies = JSON.parse(readFileSync(config.bodiesFile, 'utf8'));
let next = 0;
let graphqlErrors = 0;
const errorCodes = {}; // extensions.code of the first error of each failed answer
const errorSamples = []; // a few distinct first error messages

const cpuStart = process.cpuUsage();
const instance = autocannon(
  {
    url: config.url,
    method: 'POST',
    connections: config.connections,
    // A number of requests (each body once, say) instead of a duration when `amount` is set.
    ...(config.amount ? { amount: config.amount } : { duration: config.duration }),
    timeout: config.timeout ?? 30,
    headers: { 'content-type': 'application/json', ...config.headers },
    requests: [
      {
        setupRequest: (req) => {
          req.body = bodies[next % bodies.length];
          next += 1;
          return req;
        },
        onResponse: (status, body) => {
          const at = status === 200 && body ? body.indexOf('"errors":') : -1;
          if (at >= 0) {
            graphqlErrors += 1;
            const code = /"code":\s*"([A-Z_]+)"/.exec(body.slice(at))?.[1] ?? 'UNKNOWN';
            errorCodes[code] = (errorCodes[code] ?? 0) + 1;
            const message = /"message":\s*"([^"]{0,160})/.exec(body.slice(at))?.[1];
            if (message && errorSamples.length < 3 && !errorSamples.includes(message)) {
              errorSamples.push(message);
            }
          }
        },
      },
    ],
  },
  (err, result) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    const cpu = process.cpuUsage(cpuStart);
    const seconds = result.duration;
    const lat = result.latency;
    console.log(
      JSON.stringify({
        requests: result.requests.total,
        seconds,
        reqPerSec: result.requests.total / seconds,
        p50: lat.p50,
        p90: lat.p90,
        p99: lat.p99,
        max: lat.max,
        mean: lat.average,
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        graphqlErrors,
        errorCodes,
        errorSamples,
        sent: next,
        distinct: Math.min(next, bodies.length),
        wrapped: next > bodies.length,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
      }),
    );
  },
);
process.once('SIGINT', () => instance.stop());
