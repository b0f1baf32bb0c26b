// acme_directory: GET /acme/directory alone, as fast as it answers. The directory is served from
// memory (serialized once per origin and profile list), so this measures the HTTP front end and
// the ACME protocol's headers (Cache-Control; no nonce on a GET, as Boulder's) on every response.
// Read by loadtest/k6/acme_directory.js and the Node driver (npm run loadtest -- acme_directory). Plain
// JavaScript, no imports.
export default {
  name: 'acme_directory',
  description: 'ACME directory alone (every client run starts here; no database): the goal (issue 16) is 30,000/s with p99 <= 10 ms on two cores',
  executor: 'constant-arrival-rate',
  rate: 30000,
  duration: '30s',
  warmup: '3s',
  // Open loop at the goal's rate: the thresholds are the goal.
  connections: 64,
  thresholds: {
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(99)<10'],
  },
  seed: { certificates: 1, acme: 1 },
  // Pebble serves it too: `npm run loadtest -- acme_directory --target pebble` runs both side by side.
  pebble: true,
  request(i, ctx) {
    return { method: 'GET', path: ctx.acmeDirectory, headers: {}, body: null, expect: 200 };
  },
};
