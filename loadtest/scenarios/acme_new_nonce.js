// acme_new_nonce: HEAD /acme/new-nonce alone, as fast as it answers. A nonce is minted without
// the database (an HMAC over a counter: src/acme/nonces.ts); spending it is acme_flow's part.
// Read by loadtest/k6/acme_new_nonce.js and the Node driver (npm run loadtest -- acme_new_nonce). Plain
// JavaScript, no imports.
export default {
  name: 'acme_new_nonce',
  description: 'ACME HEAD new-nonce alone (a nonce minted in memory, no database): the goal (issue 16) is 25,000/s with p99 <= 10 ms on two cores',
  executor: 'constant-arrival-rate',
  rate: 25000,
  duration: '30s',
  warmup: '3s',
  // Open loop at the goal's rate: the thresholds are the goal.
  connections: 64,
  thresholds: {
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(99)<10'],
  },
  seed: { certificates: 1, acme: 1 },
  // Pebble serves it too: `npm run loadtest -- acme_new_nonce --target pebble` runs both side by side.
  pebble: true,
  request(i, ctx) {
    return { method: 'HEAD', path: ctx.acmeNewNonce, headers: {}, body: null, expect: 200 };
  },
};
