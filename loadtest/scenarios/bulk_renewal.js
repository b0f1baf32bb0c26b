// bulk_renewal: POST /api/v1/certificates/bulk-renew against a large seeded inventory. The first
// request enqueues every matching certificate (one job each, set-based); later ones match the
// same set and skip it (a renewal is already open), which is the steady state of an operator or
// a script calling it repeatedly. Read by loadtest/k6/bulk_renewal.js and the Node driver.
// No warm-up: the first request is the one that does the work (its latency is the report's max).
export default {
  name: 'bulk_renewal',
  description:
    'POST /api/v1/certificates/bulk-renew {issuer_id, team_id} over 100,000 seeded certificates: the first call enqueues them all, later calls match and skip them (admin key)',
  executor: 'constant-arrival-rate',
  rate: 2,
  duration: '30s',
  connections: 8,
  thresholds: {
    http_req_failed: ['rate==0'],
    http_req_duration: ['max<3000', 'p(95)<1000'],
  },
  seed: { certificates: 100000 },
  request(_i, ctx) {
    return {
      method: 'POST',
      path: '/api/v1/certificates/bulk-renew',
      headers: { Authorization: `Bearer ${ctx.adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ issuer_id: 'load-issuer', team_id: 'load-team' }),
      expect: 200,
    };
  },
};
