// api_tier: the operator-facing REST API under a steady mix. Read by loadtest/k6/api_tier.js and
// by the Node driver (npm run loadtest -- api_tier). Plain JavaScript, no imports.
//   20% POST /api/v1/certificates (a new certificate each time, 201)
//   40% GET  /api/v1/certificates?per_page=50 (first page, 200)
//   20% the same Active list revalidated with If-None-Match (304: the seeded Active set does not
//       change during the run, POSTed certificates are Pending)
//   20% GET  /api/v1/certificates/{id} of a seeded certificate (200)
const revalidated = '/api/v1/certificates?status=Active&sort=expires_at&per_page=50';

export default {
  name: 'api_tier',
  description: 'REST API mix: create certificates, list (first page of 50), list revalidated with ETag (304), get by id; admin key',
  executor: 'constant-arrival-rate',
  rate: 500,
  duration: '60s',
  warmup: '5s',
  connections: 64,
  thresholds: {
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(95)<100', 'p(99)<250'],
  },
  seed: { certificates: 10000 },
  // Fetched once before the run (admin key); the value is ctx.setup[name].
  setup: { list_etag: { path: revalidated, header: 'etag' } },
  request(i, ctx) {
    const auth = { Authorization: `Bearer ${ctx.adminKey}` };
    switch (i % 5) {
      case 0: {
        const name = `load-api-${ctx.runId}-${i}`;
        return {
          method: 'POST',
          path: '/api/v1/certificates',
          headers: { ...auth, 'Content-Type': 'application/json' },
          body: JSON.stringify({
            name,
            common_name: `${name}.fleet.test`,
            sans: [`${name}.fleet.test`],
            owner_id: 'load-owner',
            team_id: 'load-team',
            issuer_id: 'load-issuer',
            renewal_policy_id: 'load-policy',
            environment: 'load',
          }),
          expect: 201,
        };
      }
      case 3:
        return { method: 'GET', path: revalidated, headers: { ...auth, 'If-None-Match': ctx.setup.list_etag }, body: null, expect: 304 };
      case 4: {
        const n = ((i * 7919) % ctx.seed.certificates) + 1;
        return { method: 'GET', path: `/api/v1/certificates/load-cert-${String(n).padStart(7, '0')}`, headers: auth, body: null, expect: 200 };
      }
      default:
        return { method: 'GET', path: '/api/v1/certificates?per_page=50', headers: auth, body: null, expect: 200 };
    }
  },
};
