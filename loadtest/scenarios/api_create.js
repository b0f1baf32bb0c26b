// api_create: certificate creates only (POST /api/v1/certificates, a new name each time, 201),
// each durable and audited before it is acknowledged. Read by loadtest/k6/api_create.js and by
// the Node driver (npm run loadtest -- api_create). Plain JavaScript, no imports.
export default {
  name: 'api_create',
  description: 'Certificate creates: POST /api/v1/certificates with a new name each time (201), durable and audited; admin key',
  executor: 'constant-arrival-rate',
  rate: 500,
  duration: '30s',
  warmup: '3s',
  connections: 64,
  thresholds: {
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(99)<20'],
  },
  seed: { certificates: 1000 },
  request(i, ctx) {
    const name = `load-create-${ctx.runId}-${i}`;
    return {
      method: 'POST',
      path: '/api/v1/certificates',
      headers: { Authorization: `Bearer ${ctx.adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name,
        common_name: `${name}.fleet.test`,
        owner_id: 'load-owner',
        team_id: 'load-team',
        issuer_id: 'load-issuer',
        renewal_policy_id: 'load-policy',
        environment: 'load',
      }),
      expect: 201,
    };
  },
};
