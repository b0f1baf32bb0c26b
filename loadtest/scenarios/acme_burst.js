// acme_burst: the unauthenticated surface of the ACME server under a burst of clients (certctl's
// acme scenarios, with certctl's thresholds as the floor): the directory, a fresh nonce (HEAD
// new-nonce, as clients ask), and renewal-info for a known certificate (200) and an unknown one
// (404). Read by loadtest/k6/acme_burst.js and the Node driver (npm run loadtest -- acme_burst).
// Plain JavaScript, no imports. None of these needs a JWS; directory and nonce need no database.
const hexToBase64Url = (hex) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const bytes = hex.match(/../g).map((h) => parseInt(h, 16));
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += alphabet[(n >> 18) & 63] + alphabet[(n >> 12) & 63];
    if (i + 1 < bytes.length) out += alphabet[(n >> 6) & 63];
    if (i + 2 < bytes.length) out += alphabet[n & 63];
  }
  return out;
};
/** RFC 9773 id of seeded version N (loadtest/seed/acme.sql): any key id, serial 0x01000000 + N. */
const knownCertId = (n) => `AQIDBA.${hexToBase64Url((16777216 + n).toString(16).padStart(8, '0'))}`;

export default {
  name: 'acme_burst',
  description: 'ACME unauthenticated surface: directory, HEAD new-nonce, renewal-info known (200) and unknown (404), in turn',
  executor: 'constant-arrival-rate',
  rate: 5000,
  duration: '30s',
  warmup: '3s',
  connections: 200,
  thresholds: {
    http_req_failed: ['rate==0'],
    // certctl's thresholds are directory p95 < 500 ms, nonce < 300 ms, renewal-info < 800 ms.
    http_req_duration: ['p(95)<50', 'p(99)<100'],
  },
  seed: { certificates: 1000, acme: 1000 },
  cycle: (ctx) => 4 * ctx.seed.acme,
  request(i, ctx) {
    const n = (Math.floor(i / 4) % ctx.seed.acme) + 1;
    switch (i % 4) {
      case 0:
        return { method: 'GET', path: '/acme/directory', headers: {}, body: null, expect: 200 };
      case 1:
        return { method: 'HEAD', path: '/acme/new-nonce', headers: {}, body: null, expect: 200 };
      case 2:
        return { method: 'GET', path: `/acme/renewal-info/${knownCertId(n)}`, headers: {}, body: null, expect: 200 };
      default:
        // certctl's k6 "synthetic id": parses, names no certificate.
        return { method: 'GET', path: '/acme/renewal-info/aaaa.bbbb', headers: {}, body: null, expect: 404 };
    }
  },
};
